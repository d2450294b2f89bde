//! Key and mode from the chroma: correlation with the Krumhansl–Kessler
//! major and minor profiles in all twelve rotations; triads for the share
//! of major and minor harmony.

use serde::{Deserialize, Serialize};

pub const PITCH_NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
const MAJOR: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
const MINOR: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Major,
    Minor,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Major => "major",
            Mode::Minor => "minor",
        })
    }
}

pub struct Key {
    pub tonic: u8,
    pub mode: Mode,
    pub strength: f32,
}

fn correlation(a: &[f64; 12], b: impl Fn(usize) -> f64) -> f64 {
    let ma = a.iter().sum::<f64>() / 12.0;
    let mb = (0..12).map(&b).sum::<f64>() / 12.0;
    let (mut num, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (i, x) in a.iter().enumerate() {
        let (da, db) = (x - ma, b(i) - mb);
        num += da * db;
        va += da * da;
        vb += db * db;
    }
    if va <= 0.0 || vb <= 0.0 {
        0.0
    } else {
        num / (va * vb).sqrt()
    }
}

pub fn estimate(chroma: &[f32; 12]) -> Key {
    let c: [f64; 12] = std::array::from_fn(|i| chroma[i] as f64);
    let mut best = Key {
        tonic: 0,
        mode: Mode::Major,
        strength: -1.0,
    };
    for tonic in 0..12 {
        for (mode, profile) in [(Mode::Major, &MAJOR), (Mode::Minor, &MINOR)] {
            let r = correlation(&c, |i| profile[(i + 12 - tonic) % 12]) as f32;
            if r > best.strength {
                best = Key {
                    tonic: tonic as u8,
                    mode,
                    strength: r,
                };
            }
        }
    }
    best
}

/// Whether the triad with the most energy in one chroma frame is minor
/// (`None` for a frame without energy).
pub fn strongest_triad_is_minor(frame: &[f64; 12]) -> Option<bool> {
    let mut best = (0.0, None);
    for root in 0..12 {
        for (third, minor) in [(4, false), (3, true)] {
            let e = frame[root] + frame[(root + third) % 12] + frame[(root + 7) % 12];
            if e > best.0 {
                best = (e, Some(minor));
            }
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyze_samples, signal};

    #[test]
    fn chord_progressions_read_their_key_and_mode() {
        let rate = 44_100;
        // I–IV–V–I in C major; i–iv–v–i in A minor (MIDI roots).
        let major = signal::chords(
            &[(60, false), (65, false), (67, false), (60, false)],
            3.0,
            rate,
        );
        let minor = signal::chords(&[(57, true), (62, true), (64, true), (57, true)], 3.0, rate);
        let a = analyze_samples(&major, 1, rate);
        let b = analyze_samples(&minor, 1, rate);
        assert_eq!((a.key, a.mode), (0, Mode::Major), "{}", a.key_name());
        assert_eq!((b.key, b.mode), (9, Mode::Minor), "{}", b.key_name());
        assert!(a.major_share > 0.8 && b.minor_share > 0.8, "{a:?} {b:?}");
        assert_eq!(b.key_name(), "A minor");
    }

    #[test]
    fn triads() {
        let mut f = [0.0; 12];
        f[9] = 1.0; // A
        f[0] = 1.0; // C
        f[4] = 1.0; // E
        assert_eq!(strongest_triad_is_minor(&f), Some(true));
        f[1] = 1.5; // C#: A major now outweighs
        f[0] = 0.2;
        assert_eq!(strongest_triad_is_minor(&f), Some(false));
        assert_eq!(strongest_triad_is_minor(&[0.0; 12]), None);
    }
}
