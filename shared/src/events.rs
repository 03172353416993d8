//! The events downstream services react to (docs/events.md), read from the
//! records of the table's stream: which record is which fact, and the event's
//! `detail`. Only ids, times and counts are copied: no event can carry an
//! email, phone, name or username, whatever else the item holds.

use crate::clock::rfc3339;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The `source` of every event.
pub const SOURCE: &str = "account-deletion";

/// What happened: each is one `detail-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DetailType {
    DeletionScheduled,
    DeletionCancelled,
    AccountDeleted,
    EnterpriseDismissed,
    AccountHandedOver,
    /// A downstream system that has not reported its erasure is asked again (docs/erasure-ledger.md).
    ErasureRequested,
    /// A copy of the account's data is ready for download (docs/data-export.md).
    DataExported,
}

impl DetailType {
    pub const ALL: [DetailType; 7] = [
        Self::DeletionScheduled,
        Self::DeletionCancelled,
        Self::AccountDeleted,
        Self::EnterpriseDismissed,
        Self::AccountHandedOver,
        Self::ErasureRequested,
        Self::DataExported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeletionScheduled => "Account Deletion Scheduled",
            Self::DeletionCancelled => "Account Deletion Cancelled",
            Self::AccountDeleted => "Account Deleted",
            Self::EnterpriseDismissed => "Enterprise Dismissed",
            Self::AccountHandedOver => "Account Handed Over",
            Self::ErasureRequested => "Account Erasure Requested",
            Self::DataExported => "Account Data Exported",
        }
    }

    /// The schema's file under docs/events/.
    pub fn schema_file(self) -> &'static str {
        match self {
            Self::DeletionScheduled => "account-deletion-scheduled.schema.json",
            Self::DeletionCancelled => "account-deletion-cancelled.schema.json",
            Self::AccountDeleted => "account-deleted.schema.json",
            Self::EnterpriseDismissed => "enterprise-dismissed.schema.json",
            Self::AccountHandedOver => "account-handed-over.schema.json",
            Self::ErasureRequested => "account-erasure-requested.schema.json",
            Self::DataExported => "account-data-exported.schema.json",
        }
    }
}

/// One record of the table's stream as Lambda hands it over (a `NEW_IMAGE` view).
#[derive(Debug, Clone, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventName")]
    pub event_name: String,
    pub dynamodb: StreamData,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StreamData {
    #[serde(rename = "Keys", default)]
    pub keys: HashMap<String, Value>,
    #[serde(rename = "NewImage", default)]
    pub new_image: HashMap<String, Value>,
    #[serde(rename = "SequenceNumber")]
    pub sequence_number: String,
}

/// The event of a DynamoDB event source mapping.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamBatch {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

/// An event to put on the bus.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub detail_type: DetailType,
    /// A JSON object whose `event_id` is the same for every delivery of the record.
    pub detail: Value,
}

#[derive(Debug, thiserror::Error)]
#[error("stream record {sequence} ({pk}): {reason}")]
pub struct MalformedRecord {
    pub sequence: String,
    pub pk: String,
    pub reason: String,
}

impl StreamRecord {
    fn key(&self, name: &str) -> &str {
        string(&self.dynamodb.keys, name).unwrap_or("")
    }

    /// The fact this record is, if it is one; `Err` for a record of a fact that lacks what its event needs.
    pub fn event(&self) -> Result<Option<Event>, MalformedRecord> {
        let (pk, sk, image) = (self.key("pk"), self.key("sk"), &self.dynamodb.new_image);
        let inserted = self.event_name == "INSERT";
        let fact = if inserted && pk.starts_with("RECEIPT#") && string(image, "kind") == Some("account_deletion") {
            Some((DetailType::AccountDeleted, "deleted_at"))
        } else if inserted && pk.starts_with("JOB#deletion#") && image.contains_key("purge_at") {
            Some((DetailType::DeletionScheduled, "requested_at"))
        } else if inserted && pk.starts_with("ACCOUNT#") && sk.starts_with("CANCELLATION#") {
            Some((DetailType::DeletionCancelled, "cancelled_at"))
        } else if pk.starts_with("ENTERPRISE#") && sk == "META" && string(image, "status") == Some("dismissed") {
            Some((DetailType::EnterpriseDismissed, "dismissed_at"))
        } else if inserted && pk.starts_with("ACCOUNT#") && sk.starts_with("HANDOVER#") {
            Some((DetailType::AccountHandedOver, "handed_over_at"))
        } else if self.event_name == "MODIFY" && pk.starts_with("LEDGER#") && string(image, "status") == Some("pending")
        {
            Some((DetailType::ErasureRequested, "announced_at"))
        } else if pk.starts_with("ACCOUNT#") && sk.starts_with("EXPORT#") && string(image, "status") == Some("ready") {
            Some((DetailType::DataExported, "ready_at"))
        } else {
            None
        };
        let Some((detail_type, fact_time)) = fact else { return Ok(None) };
        let malformed = |reason: String| MalformedRecord {
            sequence: self.dynamodb.sequence_number.clone(),
            pk: pk.split('#').next().unwrap_or("").to_string(),
            reason,
        };
        let text = |name: &str| string(image, name).map(str::to_string).ok_or_else(|| malformed(format!("no {name}")));
        let time = |name: &str| number(image, name).map(rfc3339).ok_or_else(|| malformed(format!("no {name}")));
        let count = |name: &str| number(image, name).ok_or_else(|| malformed(format!("no {name}")));
        let when = number(image, fact_time).ok_or_else(|| malformed(format!("no {fact_time}")))?;
        let mut detail = Map::new();
        detail.insert("event_id".into(), json!(event_id(detail_type, pk, sk, when)));
        let fields: Vec<(&str, Value)> = match detail_type {
            DetailType::DeletionScheduled => vec![
                ("account_id", json!(text("subject")?)),
                ("receipt_id", json!(text("reference")?)),
                ("requested_at", json!(time("requested_at")?)),
                ("purge_at", json!(time("purge_at")?)),
            ],
            DetailType::DeletionCancelled => vec![
                ("account_id", json!(text("account_id")?)),
                ("receipt_id", json!(text("receipt_id")?)),
                ("cancelled_at", json!(time("cancelled_at")?)),
            ],
            DetailType::AccountDeleted => vec![
                ("account_id", json!(text("account_id")?)),
                ("receipt_id", json!(text("receipt_id")?)),
                ("requested_at", json!(time("requested_at")?)),
                ("deleted_at", json!(time("deleted_at")?)),
                ("items_removed", json!(count("items_removed")?)),
            ],
            DetailType::EnterpriseDismissed => vec![
                ("enterprise_id", json!(text("enterprise_id")?)),
                ("members_released", json!(count("members_released")?)),
                ("dismissed_at", json!(time("dismissed_at")?)),
            ],
            DetailType::ErasureRequested => vec![
                ("account_id", json!(text("account_id")?)),
                ("receipt_id", json!(text("receipt_id")?)),
                ("system", json!(text("system")?)),
                ("deleted_at", json!(time("deleted_at")?)),
                ("deadline_at", json!(time("deadline_at")?)),
                ("announcement", json!(count("announcements")?)),
            ],
            DetailType::DataExported => vec![
                ("account_id", json!(text("account_id")?)),
                ("export_id", json!(text("export_id")?)),
                ("requested_at", json!(time("requested_at")?)),
                ("exported_at", json!(time("ready_at")?)),
                ("expires_at", json!(time("expires_at")?)),
            ],
            DetailType::AccountHandedOver => vec![
                ("account_id", json!(pk.trim_start_matches("ACCOUNT#"))),
                ("handover_id", json!(text("handover_id")?)),
                ("handed_over_at", json!(time("handed_over_at")?)),
            ],
        };
        detail.extend(fields.into_iter().map(|(k, v)| (k.to_string(), v)));
        Ok(Some(Event { detail_type, detail: Value::Object(detail) }))
    }
}

/// The same fact gives the same id however often its record is delivered (or
/// written again): the hash of what it is, whose item it is, and when it happened.
fn event_id(detail_type: DetailType, pk: &str, sk: &str, when: i64) -> String {
    let mut hash = Sha256::new();
    for part in [detail_type.as_str(), pk, sk, &when.to_string()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let mut bytes: [u8; 16] = hash.finalize()[..16].try_into().unwrap_or([0; 16]);
    // A UUID of version 8 (RFC 9562: custom, here name-based on SHA-256), so consumers may store it as one.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = crate::crypto::hex(&bytes);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn string<'a>(image: &'a HashMap<String, Value>, name: &str) -> Option<&'a str> {
    image.get(name)?.get("S")?.as_str()
}

fn number(image: &HashMap<String, Value>, name: &str) -> Option<i64> {
    image.get(name)?.get("N")?.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event: &str, pk: &str, sk: &str, image: Value) -> StreamRecord {
        serde_json::from_value(json!({
            "eventName": event,
            "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": sk}}, "NewImage": image, "SequenceNumber": "1"}
        }))
        .unwrap()
    }

    #[test]
    fn a_receipt_is_an_account_deleted_event_with_a_stable_id_and_nothing_else() {
        let image = json!({"kind": {"S": "account_deletion"}, "account_id": {"S": "bob"}, "receipt_id": {"S": "rcpt-1"},
            "requested_at": {"N": "1764547200"}, "deleted_at": {"N": "1764547201"}, "items_removed": {"N": "3"},
            "email": {"S": "bob@example.com"}});
        let r = record("INSERT", "RECEIPT#bob", "RECEIPT", image);
        let event = r.event().unwrap().unwrap();
        assert_eq!(event.detail_type, DetailType::AccountDeleted);
        assert_eq!(event.detail["deleted_at"], "2025-12-01T00:00:01Z");
        assert_eq!(event.detail["items_removed"], 3);
        assert!(!event.detail.to_string().contains("bob@example.com"));
        assert_eq!(event, r.event().unwrap().unwrap(), "a redelivery carries the same event_id");
        let id = event.detail["event_id"].as_str().unwrap();
        assert_eq!((id.len(), &id[14..15]), (36, "8"), "a version 8 UUID: {id}");
    }

    #[test]
    fn a_ready_export_is_an_account_data_exported_event_of_ids_and_times() {
        let image = json!({"kind": {"S": "data_export"}, "account_id": {"S": "bob"}, "export_id": {"S": "exp_1"},
            "status": {"S": "ready"}, "requested_at": {"N": "1764547200"}, "ready_at": {"N": "1764547201"},
            "expires_at": {"N": "1765152001"}});
        let event = record("MODIFY", "ACCOUNT#bob", "EXPORT#exp_1", image).event().unwrap().unwrap();
        assert_eq!(event.detail_type, DetailType::DataExported);
        assert_eq!(event.detail["exported_at"], "2025-12-01T00:00:01Z");
        let preparing = json!({"status": {"S": "preparing"}});
        assert!(record("INSERT", "ACCOUNT#bob", "EXPORT#exp_1", preparing).event().unwrap().is_none());
    }

    #[test]
    fn other_records_are_no_event_and_a_fact_without_its_fields_is_malformed() {
        assert!(record("MODIFY", "ACCOUNT#bob", "PROFILE", json!({})).event().unwrap().is_none());
        assert!(record("INSERT", "JOB#deletion#bob", "JOB", json!({})).event().unwrap().is_none());
        assert!(record("REMOVE", "RECEIPT#bob", "RECEIPT", json!({})).event().unwrap().is_none());
        let bad = record("INSERT", "JOB#deletion#bob", "JOB", json!({"purge_at": {"N": "5"}}));
        assert!(bad.event().is_err());
    }
}
