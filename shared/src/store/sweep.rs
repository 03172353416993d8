//! The due index (`due`: partition `due_bucket`, sort `due_at`, keys only): a
//! sparse index of the items some future cleanup run must act on. An item
//! leaves it when it is deleted or its `due_bucket` is removed, so a run reads
//! what is due and never the rest of the table.

use super::error::StoreError;
use super::items::{claim, n, s, token, Item, ItemExt};
use super::keys;
use super::table::{Store, Written};
use crate::model::due::{DueBucket, DueEntry};
use crate::model::ids::Identifier;

/// The index's name, as the table defines it.
pub const DUE_INDEX: &str = "due";

/// Where the next page of a bucket begins.
#[derive(Debug, Clone)]
pub struct DueCursor(Item);

/// The due index, as cleanup asks the table for what is due and acts on claims and tokens.
pub(crate) trait SweepStore {
    /// Pattern "what is due": a Query on the due index, oldest first, up to `now`.
    /// Returns the entries (a key no due item has is `Malformed`) and where the next page begins.
    async fn due_entries(
        &self,
        bucket: DueBucket,
        now: i64,
        limit: usize,
        after: Option<DueCursor>,
    ) -> Result<(Vec<Result<DueEntry, StoreError>>, Option<DueCursor>), StoreError>;

    /// Pattern "remove an expired token": only if it really has expired.
    async fn remove_expired_token(&self, hash: &str, now: i64) -> Result<bool, StoreError>;

    /// Pattern "free a quarantined claim": only if its quarantine has passed and nobody took it since.
    async fn free_claim(&self, id: &Identifier, now: i64) -> Result<bool, StoreError>;
}

impl SweepStore for Store {
    async fn due_entries(
        &self,
        bucket: DueBucket,
        now: i64,
        limit: usize,
        after: Option<DueCursor>,
    ) -> Result<(Vec<Result<DueEntry, StoreError>>, Option<DueCursor>), StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DUE_INDEX)
            .key_condition_expression("due_bucket = :b AND due_at <= :now")
            .expression_attribute_values(":b", s(bucket.as_str()))
            .expression_attribute_values(":now", n(now))
            .limit(limit as i32)
            .set_exclusive_start_key(after.map(|c| c.0))
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let entries = out
            .items()
            .iter()
            .filter_map(|i| Some((i.str("pk")?, i.str("sk")?)))
            .map(|(pk, sk)| {
                keys::due_entry(bucket, pk, sk)
                    .ok_or_else(|| StoreError::Malformed(format!("due entry in bucket {}", bucket.as_str())))
            })
            .collect();
        Ok((entries, out.last_evaluated_key.map(DueCursor)))
    }

    async fn remove_expired_token(&self, hash: &str, now: i64) -> Result<bool, StoreError> {
        Ok(matches!(self.write(token::removal_if_expired(hash, now), false).await?, Written::Done(_)))
    }

    async fn free_claim(&self, id: &Identifier, now: i64) -> Result<bool, StoreError> {
        Ok(matches!(self.write(claim::freeing(id, now), false).await?, Written::Done(_)))
    }
}
