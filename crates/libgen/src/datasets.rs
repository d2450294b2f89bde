//! Reading the public datasets in `../shared/datasets` into plain rows.
//! (Never the held-out yardstick folder: it is not ours to read.)

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};

#[derive(Debug, Clone)]
pub struct Track {
    pub title: String,
    pub album: String,
    pub artist: String,
    pub year: Option<i32>,
    pub date: Option<String>,
    pub length_ms: u64,
    pub tempo: Option<f32>,
    /// Spotify's audio features, 0–1. Never written into files (real files
    /// do not carry them); evaluations derive labels from them.
    pub features: AudioFeatures,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct AudioFeatures {
    pub danceability: f32,
    pub acousticness: f32,
    pub energy: f32,
    pub valence: f32,
    pub instrumentalness: f32,
}

#[derive(Debug, Clone)]
pub struct Movie {
    pub title: String,
    pub year: Option<i32>,
    pub genres: Vec<String>,
    /// Free-text user tags (MovieLens) — "atmospheric", "christmas".
    pub tags: Vec<String>,
    pub runtime_min: Option<u32>,
    pub certificate: Option<String>,
    pub overview: Option<String>,
    pub director: Option<String>,
    pub stars: Vec<String>,
    pub rating: Option<f32>,
}

#[derive(Debug, Clone)]
pub struct Book {
    pub title: String,
    pub authors: Vec<String>,
    pub year: Option<i32>,
    pub language: Option<String>,
    pub subjects: Vec<String>,
}

fn read_csv(path: &Path, latin1: bool) -> Result<Vec<HashMap<String, String>>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("open {}", path.display()))?;
    let decode = |b: &[u8]| -> String {
        if latin1 {
            b.iter().map(|&c| c as char).collect()
        } else {
            String::from_utf8_lossy(b).into_owned()
        }
    };
    let headers: Vec<String> = rdr.byte_headers()?.iter().map(decode).collect();
    let mut rows = Vec::new();
    for rec in rdr.byte_records() {
        let rec = rec.with_context(|| format!("read {}", path.display()))?;
        rows.push(
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(|f| decode(f).trim().to_string()))
                .collect(),
        );
    }
    Ok(rows)
}

fn year_of(s: &str) -> Option<i32> {
    let digits: String = s
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let y = digits.split('.').next()?.parse::<i32>().ok()?;
    (1000..2100).contains(&y).then_some(y)
}

pub fn spotify(dir: &Path) -> Result<Vec<Track>> {
    Ok(read_csv(&dir.join("spotify-tracks/tracks.csv"), false)?
        .into_iter()
        .filter_map(|r| {
            let date = r.get("release_date").cloned().filter(|d| !d.is_empty());
            // Dates are "27-10-1982", "2007-04" or "1982".
            let year = date.as_deref().and_then(|d| {
                d.split('-')
                    .find(|p| p.len() == 4)
                    .and_then(|p| p.parse().ok())
            });
            Some(Track {
                title: r.get("name")?.trim().to_string(),
                album: r.get("album")?.trim().to_string(),
                artist: r.get("artist")?.trim().to_string(),
                year,
                date,
                length_ms: r.get("length")?.parse().ok()?,
                tempo: r.get("tempo").and_then(|t| t.parse().ok()),
                features: AudioFeatures {
                    danceability: r
                        .get("danceability")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0.0),
                    acousticness: r
                        .get("acousticness")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0.0),
                    energy: r.get("energy").and_then(|v| v.parse().ok()).unwrap_or(0.0),
                    valence: r.get("valence").and_then(|v| v.parse().ok()).unwrap_or(0.0),
                    instrumentalness: r
                        .get("instrumentalness")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0.0),
                },
            })
        })
        .filter(|t| !t.title.is_empty() && !t.artist.is_empty())
        .collect())
}

/// IMDb top 1000 (rich rows) followed by the MovieLens movies not in it,
/// with MovieLens user tags attached where the title and year match.
pub fn movies(dir: &Path) -> Result<Vec<Movie>> {
    let lens = movielens(dir)?;
    let key = |t: &str, y: Option<i32>| format!("{}|{}", t.to_lowercase(), y.unwrap_or(0));
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (i, m) in lens.iter().enumerate() {
        by_key.insert(key(&m.title, m.year), i);
    }
    let mut used = vec![false; lens.len()];
    let mut out = Vec::new();
    for r in read_csv(&dir.join("imdb-top-1000/imdb_top_1000.csv"), true)? {
        let Some(mut m) = imdb_movie(&r) else {
            continue;
        };
        if let Some(&i) = by_key.get(&key(&m.title, m.year)) {
            used[i] = true;
            m.tags = lens[i].tags.clone();
        }
        out.push(m);
    }
    out.extend(
        lens.into_iter()
            .zip(used)
            .filter(|(_, u)| !u)
            .map(|(m, _)| m),
    );
    Ok(out)
}

/// A row of the IMDb top 1000.
fn imdb_movie(r: &HashMap<String, String>) -> Option<Movie> {
    let title = r.get("series_title").cloned()?;
    let year = r.get("released_year").and_then(|y| year_of(y));
    Some(Movie {
        genres: r
            .get("genre")
            .map(|g| g.split(',').map(|x| x.trim().to_string()).collect())
            .unwrap_or_default(),
        tags: Vec::new(),
        runtime_min: r
            .get("runtime")
            .and_then(|x| x.split_whitespace().next()?.parse().ok()),
        certificate: r.get("certificate").cloned().filter(|c| !c.is_empty()),
        overview: r.get("overview").cloned().filter(|c| !c.is_empty()),
        director: r.get("director").cloned().filter(|c| !c.is_empty()),
        stars: ["star_1", "star_2", "star_3", "star_4"]
            .iter()
            .filter_map(|k| r.get(*k).cloned().filter(|s| !s.is_empty()))
            .collect(),
        rating: r.get("imdb_rating").and_then(|x| x.parse().ok()),
        title,
        year,
    })
}

/// MovieLens' movies with their users' tags, in its order.
fn movielens(dir: &Path) -> Result<Vec<Movie>> {
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    for r in read_csv(&dir.join("movielens-small/tags.csv"), false)? {
        if let (Some(id), Some(tag)) = (r.get("movieId"), r.get("tag")) {
            let list = tags.entry(id.clone()).or_default();
            let t = tag.trim().to_string();
            if !t.is_empty() && !list.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
                list.push(t);
            }
        }
    }
    let mut lens: Vec<Movie> = Vec::new();
    for r in read_csv(&dir.join("movielens-small/movies.csv"), false)? {
        let (Some(id), Some(raw)) = (r.get("movieId"), r.get("title")) else {
            continue;
        };
        // "Toy Story (1995)"; "American President, The (1995)".
        let (title, year) = match raw.rfind(" (") {
            Some(i) if raw.ends_with(')') => {
                (raw[..i].to_string(), year_of(&raw[i + 2..raw.len() - 1]))
            }
            _ => (raw.clone(), None),
        };
        let title = unarticle(&title);
        let genres = r
            .get("genres")
            .map(|g| {
                g.split('|')
                    .filter(|x| *x != "(no genres listed)")
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        lens.push(Movie {
            title,
            year,
            genres,
            tags: tags.remove(id).unwrap_or_default(),
            runtime_min: None,
            certificate: None,
            overview: None,
            director: None,
            stars: Vec::new(),
            rating: None,
        });
    }
    Ok(lens)
}

/// "American President, The" → "The American President".
pub fn unarticle(t: &str) -> String {
    for art in [
        "The", "A", "An", "Les", "La", "Le", "Il", "Das", "Der", "Die", "El",
    ] {
        let suffix = format!(", {art}");
        if let Some(stem) = t.strip_suffix(&suffix) {
            return format!("{art} {stem}");
        }
    }
    t.to_string()
}

/// Gutenberg texts (with subjects) interleaved with goodbooks titles.
pub fn books(dir: &Path) -> Result<Vec<Book>> {
    let mut gutenberg = Vec::new();
    for r in read_csv(&dir.join("gutenberg/pg_catalog_first_7660.csv"), false)? {
        if r.get("Type").map(String::as_str) != Some("Text") {
            continue;
        }
        let Some(title) = r.get("Title").map(|t| t.replace(['\n', '\r'], " ")) else {
            continue;
        };
        let authors = r
            .get("Authors")
            .map(|a| a.split("; ").filter_map(display_name).collect())
            .unwrap_or_default();
        gutenberg.push(Book {
            title,
            authors,
            year: None,
            language: r.get("Language").cloned(),
            subjects: r
                .get("Subjects")
                .map(|s| {
                    s.split("; ")
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    let mut goodbooks = Vec::new();
    for r in read_csv(&dir.join("goodbooks/books.csv"), false)? {
        let Some(title) = r
            .get("original_title")
            .filter(|t| !t.is_empty())
            .or(r.get("title"))
            .cloned()
        else {
            continue;
        };
        goodbooks.push(Book {
            title,
            authors: r
                .get("authors")
                .map(|a| a.split(", ").map(str::to_string).collect())
                .unwrap_or_default(),
            year: r.get("original_publication_year").and_then(|y| year_of(y)),
            language: r.get("language_code").cloned().filter(|l| !l.is_empty()),
            subjects: Vec::new(),
        });
    }
    // Alternate so any prefix has both kinds of book.
    let mut out = Vec::with_capacity(gutenberg.len() + goodbooks.len());
    let (mut g, mut b) = (gutenberg.into_iter(), goodbooks.into_iter());
    loop {
        match (g.next(), b.next()) {
            (None, None) => break,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
    Ok(out)
}

/// "Sterling, Bruce, 1954-" → "Bruce Sterling".
fn display_name(s: &str) -> Option<String> {
    let parts: Vec<&str> = s
        .split(", ")
        .filter(|p| {
            !p.chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c == '-')
        })
        .collect();
    let name = match parts.as_slice() {
        [] => return None,
        [one] => one.to_string(),
        [last, first, ..] => format!("{first} {last}"),
    };
    // Drop bracketed notes ("[Translator]").
    let name = name.split(" [").next().unwrap_or(&name).trim().to_string();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            display_name("Sterling, Bruce, 1954-").as_deref(),
            Some("Bruce Sterling")
        );
        assert_eq!(
            display_name("Homer, 751? BCE-651? BCE").as_deref(),
            Some("Homer")
        );
        assert_eq!(
            unarticle("American President, The"),
            "The American President"
        );
    }
}
