//! The audit (docs/audit.md): reads the whole table, read-only, and reports every
//! item that breaks an invariant of the contract or of `docs/key-design.md`.
//!
//! The store scans and decodes (`store::scan`, behind `ScanStore`); [`checks`] decides. A Scan is no
//! snapshot: running operations write while it reads. So the checks accept every
//! state an operation legitimately leaves between two of its transactions, and a
//! violation is reported only if a consistent re-read of the partitions it
//! involves, after the scan, finds it again.

mod checks;
mod table;

use crate::store::scan::{Pacer, Partition, ScanPace, ScanTotals};
use crate::store::{ScanStore, Store, StoreError};
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use table::Table;

/// Every invariant the audit checks; `as_str` is the stable name it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Invariant {
    KnownItemKind,
    ItemWellFormed,
    IdentifierClaimed,
    ClaimOfMissingAccount,
    ClaimNotHeldByOwner,
    HoldCountMatches,
    AccountItemWithoutProfile,
    DeletionJobMatchesAccount,
    HandoverJobExists,
    ReceiptOfLiveAccount,
    LedgerEntryHasReceipt,
    NoPersonalDataKept,
    TokenOfDeletedAccount,
    StoredOnlyHashed,
    InDueIndex,
    JobLeasedOrDue,
    EnterpriseHasDefaultAdmin,
    ProfileEnterpriseConsistent,
    MembershipHasMember,
    NoMemberOfDismissedEnterprise,
    DismissalJobMatchesEnterprise,
    ExportJobMatchesAccount,
}

impl Invariant {
    pub const ALL: [Invariant; 22] = [
        Self::KnownItemKind,
        Self::ItemWellFormed,
        Self::IdentifierClaimed,
        Self::ClaimOfMissingAccount,
        Self::ClaimNotHeldByOwner,
        Self::HoldCountMatches,
        Self::AccountItemWithoutProfile,
        Self::DeletionJobMatchesAccount,
        Self::HandoverJobExists,
        Self::ReceiptOfLiveAccount,
        Self::LedgerEntryHasReceipt,
        Self::NoPersonalDataKept,
        Self::TokenOfDeletedAccount,
        Self::StoredOnlyHashed,
        Self::InDueIndex,
        Self::JobLeasedOrDue,
        Self::EnterpriseHasDefaultAdmin,
        Self::ProfileEnterpriseConsistent,
        Self::MembershipHasMember,
        Self::NoMemberOfDismissedEnterprise,
        Self::DismissalJobMatchesEnterprise,
        Self::ExportJobMatchesAccount,
    ];

    /// Spelled out, not derived, so renaming a variant never changes what operators grep for.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KnownItemKind => "known_item_kind",
            Self::ItemWellFormed => "item_well_formed",
            Self::IdentifierClaimed => "identifier_claimed",
            Self::ClaimOfMissingAccount => "claim_of_missing_account",
            Self::ClaimNotHeldByOwner => "claim_not_held_by_owner",
            Self::HoldCountMatches => "hold_count_matches",
            Self::AccountItemWithoutProfile => "account_item_without_profile",
            Self::DeletionJobMatchesAccount => "deletion_job_matches_account",
            Self::HandoverJobExists => "handover_job_exists",
            Self::ReceiptOfLiveAccount => "receipt_of_live_account",
            Self::LedgerEntryHasReceipt => "ledger_entry_has_receipt",
            Self::NoPersonalDataKept => "no_personal_data_kept",
            Self::TokenOfDeletedAccount => "token_of_deleted_account",
            Self::StoredOnlyHashed => "stored_only_hashed",
            Self::InDueIndex => "in_due_index",
            Self::JobLeasedOrDue => "job_leased_or_due",
            Self::EnterpriseHasDefaultAdmin => "enterprise_has_default_admin",
            Self::ProfileEnterpriseConsistent => "profile_enterprise_consistent",
            Self::MembershipHasMember => "membership_has_member",
            Self::NoMemberOfDismissedEnterprise => "no_member_of_dismissed_enterprise",
            Self::DismissalJobMatchesEnterprise => "dismissal_job_matches_enterprise",
            Self::ExportJobMatchesAccount => "export_job_matches_account",
        }
    }
}

impl Serialize for Invariant {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Invariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One broken invariant: the item (`pk/sk`, a claim's value masked) and what is wrong,
/// in ids, kinds, statuses and counts, never an email, phone, name or username.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Violation {
    pub invariant: Invariant,
    pub key: String,
    pub detail: String,
}

/// What `scripts/dev audit` prints (the contract's §6), and what the run cost beside it.
#[derive(Debug, Serialize)]
pub struct AuditReport {
    pub items_checked: u64,
    pub violations: Vec<Violation>,
    #[serde(skip)]
    pub cost: AuditCost,
}

#[derive(Debug, Clone, Default)]
pub struct AuditCost {
    pub scan: ScanTotals,
    /// Partitions read again to confirm what the scan found.
    pub partitions_reread: usize,
    pub elapsed: Duration,
}

impl AuditReport {
    pub fn clean(&self) -> bool {
        self.violations.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the table could not be read: {0}")]
    Store(#[from] StoreError),
}

/// Audits the whole table behind `store` at time `now` (unix seconds), reading at `pace`.
pub async fn audit_table(store: &Store, pace: &ScanPace, now: i64) -> Result<AuditReport, AuditError> {
    audit(store, pace, now).await
}

async fn audit(store: &impl ScanStore, pace: &ScanPace, now: i64) -> Result<AuditReport, AuditError> {
    let started = Instant::now();
    let pacer = Arc::new(Pacer::new(pace.max_read_units_per_second));
    let mut table = Table::default();
    let scan = store
        .scan_table(pace, &pacer, |page| {
            for item in page {
                table.ingest(item, now);
            }
        })
        .await?;
    let first = checks::findings(&table, now);
    let involved: BTreeSet<Partition> = first.iter().flat_map(|f| f.involves.iter().cloned()).collect();
    for pk in &involved {
        let items = store.partition_items(pk, &pacer).await?;
        table.forget(pk);
        for item in items {
            table.ingest(item, now);
        }
    }
    let seen: HashSet<(Invariant, String)> = first.into_iter().map(|f| (f.invariant, f.key)).collect();
    let mut violations: Vec<Violation> = if seen.is_empty() {
        Vec::new()
    } else {
        checks::findings(&table, now)
            .into_iter()
            .filter(|f| seen.contains(&(f.invariant, f.key.clone())))
            .map(|f| Violation { invariant: f.invariant, key: f.key, detail: f.detail })
            .collect()
    };
    violations.sort();
    violations.dedup();
    let cost = AuditCost { scan, partitions_reread: involved.len(), elapsed: started.elapsed() };
    Ok(AuditReport { items_checked: scan.items, violations, cost })
}

#[cfg(test)]
mod tests;
