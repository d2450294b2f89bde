//! Short-time spectra of the mono mix: levels, timbre (centroid, rolloff,
//! flatness, zero crossings) and the onset envelope from 2,048-sample
//! frames every 512 samples; chroma and triads from 8,192-sample frames
//! every 2,048 (a semitone is wider than a bin only from ~100 Hz up with
//! the longer frame).

use std::sync::Arc;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

use crate::key;

const FRAME: usize = 2048;
const HOP: usize = 512;
const CHROMA_FRAME: usize = 8192;
const CHROMA_HOP: usize = 2048;
/// Frames quieter than this (dBFS) are silence: left out of the averages.
const SILENT_DBFS: f32 = -60.0;
/// Pitch classes are read from this band (Hz).
const CHROMA_BAND: (f32, f32) = (100.0, 5000.0);
/// Onsets are read from the energy of this many bands, spaced evenly in
/// log frequency over `ONSET_BAND` Hz: the energy of a band stays put under
/// a steady tone (a bin's magnitude ripples with the tone's phase), and a
/// note or a drum raises it.
const ONSET_BANDS: usize = 40;
const ONSET_BAND: (f32, f32) = (30.0, 11_000.0);

pub struct Summary {
    /// Onset strength per frame, at `frame_rate` frames per second.
    pub onsets: Vec<f32>,
    pub frame_rate: f32,
    pub rms_dbfs: f32,
    pub dynamics_db: f32,
    pub centroid_hz: f32,
    pub rolloff_hz: f32,
    pub flatness: f32,
    pub zero_crossing_rate: f32,
    pub chroma: [f32; 12],
    pub major_share: f32,
    pub minor_share: f32,
}

pub struct Frames {
    rate: u32,
    fft: Arc<dyn Fft<f32>>,
    chroma_fft: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    chroma_window: Vec<f32>,
    /// Samples not yet consumed by a full frame (at most CHROMA_FRAME).
    pending: Vec<f32>,
    /// Position of `pending[0]` in the stream.
    pending_at: u64,
    next_frame: u64,
    next_chroma: u64,
    scratch: Vec<Complex32>,
    previous: [f32; ONSET_BANDS],
    loudest_band_db: f32,
    /// Onset band of each frame bin, or none outside `ONSET_BAND`.
    onset_band: Vec<Option<u8>>,
    /// Pitch class of each chroma-frame bin, or none outside the band.
    pitch_class: Vec<Option<u8>>,
    onsets: Vec<f32>,
    levels_db: Vec<f32>,
    sums: Sums,
    chroma: [f64; 12],
    triads: [u64; 2],
    chroma_frames: u64,
}

#[derive(Default)]
struct Sums {
    frames: u64,
    power: f64,
    centroid: f64,
    rolloff: f64,
    flatness: f64,
    zcr: f64,
}

fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n as f32).cos())
        .collect()
}

impl Frames {
    pub fn new(rate: u32) -> Frames {
        let mut planner = FftPlanner::new();
        let bin_hz = rate as f32 / CHROMA_FRAME as f32;
        let pitch_class = (0..CHROMA_FRAME / 2)
            .map(|k| {
                let f = k as f32 * bin_hz;
                (f >= CHROMA_BAND.0 && f <= CHROMA_BAND.1).then(|| {
                    let midi = 69.0 + 12.0 * (f / 440.0).log2();
                    (midi.round() as i32).rem_euclid(12) as u8
                })
            })
            .collect();
        Frames {
            rate,
            fft: planner.plan_fft_forward(FRAME),
            chroma_fft: planner.plan_fft_forward(CHROMA_FRAME),
            window: hann(FRAME),
            chroma_window: hann(CHROMA_FRAME),
            pending: Vec::with_capacity(CHROMA_FRAME * 2),
            pending_at: 0,
            next_frame: 0,
            next_chroma: 0,
            scratch: vec![Complex32::default(); CHROMA_FRAME],
            previous: [f32::NAN; ONSET_BANDS],
            loudest_band_db: -120.0,
            onset_band: {
                let bin_hz = rate as f32 / FRAME as f32;
                let (lo, hi) = (ONSET_BAND.0.ln(), ONSET_BAND.1.ln());
                (0..FRAME / 2)
                    .map(|k| {
                        let f = k as f32 * bin_hz;
                        (f >= ONSET_BAND.0 && f < ONSET_BAND.1).then(|| {
                            (((f.ln() - lo) / (hi - lo) * ONSET_BANDS as f32) as usize)
                                .min(ONSET_BANDS - 1) as u8
                        })
                    })
                    .collect()
            },
            pitch_class,
            onsets: Vec::new(),
            levels_db: Vec::new(),
            sums: Sums::default(),
            chroma: [0.0; 12],
            triads: [0; 2],
            chroma_frames: 0,
        }
    }

    pub fn push(&mut self, mono: &[f32]) {
        self.pending.extend_from_slice(mono);
        let end = self.pending_at + self.pending.len() as u64;
        while self.next_frame + FRAME as u64 <= end {
            let at = (self.next_frame - self.pending_at) as usize;
            self.frame(at);
            self.next_frame += HOP as u64;
        }
        while self.next_chroma + CHROMA_FRAME as u64 <= end {
            let at = (self.next_chroma - self.pending_at) as usize;
            self.chroma_frame(at);
            self.next_chroma += CHROMA_HOP as u64;
        }
        // Keep only what a future frame still needs.
        let keep_from = self.next_frame.min(self.next_chroma);
        let drop = (keep_from - self.pending_at) as usize;
        if drop > 0 {
            self.pending.drain(..drop.min(self.pending.len()));
            self.pending_at += drop as u64;
        }
    }

    fn frame(&mut self, at: usize) {
        let x = &self.pending[at..at + FRAME];
        let mean_square = x.iter().map(|s| s * s).sum::<f32>() / FRAME as f32;
        let level = 10.0 * mean_square.max(1e-12).log10();
        let crossings = x
            .windows(2)
            .filter(|w| (w[0] >= 0.0) != (w[1] >= 0.0))
            .count();
        for (c, (s, w)) in self.scratch[..FRAME]
            .iter_mut()
            .zip(x.iter().zip(&self.window))
        {
            *c = Complex32::new(s * w, 0.0);
        }
        self.fft.process(&mut self.scratch[..FRAME]);
        let bin_hz = self.rate as f32 / FRAME as f32;
        let mut bands = [0.0f32; ONSET_BANDS];
        let (mut mag_sum, mut weighted, mut power_sum, mut log_power) = (0.0f64, 0.0, 0.0, 0.0);
        let half = FRAME / 2;
        let mut mags = [0.0f32; FRAME / 2];
        for (k, (mag, c)) in mags.iter_mut().zip(&self.scratch[..half]).enumerate() {
            let m = c.norm();
            *mag = m;
            if let Some(b) = self.onset_band[k] {
                bands[b as usize] += m * m;
            }
            mag_sum += m as f64;
            weighted += (k as f32 * bin_hz * m) as f64;
            let p = (m as f64 * m as f64).max(1e-10);
            power_sum += p;
            log_power += p.ln();
        }
        // Mean rise of the bands' levels in dB, as librosa's onset
        // strength; levels are floored 70 dB below the loudest band so far
        // (librosa's top_db, streamed), so that the numerical dust in
        // empty bands does not count. The first frame has no rise.
        let levels = bands.map(|e| 10.0 * e.max(1e-12).log10());
        self.loudest_band_db = levels.iter().copied().fold(self.loudest_band_db, f32::max);
        let floor = self.loudest_band_db - 70.0;
        let mut flux = 0.0;
        for (level, p) in levels.iter().zip(&mut self.previous) {
            let level = level.max(floor);
            if p.is_finite() {
                flux += (level - *p).max(0.0);
            }
            *p = level;
        }
        self.onsets.push(flux / ONSET_BANDS as f32);
        if level < SILENT_DBFS {
            return;
        }
        self.levels_db.push(level);
        let mut rolloff = 0.0;
        let target = 0.85 * mag_sum;
        let mut running = 0.0;
        for (k, m) in mags.iter().enumerate() {
            running += *m as f64;
            if running >= target {
                rolloff = k as f64 * bin_hz as f64;
                break;
            }
        }
        let s = &mut self.sums;
        s.frames += 1;
        s.power += mean_square as f64;
        s.centroid += weighted / mag_sum.max(1e-12);
        s.rolloff += rolloff;
        s.flatness += (log_power / half as f64).exp() / (power_sum / half as f64);
        s.zcr += crossings as f64 / (FRAME - 1) as f64;
    }

    fn chroma_frame(&mut self, at: usize) {
        let x = &self.pending[at..at + CHROMA_FRAME];
        let mean_square = x.iter().map(|s| s * s).sum::<f32>() / CHROMA_FRAME as f32;
        if 10.0 * mean_square.max(1e-12).log10() < SILENT_DBFS {
            return;
        }
        for (c, (s, w)) in self
            .scratch
            .iter_mut()
            .zip(x.iter().zip(&self.chroma_window))
        {
            *c = Complex32::new(s * w, 0.0);
        }
        self.chroma_fft.process(&mut self.scratch);
        let mut frame = [0.0f64; 12];
        for (k, pc) in self.pitch_class.iter().enumerate() {
            if let Some(pc) = pc {
                frame[*pc as usize] += self.scratch[k].norm_sqr() as f64;
            }
        }
        let total: f64 = frame.iter().sum();
        if total <= 0.0 {
            return;
        }
        for (acc, v) in self.chroma.iter_mut().zip(&frame) {
            *acc += v / total;
        }
        if let Some(minor) = key::strongest_triad_is_minor(&frame) {
            self.triads[minor as usize] += 1;
        }
        self.chroma_frames += 1;
    }

    pub fn finish(self) -> Summary {
        let s = &self.sums;
        let n = s.frames.max(1) as f64;
        let mut levels = self.levels_db;
        levels.sort_by(f32::total_cmp);
        let at = |p: f64| {
            levels
                .get(((levels.len().max(1) - 1) as f64 * p).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        let mut chroma = [0f32; 12];
        let total: f64 = self.chroma.iter().sum();
        if total > 0.0 {
            for (c, v) in chroma.iter_mut().zip(&self.chroma) {
                *c = (v / total) as f32;
            }
        }
        let frames = self.chroma_frames.max(1) as f32;
        Summary {
            onsets: self.onsets,
            frame_rate: self.rate as f32 / HOP as f32,
            rms_dbfs: if s.frames == 0 {
                -120.0
            } else {
                (10.0 * (s.power / n).log10()) as f32
            },
            dynamics_db: at(0.95) - at(0.10),
            centroid_hz: (s.centroid / n) as f32,
            rolloff_hz: (s.rolloff / n) as f32,
            flatness: (s.flatness / n) as f32,
            zero_crossing_rate: (s.zcr / n) as f32,
            chroma,
            major_share: self.triads[0] as f32 / frames,
            minor_share: self.triads[1] as f32 / frames,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal;

    fn run(mono: &[f32], rate: u32, piece: usize) -> Summary {
        let mut f = Frames::new(rate);
        for chunk in mono.chunks(piece) {
            f.push(chunk);
        }
        f.finish()
    }

    #[test]
    fn a_sine_is_tonal_and_centred_on_its_frequency() {
        let rate = 44_100;
        let s = run(&signal::sine(1000.0, 0.5, 5.0, rate), rate, 1152);
        assert!((s.centroid_hz - 1000.0).abs() < 60.0, "{}", s.centroid_hz);
        assert!(s.flatness < 0.01, "{}", s.flatness);
        // 1 kHz crosses zero 2,000 times a second.
        assert!((s.zero_crossing_rate * rate as f32 - 2000.0).abs() < 30.0);
        // A 1 kHz tone is a B (MIDI 83.2, pitch class 11).
        let top = (0..12).max_by(|a, b| s.chroma[*a].total_cmp(&s.chroma[*b]));
        assert_eq!(top, Some(11));
        assert!((s.rms_dbfs - (-9.03)).abs() < 0.1, "{}", s.rms_dbfs);
        assert!(s.dynamics_db < 0.5);
    }

    #[test]
    fn noise_is_flat_and_bright() {
        let rate = 44_100;
        let s = run(&signal::noise(rate as usize * 3, 3), rate, 4096);
        assert!(s.flatness > 0.4, "{}", s.flatness);
        assert!(s.centroid_hz > 8000.0, "{}", s.centroid_hz);
        assert!(s.rolloff_hz > 15_000.0, "{}", s.rolloff_hz);
    }

    #[test]
    fn the_result_does_not_depend_on_how_the_stream_is_cut() {
        let rate = 22_050;
        let x = signal::clicks(120.0, 6.0, rate);
        let a = run(&x, rate, 100);
        let b = run(&x, rate, 50_000);
        assert_eq!(a.onsets, b.onsets);
        assert_eq!(a.chroma, b.chroma);
        assert_eq!(a.centroid_hz, b.centroid_hz);
    }
}
