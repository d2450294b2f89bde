//! The situation a request is made in: time of day, weekday, season and
//! holidays near the date. Always built from a time passed in (`--now`,
//! the host's clock), never from reading the clock here, so that answers
//! and evaluations are repeatable. "Something for tonight" on 24 December
//! and on 24 July read differently because their contexts differ.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Hemisphere {
    #[default]
    North,
    South,
}

impl std::str::FromStr for Hemisphere {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "north" | "northern" | "n" => Ok(Hemisphere::North),
            "south" | "southern" | "s" => Ok(Hemisphere::South),
            other => Err(format!("hemisphere must be north or south, not {other:?}")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Season {
    Winter,
    Spring,
    Summer,
    Autumn,
}

impl Season {
    pub fn as_str(self) -> &'static str {
        match self {
            Season::Winter => "winter",
            Season::Spring => "spring",
            Season::Summer => "summer",
            Season::Autumn => "autumn",
        }
    }

    pub fn parse(word: &str) -> Option<Season> {
        match word {
            "winter" | "wintry" | "wintery" => Some(Season::Winter),
            "spring" | "springtime" => Some(Season::Spring),
            "summer" | "summery" | "summertime" => Some(Season::Summer),
            "autumn" | "fall" | "autumnal" => Some(Season::Autumn),
            _ => None,
        }
    }

    /// Meteorological seasons: whole months, flipped south of the equator.
    pub fn of(month: u32, hemisphere: Hemisphere) -> Season {
        let north = match month {
            12 | 1 | 2 => Season::Winter,
            3..=5 => Season::Spring,
            6..=8 => Season::Summer,
            _ => Season::Autumn,
        };
        match hemisphere {
            Hemisphere::North => north,
            Hemisphere::South => match north {
                Season::Winter => Season::Summer,
                Season::Summer => Season::Winter,
                Season::Spring => Season::Autumn,
                Season::Autumn => Season::Spring,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DayPart {
    Morning,
    Afternoon,
    Evening,
    Night,
}

impl DayPart {
    pub const ALL: [DayPart; 4] = [
        DayPart::Morning,
        DayPart::Afternoon,
        DayPart::Evening,
        DayPart::Night,
    ];

    pub fn of(hour: u32) -> DayPart {
        match hour {
            5..=11 => DayPart::Morning,
            12..=16 => DayPart::Afternoon,
            17..=21 => DayPart::Evening,
            _ => DayPart::Night,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DayPart::Morning => "morning",
            DayPart::Afternoon => "afternoon",
            DayPart::Evening => "evening",
            DayPart::Night => "night",
        }
    }
}

/// A widely shared holiday whose mood shapes what people ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Holiday {
    #[serde(rename = "christmas")]
    Christmas,
    #[serde(rename = "new year")]
    NewYear,
    #[serde(rename = "halloween")]
    Halloween,
    #[serde(rename = "valentine's day")]
    Valentine,
    #[serde(rename = "easter")]
    Easter,
}

impl Holiday {
    pub const ALL: [Holiday; 5] = [
        Holiday::Christmas,
        Holiday::NewYear,
        Holiday::Halloween,
        Holiday::Valentine,
        Holiday::Easter,
    ];

    /// Its name in words, as requests and reasons say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Holiday::Christmas => "christmas",
            Holiday::NewYear => "new year",
            Holiday::Halloween => "halloween",
            Holiday::Valentine => "valentine's day",
            Holiday::Easter => "easter",
        }
    }
}

/// When a request is made, as the user's wall clock shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Context {
    /// Local wall time, `2026-12-24T20:00`.
    pub local_time: String,
    pub weekday: String,
    pub weekend: bool,
    pub day_part: DayPart,
    pub season: Season,
    pub hemisphere: Hemisphere,
    /// Holidays within about two weeks ahead or two days past.
    pub holidays: Vec<Holiday>,
}

impl Context {
    pub fn new(local: NaiveDateTime, hemisphere: Hemisphere) -> Context {
        let date = local.date();
        let weekday = date.weekday();
        Context {
            local_time: local.format("%Y-%m-%dT%H:%M").to_string(),
            weekday: weekday_name(weekday).to_string(),
            weekend: matches!(weekday, Weekday::Sat | Weekday::Sun),
            day_part: DayPart::of(local.hour()),
            season: Season::of(date.month(), hemisphere),
            hemisphere,
            holidays: holidays_near(date),
        }
    }

    /// Words that describe this moment, for matching items' descriptors:
    /// the season, the part of the day, and the holidays.
    pub fn words(&self) -> Vec<String> {
        let mut w = vec![
            self.season.as_str().to_string(),
            self.day_part.as_str().to_string(),
        ];
        if self.weekend {
            w.push("weekend".into());
        }
        for h in &self.holidays {
            w.extend(h.as_str().split_whitespace().map(str::to_string));
        }
        w
    }

    /// Weekday, time of day and season, without holidays: what the
    /// explaining model may use (given holidays, a small model credits
    /// every item with a Christmas theme).
    pub fn describe_briefly(&self) -> String {
        format!(
            "{} {}, {}",
            self.weekday,
            self.day_part.as_str(),
            self.season.as_str()
        )
    }

    /// One line for prompts and logs.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} {}, {} in the {} hemisphere",
            self.weekday,
            self.day_part.as_str(),
            self.season.as_str(),
            match self.hemisphere {
                Hemisphere::North => "northern",
                Hemisphere::South => "southern",
            }
        );
        if !self.holidays.is_empty() {
            let names: Vec<&str> = self.holidays.iter().map(|h| h.as_str()).collect();
            s.push_str(&format!(", near {}", names.join(" and ")));
        }
        s
    }
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// Widely shared holidays whose mood shapes what people ask for, with the
/// days before them when they are "near".
fn holidays_near(date: NaiveDate) -> Vec<Holiday> {
    let y = date.year();
    let fixed = |m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
    let near = |day: NaiveDate, before: i64, after: i64| {
        let delta = (day - date).num_days();
        (-after..=before).contains(&delta)
    };
    let mut out: Vec<Holiday> = Vec::new();
    for (holiday, day, before, after) in [
        (Holiday::Christmas, fixed(12, 25), 24, 1),
        (Holiday::NewYear, fixed(12, 31), 3, 0),
        (Holiday::Halloween, fixed(10, 31), 14, 0),
        (Holiday::Valentine, fixed(2, 14), 5, 0),
        (Holiday::Easter, easter(y), 7, 1),
    ] {
        if near(day, before, after) {
            out.push(holiday);
        }
    }
    if date.month() == 1 && date.day() == 1 {
        out.push(Holiday::NewYear);
    }
    out.dedup();
    out
}

/// Gregorian Easter Sunday (anonymous Gregorian algorithm).
fn easter(y: i32) -> NaiveDate {
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(y, month as u32, day as u32).expect("valid Easter date")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str, h: Hemisphere) -> Context {
        Context::new(
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap(),
            h,
        )
    }

    #[test]
    fn december_evening_differs_from_july() {
        let dec = at("2026-12-24T20:00", Hemisphere::North);
        assert_eq!(dec.season, Season::Winter);
        assert_eq!(dec.day_part, DayPart::Evening);
        assert_eq!(dec.weekday, "Thursday");
        assert!(dec.holidays.contains(&Holiday::Christmas));
        let jul = at("2026-07-24T20:00", Hemisphere::North);
        assert_eq!(jul.season, Season::Summer);
        assert!(jul.holidays.is_empty());
        assert_ne!(dec.words(), jul.words());
    }

    #[test]
    fn the_south_has_summer_at_christmas() {
        let c = at("2026-12-24T09:00", Hemisphere::South);
        assert_eq!(c.season, Season::Summer);
        assert_eq!(c.day_part, DayPart::Morning);
        assert!(c.holidays.contains(&Holiday::Christmas));
        assert_eq!("south".parse::<Hemisphere>().unwrap(), Hemisphere::South);
        assert!("east".parse::<Hemisphere>().is_err());
    }

    #[test]
    fn easter_and_weekends() {
        assert_eq!(easter(2026), NaiveDate::from_ymd_opt(2026, 4, 5).unwrap());
        assert_eq!(easter(2027), NaiveDate::from_ymd_opt(2027, 3, 28).unwrap());
        let sun = at("2026-11-29T10:00", Hemisphere::North);
        assert!(sun.weekend);
        assert!(sun.words().contains(&"weekend".to_string()));
        assert_eq!(
            at("2026-11-29T23:30", Hemisphere::North).day_part,
            DayPart::Night
        );
    }
}
