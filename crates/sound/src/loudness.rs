//! Loudness as ITU-R BS.1770-4 and EBU Tech 3341/3342 define it: each
//! channel through the K-weighting filter (a high shelf, then a high-pass),
//! mean square per 100 ms, 400 ms blocks every 100 ms gated at -70 LUFS
//! and 10 LU below their mean (integrated loudness), 3 s blocks gated at
//! -70 LUFS and 20 LU below their mean whose 10th to 95th percentile is the
//! loudness range.
//!
//! All channels are weighted 1 (BS.1770 weights surround channels 1.41 and
//! leaves out LFE; music files are mono or stereo). Only a few numbers per
//! 100 ms are kept.

/// One biquad section, transposed direct form II, in f64.
#[derive(Debug, Clone, Copy, Default)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    z: [f64; 2],
}

impl Biquad {
    fn run(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// The two K-weighting stages for a sample rate: BS.1770's 48 kHz
/// coefficients come from these analogue prototypes (the bilinear
/// transform as in the standard's annex); other rates get the same curve.
fn k_weighting(rate: u32) -> [Biquad; 2] {
    let fs = rate as f64;
    // Stage 1: high shelf, +4 dB above ~1.5 kHz (the head's effect).
    let f0 = 1681.974450955533;
    let gain_db = 3.999843853973347;
    let q = 0.7071752369554196;
    let k = (std::f64::consts::PI * f0 / fs).tan();
    let vh = 10f64.powf(gain_db / 20.0);
    let vb = vh.powf(0.4996667741545416);
    let a0 = 1.0 + k / q + k * k;
    let shelf = Biquad {
        b: [
            (vh + vb * k / q + k * k) / a0,
            2.0 * (k * k - vh) / a0,
            (vh - vb * k / q + k * k) / a0,
        ],
        a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
        z: [0.0; 2],
    };
    // Stage 2: second-order high-pass at ~38 Hz (RLB weighting).
    let f0 = 38.13547087602444;
    let q = 0.5003270373238773;
    let k = (std::f64::consts::PI * f0 / fs).tan();
    let a0 = 1.0 + k / q + k * k;
    let highpass = Biquad {
        b: [1.0, -2.0, 1.0],
        a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
        z: [0.0; 2],
    };
    [shelf, highpass]
}

/// Power to LUFS (BS.1770's -0.691 dB offset makes a 1 kHz sine read its
/// RMS level).
pub(crate) fn lufs(power: f64) -> f64 {
    -0.691 + 10.0 * power.max(1e-20).log10()
}

const FLOOR_LUFS: f64 = -70.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    pub integrated: f32,
    pub range: f32,
}

pub struct Meter {
    channels: usize,
    filters: Vec<[Biquad; 2]>,
    sub_len: usize,
    /// Weighted mean square summed over channels, per 100 ms sub-block.
    subs: Vec<f64>,
    acc: f64,
    acc_n: usize,
}

impl Meter {
    pub fn new(rate: u32, channels: usize) -> Meter {
        Meter {
            channels,
            filters: vec![k_weighting(rate); channels],
            sub_len: (rate as usize / 10).max(1),
            subs: Vec::new(),
            acc: 0.0,
            acc_n: 0,
        }
    }

    pub fn push(&mut self, interleaved: &[f32]) {
        for frame in interleaved.chunks_exact(self.channels) {
            let mut sum = 0.0;
            for (s, f) in frame.iter().zip(&mut self.filters) {
                let x = if s.is_finite() { *s as f64 } else { 0.0 };
                let shelved = f[0].run(x);
                let y = f[1].run(shelved);
                sum += y * y;
            }
            self.acc += sum;
            self.acc_n += 1;
            if self.acc_n == self.sub_len {
                self.subs.push(self.acc / self.sub_len as f64);
                self.acc = 0.0;
                self.acc_n = 0;
            }
        }
    }

    pub fn finish(self) -> Loudness {
        let momentary = blocks(&self.subs, 4);
        let integrated = gated_mean(&momentary, 10.0).map_or(FLOOR_LUFS, lufs);
        let short_term = blocks(&self.subs, 30);
        Loudness {
            integrated: integrated.max(FLOOR_LUFS) as f32,
            range: range(&short_term) as f32,
        }
    }
}

/// Mean power of every run of `len` sub-blocks, one per sub-block.
fn blocks(subs: &[f64], len: usize) -> Vec<f64> {
    if subs.len() < len {
        return Vec::new();
    }
    subs.windows(len)
        .map(|w| w.iter().sum::<f64>() / len as f64)
        .collect()
}

/// Mean power of the blocks above -70 LUFS and above `relative_lu` below
/// the mean of those.
fn gated_mean(blocks: &[f64], relative_lu: f64) -> Option<f64> {
    let above: Vec<f64> = blocks
        .iter()
        .copied()
        .filter(|&p| lufs(p) > FLOOR_LUFS)
        .collect();
    if above.is_empty() {
        return None;
    }
    let threshold = lufs(above.iter().sum::<f64>() / above.len() as f64) - relative_lu;
    let gated: Vec<f64> = above.into_iter().filter(|&p| lufs(p) > threshold).collect();
    (!gated.is_empty()).then(|| gated.iter().sum::<f64>() / gated.len() as f64)
}

/// EBU Tech 3342: the 10th to 95th percentile of the short-term loudness
/// after an absolute (-70) and a relative (-20 LU) gate.
fn range(short_term: &[f64]) -> f64 {
    let above: Vec<f64> = short_term
        .iter()
        .copied()
        .filter(|&p| lufs(p) > FLOOR_LUFS)
        .collect();
    if above.is_empty() {
        return 0.0;
    }
    let threshold = lufs(above.iter().sum::<f64>() / above.len() as f64) - 20.0;
    let mut levels: Vec<f64> = above
        .into_iter()
        .map(lufs)
        .filter(|&l| l > threshold)
        .collect();
    if levels.len() < 2 {
        return 0.0;
    }
    levels.sort_by(f64::total_cmp);
    let at = |p: f64| levels[((levels.len() - 1) as f64 * p).round() as usize];
    at(0.95) - at(0.10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal;

    fn measure(interleaved: &[f32], channels: usize, rate: u32) -> Loudness {
        let mut m = Meter::new(rate, channels);
        m.push(interleaved);
        m.finish()
    }

    fn amp(dbfs: f32) -> f32 {
        10f32.powf(dbfs / 20.0)
    }

    /// EBU Tech 3341 test 1 and 2: a stereo 1 kHz sine at -23 and -33
    /// dBFS reads -23.0 and -33.0 LUFS (±0.1), at 48 and 44.1 kHz.
    #[test]
    fn tech_3341_sines() {
        for rate in [48_000, 44_100] {
            for level in [-23.0, -33.0] {
                let s = signal::stereo(&signal::sine(1000.0, amp(level), 20.0, rate));
                let l = measure(&s, 2, rate);
                assert!(
                    (l.integrated - level).abs() <= 0.1,
                    "{rate} Hz, {level}: {}",
                    l.integrated
                );
            }
        }
    }

    /// Tech 3341 test 3/4 in spirit: a loud part and a much quieter part;
    /// the relative gate leaves the quiet part out.
    #[test]
    fn the_relative_gate_ignores_the_quiet_part() {
        let rate = 48_000;
        let mut s = signal::sine(1000.0, amp(-36.0), 10.0, rate);
        s.extend(signal::sine(1000.0, amp(-23.0), 60.0, rate));
        s.extend(signal::sine(1000.0, amp(-36.0), 10.0, rate));
        let l = measure(&signal::stereo(&s), 2, rate);
        assert!((l.integrated + 23.0).abs() <= 0.1, "{}", l.integrated);
    }

    /// Tech 3342 test 1: 20 s at -20 dBFS then 20 s at -30 dBFS reads
    /// a loudness range of 10 LU (±1).
    #[test]
    fn tech_3342_range() {
        let rate = 48_000;
        let mut s = signal::sine(1000.0, amp(-20.0), 20.0, rate);
        s.extend(signal::sine(1000.0, amp(-30.0), 20.0, rate));
        let l = measure(&signal::stereo(&s), 2, rate);
        assert!((l.range - 10.0).abs() <= 1.0, "{}", l.range);
        let steady = measure(
            &signal::stereo(&signal::sine(1000.0, amp(-20.0), 20.0, rate)),
            2,
            rate,
        );
        assert!(steady.range < 0.5, "{}", steady.range);
    }

    #[test]
    fn silence_reads_the_floor() {
        let l = measure(&vec![0.0; 48_000 * 4], 2, 48_000);
        assert_eq!(l.integrated, -70.0);
        assert_eq!(l.range, 0.0);
    }

    /// Mono counts one channel: the same sine reads 3 dB lower than in
    /// both channels of a stereo file (as ffmpeg's ebur128 filter does).
    #[test]
    fn mono_is_one_channel() {
        let rate = 44_100;
        let mono = signal::sine(1000.0, amp(-20.0), 10.0, rate);
        let one = measure(&mono, 1, rate).integrated;
        let two = measure(&signal::stereo(&mono), 2, rate).integrated;
        assert!((two - one - 3.01).abs() < 0.05, "{one} {two}");
    }
}
