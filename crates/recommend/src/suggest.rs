//! Suggested requests for a moment: what the empty chat offers and what
//! the tray's quick picks answer. They are made from the context alone
//! (time of day, weekday, season, holidays), so every host shows the same
//! ones and nothing here knows the library.

use serde::Serialize;

use crate::context::{Context, DayPart, Season};
use crate::explain::capitalize;

/// A request worth suggesting now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// Short, for a menu: "Sunday morning".
    pub label: String,
    /// The request sent when it is chosen.
    pub prompt: String,
}

fn s(label: impl Into<String>, prompt: impl Into<String>) -> Suggestion {
    Suggestion {
        label: label.into(),
        prompt: prompt.into(),
    }
}

/// Three to five suggestions for `ctx`, most specific first.
pub fn suggestions(ctx: &Context) -> Vec<Suggestion> {
    let mut out = Vec::new();
    let part = ctx.day_part.as_str();
    let season = ctx.season.as_str();

    if let Some(holiday) = ctx.holidays.first().map(|h| h.as_str()) {
        let name = holiday
            .split_whitespace()
            .map(capitalize)
            .collect::<Vec<_>>()
            .join(" ");
        out.push(s(
            name.clone(),
            format!("something for {holiday}, this {part}"),
        ));
    }

    // The moment itself: "Sunday morning" on weekends, the day part otherwise.
    match (ctx.weekend, ctx.day_part) {
        (true, DayPart::Morning) => out.push(s(
            format!("{} morning", ctx.weekday),
            format!("a slow, easy {} morning", ctx.weekday),
        )),
        (true, _) => out.push(s(
            format!("{} {part}", ctx.weekday),
            format!("something relaxed for a {} {part}", ctx.weekday),
        )),
        (false, DayPart::Morning) => {
            out.push(s("Morning start", "upbeat music to start the morning"))
        }
        (false, DayPart::Afternoon) => {
            out.push(s("Afternoon lift", "something upbeat for the afternoon"))
        }
        (false, DayPart::Evening) => out.push(s(
            "Unwind",
            "something calm to unwind after work this evening",
        )),
        (false, DayPart::Night) => out.push(s("Late night", "quiet music for late at night")),
    }

    // Work or a film night, by the time of day.
    match ctx.day_part {
        DayPart::Morning | DayPart::Afternoon => {
            out.push(s("Focus", "calm instrumental music to focus"))
        }
        DayPart::Evening => out.push(s("Film night", "a film for tonight")),
        DayPart::Night => out.push(s("Bedtime reading", "a gentle book to read before sleep")),
    }

    // The season.
    let season_prompt = match ctx.season {
        Season::Winter => format!("something cosy for a winter {part}"),
        Season::Summer => format!("something bright for a summer {part}"),
        Season::Spring => format!("something fresh for a spring {part}"),
        Season::Autumn => format!("something warm for an autumn {part}"),
    };
    out.push(s(format!("{} {part}", capitalize(season)), season_prompt));

    out.truncate(5);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Hemisphere;
    use chrono::NaiveDateTime;

    fn at(s: &str, h: Hemisphere) -> Context {
        let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
        Context::new(t, h)
    }

    #[test]
    fn follow_the_moment() {
        let sunday = suggestions(&at("2026-11-29T09:00", Hemisphere::North));
        assert!((3..=5).contains(&sunday.len()));
        assert_eq!(sunday[0].label, "Sunday morning");
        assert!(sunday.iter().any(|s| s.label == "Focus"));
        assert!(sunday.iter().any(|s| s.label == "Autumn morning"));

        let christmas_eve = suggestions(&at("2026-12-24T20:00", Hemisphere::North));
        assert_eq!(christmas_eve[0].label, "Christmas");
        assert!(christmas_eve.iter().any(|s| s.label == "Film night"));
        assert!(christmas_eve.iter().any(|s| s.prompt.contains("winter")));

        let south = suggestions(&at("2026-12-24T20:00", Hemisphere::South));
        assert!(south.iter().any(|s| s.prompt.contains("summer")));

        let tuesday_night = suggestions(&at("2026-07-14T23:30", Hemisphere::North));
        assert_eq!(tuesday_night[0].label, "Late night");
        assert!(tuesday_night.iter().all(|s| !s.prompt.is_empty()));
    }
}
