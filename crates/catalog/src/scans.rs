//! Scan runs: one row per scan, updated as it moves through its phases, so
//! the hosts can show history and a crash is visible as "interrupted".

use crate::{Catalog, QueryContext, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanStatus {
    Running,
    Done,
    Failed,
    /// The process died while this scan ran; the next scan finishes its work.
    Interrupted,
}

impl ScanStatus {
    /// As stored and shown: "running", "done", "failed", "interrupted".
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Running => "running",
            ScanStatus::Done => "done",
            ScanStatus::Failed => "failed",
            ScanStatus::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> ScanStatus {
        match s {
            "running" => ScanStatus::Running,
            "done" => ScanStatus::Done,
            "failed" => ScanStatus::Failed,
            _ => ScanStatus::Interrupted,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScanCounters {
    pub discovered: i64,
    pub added: i64,
    pub changed: i64,
    pub moved: i64,
    pub removed: i64,
    pub errors: i64,
    pub embedded: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScanRun {
    pub id: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: ScanStatus,
    pub phase: String,
    pub counters: ScanCounters,
    pub message: Option<String>,
}

type ScanRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
);

impl Catalog {
    /// Starts a scan run. Runs left "running" by a process that died are
    /// marked interrupted first.
    pub async fn start_scan(&self, now: i64) -> Result<i64> {
        sqlx::query("UPDATE scan_runs SET status = 'interrupted' WHERE status = 'running'")
            .execute(&self.pool)
            .await
            .ctx("mark interrupted scans")?;
        sqlx::query_scalar(
            "INSERT INTO scan_runs (started_at, status, phase) VALUES (?, 'running', 'discover')
             RETURNING id",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .ctx("start scan")
    }

    pub async fn update_scan(&self, id: i64, phase: &str, c: &ScanCounters) -> Result<()> {
        sqlx::query(
            "UPDATE scan_runs SET phase = ?, discovered = ?, added = ?, changed = ?, moved = ?,
                removed = ?, errors = ?, embedded = ? WHERE id = ?",
        )
        .bind(phase)
        .bind(c.discovered)
        .bind(c.added)
        .bind(c.changed)
        .bind(c.moved)
        .bind(c.removed)
        .bind(c.errors)
        .bind(c.embedded)
        .bind(id)
        .execute(&self.pool)
        .await
        .ctx("update scan")?;
        Ok(())
    }

    pub async fn finish_scan(
        &self,
        id: i64,
        status: ScanStatus,
        message: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE scan_runs SET status = ?, message = ?, finished_at = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(message)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await
            .ctx("finish scan")?;
        Ok(())
    }

    /// The most recent scan runs, newest first.
    pub async fn recent_scans(&self, limit: i64) -> Result<Vec<ScanRun>> {
        let rows: Vec<ScanRow> = sqlx::query_as(
            "SELECT id, started_at, finished_at, status, phase, discovered, added, changed, moved,
                    removed, errors, embedded, message
             FROM scan_runs ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("recent scans")?;
        Ok(rows
            .into_iter()
            .map(|r| ScanRun {
                id: r.0,
                started_at: r.1,
                finished_at: r.2,
                status: ScanStatus::parse(&r.3),
                phase: r.4,
                counters: ScanCounters {
                    discovered: r.5,
                    added: r.6,
                    changed: r.7,
                    moved: r.8,
                    removed: r.9,
                    errors: r.10,
                    embedded: r.11,
                },
                message: r.12,
            })
            .collect())
    }
}
