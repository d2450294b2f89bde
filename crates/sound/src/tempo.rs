//! Tempo from the onset envelope: its autocorrelation over the lags of 40
//! to 240 beats per minute, weighted by a log-normal prior around 120 (one
//! octave wide) so that the beat is preferred over its half and double,
//! with a correction for the dotted period (three eighths read as the
//! beat), then refined between lags by a parabola.

const MIN_BPM: f32 = 40.0;
const MAX_BPM: f32 = 240.0;
const PRIOR_BPM: f32 = 120.0;
const PRIOR_OCTAVES: f32 = 1.0;
/// How nearly the beat must repeat as well as a dotted period for the
/// beat to be taken instead.
const DOTTED_RATIO: f32 = 0.7;
/// An onset envelope that varies less than this (dB per frame, standard
/// deviation) has no beat to find: a drone, a held chord, silence.
const MIN_SPREAD_DB: f32 = 0.05;
/// How far above the envelope's mean an onset must stand, dB per frame.
const MIN_ONSET_RISE_DB: f32 = 1.0;

/// (beats per minute, confidence 0–1); (0, 0) when there is too little.
pub fn estimate(onsets: &[f32], frame_rate: f32) -> (f32, f32) {
    let min_lag = (60.0 * frame_rate / MAX_BPM).floor().max(1.0) as usize;
    let max_lag = (60.0 * frame_rate / MIN_BPM).ceil() as usize;
    if onsets.len() < max_lag * 2 {
        return (0.0, 0.0);
    }
    // A little smoothing (three frames): an onset between two frames
    // splits over both, which would favour twice the period over the beat.
    let smooth: Vec<f32> = (0..onsets.len())
        .map(|i| {
            let at = |j: usize| onsets.get(j).copied().unwrap_or(onsets[i]);
            0.25 * at(i.saturating_sub(1)) + 0.5 * onsets[i] + 0.25 * at(i + 1)
        })
        .collect();
    let mean = smooth.iter().sum::<f32>() / smooth.len() as f32;
    let x: Vec<f32> = smooth.iter().map(|o| o - mean).collect();
    let spread = (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
    if spread < MIN_SPREAD_DB {
        return (0.0, 0.0);
    }
    let acf = |lag: usize| -> f32 {
        let n = x.len() - lag;
        x[..n]
            .iter()
            .zip(&x[lag..])
            .map(|(a, b)| a * b)
            .sum::<f32>()
            / n as f32
    };
    let zero = acf(0);
    if zero <= 0.0 {
        return (0.0, 0.0);
    }
    let values: Vec<f32> = (min_lag - 1..=max_lag + 1).map(acf).collect();
    let value = |lag: usize| values[lag + 1 - min_lag];
    let prior = |lag: usize| {
        let bpm = 60.0 * frame_rate / lag as f32;
        (-0.5 * ((bpm / PRIOR_BPM).log2() / PRIOR_OCTAVES).powi(2)).exp()
    };
    let score = |lag: usize| value(lag) * prior(lag);
    let best = (min_lag..=max_lag)
        .filter(|&l| value(l) > 0.0)
        .max_by(|&a, &b| score(a).total_cmp(&score(b)));
    // Steady eighths repeat at two and at three of them, and the prior
    // may prefer the dotted period (three eighths) to the beat (two). A
    // beat divides in two; a dotted figure does not: when the period of
    // two thirds repeats almost as well and its half repeats too, while
    // this one's half does not, that is the beat.
    let half = |lag: usize| acf((lag as f32 / 2.0).round().max(1.0) as usize).max(0.0);
    let best = best.map(|lag| {
        let faster = (lag as f32 * 2.0 / 3.0).round() as usize;
        if faster >= min_lag
            && value(faster) >= DOTTED_RATIO * value(lag)
            && half(faster) >= DOTTED_RATIO * value(lag)
            && half(lag) < 0.5 * half(faster)
        {
            faster
        } else {
            lag
        }
    });
    let Some(lag) = best else {
        return (0.0, 0.0);
    };
    let (a, b, c) = (value(lag - 1), value(lag), value(lag + 1));
    let denom = a - 2.0 * b + c;
    let shift = if denom.abs() > f32::EPSILON {
        (0.5 * (a - c) / denom).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    let bpm = 60.0 * frame_rate / (lag as f32 + shift);
    (bpm, (b / zero).clamp(0.0, 1.0))
}

/// Onsets per second: peaks of the onset envelope that stand one standard
/// deviation (and at least [`MIN_ONSET_RISE_DB`]) above its mean, at least
/// 50 ms apart. How busy a track is, whatever its tempo: a ballad and a
/// drum solo at the same beat differ.
pub fn onset_rate(onsets: &[f32], frame_rate: f32) -> f32 {
    if onsets.len() < 3 || frame_rate <= 0.0 {
        return 0.0;
    }
    let n = onsets.len() as f32;
    let mean = onsets.iter().sum::<f32>() / n;
    let sd = (onsets.iter().map(|o| (o - mean).powi(2)).sum::<f32>() / n).sqrt();
    if sd < MIN_SPREAD_DB {
        return 0.0;
    }
    // A ripple on a swell is not an attack: a peak must also rise a
    // little in absolute terms.
    let threshold = mean + sd.max(MIN_ONSET_RISE_DB);
    let gap = (0.05 * frame_rate).ceil().max(1.0) as usize;
    let mut last: Option<usize> = None;
    let mut count = 0u32;
    for i in 1..onsets.len() - 1 {
        let o = onsets[i];
        if o > threshold
            && o >= onsets[i - 1]
            && o > onsets[i + 1]
            && last.is_none_or(|l| i - l >= gap)
        {
            count += 1;
            last = Some(i);
        }
    }
    count as f32 / (n / frame_rate)
}

#[cfg(test)]
mod tests {
    use crate::signal;
    use crate::spectral::Frames;

    fn tempo_of(x: &[f32], rate: u32) -> (f32, f32) {
        let mut f = Frames::new(rate);
        f.push(x);
        let s = f.finish();
        super::estimate(&s.onsets, s.frame_rate)
    }

    #[test]
    fn click_tracks_read_their_tempo() {
        for (bpm, rate) in [
            (72.0, 44_100),
            (100.0, 48_000),
            (128.0, 44_100),
            (174.0, 22_050),
        ] {
            let (found, confidence) = tempo_of(&signal::clicks(bpm, 30.0, rate), rate);
            assert!(
                (found - bpm).abs() / bpm < 0.02,
                "{bpm} BPM at {rate} Hz read as {found}"
            );
            assert!(confidence > 0.2, "{confidence}");
        }
    }

    /// A kick on every beat under noise hats on every eighth, as dance
    /// and rock drums play: the eighths repeat at two and at three of
    /// them, and only the kick says which is the beat.
    fn kick_and_hats(bpm: f32, seconds: f32, rate: u32) -> Vec<f32> {
        let hats = signal::clicks(2.0 * bpm, seconds, rate);
        let beat = 60.0 / bpm;
        hats.iter()
            .enumerate()
            .map(|(i, h)| {
                let t = i as f32 / rate as f32;
                let since = t % beat;
                let kick =
                    0.8 * (-since * 25.0).exp() * (std::f32::consts::TAU * 55.0 * since).sin();
                0.5 * h + kick
            })
            .collect()
    }

    #[test]
    fn steady_eighths_are_read_at_the_beat_not_the_dotted_period() {
        for bpm in [140.0, 152.0, 157.5, 165.0] {
            let (found, _) = tempo_of(&kick_and_hats(bpm, 30.0, 44_100), 44_100);
            assert!(
                (found - bpm).abs() / bpm < 0.02,
                "{bpm} BPM read as {found} (the dotted period is {:.0})",
                bpm * 2.0 / 3.0
            );
        }
    }

    #[test]
    fn a_gentle_swell_has_few_onsets() {
        // A soft triad swelling once a beat at 70 BPM: the envelope's small
        // ripples are not attacks (they read as 8 to 13 a second before).
        let rate = 44_100;
        let beat = 60.0 / 70.0;
        let x: Vec<f32> = (0..30 * rate)
            .map(|i| {
                let t = i as f32 / rate as f32;
                let swell = 0.5 - 0.5 * (std::f32::consts::TAU * t / beat).cos();
                let tone: f32 = [220.0f32, 277.2, 329.6]
                    .iter()
                    .map(|f| (std::f32::consts::TAU * f * t).sin())
                    .sum();
                0.02 * swell * tone
            })
            .collect();
        let mut f = Frames::new(rate as u32);
        f.push(&x);
        let s = f.finish();
        let r = super::onset_rate(&s.onsets, s.frame_rate);
        assert!(r < 2.0, "{r} onsets/s in a swell");
    }

    #[test]
    fn onsets_are_counted_per_second() {
        let rate = 44_100;
        let mut f = Frames::new(rate);
        f.push(&signal::clicks(120.0, 30.0, rate));
        let s = f.finish();
        let r = super::onset_rate(&s.onsets, s.frame_rate);
        assert!((r - 2.0).abs() < 0.2, "120 BPM clicks: {r} onsets/s");
        let mut f = Frames::new(rate);
        f.push(&signal::sine(440.0, 0.3, 20.0, rate));
        let s = f.finish();
        assert!(super::onset_rate(&s.onsets, s.frame_rate) < 0.5);
    }

    #[test]
    fn a_steady_tone_has_no_clear_tempo() {
        let rate = 44_100;
        let (_, confidence) = tempo_of(&signal::sine(440.0, 0.3, 20.0, rate), rate);
        assert!(confidence < 0.2, "{confidence}");
        assert_eq!(super::estimate(&[1.0; 10], 86.0), (0.0, 0.0));
    }
}
