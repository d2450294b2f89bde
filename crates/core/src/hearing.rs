//! What recommendations make of a track's sound (`analysis`):
//! how energetic it is, on fixed scales, and the plain words a reason may
//! use for what was heard ("quiet, slow (72 BPM), in A minor").
//!
//! The scales are absolute, not relative to the library: a track sounds
//! the same in every library, so a library of metal has no "calm" tracks
//! and its profile does not change as it grows. Their anchors are the
//! ranges recorded music spans: integrated loudness from about -24 LUFS
//! (quiet classical and ambient masters) to -10 (loud pop and rock),
//! onsets from one to five a second, a spectral centroid from 700 Hz
//! (dark, muffled) to 3 kHz (bright, noisy), tempo from 70 to 150 BPM.
//!
//! Energy is a weighted sum of those four, loudness first (the strongest
//! single correlate of perceived energy in the music-information-retrieval
//! literature, e.g. the arousal models of Yang & Chen 2012). The tempo
//! counts only when the beat is clear, and little even then: an
//! autocorrelation tempo is often an octave off.

use moodshelf_sound::{Features, Mode};

use crate::shaping::SHAPING;
use crate::vocab::D;

/// The sound of one track as ranking sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sound {
    pub loudness_lufs: f32,
    /// Beats per minute, when the beat is clear.
    pub tempo_bpm: Option<f32>,
    pub onset_rate: f32,
    pub centroid_hz: f32,
    /// The key, when it is clear: tonic pitch class and mode.
    pub key: Option<(u8, Mode)>,
    /// 0 (still, quiet) to 1 (loud, busy, bright, fast).
    pub energy: f32,
}

/// 0 below `lo`, 1 above `hi`, linear between (either order).
fn ramp(x: f32, lo: f32, hi: f32) -> f32 {
    ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
}

impl Sound {
    /// From stored features (JSON); `None` for silence or a stale form.
    pub fn from_json(json: &str) -> Option<Sound> {
        Sound::from_features(&serde_json::from_str::<Features>(json).ok()?)
    }

    /// `None` for silence: there is nothing to hear.
    pub fn from_features(f: &Features) -> Option<Sound> {
        if !(f.loudness_lufs.is_finite() && f.loudness_lufs > SHAPING.silent_lufs) {
            return None;
        }
        let tempo_bpm =
            (f.tempo_confidence >= SHAPING.clear_beat && f.tempo_bpm > 0.0).then_some(f.tempo_bpm);
        let loud = ramp(f.loudness_lufs, -24.0, -10.0);
        let busy = ramp(f.onset_rate, 1.0, 5.0);
        let bright = ramp(f.centroid_hz, 700.0, 3000.0);
        let pace = tempo_bpm.map_or(0.5, |b| ramp(b, 70.0, 150.0));
        Some(Sound {
            loudness_lufs: f.loudness_lufs,
            tempo_bpm,
            onset_rate: f.onset_rate,
            centroid_hz: f.centroid_hz,
            key: (f.key_strength >= SHAPING.clear_key).then_some((f.key, f.mode)),
            energy: 0.45 * loud + 0.25 * busy + 0.15 * bright + 0.15 * pace,
        })
    }

    /// How strongly the sound says the item has descriptor `d`, 0–1. Only
    /// energy is heard: calm below a third of the scale, energetic above
    /// two thirds; a mood such as sadness is not read from a key.
    pub fn descriptor(&self, d: D) -> f32 {
        match d.name() {
            "calm" => ramp(self.energy, 0.45, 0.2),
            "energetic" => ramp(self.energy, 0.55, 0.8),
            _ => 0.0,
        }
    }

    /// Coordinates in sound space, each roughly 0–1, for "more like this"
    /// and for journeys between tracks.
    pub fn coords(&self) -> [f32; 5] {
        [
            ramp(self.loudness_lufs, -24.0, -10.0),
            ramp(self.onset_rate, 1.0, 5.0),
            ramp(self.centroid_hz, 700.0, 3000.0),
            self.tempo_bpm.map_or(0.5, |b| ramp(b, 70.0, 150.0)),
            // The mode matters less to how alike two tracks sound than
            // their loudness or pace: a third of an axis.
            match self.key {
                Some((_, Mode::Minor)) => 0.35,
                Some((_, Mode::Major)) => 0.65,
                None => 0.5,
            },
        ]
    }

    /// Distance in sound space (0 = alike).
    pub fn distance(&self, other: &Sound) -> f32 {
        self.coords()
            .iter()
            .zip(other.coords())
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            .sqrt()
    }

    /// What was heard, in words a reason may use: loudness, pace, key.
    pub fn words(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.loudness_lufs < -20.0 {
            out.push("quiet".to_string());
        } else if self.loudness_lufs > -11.0 {
            out.push("loud".to_string());
        }
        match self.tempo_bpm {
            Some(b) if b < 90.0 => out.push(format!("slow ({b:.0} BPM)")),
            Some(b) if b > 130.0 => out.push(format!("fast ({b:.0} BPM)")),
            Some(b) => out.push(format!("{b:.0} BPM")),
            None if self.onset_rate < 1.0 => out.push("without a beat".to_string()),
            None => {}
        }
        if let Some((tonic, mode)) = self.key {
            let name = moodshelf_sound::pitch_name(tonic);
            out.push(format!("in {name} {mode}"));
        }
        out
    }
}

/// Where a request points in sound space: at the tracks it names ("more
/// like this one"), or from the previous answer's tracks in a direction
/// ("calmer", "faster").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoundGoal {
    /// The mean of the reference tracks' coordinates.
    pub point: [f32; 5],
    /// The unit direction a follow-up asks for, if any.
    pub toward: Option<[f32; 5]>,
    /// For a direction: the distance from `point` to the nearest track
    /// that lies that way, so that the nearest such track counts fully
    /// however far the library makes it.
    nearest: f32,
}

/// A move in sound space a follow-up can ask for ("livelier", "calmer",
/// "faster", "slower"); the recommender reads it from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoundMove {
    Livelier,
    Calmer,
    Faster,
    Slower,
}

impl SoundMove {
    /// The move along the axes of sound space (loudness, onset rate,
    /// brightness, tempo, mode).
    fn axes(self) -> [f32; 5] {
        match self {
            SoundMove::Livelier => [1.0, 1.0, 1.0, 1.0, 0.0],
            SoundMove::Calmer => [-1.0, -1.0, -1.0, -1.0, 0.0],
            SoundMove::Faster => [0.0, 0.6, 0.0, 1.0, 0.0],
            SoundMove::Slower => [0.0, -0.6, 0.0, -1.0, 0.0],
        }
    }
}

impl SoundGoal {
    /// The goal of `refs` moved by `moves`, given every analysed track the
    /// answer may choose from; `None` without a reference.
    pub fn new<'a>(
        refs: &[Sound],
        moves: &[SoundMove],
        library: impl Iterator<Item = &'a Sound>,
    ) -> Option<SoundGoal> {
        if refs.is_empty() {
            return None;
        }
        let mut point = [0f32; 5];
        for s in refs {
            for (p, c) in point.iter_mut().zip(s.coords()) {
                *p += c / refs.len() as f32;
            }
        }
        let mut toward = [0f32; 5];
        for v in moves.iter().map(|m| m.axes()) {
            for (t, x) in toward.iter_mut().zip(v) {
                *t += x;
            }
        }
        let norm = toward.iter().map(|x| x * x).sum::<f32>().sqrt();
        let mut goal = SoundGoal {
            point,
            toward: (norm > 0.0).then(|| toward.map(|x| x / norm)),
            nearest: 0.0,
        };
        if goal.toward.is_some() {
            goal.nearest = library
                .filter(|s| goal.progress(s) >= SHAPING.sound_min_move)
                .map(|s| goal.distance(s))
                .fold(f32::INFINITY, f32::min);
        }
        Some(goal)
    }

    fn distance(&self, s: &Sound) -> f32 {
        s.coords()
            .iter()
            .zip(&self.point)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            .sqrt()
    }

    /// How far `s` lies from the point along the asked direction.
    fn progress(&self, s: &Sound) -> f32 {
        self.toward.map_or(0.0, |t| {
            s.coords()
                .iter()
                .zip(&self.point)
                .zip(t)
                .map(|((c, p), t)| (c - p) * t)
                .sum()
        })
    }

    /// How well `s` answers: 1 on the point (or, for a direction, as near
    /// as the nearest track that lies that way), falling smoothly with
    /// distance; 0 for a track that does not lie the asked way.
    pub fn closeness(&self, s: &Sound) -> f32 {
        let beyond = match self.toward {
            Some(_) if self.progress(s) < SHAPING.sound_min_move => return 0.0,
            Some(_) => (self.distance(s) - self.nearest).max(0.0),
            None => self.distance(s),
        };
        let near = SHAPING.sound_spread;
        (-beyond * beyond / (2.0 * near * near)).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(lufs: f32, bpm: f32, onsets: f32, centroid: f32) -> Features {
        let chroma = [1.0f32 / 12.0; 12];
        serde_json::from_value(serde_json::json!({
            "version": moodshelf_sound::ANALYSIS_VERSION, "seconds": 180.0,
            "sample_rate": 44100, "channels": 2, "tempo_bpm": bpm,
            "tempo_confidence": 0.6, "onset_rate": onsets,
            "loudness_lufs": lufs, "loudness_range_lu": 6.0, "peak_dbfs": -1.0,
            "rms_dbfs": lufs - 3.0, "dynamics_db": 12.0, "centroid_hz": centroid,
            "rolloff_hz": centroid * 2.0, "flatness": 0.01,
            "zero_crossing_rate": 0.05, "chroma": chroma,
            "major_share": 0.3, "minor_share": 0.7, "key": 9, "mode": "minor",
            "key_strength": 0.8
        }))
        .expect("features")
    }

    #[test]
    fn follow_ups_look_for_the_nearest_tracks_that_lie_the_asked_way() {
        let sound = |lufs, bpm, onsets, centroid| {
            Sound::from_features(&features(lufs, bpm, onsets, centroid)).unwrap()
        };
        let loud = sound(-9.0, 150.0, 4.8, 2900.0);
        let louder = sound(-8.0, 155.0, 5.0, 3000.0);
        let bit_calmer = sound(-13.0, 140.0, 4.0, 2500.0);
        let quiet = sound(-23.0, 68.0, 0.8, 800.0);
        let library = [loud, louder, bit_calmer, quiet];

        // "More like this": the nearest count most.
        let like = SoundGoal::new(&[loud], &[], library.iter()).unwrap();
        assert!(like.closeness(&loud) > 0.999);
        assert!(like.closeness(&louder) > like.closeness(&bit_calmer));
        assert!(like.closeness(&quiet) < 0.01);

        // "Calmer": nothing louder, the nearest calmer track first, and a
        // far calmer one still counts when it is the only way down.
        let calmer = SoundGoal::new(&[loud], &[SoundMove::Calmer], library.iter()).unwrap();
        assert_eq!(calmer.closeness(&louder), 0.0);
        assert_eq!(calmer.closeness(&loud), 0.0, "the same is not calmer");
        assert!(calmer.closeness(&bit_calmer) > 0.999);
        assert!(calmer.closeness(&quiet) > 0.0);
        let only_far =
            SoundGoal::new(&[loud], &[SoundMove::Calmer], [loud, louder, quiet].iter()).unwrap();
        assert!(only_far.closeness(&quiet) > 0.999);

        // "Faster" moves along the tempo.
        let faster = SoundGoal::new(&[bit_calmer], &[SoundMove::Faster], library.iter()).unwrap();
        assert!(faster.closeness(&loud) > 0.0 && faster.closeness(&quiet) == 0.0);
        assert_eq!(
            SoundGoal::new(&[], &[SoundMove::Faster], library.iter()),
            None
        );
    }

    #[test]
    fn quiet_slow_tracks_are_calm_and_loud_fast_ones_energetic() {
        let quiet = Sound::from_features(&features(-23.0, 68.0, 0.8, 800.0)).unwrap();
        let loud = Sound::from_features(&features(-8.0, 150.0, 5.0, 3200.0)).unwrap();
        let calm = D::named("calm");
        let energetic = D::named("energetic");
        assert!(quiet.descriptor(calm) > 0.9, "{quiet:?}");
        assert_eq!(quiet.descriptor(energetic), 0.0);
        assert!(loud.descriptor(energetic) > 0.9, "{loud:?}");
        assert_eq!(loud.descriptor(calm), 0.0);
        assert_eq!(quiet.descriptor(D::named("christmas")), 0.0);
        assert!(quiet.distance(&loud) > 1.5);
        assert_eq!(quiet.distance(&quiet), 0.0);
        assert_eq!(quiet.words(), ["quiet", "slow (68 BPM)", "in A minor"]);
        assert_eq!(loud.words(), ["loud", "fast (150 BPM)", "in A minor"]);
    }

    #[test]
    fn silence_says_nothing_and_an_unclear_beat_is_not_named() {
        assert_eq!(Sound::from_features(&features(-70.0, 0.0, 0.0, 0.0)), None);
        let mut f = features(-15.0, 100.0, 2.0, 1500.0);
        f.tempo_confidence = 0.1;
        f.key_strength = 0.2;
        let s = Sound::from_features(&f).unwrap();
        assert_eq!(s.tempo_bpm, None);
        assert!(s.words().is_empty(), "{:?}", s.words());
    }
}
