//! What the schedule runs: finish interrupted or scheduled deletions,
//! dismissals and data exports, free claims whose quarantine passed, remove expired tokens
//! that TTL has not removed yet, announce deletions again to downstream systems
//! that have not reported and mark them overdue past the deadline. It reads the due index only, so its cost
//! follows the work due, not the size of the table.

use crate::ledger::LedgerTended;
use crate::model::due::{DueBucket, DueEntry};
use crate::model::job::{JobKind, JobStep};
use crate::store::{JobStore, StoreError, SweepStore};
use crate::work::{random_id, Budget, Progress};
use crate::App;
use serde::Serialize;
use std::time::Instant;

const PAGE: usize = 25;

/// The one JSON line a run logs.
#[derive(Debug, Default, Serialize)]
pub struct CleanupSummary {
    pub due_entries_read: usize,
    pub deletions_finished: usize,
    /// Reminders mailed before a scheduled purge.
    pub reminders_sent: usize,
    pub dismissals_finished: usize,
    pub handovers_finished: usize,
    /// Data exports whose archive was completed and mailed.
    pub exports_finished: usize,
    pub jobs_paused: usize,
    pub claims_freed: usize,
    pub tokens_removed: usize,
    /// Deletions announced again to a downstream system that has not reported.
    pub erasures_reannounced: usize,
    /// Downstream systems marked overdue (each also an `ErasureOverdue` metric).
    pub erasures_overdue: usize,
    pub failures: usize,
    /// The run stopped at its deadline with work left for the next one.
    pub stopped_early: bool,
    pub duration_ms: u128,
}

impl App {
    /// Runs until nothing is due or `deadline` comes. A failure on one item is
    /// logged and counted; the others go on.
    pub async fn run_cleanup(&self, deadline: Instant) -> CleanupSummary {
        let started = Instant::now();
        let mut summary = CleanupSummary::default();
        for bucket in DueBucket::ALL {
            if let Err(error) = self.sweep(bucket, deadline, &mut summary).await {
                summary.failures += 1;
                tracing::error!(bucket = bucket.as_str(), %error, "cleanup could not read the due index");
            }
            if summary.stopped_early {
                break;
            }
        }
        summary.duration_ms = started.elapsed().as_millis();
        tracing::info!(
            due_entries_read = summary.due_entries_read,
            deletions_finished = summary.deletions_finished,
            reminders_sent = summary.reminders_sent,
            dismissals_finished = summary.dismissals_finished,
            handovers_finished = summary.handovers_finished,
            exports_finished = summary.exports_finished,
            jobs_paused = summary.jobs_paused,
            claims_freed = summary.claims_freed,
            tokens_removed = summary.tokens_removed,
            erasures_reannounced = summary.erasures_reannounced,
            erasures_overdue = summary.erasures_overdue,
            failures = summary.failures,
            stopped_early = summary.stopped_early,
            duration_ms = summary.duration_ms as u64,
            "cleanup run"
        );
        summary
    }

    async fn sweep(
        &self,
        bucket: DueBucket,
        deadline: Instant,
        summary: &mut CleanupSummary,
    ) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            if Instant::now() >= deadline {
                summary.stopped_early = true;
                return Ok(());
            }
            let (entries, next) = self.store.due_entries(bucket, self.clock.now(), PAGE, start).await?;
            summary.due_entries_read += entries.len();
            for entry in entries {
                if Instant::now() >= deadline {
                    summary.stopped_early = true;
                    return Ok(());
                }
                let handled = match entry {
                    Ok(entry) => self.handle_due(entry, deadline, summary).await,
                    Err(malformed) => Err(malformed.to_string()),
                };
                if let Err(error) = handled {
                    summary.failures += 1;
                    tracing::error!(bucket = bucket.as_str(), %error, "cleanup item failed");
                }
            }
            match next {
                Some(key) => start = Some(key),
                None => return Ok(()),
            }
        }
    }

    async fn handle_due(&self, entry: DueEntry, deadline: Instant, summary: &mut CleanupSummary) -> Result<(), String> {
        let now = self.clock.now();
        match entry {
            DueEntry::Claim(id) => {
                summary.claims_freed += self.store.free_claim(&id, now).await.map_err(|e| e.to_string())? as usize;
            }
            DueEntry::Ledger { account, system } => {
                match self.tend_ledger_entry(&account, &system).await.map_err(|e| e.to_string())? {
                    LedgerTended::Reannounced => summary.erasures_reannounced += 1,
                    LedgerTended::Overdue => summary.erasures_overdue += 1,
                    LedgerTended::Nothing => {}
                }
            }
            DueEntry::Token { hash } => {
                summary.tokens_removed +=
                    self.store.remove_expired_token(&hash, now).await.map_err(|e| e.to_string())? as usize;
            }
            DueEntry::Job { kind, subject } => {
                let owner = random_id("cleanup").map_err(|e| e.to_string())?;
                let Some(job) = self.store.take_job(kind, &subject, &owner, now).await.map_err(|e| e.to_string())?
                else {
                    return Ok(()); // another worker has it
                };
                let budget = Budget::until(deadline);
                let progress = match kind {
                    JobKind::Deletion => self.resume_deletion(&job, &owner, budget).await.map_err(|e| e.to_string())?,
                    JobKind::Dismissal => {
                        self.resume_dismissal(&job, &owner, budget).await.map_err(|e| e.to_string())?
                    }
                    JobKind::Handover => self.resume_handover(&job, &owner, budget).await.map_err(|e| e.to_string())?,
                    JobKind::Export => match self.resume_export(&job, &owner, budget).await {
                        Ok(progress) => progress,
                        // The bucket failed: the job is tried again once its lease lapses.
                        Err(error) => return Err(error.to_string()),
                    },
                };
                match (progress, kind) {
                    (Progress::Finished, JobKind::Deletion) => summary.deletions_finished += 1,
                    (Progress::Finished, JobKind::Dismissal) => summary.dismissals_finished += 1,
                    (Progress::Finished, JobKind::Handover) => summary.handovers_finished += 1,
                    (Progress::Finished, JobKind::Export) => summary.exports_finished += 1,
                    (Progress::Paused, _) => {
                        summary.jobs_paused += 1;
                        self.store.release_job(&job, &owner, self.clock.now()).await.map_err(|e| e.to_string())?;
                    }
                    // A scheduled deletion that only signed its pool user out waits without a reminder.
                    (Progress::Waiting, _) if job.step != JobStep::SignOut => summary.reminders_sent += 1,
                    (Progress::Waiting, _) => {}
                    (Progress::LeaseLost, _) => {}
                }
            }
        }
        Ok(())
    }
}
