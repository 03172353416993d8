//! What a deletion and its cancellation leave in the table: no personal data.

use super::ids::Identifier;
use super::ledger::LedgerEntry;

/// The deletion receipt as stored: no personal data, only what downstream services need.
#[derive(Debug, Clone)]
pub struct DeletionFinal {
    pub receipt_id: String,
    pub requested_at: i64,
    pub deleted_at: i64,
    pub items_removed: u64,
    /// The account's data exports removed from the export bucket (docs/data-export.md).
    pub exports_removed: u64,
    /// The account's own identifiers, whose claims are released.
    pub identifiers: Vec<Identifier>,
    /// When they become free again (`None`: at once).
    pub identifiers_free_at: Option<i64>,
    /// What a handover the deletion overtook had claimed for the account: released at once.
    pub handover_claims: Vec<Identifier>,
    /// The erasure ledger's entries, one per downstream system, opened `pending` with the receipt.
    pub ledger: Vec<LedgerEntry>,
    /// When `cleanup` first looks at them again (a re-announcement, or the deadline).
    pub ledger_next_at: i64,
}

/// What a cancellation records (no personal data): its INSERT in the stream is `Account Deletion Cancelled`.
#[derive(Debug, Clone)]
pub struct CancellationRecord {
    pub receipt_id: String,
    pub requested_at: i64,
    pub cancelled_at: i64,
}
