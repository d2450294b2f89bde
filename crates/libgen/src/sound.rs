//! Synthesized music with a known tempo, loudness and mode, written as
//! real 16-bit PCM WAV files, for tests of the sound analysis and of what
//! recommendations make of it. Two families, far apart on every axis the
//! analysis measures:
//!
//! - **still**: a soft sustained triad (three partials a note) swelling
//!   gently once a beat at 60–80 BPM, about -30 LUFS, dark;
//! - **driving**: a kick on every beat and noise hats on every eighth at
//!   140–175 BPM over a loud square bass, about -10 LUFS, bright.

use std::f32::consts::TAU;
use std::path::Path;

pub const RATE: u32 = 44_100;

/// A track to write: its family, its tempo, its key (MIDI root, minor).
#[derive(Debug, Clone, Copy)]
pub struct Synth {
    pub driving: bool,
    pub bpm: f32,
    pub root: u8,
    pub minor: bool,
    pub seconds: f32,
}

fn hz(midi: f32) -> f32 {
    440.0 * 2f32.powf((midi - 69.0) / 12.0)
}

/// Deterministic noise in -1..1.
fn noise(state: &mut u64) -> f32 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*state >> 40) as f32 / (1u64 << 23) as f32) - 1.0
}

impl Synth {
    /// Mono samples at [`RATE`].
    pub fn samples(&self) -> Vec<f32> {
        let n = (self.seconds * RATE as f32) as usize;
        let beat = 60.0 / self.bpm;
        let third = if self.minor { 3.0 } else { 4.0 };
        let notes = [0.0, third, 7.0].map(|i| hz(self.root as f32 + i));
        let mut seed = self.root as u64 * 7919 + self.bpm as u64;
        (0..n)
            .map(|i| {
                let t = i as f32 / RATE as f32;
                let in_beat = (t % beat) / beat;
                if self.driving {
                    let since_beat = t % beat;
                    let since_eighth = t % (beat / 2.0);
                    let kick = (TAU * 55.0 * since_beat).sin() * (-since_beat * 18.0).exp();
                    let hat = noise(&mut seed) * (-since_eighth * 60.0).exp();
                    let bass = if (TAU * notes[0] / 2.0 * t).sin() >= 0.0 {
                        0.25
                    } else {
                        -0.25
                    };
                    0.55 * kick + 0.45 * hat + bass
                } else {
                    // A swell that rises and falls once a beat.
                    let swell = 0.6 + 0.4 * (TAU * in_beat).sin().max(0.0);
                    let pad: f32 = notes
                        .iter()
                        .map(|f| {
                            (1..=3)
                                .map(|h| (TAU * f * h as f32 * t).sin() / h as f32)
                                .sum::<f32>()
                        })
                        .sum();
                    0.012 * swell * pad
                }
            })
            .collect()
    }

    /// Writes the track as a stereo 16-bit WAV file.
    pub fn write_wav(&self, path: &Path) -> std::io::Result<()> {
        write_wav(path, &self.samples(), RATE)
    }
}

/// Writes mono `samples` as a stereo 16-bit PCM WAV file.
pub fn write_wav(path: &Path, samples: &[f32], rate: u32) -> std::io::Result<()> {
    let channels: u16 = 2;
    let data_len = (samples.len() * 2 * channels as usize) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2 * channels as u32).to_le_bytes());
    out.extend_from_slice(&(2 * channels).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        let v = (s.clamp(-1.0, 1.0) * 32767.0) as i16;
        for _ in 0..channels {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::write(path, out)
}

/// `n` still and `n` driving tracks with varied tempi and keys, shuffled
/// (a fixed permutation) so that file order says nothing.
pub fn two_families(n: usize, seconds: f32) -> Vec<Synth> {
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n {
        let k = i as f32 / n.max(1) as f32;
        out.push(Synth {
            driving: true,
            bpm: 140.0 + 35.0 * k,
            root: 40 + (i as u8 * 5) % 12,
            minor: i % 3 == 0,
            seconds,
        });
        out.push(Synth {
            driving: false,
            bpm: 60.0 + 20.0 * k,
            root: 48 + (i as u8 * 7) % 12,
            minor: i % 2 == 0,
            seconds,
        });
    }
    let len = out.len();
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by_key(|&i| (i * 7 + 3) % len.max(1));
    order.into_iter().map(|i| out[i]).collect()
}

/// Writes `n` still and `n` driving tracks of `seconds` each into `dir`,
/// named "Track 01.wav" onwards with no tags, so that only their sound
/// tells them apart.
pub fn write_neutral_tracks(
    dir: &Path,
    n: usize,
    seconds: f32,
) -> std::io::Result<Vec<(std::path::PathBuf, Synth)>> {
    std::fs::create_dir_all(dir)?;
    two_families(n, seconds)
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let path = dir.join(format!("Track {:02}.wav", i + 1));
            s.write_wav(&path)?;
            Ok((path, s))
        })
        .collect()
}
