//! The numbers that shape answers, all in one file, `data/weights.toml`:
//! the ranking's fitted weights at its top (read by the recommender's
//! `rank::Weights`; the evaluation's fit rewrites only their values) and
//! the hand-set [`Shaping`] numbers under `[shaping]`, read here because
//! tastes and sound goals use them as well as the recommender. Every
//! number there has a line on what it does.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// The whole file, for the recommender's fitted weights.
pub const WEIGHTS_TOML: &str = include_str!("../data/weights.toml");

/// Numbers that shape an answer but are set by hand, not fitted: the
/// weight of a need by who read it, when a request counts as vague, how
/// deep retrieval reaches, how far feedback reaches, what a reason may
/// claim, what a like weighs in a taste, how sounds count as near and
/// which readings of a sound are clear enough to use, how a playlist
/// varies. Each has its line in `weights.toml`'s `[shaping]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Shaping {
    pub need_from_words: f32,
    pub need_from_time_words: f32,
    pub need_from_embedding: f32,
    pub need_from_model: f32,
    pub need_from_earlier: f32,
    pub need_from_preference: f32,
    pub need_from_origin: f32,
    pub vague: f32,
    pub named_title: f32,
    pub named_creator: f32,
    pub depth_per_pick: usize,
    pub min_depth: usize,
    pub blind_reach: usize,
    pub max_blind: usize,
    pub explain_top: usize,
    pub shown_window_days: i64,
    pub not_now_days: i64,
    pub dislike_similarity: f32,
    pub kind_share: f32,
    pub supported: f32,
    pub sounds_near: f32,
    pub liked: f32,
    pub disliked: f32,
    pub loved: f32,
    pub cite_similarity: f32,
    pub taste_min_works: usize,
    pub taste_parts_shown: usize,
    pub sound_spread: f32,
    pub sound_min_move: f32,
    pub silent_lufs: f32,
    pub clear_beat: f32,
    pub clear_key: f32,
    pub playlist_pool: usize,
    pub playlist_max_run: usize,
    pub playlist_slack_secs: f64,
    pub playlist_tracks: usize,
}

impl Shaping {
    /// How long "not now" hides an item, in seconds.
    pub fn not_now_secs(&self) -> i64 {
        self.not_now_days * 86_400
    }

    /// How far back novelty looks, in seconds.
    pub fn shown_window_secs(&self) -> i64 {
        self.shown_window_days * 86_400
    }
}

impl Shaping {
    /// Reads and checks the `[shaping]` table of a weights file.
    pub fn parse(text: &str) -> Result<Shaping, String> {
        #[derive(Deserialize)]
        struct File {
            shaping: Shaping,
        }
        let s = toml::from_str::<File>(text)
            .map_err(|e| e.to_string())?
            .shaping;
        s.check()?;
        Ok(s)
    }

    /// Counts are at least one (a reach of 0 would look before the first
    /// candidate), days and slack not negative, a share within (0, 1].
    fn check(&self) -> Result<(), String> {
        let counts = [
            ("depth_per_pick", self.depth_per_pick),
            ("min_depth", self.min_depth),
            ("blind_reach", self.blind_reach),
            ("max_blind", self.max_blind),
            ("taste_min_works", self.taste_min_works),
            ("taste_parts_shown", self.taste_parts_shown),
            ("playlist_pool", self.playlist_pool),
            ("playlist_max_run", self.playlist_max_run),
            ("playlist_tracks", self.playlist_tracks),
        ];
        if let Some((name, _)) = counts.iter().find(|(_, n)| *n == 0) {
            return Err(format!("[shaping] {name} must be at least 1"));
        }
        if self.shown_window_days < 0 || self.not_now_days < 0 || self.playlist_slack_secs < 0.0 {
            return Err("[shaping] days and the playlist's slack cannot be negative".into());
        }
        if !(self.kind_share > 0.0 && self.kind_share <= 1.0) {
            return Err(format!(
                "[shaping] kind_share {} is not a share",
                self.kind_share
            ));
        }
        Ok(())
    }
}

/// The `[shaping]` table of `weights.toml`, checked.
pub static SHAPING: LazyLock<Shaping> =
    LazyLock::new(|| Shaping::parse(WEIGHTS_TOML).unwrap_or_else(|e| panic!("weights.toml: {e}")));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shaping_number_is_in_the_file() {
        assert_eq!(SHAPING.need_from_words, 1.0);
        assert!(SHAPING.loved > 0.0 && SHAPING.disliked < 0.0);
    }

    #[test]
    fn a_count_of_zero_or_a_share_past_one_fails_at_load() {
        for (from, to) in [
            ("blind_reach = 3", "blind_reach = 0"),
            ("playlist_tracks = 15", "playlist_tracks = 0"),
            ("kind_share = 0.6", "kind_share = 1.5"),
            ("not_now_days = 3", "not_now_days = -1"),
        ] {
            let text = WEIGHTS_TOML.replace(from, to);
            assert_ne!(text, WEIGHTS_TOML, "{from} is in the file");
            assert!(Shaping::parse(&text).is_err(), "{to} is refused");
        }
    }
}
