//! The erasure ledger in the table (docs/erasure-ledger.md): one item per
//! deletion and downstream system, `LEDGER#<account>` / `SYSTEM#<name>`,
//! written `pending` by the deletion's final transaction. While pending it is
//! in the due index (bucket `ledger`) at its next re-announcement or its deadline.

use super::{key, n, s, Item, ItemExt, Op, Store, StoreError, Written};
use crate::ledger::{ErasureStatus, LedgerEntry};

pub const LEDGER_BUCKET: &str = "ledger";

pub(super) fn ledger_pk(account: &str) -> String {
    format!("LEDGER#{account}")
}

pub(super) fn entry_key(account: &str, system: &str) -> Item {
    key(ledger_pk(account), &format!("SYSTEM#{system}"))
}

pub(super) fn entry_from_item(item: &Item) -> Result<LedgerEntry, StoreError> {
    let malformed = || StoreError::Malformed("ledger entry".into());
    Ok(LedgerEntry {
        account_id: item.str("account_id").ok_or_else(malformed)?.to_string(),
        receipt_id: item.str("receipt_id").ok_or_else(malformed)?.to_string(),
        system: item.str("system").ok_or_else(malformed)?.to_string(),
        status: item.str("status").and_then(ErasureStatus::parse).ok_or_else(malformed)?,
        ground: item.str("ground").map(String::from),
        deleted_at: item.num("deleted_at").unwrap_or(0),
        deadline_at: item.num("deadline_at").unwrap_or(0),
        announced_at: item.num("announced_at").unwrap_or(0),
        announcements: item.num("announcements").unwrap_or(0).max(0) as u32,
        reported_at: item.num("reported_at"),
        overdue_at: item.num("overdue_at"),
    })
}

impl Store {
    /// Pattern "open a ledger entry", for the deletion's final transaction: the
    /// system owes a report; `next_at` is its first re-announcement (or its deadline).
    pub(crate) fn ledger_entry_creation(&self, entry: &LedgerEntry, next_at: i64) -> Op {
        let mut item = entry_key(&entry.account_id, &entry.system);
        item.extend([
            ("kind".to_string(), s("erasure")),
            ("account_id".to_string(), s(&entry.account_id)),
            ("receipt_id".to_string(), s(&entry.receipt_id)),
            ("system".to_string(), s(&entry.system)),
            ("status".to_string(), s(ErasureStatus::Pending.as_str())),
            ("deleted_at".to_string(), n(entry.deleted_at)),
            ("deadline_at".to_string(), n(entry.deadline_at)),
            ("announced_at".to_string(), n(entry.announced_at)),
            ("announcements".to_string(), n(1)),
            ("due_bucket".to_string(), s(LEDGER_BUCKET)),
            ("due_at".to_string(), n(next_at)),
        ]);
        Op::put(item).when("attribute_not_exists(pk)")
    }

    /// Pattern "read a deletion's ledger": one Query of the account's ledger partition.
    pub async fn ledger_of(&self, account: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(ledger_pk(account)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        out.items().iter().map(entry_from_item).collect()
    }

    /// Pattern "read a ledger entry".
    pub async fn ledger_entry(&self, pk: &str, sk: &str) -> Result<Option<LedgerEntry>, StoreError> {
        self.get(key(pk.to_string(), sk)).await?.map(|i| entry_from_item(&i)).transpose()
    }

    /// Pattern "record a report": `erased` or `retained` (with its ground), once,
    /// for this deletion's receipt, while the system still owes it; the entry leaves the due index.
    /// `Err` of the entry as it is when the condition failed (`None`: no such entry).
    pub async fn record_report(
        &self,
        entry: &LedgerEntry,
        status: ErasureStatus,
        ground: Option<&str>,
        now: i64,
    ) -> Result<Result<(), Option<LedgerEntry>>, StoreError> {
        let set = if ground.is_some() {
            "SET #status = :st, reported_at = :now, ground = :g"
        } else {
            "SET #status = :st, reported_at = :now"
        };
        let mut op =
            Op::update(entry_key(&entry.account_id, &entry.system), format!("{set} REMOVE due_bucket, due_at"))
                .when("receipt_id = :r AND #status IN (:pending, :overdue)")
                .name("#status", "status")
                .value(":st", s(status.as_str()))
                .value(":now", n(now))
                .value(":r", s(&entry.receipt_id))
                .value(":pending", s(ErasureStatus::Pending.as_str()))
                .value(":overdue", s(ErasureStatus::Overdue.as_str()));
        if let Some(ground) = ground {
            op = op.value(":g", s(ground));
        }
        Ok(match self.write(op, false).await? {
            Written::Done(_) => Ok(()),
            Written::Refused(item) => Err(item.map(|i| entry_from_item(&i)).transpose()?),
        })
    }

    /// Pattern "announce again": counts the announcement (the stream carries it
    /// to publish-events) and moves the entry to its next time, if it is still pending as read.
    pub async fn reannounce(&self, entry: &LedgerEntry, now: i64, next_at: i64) -> Result<bool, StoreError> {
        let op = Op::update(
            entry_key(&entry.account_id, &entry.system),
            "SET announced_at = :now, announcements = announcements + :one, due_at = :next",
        )
        .when("#status = :pending AND announcements = :seen")
        .name("#status", "status")
        .value(":pending", s(ErasureStatus::Pending.as_str()))
        .value(":seen", n(entry.announcements))
        .value(":now", n(now))
        .value(":one", n(1))
        .value(":next", n(next_at));
        Ok(matches!(self.write(op, false).await?, Written::Done(_)))
    }

    /// Pattern "mark overdue": past its deadline a pending entry is `overdue` and leaves the due index.
    pub async fn mark_overdue(&self, entry: &LedgerEntry, now: i64) -> Result<bool, StoreError> {
        let op = Op::update(
            entry_key(&entry.account_id, &entry.system),
            "SET #status = :overdue, overdue_at = :now REMOVE due_bucket, due_at",
        )
        .when("#status = :pending")
        .name("#status", "status")
        .value(":pending", s(ErasureStatus::Pending.as_str()))
        .value(":overdue", s(ErasureStatus::Overdue.as_str()))
        .value(":now", n(now));
        Ok(matches!(self.write(op, false).await?, Written::Done(_)))
    }
}
