//! Cover art for the window, served by id on the `cover:` scheme
//! (`cover://localhost/42`, `http://cover.localhost/42` on Windows). The
//! webview names an item, never a path, and only files inside the covers
//! folder are served.

use tauri::http::{Request, Response, StatusCode, header};
use tauri::{AppHandle, Manager, UriSchemeContext, UriSchemeResponder};

use crate::state::AppState;

pub fn protocol(
    ctx: UriSchemeContext<'_, tauri::Wry>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = ctx.app_handle().clone();
    let path = request.uri().path().to_string();
    tauri::async_runtime::spawn(async move {
        let response = serve(&app, &path).await.unwrap_or_else(|status| {
            Response::builder()
                .status(status)
                .body(Vec::new())
                .expect("a plain response")
        });
        responder.respond(response);
    });
}

async fn serve(app: &AppHandle, path: &str) -> Result<Response<Vec<u8>>, StatusCode> {
    let id: i64 = path
        .trim_start_matches('/')
        .parse()
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let state = app.state::<AppState>();
    let lib = state.library().await;
    let views = lib
        .catalog()
        .items_by_ids(&[id])
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let cover = views
        .first()
        .and_then(|v| v.cover.clone())
        .ok_or(StatusCode::NOT_FOUND)?;
    let covers = std::fs::canonicalize(lib.paths().covers()).map_err(|_| StatusCode::NOT_FOUND)?;
    let file = std::fs::canonicalize(&cover).map_err(|_| StatusCode::NOT_FOUND)?;
    if !file.starts_with(&covers) {
        return Err(StatusCode::FORBIDDEN);
    }
    let bytes = tokio::fs::read(&file)
        .await
        .map_err(|_| StatusCode::NOT_FOUND)?;
    let mime = image_type(&bytes).ok_or(StatusCode::UNSUPPORTED_MEDIA_TYPE)?;
    Response::builder()
        .header(header::CONTENT_TYPE, mime)
        .header(header::CACHE_CONTROL, "max-age=86400")
        .header("X-Content-Type-Options", "nosniff")
        .body(bytes)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
}

/// The image type from the file's first bytes; anything else is refused.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    moodshelf_media::sniff_image(bytes).map(|(_, mime)| mime)
}

#[cfg(test)]
mod tests {
    use super::image_type;

    #[test]
    fn only_images_are_served() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type(b"<html><script>"), None);
        assert_eq!(image_type(b""), None);
    }
}
