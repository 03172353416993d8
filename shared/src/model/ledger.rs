//! The erasure ledger's entries (docs/erasure-ledger.md): whether each downstream
//! system erased a deleted account's data, or retained some on a legal ground.

use serde::Serialize;

/// Where a system stands on one deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureStatus {
    /// Announced; no report yet.
    Pending,
    /// The system erased what it held.
    Erased,
    /// The system keeps some data on a legal ground it gave.
    Retained,
    /// No report by the deadline; a late report still counts.
    Overdue,
}

impl ErasureStatus {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "erased" => Self::Erased,
            "retained" => Self::Retained,
            "overdue" => Self::Overdue,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Erased => "erased",
            Self::Retained => "retained",
            Self::Overdue => "overdue",
        }
    }
}

/// One system's line of a deletion's ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub account_id: String,
    pub receipt_id: String,
    pub system: String,
    pub status: ErasureStatus,
    pub ground: Option<String>,
    pub deleted_at: i64,
    pub deadline_at: i64,
    pub announced_at: i64,
    pub announcements: u32,
    pub reported_at: Option<i64>,
    pub overdue_at: Option<i64>,
}
