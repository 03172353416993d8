//! The due index (`due`: partition `due_bucket`, sort `due_at`, keys only): a
//! sparse index of the items some future cleanup run must act on. An item
//! leaves it when it is deleted or its `due_bucket` is removed, so a run reads
//! what is due and never the rest of the table.

use super::{key, n, Item, ItemExt, Op, Store, StoreError, Written};
use crate::model::due::DueBucket;

pub const DUE_INDEX: &str = "due";

#[derive(Debug, Clone)]
pub struct DueEntry {
    pub pk: String,
    pub sk: String,
    pub due_at: i64,
}

impl Store {
    /// Pattern "what is due": a Query on the due index, oldest first, up to `now`.
    /// Returns the entries, where to start the next page, and the items read.
    pub async fn due_entries(
        &self,
        bucket: DueBucket,
        now: i64,
        limit: usize,
        start: Option<Item>,
    ) -> Result<(Vec<DueEntry>, Option<Item>), StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DUE_INDEX)
            .key_condition_expression("due_bucket = :b AND due_at <= :now")
            .expression_attribute_values(":b", super::s(bucket.as_str()))
            .expression_attribute_values(":now", n(now))
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let entries = out
            .items()
            .iter()
            .filter_map(|i| {
                Some(DueEntry { pk: i.str("pk")?.to_string(), sk: i.str("sk")?.to_string(), due_at: i.num("due_at")? })
            })
            .collect();
        Ok((entries, out.last_evaluated_key))
    }

    /// Pattern "remove an expired token": only if it really has expired.
    pub async fn remove_expired_token(&self, entry: &DueEntry, now: i64) -> Result<bool, StoreError> {
        let op = Op::delete(key(entry.pk.clone(), &entry.sk)).when("expires_at <= :now").value(":now", n(now));
        Ok(matches!(self.write(op, false).await?, Written::Done(_)))
    }

    /// Pattern "free a quarantined claim": only if its quarantine has passed and nobody took it since.
    pub async fn free_claim(&self, entry: &DueEntry, now: i64) -> Result<bool, StoreError> {
        let op = Op::delete(key(entry.pk.clone(), &entry.sk))
            .when("free_at <= :now AND attribute_not_exists(#owner)")
            .name("#owner", "owner")
            .value(":now", n(now));
        Ok(matches!(self.write(op, false).await?, Written::Done(_)))
    }
}
