//! Titles from file names, for files whose tags say nothing:
//! `Movie.Title.2010.1080p.BluRay.x264-GRP.mkv`, `Movie Title (2010).mkv`,
//! `Show.Name.S01E02.Episode.Title.mkv`, `03 - Artist - Song.mp3`.

use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NameGuess {
    pub title: Option<String>,
    pub year: Option<i32>,
    pub series: Option<String>,
    pub season: Option<u32>,
    pub episode: Option<u32>,
}

/// Release-group noise that ends the title part of a scene-style name.
const NOISE: &[&str] = &[
    "2160p",
    "1080p",
    "1080i",
    "720p",
    "576p",
    "480p",
    "4k",
    "uhd",
    "hdr",
    "hdr10",
    "dv",
    "bluray",
    "blu-ray",
    "brrip",
    "bdrip",
    "dvdrip",
    "dvd",
    "webrip",
    "web-dl",
    "webdl",
    "web",
    "hdtv",
    "hdrip",
    "x264",
    "x265",
    "h264",
    "h265",
    "hevc",
    "avc",
    "xvid",
    "divx",
    "aac",
    "ac3",
    "dts",
    "ddp5",
    "remux",
    "proper",
    "repack",
    "extended",
    "unrated",
    "remastered",
    "directors",
    "imax",
    "multi",
    "subbed",
    "dubbed",
    "10bit",
    "8bit",
];

pub fn parse_file_name(path: &Path) -> NameGuess {
    let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
        return NameGuess::default();
    };
    parse_stem(stem)
}

fn parse_stem(stem: &str) -> NameGuess {
    let (cleaned, mut year) = unbracket(stem);
    let tokens: Vec<&str> = cleaned
        .split(|c: char| c == '.' || c == '_' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    if let Some(guess) = episode(&tokens, year) {
        return guess;
    }

    // The title ends at the last year-like token that is not the first token
    // ("2001.A.Space.Odyssey.1968"), or at the first noise token.
    let mut end = tokens.len();
    if let Some(marker) = tokens.iter().position(|t| *t == "\u{1}") {
        end = marker;
    } else if year.is_none()
        && let Some(i) = tokens.iter().rposition(|t| is_year(t))
        && i > 0
    {
        year = tokens[i].parse().ok();
        end = i;
    }
    if let Some(noise) = tokens[..end].iter().position(|t| is_noise(t))
        && noise > 0
    {
        end = noise;
    }
    NameGuess {
        title: title_of(&tokens[..end]).and_then(|t| crate::text::clean(&t)),
        year,
        ..NameGuess::default()
    }
}

/// The stem without its bracketed parts, and the year one of them gave:
/// "(2010)" gives a year (left as a marker token, `\u{1}`), "[1080p]" is
/// noise.
fn unbracket(stem: &str) -> (String, Option<i32>) {
    let mut year = None;
    let mut cleaned = String::with_capacity(stem.len());
    let mut depth = 0usize;
    let mut bracket = String::new();
    for c in stem.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                bracket.clear();
                cleaned.push(' ');
            }
            ')' | ']' | '}' if depth > 0 => {
                depth -= 1;
                if year.is_none() && is_year(&bracket) {
                    year = bracket.parse().ok();
                    cleaned.push_str(" \u{1}");
                }
            }
            _ if depth > 0 => bracket.push(c),
            _ => cleaned.push(c),
        }
    }
    (cleaned, year)
}

/// An episode's name (S01E02 / 1x02): its series, numbers and title.
fn episode(tokens: &[&str], year: Option<i32>) -> Option<NameGuess> {
    for (i, t) in tokens.iter().enumerate() {
        if let Some((season, episode)) = season_episode(t) {
            let series = join_title(&tokens[..i]);
            let rest: Vec<&str> = tokens[i + 1..]
                .iter()
                .copied()
                .take_while(|t| !is_noise(t))
                .collect();
            let episode_title = join_title(&rest);
            let title = match (&series, episode_title) {
                (Some(s), Some(e)) => Some(format!("{s}: {e}")),
                (Some(s), None) => Some(format!("{s} S{season:02}E{episode:02}")),
                (None, e) => e,
            };
            return Some(NameGuess {
                title,
                year,
                series,
                season: Some(season),
                episode: Some(episode),
            });
        }
    }
    None
}

/// The title the tokens before the year or the noise give.
fn title_of(tokens: &[&str]) -> Option<String> {
    let mut title_tokens: Vec<&str> = tokens.to_vec();
    // "03 - Artist - Song": drop a leading track number and take the last part.
    if title_tokens.len() > 2
        && title_tokens[0].chars().all(|c| c.is_ascii_digit())
        && title_tokens[0].len() <= 3
        && title_tokens[1] == "-"
    {
        title_tokens.drain(..2);
    }
    let joined = title_tokens.join(" ");
    joined
        .rsplit(" - ")
        .next()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

fn is_year(t: &str) -> bool {
    t.len() == 4
        && t.chars().all(|c| c.is_ascii_digit())
        && t.parse::<i32>().is_ok_and(|y| (1880..=2100).contains(&y))
}

fn is_noise(t: &str) -> bool {
    let l = t.to_ascii_lowercase();
    let l = l.split('-').next().unwrap_or(&l);
    NOISE.contains(&l) || NOISE.contains(&t.to_ascii_lowercase().as_str())
}

fn season_episode(t: &str) -> Option<(u32, u32)> {
    let l = t.to_ascii_lowercase();
    if let Some(rest) = l.strip_prefix('s') {
        let (s, e) = rest.split_once('e')?;
        let e: String = e.chars().take_while(char::is_ascii_digit).collect();
        if !s.is_empty() && s.len() <= 2 && s.chars().all(|c| c.is_ascii_digit()) && !e.is_empty() {
            return Some((s.parse().ok()?, e.parse().ok()?));
        }
    }
    let (s, e) = l.split_once('x')?;
    if (1..=2).contains(&s.len())
        && (2..=3).contains(&e.len())
        && s.chars().chain(e.chars()).all(|c| c.is_ascii_digit())
    {
        return Some((s.parse().ok()?, e.parse().ok()?));
    }
    None
}

fn join_title(tokens: &[&str]) -> Option<String> {
    let t = tokens
        .iter()
        .filter(|t| **t != "-" && **t != "\u{1}")
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    crate::text::clean(&t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guess(s: &str) -> (Option<String>, Option<i32>) {
        let g = parse_stem(s);
        (g.title, g.year)
    }

    #[test]
    fn scene_names() {
        assert_eq!(
            guess("Movie.Title.2010.1080p.BluRay.x264-GRP"),
            (Some("Movie Title".into()), Some(2010))
        );
        assert_eq!(
            guess("2001.A.Space.Odyssey.1968.720p"),
            (Some("2001 A Space Odyssey".into()), Some(1968))
        );
        assert_eq!(guess("Some_Film_WEB-DL"), (Some("Some Film".into()), None));
    }

    #[test]
    fn library_names() {
        assert_eq!(
            guess("Movie Title (2010)"),
            (Some("Movie Title".into()), Some(2010))
        );
        assert_eq!(
            guess("Movie Title (2010) [1080p]"),
            (Some("Movie Title".into()), Some(2010))
        );
        assert_eq!(guess("1917"), (Some("1917".into()), None));
        assert_eq!(
            guess("03 - Some Artist - A Song"),
            (Some("A Song".into()), None)
        );
    }

    #[test]
    fn episodes() {
        let g = parse_stem("Show.Name.S01E02.The.Pilot.720p");
        assert_eq!(g.series.as_deref(), Some("Show Name"));
        assert_eq!((g.season, g.episode), (Some(1), Some(2)));
        assert_eq!(g.title.as_deref(), Some("Show Name: The Pilot"));
        let g = parse_stem("Show 2x05");
        assert_eq!((g.season, g.episode), (Some(2), Some(5)));
    }
}
