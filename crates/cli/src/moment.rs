//! `--now`: the moment a command acts at, read from the flag or, without
//! it, from the system clock and time zone.

use moodshelf_engine::{Code, Error, Moment};

/// The moment to act at. `--now` takes Unix seconds, RFC 3339 (the wall
/// time in its offset is the user's local time) or a bare local time
/// "2026-12-24T20:00"; without it, the system clock and time zone.
pub(crate) fn parse_moment(s: Option<&str>) -> anyhow::Result<Moment> {
    let Some(s) = s else {
        let now = chrono::Local::now();
        return Ok(Moment {
            unix: now.timestamp(),
            local: now.naive_local(),
        });
    };
    if let Ok(secs) = s.parse::<i64>() {
        let t = chrono::DateTime::from_timestamp(secs, 0)
            .ok_or_else(|| Error::new(Code::InvalidInput, format!("--now {s}: out of range")))?;
        return Ok(Moment {
            unix: secs,
            local: t.naive_utc(),
        });
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(Moment {
            unix: t.timestamp(),
            local: t.naive_local(),
        });
    }
    let t = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            Error::new(
                Code::InvalidInput,
                format!(
                    "--now {s:?}: use a local time (2026-12-24T20:00), RFC 3339 (2026-12-24T20:00:00+01:00) or Unix seconds"
                ),
            )
        })?;
    Ok(Moment {
        unix: t.and_utc().timestamp(),
        local: t,
    })
}
