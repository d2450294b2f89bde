//! What every long job of the engine shares: its phases, its progress
//! as hosts show it, the per-file errors it lists, and the tracker that
//! times phases and reports progress. Scans, index rebuilds, watcher
//! updates, sound analysis and enrichment all speak in these terms.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

/// A step of a long job, as progress displays name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Discover,
    Diff,
    Extract,
    Describe,
    Embed,
    Profile,
    /// Background reading of thin items by the reasoning model.
    Enrich,
    /// Background analysis of tracks' audio.
    Analyze,
    Persist,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::Discover,
        Phase::Diff,
        Phase::Extract,
        Phase::Describe,
        Phase::Embed,
        Phase::Profile,
        Phase::Enrich,
        Phase::Analyze,
        Phase::Persist,
    ];

    /// The phase a stored name says (as [`Phase::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Discover => "discover",
            Phase::Diff => "diff",
            Phase::Extract => "extract",
            Phase::Describe => "describe",
            Phase::Embed => "embed",
            Phase::Profile => "profile",
            Phase::Enrich => "enrich",
            Phase::Analyze => "analyze",
            Phase::Persist => "persist",
        }
    }
}

/// Where a scan is, for progress displays.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    /// Unknown while discovering.
    pub total: Option<u64>,
    /// Seconds since the phase started.
    pub elapsed_secs: f64,
}

impl Progress {
    /// Items per second in this phase so far.
    pub fn rate(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.done as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }

    /// Seconds left at the rate so far, once there is a rate and a total.
    pub fn secs_left(&self) -> Option<f64> {
        let rate = self.rate();
        let total = self.total?;
        (rate > 0.0).then(|| total.saturating_sub(self.done) as f64 / rate)
    }
}

pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A file that could not be read, with why.
#[derive(Debug, Clone, Serialize)]
pub struct FileError {
    pub path: String,
    pub error: String,
}

/// Phase timing and progress reporting for one scan.
pub struct Tracker {
    progress: Option<ProgressFn>,
    /// The phase under way.
    pub phase: Phase,
    started: Instant,
    last_emit: Instant,
    /// Each phase entered so far with its seconds, for the report.
    pub report_phases: Vec<(Phase, f64)>,
}

impl Tracker {
    pub fn new(progress: Option<ProgressFn>) -> Tracker {
        Tracker {
            progress,
            phase: Phase::Discover,
            started: Instant::now(),
            last_emit: Instant::now(),
            report_phases: Vec::new(),
        }
    }

    /// A tracker that reports nothing (watcher updates).
    pub fn silent() -> Tracker {
        Tracker::new(None)
    }

    pub fn enter(&mut self, phase: Phase, total: Option<u64>) {
        self.close_phase();
        self.phase = phase;
        self.started = Instant::now();
        self.emit(0, total, true);
    }

    pub fn close_phase(&mut self) {
        if !self.report_phases.iter().any(|(p, _)| *p == self.phase) {
            self.report_phases
                .push((self.phase, self.started.elapsed().as_secs_f64()));
        }
    }

    pub fn emit(&mut self, done: u64, total: Option<u64>, force: bool) {
        let Some(cb) = &self.progress else { return };
        // At most ~20 updates a second: a progress bar, not a log.
        if !force && self.last_emit.elapsed().as_millis() < 50 {
            return;
        }
        self.last_emit = Instant::now();
        cb(&Progress {
            phase: self.phase,
            done,
            total,
            elapsed_secs: self.started.elapsed().as_secs_f64(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_phase_reads_back_and_an_unknown_one_is_none() {
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()), "shown as stored");
        }
        assert_eq!(Phase::parse("defragment"), None);
    }
}
