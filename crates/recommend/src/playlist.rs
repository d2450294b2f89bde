//! Playlists from what the tracks sound like: a journey from one track to
//! another through sound space, or the tracks a request asks for, filled to
//! a duration and ordered to hold, raise or wind down the energy; written
//! as extended M3U8 or XSPF.
//!
//! Every rule here is about sequences, not about choosing: a request's
//! tracks come from the recommender, a journey's from the analysis.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use moodshelf_catalog::ItemView;
use moodshelf_llm::Cancel;
use serde::Serialize;

use crate::error::{Code, Error, Result};
use crate::hearing::Sound;
use crate::shaping::SHAPING;
use crate::store::Store;
use crate::{Mode, Moment, RecommendRequest};

/// The energy curve a playlist follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// In the order the tracks fit the request.
    #[default]
    Steady,
    /// From the calmest to the most energetic.
    Rising,
    /// From the most energetic to the calmest.
    WindingDown,
}

#[derive(Debug, Clone)]
pub enum PlaylistSource {
    /// The tracks a request asks for ("calm music for cooking").
    Request { text: String, moment: Moment },
    /// From one track to another in `steps` tracks between them.
    Journey {
        from: PathBuf,
        to: PathBuf,
        steps: usize,
    },
    /// These tracks, in this order: a list the window shows, perhaps
    /// edited, to play or save. Ids no longer in the library are left out.
    Tracks(Vec<i64>),
}

/// The file formats a playlist is saved in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Extended M3U in UTF-8.
    M3u8,
    /// XML Shareable Playlist Format, version 1.
    Xspf,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::M3u8 => "m3u8",
            Format::Xspf => "xspf",
        }
    }

    /// The playlist in this format, for a file at `playlist_file`.
    pub fn render(
        self,
        p: &Playlist,
        title: &str,
        playlist_file: &Path,
        roots: &[PathBuf],
    ) -> String {
        match self {
            Format::M3u8 => to_m3u8(p, playlist_file, roots),
            Format::Xspf => to_xspf(p, title, playlist_file, roots),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlaylistRequest {
    pub source: PlaylistSource,
    /// Fill this many minutes, within `shaping.playlist_slack_secs` (requests
    /// only).
    pub minutes: Option<f64>,
    pub shape: Shape,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlaylistTrack {
    #[serde(flatten)]
    pub item: ItemView,
    /// 0 (still) to 1 (driving), when the track was analysed.
    pub energy: Option<f32>,
    /// What was heard in it.
    pub heard: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Playlist {
    pub tracks: Vec<PlaylistTrack>,
    pub total_secs: f64,
    /// Things to know: tracks without an analysis, a duration that could
    /// not be met.
    pub notes: Vec<String>,
}

/// What a sequence needs of a track.
#[derive(Debug, Clone)]
struct Track {
    view: ItemView,
    sound: Option<Sound>,
}

impl Track {
    /// Its artist, "" for one that names no one ("Unknown Artist").
    fn artist(&self) -> String {
        match self.view.creator.as_deref() {
            Some(c) if !crate::work::names_no_one(c) => c.trim().to_lowercase(),
            _ => String::new(),
        }
    }

    fn secs(&self) -> Option<f64> {
        self.view
            .duration_secs
            .filter(|d| d.is_finite() && *d > 0.0)
    }
}

/// Indices of tracks from `pool` (durations, best first) that add up to
/// within `slack` of `target`: greedily in order, then, if that falls
/// short, the first single swap of a chosen track for an unused one that
/// lands inside. The flag says whether the target was met.
fn fill(pool: &[f64], target: f64, slack: f64) -> (Vec<usize>, bool) {
    let mut chosen = Vec::new();
    let mut total = 0.0;
    for (i, d) in pool.iter().enumerate() {
        if total + d <= target + slack {
            chosen.push(i);
            total += d;
        }
        if total >= target - slack {
            return (chosen, true);
        }
    }
    // Short: swap one chosen track for a longer unused one.
    let used: HashSet<usize> = chosen.iter().copied().collect();
    for (ci, &c) in chosen.iter().enumerate() {
        for (u, d) in pool.iter().enumerate() {
            if used.contains(&u) {
                continue;
            }
            let t = total - pool[c] + d;
            if (target - slack..=target + slack).contains(&t) {
                let mut out = chosen.clone();
                out[ci] = u;
                return (out, true);
            }
        }
    }
    (chosen, false)
}

/// Orders tracks by their energy for `shape` (unanalysed ones keep their
/// place relative to each other, in the middle of the curve).
fn shape_order(tracks: &mut [Track], shape: Shape) {
    let key = |t: &Track| t.sound.map_or(0.5, |s| s.energy);
    match shape {
        Shape::Steady => {}
        Shape::Rising => tracks.sort_by(|a, b| key(a).total_cmp(&key(b))),
        Shape::WindingDown => tracks.sort_by(|a, b| key(b).total_cmp(&key(a))),
    }
}

/// Moves tracks so that no artist plays more than [`MAX_RUN`] in a row,
/// each time bringing forward the nearest later track by someone else.
fn break_runs(tracks: &mut [Track]) {
    let max_run = SHAPING.playlist_max_run;
    for i in max_run..tracks.len() {
        let artist = tracks[i].artist();
        if artist.is_empty() || (1..=max_run).any(|k| tracks[i - k].artist() != artist) {
            continue;
        }
        if let Some(j) = (i + 1..tracks.len()).find(|&j| tracks[j].artist() != artist) {
            tracks[i..=j].rotate_right(1);
        }
    }
}

/// Whether adding `next` after `so_far` keeps artist runs short.
fn run_ok(so_far: &[Track], next: &Track) -> bool {
    let artist = next.artist();
    let max_run = SHAPING.playlist_max_run;
    artist.is_empty()
        || so_far.len() < max_run
        || so_far[so_far.len() - max_run..]
            .iter()
            .any(|t| t.artist() != artist)
}

/// The tracks of a request's playlist from its `pool` (best first): those
/// that fill `minutes` (with a note when they cannot), else the first
/// `shaping.playlist_tracks`.
fn choose(pool: Vec<Track>, minutes: Option<f64>, notes: &mut Vec<String>) -> Vec<Track> {
    match minutes {
        Some(m) => {
            let target = m * 60.0;
            let timed: Vec<&Track> = pool.iter().filter(|t| t.secs().is_some()).collect();
            let secs: Vec<f64> = timed.iter().filter_map(|t| t.secs()).collect();
            let (picked, met) = fill(&secs, target, SHAPING.playlist_slack_secs);
            let out: Vec<Track> = picked.into_iter().map(|i| timed[i].clone()).collect();
            if !met {
                let total: f64 = out.iter().filter_map(Track::secs).sum();
                notes.push(format!(
                    "the tracks that fit make {:.0} minutes, not {m:.0}",
                    total / 60.0
                ));
            }
            out
        }
        None => pool.into_iter().take(SHAPING.playlist_tracks).collect(),
    }
}

/// The playlist of these ordered tracks, with a note on those that have no
/// sound to go by.
fn finish(mut tracks: Vec<Track>, mut notes: Vec<String>) -> Playlist {
    let unheard = tracks.iter().filter(|t| t.sound.is_none()).count();
    if unheard > 0 {
        notes.push(format!(
            "{unheard} of {} tracks have no sound to go by (not analysed yet, silent or undecodable): placed by what their tags say",
            tracks.len()
        ));
    }
    let total_secs = tracks.iter().filter_map(Track::secs).sum();
    Playlist {
        tracks: tracks
            .drain(..)
            .map(|t| PlaylistTrack {
                energy: t.sound.map(|s| s.energy),
                heard: t.sound.map(|s| s.words()).unwrap_or_default(),
                item: t.view,
            })
            .collect(),
        total_secs,
        notes,
    }
}

/// Builds a playlist.
pub async fn playlist(
    store: &Arc<Store>,
    req: &PlaylistRequest,
    cancel: &Cancel,
) -> Result<Playlist> {
    let sounds = crate::similar::sounds(store).await?;
    let mut notes = Vec::new();
    let tracks = match &req.source {
        PlaylistSource::Journey { from, to, steps } => {
            journey(store, from, to, *steps, &sounds).await?
        }
        PlaylistSource::Request { text, moment } => {
            let pool = request_pool(store, text, *moment, &sounds, cancel).await?;
            let mut chosen = choose(pool, req.minutes, &mut notes);
            shape_order(&mut chosen, req.shape);
            break_runs(&mut chosen);
            chosen
        }
        PlaylistSource::Tracks(ids) => {
            let mut out = tracks(store, ids, &sounds).await?;
            if out.len() < ids.len() {
                notes.push(format!(
                    "{} of the {} tracks are no longer in the library",
                    ids.len() - out.len(),
                    ids.len()
                ));
            }
            shape_order(&mut out, req.shape);
            out
        }
    };
    if tracks.is_empty() {
        return Err(Error::new(
            Code::InvalidInput,
            "no tracks for this playlist (is there music in the library?)",
        ));
    }
    if let PlaylistSource::Journey { .. } = req.source
        && req.shape != Shape::Steady
    {
        // A journey's order is its path; its ends are fixed.
        notes.push("a journey keeps its path's order".into());
    }
    Ok(finish(tracks, notes))
}

/// The candidates for a request's playlist: the music the recommender
/// (rules only, remembering nothing) finds for `text`, best first, with
/// their sounds.
async fn request_pool(
    store: &Arc<Store>,
    text: &str,
    moment: Moment,
    sounds: &HashMap<i64, Sound>,
    cancel: &Cancel,
) -> Result<Vec<Track>> {
    let mut r = RecommendRequest::new(text.to_string(), moment);
    r.kind = Some(crate::Kind::Music);
    r.limit = SHAPING.playlist_pool;
    r.mode = Mode::Rules;
    r.remember = false;
    let answer = crate::recommend(store, &r, cancel, &mut |_| {}).await?;
    Ok(answer
        .items
        .into_iter()
        .map(|p| Track {
            sound: sounds.get(&p.item.id).copied(),
            view: p.item,
        })
        .collect())
}

/// The tracks with these ids, in this order, with their sounds.
async fn tracks(store: &Store, ids: &[i64], sounds: &HashMap<i64, Sound>) -> Result<Vec<Track>> {
    Ok(store
        .catalog()
        .items_in_order(ids)
        .await?
        .into_iter()
        .map(|view| Track {
            sound: sounds.get(&view.id).copied(),
            view,
        })
        .collect())
}

/// Saves `p` at `file` in `format`, replacing the file whole (written
/// beside it, then renamed), so a failed save leaves an older playlist
/// as it was. Tracks inside the library folder the file sits in get
/// relative paths.
pub async fn save_playlist(
    store: &Store,
    p: &Playlist,
    title: &str,
    file: &Path,
    format: Format,
) -> Result<()> {
    let roots: Vec<PathBuf> = store
        .catalog()
        .roots()
        .await?
        .into_iter()
        .map(|r| r.path)
        .collect();
    let body = format.render(p, title, file, &roots);
    let cannot = |e: std::io::Error| {
        Error::new(
            Code::InvalidInput,
            format!("cannot save the playlist at {}: {e}", file.display()),
        )
    };
    let name = file
        .file_name()
        .ok_or_else(|| cannot(std::io::Error::other("not a file name")))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".part");
    let tmp = file.with_file_name(tmp_name);
    write_new(&tmp, body.as_bytes())
        .and_then(|()| std::fs::rename(&tmp, file))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            cannot(e)
        })
}

/// From the track at `from` to the one at `to` with `steps` tracks
/// between, each the unused track nearest to its point on the straight
/// line between the two in sound space, no artist more than twice in a
/// row.
async fn journey(
    store: &Store,
    from: &Path,
    to: &Path,
    steps: usize,
    sounds: &HashMap<i64, Sound>,
) -> Result<Vec<Track>> {
    let mut ends = Vec::with_capacity(2);
    for path in [from, to] {
        let view = store.item_at(path).await?;
        let Some(sound) = sounds.get(&view.id).copied() else {
            return Err(Error::new(
                Code::InvalidInput,
                format!(
                    "{} has no sound analysis yet (run `moodshelf analyze`)",
                    path.display()
                ),
            ));
        };
        ends.push(Track {
            view,
            sound: Some(sound),
        });
    }
    let (a, b) = (
        ends[0].sound.expect("analysed"),
        ends[1].sound.expect("analysed"),
    );
    let end_ids = [ends[0].view.id, ends[1].view.id];
    let ids: Vec<i64> = sounds
        .keys()
        .copied()
        .filter(|id| !end_ids.contains(id))
        .collect();
    let mut pool = tracks(store, &ids, sounds).await?;
    pool.sort_by_key(|t| t.view.id);
    let (ca, cb) = (a.coords(), b.coords());
    let mut out = vec![ends[0].clone()];
    for step in 1..=steps {
        let f = step as f32 / (steps + 1) as f32;
        let point: Vec<f32> = ca.iter().zip(cb).map(|(x, y)| x + (y - x) * f).collect();
        let distance = |t: &Track| -> f32 {
            let c = t.sound.expect("analysed").coords();
            c.iter()
                .zip(&point)
                .map(|(x, y)| (x - y).powi(2))
                .sum::<f32>()
        };
        let nearest = |keep_runs_short: bool| {
            pool.iter()
                .enumerate()
                .filter(|(_, t)| !keep_runs_short || run_ok(&out, t))
                .min_by(|(_, x), (_, y)| distance(x).total_cmp(&distance(y)))
                .map(|(i, _)| i)
        };
        // The rule against long runs of one artist gives way when the
        // library cannot keep it (one artist's tracks, say).
        let Some(i) = nearest(true).or_else(|| nearest(false)) else {
            break;
        };
        out.push(pool.swap_remove(i));
    }
    out.push(ends[1].clone());
    Ok(out)
}

/// A title or name as one line of a playlist file: control characters
/// (a newline in a hostile tag would start a new entry) become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Where a playlist written at `playlist_file` finds a track: relative to
/// the playlist's folder when both sit inside the same library folder, so
/// the library can move with its playlists; absolute otherwise.
fn location(track: &Path, playlist_file: &Path, roots: &[PathBuf]) -> PathBuf {
    let dir = playlist_file.parent().unwrap_or(Path::new(""));
    let shared_root = roots
        .iter()
        .any(|r| track.starts_with(r) && dir.starts_with(r));
    if !shared_root {
        return track.to_path_buf();
    }
    let common = dir
        .components()
        .zip(track.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut rel = PathBuf::new();
    for _ in dir.components().skip(common) {
        rel.push("..");
    }
    for c in track.components().skip(common) {
        rel.push(c);
    }
    rel
}

/// Writes `bytes` to a file that must not exist yet (a link or a file
/// planted at the temporary name is refused, not followed), synced to disk
/// before it is renamed into place.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    // A temporary file left by a crash is ours to replace; a link is not.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file()) {
        std::fs::remove_file(path)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// A track's line in an M3U file: its location as is, unless a player
/// would misread it (a line break, a leading `#` that reads as a comment,
/// a name that is not UTF-8), then as a `file://` URI of its full path.
fn m3u_line(path: &Path, playlist_file: &Path, roots: &[PathBuf]) -> String {
    let at = location(path, playlist_file, roots);
    match at.to_str() {
        Some(s) if !s.starts_with('#') && !s.contains(['\n', '\r']) && !s.is_empty() => {
            s.to_string()
        }
        _ => file_uri(path),
    }
}

/// The playlist as extended M3U (UTF-8, `#EXTINF` with length and
/// "artist - title").
pub fn to_m3u8(p: &Playlist, playlist_file: &Path, roots: &[PathBuf]) -> String {
    let mut out = String::from("#EXTM3U\n");
    for t in &p.tracks {
        let secs = t.item.duration_secs.map_or(-1, |d| d.round() as i64);
        let title = match &t.item.creator {
            Some(c) => format!("{} - {}", one_line(c), one_line(&t.item.title)),
            None => one_line(&t.item.title),
        };
        let path = crate::names::decode(&t.item.path);
        out.push_str(&format!("#EXTINF:{secs},{title}\n"));
        out.push_str(&m3u_line(&path, playlist_file, roots));
        out.push('\n');
    }
    out
}

/// Text as XML 1.0 may hold it: on one line, without the characters XML
/// forbids (U+FFFE, U+FFFF, controls), escaped.
fn xml_escape(s: &str) -> String {
    let allowed =
        |c: &char| matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
    one_line(s)
        .chars()
        .filter(allowed)
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A path as a `file://` URI (RFC 8089), every byte outside the unreserved
/// set percent-encoded; relative paths stay relative references.
fn file_uri(path: &Path) -> String {
    let mut out = String::new();
    if path.is_absolute() {
        out.push_str("file://");
    }
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The playlist as XSPF (XML Shareable Playlist Format, version 1).
pub fn to_xspf(p: &Playlist, title: &str, playlist_file: &Path, roots: &[PathBuf]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<playlist version=\"1\" xmlns=\"http://xspf.org/ns/0/\">\n",
    );
    out.push_str(&format!(
        "  <title>{}</title>\n  <trackList>\n",
        xml_escape(title)
    ));
    for t in &p.tracks {
        let path = crate::names::decode(&t.item.path);
        out.push_str("    <track>\n");
        out.push_str(&format!(
            "      <location>{}</location>\n",
            xml_escape(&file_uri(&location(&path, playlist_file, roots)))
        ));
        out.push_str(&format!(
            "      <title>{}</title>\n",
            xml_escape(&t.item.title)
        ));
        if let Some(c) = &t.item.creator {
            out.push_str(&format!("      <creator>{}</creator>\n", xml_escape(c)));
        }
        if let Some(a) = &t.item.album {
            out.push_str(&format!("      <album>{}</album>\n", xml_escape(a)));
        }
        if let Some(d) = t.item.duration_secs {
            out.push_str(&format!(
                "      <duration>{}</duration>\n",
                (d * 1000.0).round() as i64
            ));
        }
        out.push_str("    </track>\n");
    }
    out.push_str("  </trackList>\n</playlist>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: i64, path: &str, creator: &str, title: &str, secs: f64) -> ItemView {
        ItemView {
            path: path.into(),
            creator: (!creator.is_empty()).then(|| creator.into()),
            duration_secs: Some(secs),
            ..ItemView::bare(id, crate::Kind::Music, title)
        }
    }

    #[test]
    fn a_duration_is_filled_within_a_minute() {
        // An hour from tracks of three to seven minutes.
        let pool: Vec<f64> = (0..40).map(|i| 180.0 + (i * 37 % 240) as f64).collect();
        let (picked, met) = fill(&pool, 3600.0, 60.0);
        let total: f64 = picked.iter().map(|&i| pool[i]).sum();
        assert!(met && (total - 3600.0).abs() <= 60.0, "{total}");
        let unique: HashSet<usize> = picked.iter().copied().collect();
        assert_eq!(unique.len(), picked.len(), "no repeats");
        // Greedy in order falls short here (55 minutes, and the next track
        // would overshoot); one swap lands it.
        let pool = [2000.0, 1000.0, 300.0, 1300.0];
        let (picked, met) = fill(&pool, 3600.0, 60.0);
        assert!(met, "{picked:?}");
        assert_eq!(picked.iter().map(|&i| pool[i]).sum::<f64>(), 3600.0);
        // Impossible: says so.
        assert!(!fill(&[600.0, 600.0], 3600.0, 60.0).1);
    }

    #[test]
    fn no_artist_plays_three_times_in_a_row() {
        let mut tracks: Vec<Track> = ["a", "a", "a", "a", "b", "c", "a"]
            .iter()
            .enumerate()
            .map(|(i, c)| Track {
                view: view(i as i64, "/x", c, "t", 100.0),
                sound: None,
            })
            .collect();
        break_runs(&mut tracks);
        let artists: Vec<String> = tracks.iter().map(Track::artist).collect();
        for w in artists.windows(3) {
            assert!(!(w[0] == w[1] && w[1] == w[2]), "{artists:?}");
        }
        assert_eq!(artists.len(), 7);
    }

    #[test]
    fn exports_are_valid_one_line_per_field_and_relative_inside_the_library() {
        let roots = vec![PathBuf::from("/music")];
        let p = Playlist {
            tracks: vec![
                PlaylistTrack {
                    item: view(
                        1,
                        "/music/A/x y.flac",
                        "Ann & Bo",
                        "One\n#EXTINF:1,evil",
                        200.4,
                    ),
                    energy: Some(0.2),
                    heard: Vec::new(),
                },
                PlaylistTrack {
                    item: view(2, "/elsewhere/z.mp3", "", "</title><script>", 61.0),
                    energy: None,
                    heard: Vec::new(),
                },
            ],
            total_secs: 261.4,
            notes: Vec::new(),
        };
        let m3u = to_m3u8(&p, Path::new("/music/lists/calm.m3u8"), &roots);
        assert_eq!(
            m3u,
            "#EXTM3U\n#EXTINF:200,Ann & Bo - One #EXTINF:1,evil\n../A/x y.flac\n#EXTINF:61,</title><script>\n/elsewhere/z.mp3\n"
        );
        let xspf = to_xspf(&p, "Calm", Path::new("/tmp/calm.xspf"), &roots);
        assert!(
            xspf.contains("<location>file:///music/A/x%20y.flac</location>"),
            "{xspf}"
        );
        assert!(
            xspf.contains("<title>&lt;/title&gt;&lt;script&gt;</title>"),
            "{xspf}"
        );
        assert!(xspf.contains("<creator>Ann &amp; Bo</creator>"));
        assert!(xspf.contains("<duration>200400</duration>"));
        assert_eq!(xspf.matches("<track>").count(), 2);
    }

    /// Issue 25 #10: names a player would misread, and text XML forbids.
    #[test]
    fn odd_file_names_stay_one_track_each() {
        use std::os::unix::ffi::OsStrExt as _;
        let roots = vec![PathBuf::from("/music")];
        let odd = [
            "/music/A/line\nbreak.flac",
            "/music/#1 hit.flac",
            &crate::names::encode(Path::new(std::ffi::OsStr::from_bytes(
                b"/music/caf\xe9.mp3",
            ))),
        ];
        let p = Playlist {
            tracks: odd
                .iter()
                .enumerate()
                .map(|(i, path)| PlaylistTrack {
                    item: view(i as i64, path, "", "Odd \u{FFFE}\u{1}name", 10.0),
                    energy: None,
                    heard: Vec::new(),
                })
                .collect(),
            total_secs: 30.0,
            notes: Vec::new(),
        };
        let m3u = to_m3u8(&p, Path::new("/music/list.m3u8"), &roots);
        let lines: Vec<&str> = m3u.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            vec![
                "file:///music/A/line%0Abreak.flac",
                "file:///music/%231%20hit.flac",
                "file:///music/caf%E9.mp3"
            ],
            "{m3u}"
        );
        let xspf = to_xspf(&p, "T\u{FFFF}", Path::new("/music/list.xspf"), &roots);
        assert!(!xspf.contains('\u{FFFE}') && !xspf.contains('\u{FFFF}'));
        assert!(xspf.contains("<title>Odd  name</title>"), "{xspf}");
        assert!(xspf.contains("<location>caf%E9.mp3</location>"), "{xspf}");
    }

    #[test]
    fn a_link_planted_at_the_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("victim");
        std::fs::write(&target, "keep").unwrap();
        let tmp = dir.path().join(".list.m3u8.part");
        std::os::unix::fs::symlink(&target, &tmp).unwrap();
        assert!(write_new(&tmp, b"#EXTM3U\n").is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        std::fs::remove_file(&tmp).unwrap();
        std::fs::write(&tmp, "left by a crash").unwrap();
        write_new(&tmp, b"#EXTM3U\n").unwrap();
        assert_eq!(std::fs::read_to_string(&tmp).unwrap(), "#EXTM3U\n");
    }
}
