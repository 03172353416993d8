//! The erasure ledger (docs/erasure-ledger.md): reading a deletion's entries,
//! recording a system's report, announcing again, marking overdue.

use super::error::StoreError;
use super::items::{ledger, s};
use super::keys;
use super::table::{Store, Written};
use crate::model::ledger::{ErasureStatus, LedgerEntry};

/// The erasure ledger, as the operations ask the table for it.
pub(crate) trait LedgerStore {
    /// Pattern "read a deletion's ledger": one Query of the account's ledger partition.
    async fn ledger_of(&self, account: &str) -> Result<Vec<LedgerEntry>, StoreError>;

    /// Pattern "read a ledger entry".
    async fn ledger_entry(&self, account: &str, system: &str) -> Result<Option<LedgerEntry>, StoreError>;

    /// Pattern "record a report": `erased` or `retained` (with its ground), once,
    /// for this deletion's receipt, while the system still owes it; the entry leaves the due index.
    /// `Err` of the entry as it is when the condition failed (`None`: no such entry).
    async fn record_report(
        &self,
        entry: &LedgerEntry,
        status: ErasureStatus,
        ground: Option<&str>,
        now: i64,
    ) -> Result<Result<(), Option<LedgerEntry>>, StoreError>;

    /// Pattern "announce again": counts the announcement (the stream carries it
    /// to publish-events) and moves the entry to its next time, if it is still pending as read.
    async fn reannounce(&self, entry: &LedgerEntry, now: i64, next_at: i64) -> Result<bool, StoreError>;

    /// Pattern "mark overdue": past its deadline a pending entry is `overdue` and leaves the due index.
    async fn mark_overdue(&self, entry: &LedgerEntry, now: i64) -> Result<bool, StoreError>;
}

impl LedgerStore for Store {
    async fn ledger_of(&self, account: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::ledger_partition(account)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        out.items().iter().map(ledger::from_item).collect()
    }

    async fn ledger_entry(&self, account: &str, system: &str) -> Result<Option<LedgerEntry>, StoreError> {
        self.get(keys::ledger_entry(account, system)).await?.map(|i| ledger::from_item(&i)).transpose()
    }

    async fn record_report(
        &self,
        entry: &LedgerEntry,
        status: ErasureStatus,
        ground: Option<&str>,
        now: i64,
    ) -> Result<Result<(), Option<LedgerEntry>>, StoreError> {
        Ok(match self.write(ledger::report(entry, status, ground, now), false).await? {
            Written::Done(_) => Ok(()),
            Written::Refused(item) => Err(item.map(|i| ledger::from_item(&i)).transpose()?),
        })
    }

    async fn reannounce(&self, entry: &LedgerEntry, now: i64, next_at: i64) -> Result<bool, StoreError> {
        Ok(matches!(self.write(ledger::reannouncement(entry, now, next_at), false).await?, Written::Done(_)))
    }

    async fn mark_overdue(&self, entry: &LedgerEntry, now: i64) -> Result<bool, StoreError> {
        Ok(matches!(self.write(ledger::overdue(entry, now), false).await?, Written::Done(_)))
    }
}
