//! An erasure ledger entry (`LEDGER#<account>` / `SYSTEM#<name>`, docs/erasure-ledger.md):
//! one per deletion and downstream system, written `pending` by the deletion's
//! final transaction; while pending it is in the due index at its next
//! re-announcement or its deadline.

use super::{n, s, Item, ItemExt};
use crate::model::due::DueBucket;
use crate::model::ledger::{ErasureStatus, LedgerEntry};
use crate::store::error::StoreError;
use crate::store::keys;
use crate::store::op::Op;

fn key(entry: &LedgerEntry) -> Item {
    keys::ledger_entry(&entry.account_id, &entry.system)
}

pub fn from_item(item: &Item) -> Result<LedgerEntry, StoreError> {
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

/// Opens the entry, for the deletion's final transaction: the system owes a report;
/// `next_at` is its first re-announcement (or its deadline).
pub fn creation(entry: &LedgerEntry, next_at: i64) -> Op {
    let mut item = key(entry);
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
        ("due_bucket".to_string(), s(DueBucket::Ledger.as_str())),
        ("due_at".to_string(), n(next_at)),
    ]);
    Op::put(item).when("attribute_not_exists(pk)")
}

/// Records `erased` or `retained` (with its ground), once, for this deletion's receipt, while the
/// system still owes it; the entry leaves the due index.
pub fn report(entry: &LedgerEntry, status: ErasureStatus, ground: Option<&str>, now: i64) -> Op {
    let set = if ground.is_some() {
        "SET #status = :st, reported_at = :now, ground = :g"
    } else {
        "SET #status = :st, reported_at = :now"
    };
    let op = Op::update(key(entry), format!("{set} REMOVE due_bucket, due_at"))
        .when("receipt_id = :r AND #status IN (:pending, :overdue)")
        .name("#status", "status")
        .value(":st", s(status.as_str()))
        .value(":now", n(now))
        .value(":r", s(&entry.receipt_id))
        .value(":pending", s(ErasureStatus::Pending.as_str()))
        .value(":overdue", s(ErasureStatus::Overdue.as_str()));
    match ground {
        Some(ground) => op.value(":g", s(ground)),
        None => op,
    }
}

/// Counts an announcement (the stream carries it to publish-events) and moves the entry to its
/// next time, if it is still pending as read.
pub fn reannouncement(entry: &LedgerEntry, now: i64, next_at: i64) -> Op {
    Op::update(key(entry), "SET announced_at = :now, announcements = announcements + :one, due_at = :next")
        .when("#status = :pending AND announcements = :seen")
        .name("#status", "status")
        .value(":pending", s(ErasureStatus::Pending.as_str()))
        .value(":seen", n(entry.announcements))
        .value(":now", n(now))
        .value(":one", n(1))
        .value(":next", n(next_at))
}

/// Past its deadline a pending entry is `overdue` and leaves the due index.
pub fn overdue(entry: &LedgerEntry, now: i64) -> Op {
    Op::update(key(entry), "SET #status = :overdue, overdue_at = :now REMOVE due_bucket, due_at")
        .when("#status = :pending")
        .name("#status", "status")
        .value(":pending", s(ErasureStatus::Pending.as_str()))
        .value(":overdue", s(ErasureStatus::Overdue.as_str()))
        .value(":now", n(now))
}
