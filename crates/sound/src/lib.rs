//! How a track sounds, from its decoded audio: tempo, loudness (EBU R128:
//! integrated and range), energy and dynamics, spectral centroid, rolloff
//! and flatness, zero-crossing rate, chroma with the share of major and
//! minor triads, and the key.
//!
//! Everything is streamed: the decoder hands over one packet of samples at
//! a time and the analysis keeps only a few numbers per 100 ms (loudness)
//! and per 12 ms frame (onsets, levels), so memory is bounded by
//! [`MAX_SECONDS`], not by the file. Methods follow the published
//! descriptions (ITU-R BS.1770-4 and EBU Tech 3341/3342 for loudness,
//! spectral-flux onsets with an autocorrelation tempo, Krumhansl–Kessler
//! key profiles); no GPL code is used or linked.

mod decode;
mod key;
mod loudness;
mod spectral;
mod tempo;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

pub use decode::Decoded;
pub use key::Mode;

/// Bumped when the analysis changes what it computes, so stored features
/// are computed again.
/// 2: the dotted-period correction of the tempo.
/// 3: onsets must rise at least 1 dB above the envelope's mean.
pub const ANALYSIS_VERSION: u32 = 3;

/// Audio past this point is not analysed (a long mix or an audiobook read
/// as music): the features describe its first two hours.
pub const MAX_SECONDS: f64 = 2.0 * 3600.0;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not an audio format that can be decoded ({reason})")]
    Format { path: String, reason: String },
    #[error("{path}: {codec} audio cannot be decoded here")]
    Codec { path: String, codec: String },
    #[error("{path}: the audio is damaged ({reason})")]
    Damaged { path: String, reason: String },
    #[error("{path}: no audio track")]
    NoAudio { path: String },
    #[error("{path}: under a second of audio")]
    TooShort { path: String },
    #[error("cancelled")]
    Cancelled,
}

pub type Result<T> = std::result::Result<T, Error>;

/// The sound of one track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    pub version: u32,
    /// Seconds analysed (the whole track up to [`MAX_SECONDS`]).
    pub seconds: f32,
    pub sample_rate: u32,
    pub channels: u16,
    /// Beats per minute, from the autocorrelation of the onset envelope.
    pub tempo_bpm: f32,
    /// How clearly the onsets repeat at that tempo, 0–1.
    pub tempo_confidence: f32,
    /// Onsets (notes, hits) per second: how busy the track is.
    pub onset_rate: f32,
    /// Integrated loudness (LUFS, gated as BS.1770-4); -70 for silence.
    pub loudness_lufs: f32,
    /// Loudness range (LU, EBU Tech 3342): how much the loud and the quiet
    /// parts differ.
    pub loudness_range_lu: f32,
    /// Highest sample, dBFS (not true peak).
    pub peak_dbfs: f32,
    /// Mean level of the sounding frames, dBFS.
    pub rms_dbfs: f32,
    /// Spread of the frame levels (95th minus 10th percentile, dB).
    pub dynamics_db: f32,
    /// Brightness: the spectrum's centre of mass, Hz.
    pub centroid_hz: f32,
    /// Frequency below which 85% of the spectrum's magnitude lies, Hz.
    pub rolloff_hz: f32,
    /// 0 (tonal) to 1 (noise-like), geometric over arithmetic mean power.
    pub flatness: f32,
    /// Sign changes per sample (noisy and percussive sounds score high).
    pub zero_crossing_rate: f32,
    /// Energy per pitch class, C first, summing to 1.
    pub chroma: [f32; 12],
    /// Share of the analysed frames whose strongest triad is major.
    pub major_share: f32,
    /// Share whose strongest triad is minor.
    pub minor_share: f32,
    /// Tonic pitch class, 0 = C.
    pub key: u8,
    pub mode: Mode,
    /// Correlation of the chroma with the key's profile, -1–1.
    pub key_strength: f32,
}

impl Features {
    /// "A minor", "F# major".
    pub fn key_name(&self) -> String {
        format!("{} {}", pitch_name(self.key), self.mode)
    }
}

/// A pitch class's name, 0 = "C".
pub fn pitch_name(pitch_class: u8) -> &'static str {
    key::PITCH_NAMES[pitch_class as usize % 12]
}

/// Decodes `path` and analyses it. `cancel` is read between packets.
///
/// A decoder that panics on a hostile file (Symphonia does on some
/// damaged MP4 atoms) is reported as [`Error::Damaged`] for that file;
/// hosts that must also survive a decoder that loops or allocates without
/// bound run this in a reader process with limits.
pub fn analyze(path: &Path, cancel: &AtomicBool) -> Result<Features> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        analyze_unguarded(path, cancel)
    })) {
        Ok(result) => result,
        Err(panic) => Err(Error::Damaged {
            path: path.display().to_string(),
            reason: format!(
                "the decoder crashed: {}",
                panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into())
            ),
        }),
    }
}

fn analyze_unguarded(path: &Path, cancel: &AtomicBool) -> Result<Features> {
    let mut analysis: Option<Analysis> = None;
    let decoded = decode::each_block(path, &mut |samples, channels, rate| {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let a = analysis.get_or_insert_with(|| Analysis::new(rate, channels));
        if a.rate != rate || a.channels != channels {
            // A chained stream that changes its format midway: analyse
            // what came first.
            return Ok(false);
        }
        a.push(samples);
        Ok(a.seconds() < MAX_SECONDS)
    })?;
    let path_str = path.display().to_string();
    let a = analysis.ok_or(Error::NoAudio {
        path: path_str.clone(),
    })?;
    if a.seconds() < 1.0 {
        return Err(Error::TooShort { path: path_str });
    }
    Ok(a.finish(&decoded))
}

/// Analyses samples already in memory (interleaved), as [`analyze`] does
/// a file's: for generated signals and for callers with their own decoder.
pub fn analyze_samples(samples: &[f32], channels: usize, rate: u32) -> Features {
    let mut a = Analysis::new(rate, channels);
    for block in samples.chunks(4096 * channels.max(1)) {
        a.push(block);
    }
    a.finish(&Decoded {
        sample_rate: rate,
        channels: channels as u16,
        damaged_packets: 0,
    })
}

/// The streaming state: the loudness meter sees every channel, the
/// spectral analysis a mono mix.
struct Analysis {
    rate: u32,
    channels: usize,
    frames: u64,
    peak: f32,
    loudness: loudness::Meter,
    spectral: spectral::Frames,
    mono: Vec<f32>,
}

impl Analysis {
    fn new(rate: u32, channels: usize) -> Analysis {
        Analysis {
            rate,
            channels: channels.max(1),
            frames: 0,
            peak: 0.0,
            loudness: loudness::Meter::new(rate, channels.max(1)),
            spectral: spectral::Frames::new(rate),
            mono: Vec::new(),
        }
    }

    fn seconds(&self) -> f64 {
        self.frames as f64 / self.rate as f64
    }

    fn push(&mut self, interleaved: &[f32]) {
        let ch = self.channels;
        self.loudness.push(interleaved);
        self.mono.clear();
        for frame in interleaved.chunks_exact(ch) {
            let mut sum = 0.0;
            for &s in frame {
                let s = if s.is_finite() { s } else { 0.0 };
                self.peak = self.peak.max(s.abs());
                sum += s;
            }
            self.mono.push(sum / ch as f32);
        }
        self.frames += self.mono.len() as u64;
        self.spectral.push(&self.mono);
    }

    fn finish(self, decoded: &Decoded) -> Features {
        let seconds = self.seconds() as f32;
        let loud = self.loudness.finish();
        let s = self.spectral.finish();
        let (tempo_bpm, tempo_confidence) = tempo::estimate(&s.onsets, s.frame_rate);
        let onset_rate = tempo::onset_rate(&s.onsets, s.frame_rate);
        let k = key::estimate(&s.chroma);
        Features {
            version: ANALYSIS_VERSION,
            seconds,
            sample_rate: decoded.sample_rate,
            channels: decoded.channels,
            tempo_bpm,
            tempo_confidence,
            onset_rate,
            loudness_lufs: loud.integrated,
            loudness_range_lu: loud.range,
            peak_dbfs: db(self.peak.max(1e-10) as f64) as f32,
            rms_dbfs: s.rms_dbfs,
            dynamics_db: s.dynamics_db,
            centroid_hz: s.centroid_hz,
            rolloff_hz: s.rolloff_hz,
            flatness: s.flatness,
            zero_crossing_rate: s.zero_crossing_rate,
            chroma: s.chroma,
            major_share: s.major_share,
            minor_share: s.minor_share,
            key: k.tonic,
            mode: k.mode,
            key_strength: k.strength,
        }
    }
}

/// Amplitude ratio to decibels.
fn db(amplitude: f64) -> f64 {
    20.0 * amplitude.log10()
}

#[cfg(test)]
pub(crate) mod signal {
    //! Generated test signals with known properties.
    use std::f32::consts::TAU;

    pub fn sine(freq: f32, amplitude: f32, seconds: f32, rate: u32) -> Vec<f32> {
        (0..(seconds * rate as f32) as usize)
            .map(|i| amplitude * (TAU * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    /// A mono signal as interleaved stereo (the same in both channels).
    pub fn stereo(mono: &[f32]) -> Vec<f32> {
        mono.iter().flat_map(|&s| [s, s]).collect()
    }

    /// Deterministic white noise in -1..1.
    pub fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 23) as f32) - 1.0
            })
            .collect()
    }

    /// Clicks (short decaying noise bursts) at `bpm` over a quiet hum.
    pub fn clicks(bpm: f32, seconds: f32, rate: u32) -> Vec<f32> {
        let n = (seconds * rate as f32) as usize;
        let burst = noise(rate as usize / 50, 7);
        let mut out = sine(110.0, 0.01, seconds, rate);
        let period = 60.0 / bpm * rate as f32;
        let mut t = 0.0f32;
        while (t as usize) < n {
            for (j, b) in burst.iter().enumerate() {
                if let Some(o) = out.get_mut(t as usize + j) {
                    *o += 0.6 * b * (-(j as f32) / (rate as f32 / 200.0)).exp();
                }
            }
            t += period;
        }
        out
    }

    /// Triads played in turn, each for `seconds_each`, with a few
    /// harmonics so that they sound like an instrument. `roots` are MIDI
    /// notes; `minor` picks the third.
    pub fn chords(roots: &[(u8, bool)], seconds_each: f32, rate: u32) -> Vec<f32> {
        let mut out = Vec::new();
        for &(root, minor) in roots {
            let notes = [root, root + if minor { 3 } else { 4 }, root + 7];
            let n = (seconds_each * rate as f32) as usize;
            for i in 0..n {
                let t = i as f32 / rate as f32;
                let mut s = 0.0;
                for &m in &notes {
                    let f = 440.0 * 2f32.powf((m as f32 - 69.0) / 12.0);
                    for h in 1..=3 {
                        s += 0.08 / h as f32 * (TAU * f * h as f32 * t).sin();
                    }
                }
                out.push(s);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loud_fast_noise_and_a_quiet_slow_tone_differ_on_every_axis() {
        let rate = 44_100;
        let quiet = analyze_samples(
            &signal::stereo(&signal::chords(&[(57, true), (60, false)], 8.0, rate))
                .iter()
                .map(|s| s * 0.1)
                .collect::<Vec<_>>(),
            2,
            rate,
        );
        let loud = analyze_samples(&signal::stereo(&signal::clicks(150.0, 16.0, rate)), 2, rate);
        assert!(
            loud.loudness_lufs > quiet.loudness_lufs + 10.0,
            "{} vs {}",
            loud.loudness_lufs,
            quiet.loudness_lufs
        );
        assert!(loud.flatness > quiet.flatness);
        assert!(loud.centroid_hz > quiet.centroid_hz);
        assert!(loud.zero_crossing_rate > quiet.zero_crossing_rate);
        assert!((loud.tempo_bpm - 150.0).abs() < 3.0, "{}", loud.tempo_bpm);
        assert!((quiet.seconds - 16.0).abs() < 0.01);
        let json = serde_json::to_string(&loud).unwrap();
        assert_eq!(serde_json::from_str::<Features>(&json).unwrap(), loud);
    }
}
