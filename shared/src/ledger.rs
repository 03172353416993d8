//! The erasure ledger (docs/erasure-ledger.md): for each deletion, whether each
//! downstream system named in `DOWNSTREAM_SYSTEMS` erased the account's data or
//! retained some on a legal ground, and when. Opened `pending` with the receipt;
//! a system reports with an event on the bus (`erasure-ledger`); `cleanup`
//! announces the deletion again while a system is silent and marks it overdue
//! past the deadline, with a metric. Ids, times and grounds only: no personal data.

use crate::clock::rfc3339;
use crate::model::ledger::{ErasureStatus, LedgerEntry};
use crate::store::{LedgerStore, StoreError};
use crate::App;
use serde::{Deserialize, Serialize};

/// The ledger as an operator reads it.
#[derive(Debug, Serialize)]
pub struct LedgerView {
    pub account_id: String,
    pub receipt_id: Option<String>,
    /// Every system has reported (`erased` or `retained`).
    pub complete: bool,
    pub systems: Vec<SystemView>,
}

#[derive(Debug, Serialize)]
pub struct SystemView {
    pub system: String,
    pub status: ErasureStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ground: Option<String>,
    pub deleted_at: String,
    pub deadline_at: String,
    pub announced_at: String,
    pub announcements: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue_at: Option<String>,
}

/// What a system reports: the `detail` of its `Account Erasure Reported` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub account_id: String,
    pub receipt_id: String,
    pub outcome: String,
    #[serde(default)]
    pub ground: Option<String>,
}

/// The prefix of a reporting system's `source`: `erasure.<system>`, which IAM's
/// `events:source` condition lets only that system put (docs/erasure-ledger.md).
pub const REPORT_SOURCE_PREFIX: &str = "erasure.";
pub const REPORT_DETAIL_TYPE: &str = "Account Erasure Reported";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the report is malformed: {0}")]
    Malformed(String),
    #[error("{0:?} is not a system of DOWNSTREAM_SYSTEMS")]
    UnknownSystem(String),
    #[error("no ledger entry for this deletion and system")]
    NoEntry,
    #[error("the system already reported {0:?} for this deletion")]
    Conflict(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a report was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportOutcome {
    Recorded,
    /// The same report again: nothing changed.
    AlreadyRecorded,
}

const GROUND_MAX: usize = 500;

impl App {
    /// Records a system's report from its EventBridge event; the same report twice changes nothing.
    pub async fn record_erasure(&self, event: &serde_json::Value) -> Result<ReportOutcome, ReportError> {
        let source = event.get("source").and_then(|s| s.as_str()).unwrap_or("");
        let system = source
            .strip_prefix(REPORT_SOURCE_PREFIX)
            .ok_or_else(|| ReportError::Malformed(format!("source {source:?} is not erasure.<system>")))?;
        if !self.config.downstream_systems.iter().any(|s| s == system) {
            return Err(ReportError::UnknownSystem(system.to_string()));
        }
        if event.get("detail-type").and_then(|d| d.as_str()) != Some(REPORT_DETAIL_TYPE) {
            return Err(ReportError::Malformed(format!("detail-type must be {REPORT_DETAIL_TYPE:?}")));
        }
        let report: Report = serde_json::from_value(event.get("detail").cloned().unwrap_or_default())
            .map_err(|e| ReportError::Malformed(e.to_string()))?;
        let ground = report.ground.as_deref().map(str::trim).filter(|g| !g.is_empty());
        let status = match (report.outcome.as_str(), ground) {
            ("erased", None) => ErasureStatus::Erased,
            ("retained", Some(g)) if g.chars().count() <= GROUND_MAX => ErasureStatus::Retained,
            ("retained", _) => {
                return Err(ReportError::Malformed(format!("retained needs a ground of 1 to {GROUND_MAX} characters")))
            }
            ("erased", Some(_)) => return Err(ReportError::Malformed("erased takes no ground".into())),
            (other, _) => return Err(ReportError::Malformed(format!("outcome {other:?} is not erased or retained"))),
        };
        let entry = LedgerEntry {
            account_id: report.account_id,
            receipt_id: report.receipt_id,
            system: system.to_string(),
            status,
            ground: ground.map(String::from),
            deleted_at: 0,
            deadline_at: 0,
            announced_at: 0,
            announcements: 0,
            reported_at: None,
            overdue_at: None,
        };
        match self.store.record_report(&entry, status, ground, self.clock.now()).await? {
            Ok(()) => {
                tracing::info!(system, receipt = %entry.receipt_id, status = status.as_str(), "erasure reported");
                Ok(ReportOutcome::Recorded)
            }
            Err(Some(now)) if now.receipt_id == entry.receipt_id => {
                if now.status == status && now.ground.as_deref() == ground {
                    Ok(ReportOutcome::AlreadyRecorded)
                } else {
                    Err(ReportError::Conflict(now.status.as_str()))
                }
            }
            Err(_) => Err(ReportError::NoEntry),
        }
    }

    /// The entries a deletion finalised at `now` opens: one per configured system, pending.
    pub(crate) fn ledger_entries(
        &self,
        account: &crate::model::ids::AccountId,
        receipt: &str,
        now: i64,
    ) -> Vec<LedgerEntry> {
        self.config
            .downstream_systems
            .iter()
            .map(|system| LedgerEntry {
                account_id: account.to_string(),
                receipt_id: receipt.to_string(),
                system: system.clone(),
                status: ErasureStatus::Pending,
                ground: None,
                deleted_at: now,
                deadline_at: now + self.config.erasure_deadline_seconds,
                // The `Account Deleted` event is the first announcement.
                announced_at: now,
                announcements: 1,
                reported_at: None,
                overdue_at: None,
            })
            .collect()
    }

    /// A deletion's ledger, by account id, for operators.
    pub async fn ledger(&self, account: &str) -> Result<LedgerView, StoreError> {
        let entries = self.store.ledger_of(account).await?;
        let complete = !entries.is_empty()
            && entries.iter().all(|e| matches!(e.status, ErasureStatus::Erased | ErasureStatus::Retained));
        Ok(LedgerView {
            account_id: account.to_string(),
            receipt_id: entries.first().map(|e| e.receipt_id.clone()),
            complete,
            systems: entries
                .into_iter()
                .map(|e| SystemView {
                    system: e.system,
                    status: e.status,
                    ground: e.ground,
                    deleted_at: rfc3339(e.deleted_at),
                    deadline_at: rfc3339(e.deadline_at),
                    announced_at: rfc3339(e.announced_at),
                    announcements: e.announcements,
                    reported_at: e.reported_at.map(rfc3339),
                    overdue_at: e.overdue_at.map(rfc3339),
                })
                .collect(),
        })
    }

    /// cleanup, for the due ledger entry of `account`'s deletion and `system`: announce
    /// again, or past the deadline mark it overdue and emit the metric.
    pub(crate) async fn tend_ledger_entry(&self, account: &str, system: &str) -> Result<LedgerTended, StoreError> {
        let Some(entry) = self.store.ledger_entry(account, system).await? else { return Ok(LedgerTended::Nothing) };
        if entry.status != ErasureStatus::Pending {
            return Ok(LedgerTended::Nothing);
        }
        let now = self.clock.now();
        if now >= entry.deadline_at {
            if self.store.mark_overdue(&entry, now).await? {
                tracing::warn!(system = %entry.system, receipt = %entry.receipt_id, "erasure overdue");
                self.metrics.erasure_overdue(&entry.system);
                return Ok(LedgerTended::Overdue);
            }
            return Ok(LedgerTended::Nothing);
        }
        let next = (now + self.config.erasure_reannounce_seconds).min(entry.deadline_at);
        Ok(if self.store.reannounce(&entry, now, next).await? {
            LedgerTended::Reannounced
        } else {
            LedgerTended::Nothing
        })
    }
}

/// What cleanup did with a due ledger entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerTended {
    Reannounced,
    Overdue,
    Nothing,
}
