//! Series: "the next one", "continue my series", and the tray's
//! "Continue: …". A book series is ordered by its series index (Calibre's
//! `series_index`, EPUB 3's `group-position`), a show by season and episode
//! (Kodi's `episodedetails`, `S01E02` file names). What comes next is the
//! work begun and not finished, else the first unused one after the last
//! one used; the series used most lately comes first.

use std::collections::HashMap;

use moodshelf_catalog::{Person, SeriesItem, UseRecord};
use serde::Serialize;

use crate::Kind;
use crate::error::Result;
use crate::store::Store;

/// What comes next in one series.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NextUp {
    pub item_id: i64,
    pub series: String,
    /// Where it stands: "book 3", "S01E03".
    pub place: String,
    /// The place of the last one used before it, when it is a next one.
    pub after: Option<String>,
    /// Begun and not finished: it is to be continued.
    pub begun: bool,
    /// When the series was last used (Unix seconds), when known.
    pub last_used: Option<i64>,
}

/// An item's place in its series, as a sortable number.
fn position(s: &SeriesItem) -> Option<f64> {
    match (s.season, s.episode, s.index) {
        (Some(season), Some(episode), _) => Some(f64::from(season) * 10_000.0 + f64::from(episode)),
        (None, Some(episode), _) => Some(f64::from(episode)),
        (_, None, Some(i)) => Some(f64::from(i)),
        _ => None,
    }
}

/// An item's place in words.
fn place(s: &SeriesItem) -> String {
    match (s.season, s.episode, s.index) {
        (Some(season), Some(episode), _) => format!("S{season:02}E{episode:02}"),
        (None, Some(episode), _) => format!("episode {episode}"),
        (_, _, Some(i)) if i.fract() == 0.0 => format!("book {}", i as i64),
        (_, _, Some(i)) => format!("book {i}"),
        _ => String::new(),
    }
}

/// Whether a use record says the work was begun and not finished.
fn begun(rs: &[UseRecord]) -> bool {
    !rs.iter().any(|r| r.finished == Some(true))
        && rs
            .iter()
            .any(|r| r.progress.is_some_and(|p| p > 0.0 && p < 0.98))
}

fn used(rs: &[UseRecord]) -> bool {
    rs.iter().any(UseRecord::used)
}

fn last_used(rs: &[UseRecord]) -> Option<i64> {
    rs.iter().filter_map(|r| r.last_played).max()
}

/// What comes next in each series the person has begun, most lately used
/// first (see the module's notes).
pub fn next_in(items: &[SeriesItem], records: &HashMap<i64, Vec<UseRecord>>) -> Vec<NextUp> {
    let mut by_series: HashMap<(Kind, String), Vec<(&SeriesItem, f64)>> = HashMap::new();
    for s in items {
        if let Some(p) = position(s) {
            let key = (s.kind, s.series.trim().to_lowercase());
            by_series.entry(key).or_default().push((s, p));
        }
    }
    let none: Vec<UseRecord> = Vec::new();
    let rec = |id: i64| records.get(&id).unwrap_or(&none).as_slice();
    let mut out = Vec::new();
    for members in by_series.values_mut() {
        members.sort_by(|a, b| a.1.total_cmp(&b.1));
        let last = members
            .iter()
            .filter_map(|(s, _)| last_used(rec(s.id)))
            .max();
        if let Some((s, _)) = members.iter().find(|(s, _)| begun(rec(s.id))) {
            out.push(NextUp {
                item_id: s.id,
                series: s.series.clone(),
                place: place(s),
                after: None,
                begun: true,
                last_used: last,
            });
            continue;
        }
        let Some(done) = members.iter().rposition(|(s, _)| used(rec(s.id))) else {
            continue;
        };
        if let Some((s, _)) = members[done + 1..].iter().find(|(s, _)| !used(rec(s.id))) {
            out.push(NextUp {
                item_id: s.id,
                series: s.series.clone(),
                place: place(s),
                after: Some(place(members[done].0)),
                begun: false,
                last_used: last,
            });
        }
    }
    out.sort_by(|a, b| {
        b.last_used
            .cmp(&a.last_used)
            .then(a.item_id.cmp(&b.item_id))
    });
    out
}

impl NextUp {
    /// Why it is offered, in words that hold only what is recorded.
    pub fn why(&self) -> String {
        match (&self.after, self.begun) {
            (_, true) => format!("You began it: {} of {}", self.place, self.series),
            (Some(after), _) => format!(
                "Next in {}: {}, after {after}, which you finished",
                self.series, self.place
            ),
            (None, false) => format!("Next in {}: {}", self.series, self.place),
        }
    }
}

/// What comes next in each series `person` has begun.
pub async fn next_up(store: &Store, person: &Person) -> Result<Vec<NextUp>> {
    let state = store.taste_state(person.id).await?;
    let items = store.catalog().series_items().await?;
    Ok(next_in(&items, &state.records))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(id: i64, series: &str, index: f32) -> SeriesItem {
        SeriesItem {
            id,
            kind: Kind::Book,
            series: series.into(),
            index: Some(index),
            season: None,
            episode: None,
        }
    }

    fn episode(id: i64, season: u32, episode: u32) -> SeriesItem {
        SeriesItem {
            id,
            kind: Kind::Video,
            series: "Show".into(),
            index: None,
            season: Some(season),
            episode: Some(episode),
        }
    }

    fn done(at: i64) -> Vec<UseRecord> {
        vec![UseRecord {
            finished: Some(true),
            last_played: Some(at),
            ..UseRecord::default()
        }]
    }

    #[test]
    fn the_next_is_after_the_last_finished_and_begun_ones_come_first() {
        let items = vec![
            book(1, "Tales", 1.0),
            book(2, "Tales", 2.0),
            book(3, "Tales", 3.0),
            episode(10, 1, 1),
            episode(11, 1, 2),
            episode(12, 2, 1),
            book(20, "Other", 1.0),
            book(21, "Other", 2.0),
        ];
        let mut records: HashMap<i64, Vec<UseRecord>> = HashMap::new();
        records.insert(1, done(100));
        records.insert(2, done(200));
        records.insert(10, done(50));
        records.insert(11, done(300));
        records.insert(
            20,
            vec![UseRecord {
                progress: Some(0.4),
                last_played: Some(10),
                ..UseRecord::default()
            }],
        );
        let n = next_in(&items, &records);
        let ids: Vec<i64> = n.iter().map(|x| x.item_id).collect();
        assert_eq!(ids, vec![12, 3, 20], "newest series first: {n:?}");
        assert_eq!(n[0].place, "S02E01");
        assert_eq!(n[0].after.as_deref(), Some("S01E02"));
        assert!(n[2].begun, "a book begun is continued, not skipped");
        assert_eq!(
            n[1].why(),
            "Next in Tales: book 3, after book 2, which you finished"
        );
        records.insert(3, done(400));
        assert!(
            !next_in(&items, &records)
                .iter()
                .any(|x| x.series == "Tales"),
            "a series read through has no next"
        );
    }
}
