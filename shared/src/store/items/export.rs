//! An export record (`ACCOUNT#<id>` / `EXPORT#<export id>`): ids and times only, no personal
//! data. Its change to `ready` in the stream is the event `Account Data Exported`.

use super::{n, s, Item, ItemExt};
use crate::model::export::{ExportId, ExportRecord, ExportState};
use crate::model::ids::AccountId;
use crate::store::error::StoreError;
use crate::store::keys;
use crate::store::op::Op;

/// What an export record says it is (`kind`), so the audit and the stream tell it from other data.
pub const KIND: &str = "data_export";

/// How long a record outlives its link, so the GET route can still say "expired"; TTL then removes it.
const KEPT_AFTER_EXPIRY_SECONDS: i64 = 90 * 86_400;

/// The record of a new export, `preparing`, for the transaction that accepts it.
pub fn creation(account: &AccountId, record: &ExportRecord) -> Op {
    let mut item = keys::export(account, &record.id);
    item.extend([
        ("kind".to_string(), s(KIND)),
        ("export_id".to_string(), s(record.id.as_str())),
        ("account_id".to_string(), s(account.as_str())),
        ("status".to_string(), s(ExportState::Preparing.as_str())),
        ("requested_at".to_string(), n(record.requested_at)),
    ]);
    Op::put(item).when("attribute_not_exists(pk)")
}

/// The archive is complete: `ready` until `expires_at`, if still preparing.
pub fn readiness(account: &AccountId, export: &ExportId, ready_at: i64, expires_at: i64) -> Op {
    Op::update(keys::export(account, export), "SET #status = :ready, ready_at = :at, expires_at = :exp, #ttl = :ttl")
        .when("#status = :preparing")
        .name("#status", "status")
        .name("#ttl", "ttl")
        .value(":ready", s(ExportState::Ready.as_str()))
        .value(":preparing", s(ExportState::Preparing.as_str()))
        .value(":at", n(ready_at))
        .value(":exp", n(expires_at))
        .value(":ttl", n(expires_at + KEPT_AFTER_EXPIRY_SECONDS))
}

pub fn from_item(item: &Item) -> Result<ExportRecord, StoreError> {
    let malformed = || StoreError::Malformed("export record".into());
    Ok(ExportRecord {
        id: item.str("export_id").and_then(ExportId::parse).ok_or_else(malformed)?,
        account_id: item.str("account_id").ok_or_else(malformed)?.to_string(),
        state: item.str("status").and_then(ExportState::parse).ok_or_else(malformed)?,
        requested_at: item.num("requested_at").unwrap_or(0),
        ready_at: item.num("ready_at"),
        expires_at: item.num("expires_at"),
    })
}
