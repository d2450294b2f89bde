//! What a person's other software recorded about their use of a file: a
//! media centre's play count and last play, a player's or tagger's rating
//! and play counter, a reader's progress. It is the person's history, not
//! what the work is: [`crate::Metadata::history`] carries it out of a read,
//! and a scanner stores it apart from the item's metadata, with its source.

use serde::{Deserialize, Serialize};

use crate::text::leading_number;

/// One file's use, as one piece of software recorded it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct History {
    /// Whose record it is: "kodi" (a Kodi, Jellyfin or Emby `.nfo`),
    /// "calibre" (its `metadata.opf` rating).
    pub source: String,
    /// Times played, watched or read through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plays: Option<u32>,
    /// When it was last played or opened, Unix seconds (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_played: Option<i64>,
    /// The person's own rating, 0–10 (not the public one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<f32>,
    /// How much of it was read or watched, 0–1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<f32>,
    /// Marked as watched, read or finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<bool>,
}

impl History {
    /// A record of `source` with nothing in it yet.
    pub fn of(source: &str) -> History {
        History {
            source: source.to_string(),
            ..History::default()
        }
    }

    /// Whether it records anything at all. A play count of zero, a rating
    /// of zero (Kodi's "not rated") and "not watched" record nothing.
    pub fn is_empty(&self) -> bool {
        self.plays.is_none_or(|p| p == 0)
            && self.last_played.is_none()
            && self.rating.is_none()
            && self.progress.is_none_or(|p| p <= 0.0)
            && self.finished != Some(true)
    }

    /// Keeps only values a person could have recorded: a rating above 0
    /// and at most 10, progress within 0–1, a last play after 1970.
    pub fn tidy(mut self) -> Option<History> {
        self.rating = self.rating.filter(|r| *r > 0.0 && *r <= 10.0);
        self.progress = self
            .progress
            .filter(|p| p.is_finite())
            .map(|p| p.clamp(0.0, 1.0));
        self.last_played = self.last_played.filter(|t| *t > 0);
        (!self.is_empty()).then_some(self)
    }
}

/// A Kodi or Jellyfin date and time ("2019-05-01 20:31:00", "2019-05-01",
/// or ISO 8601 with a `T`), read as UTC, as Unix seconds.
pub(crate) fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once([' ', 'T']).unwrap_or((s, ""));
    let mut d = date.split('-');
    let (y, m, day) = (d.next()?, d.next()?, d.next()?);
    let (y, m, day): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, day.parse().ok()?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = 0;
    for (part, (unit, most)) in time.split(':').zip([(3600, 23), (60, 59), (1, 59)]) {
        let v = leading_number(part).unwrap_or(0.0) as i64;
        secs += v.clamp(0, most) * unit;
    }
    Some(days_from_civil(y, m, day) * 86_400 + secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kodi_dates_are_read_as_utc() {
        assert_eq!(parse_datetime("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_datetime("2019-05-01 20:31:00"), Some(1_556_742_660));
        assert_eq!(parse_datetime("2019-05-01"), Some(1_556_668_800));
        assert_eq!(parse_datetime("2000-02-29T12:00:00Z"), Some(951_825_600));
        assert_eq!(parse_datetime("yesterday"), None);
        assert_eq!(parse_datetime("2019-13-01"), None);
    }

    #[test]
    fn nothing_recorded_is_no_history() {
        let mut h = History::of("kodi");
        h.plays = Some(0);
        h.rating = Some(0.0);
        assert_eq!(
            h.clone().tidy(),
            None,
            "Kodi writes 0 for never and unrated"
        );
        h.plays = Some(2);
        h.rating = Some(12.0);
        let h = h.tidy().unwrap();
        assert_eq!((h.plays, h.rating), (Some(2), None));
    }
}
