//! A deletion in the table: accepting it (the lock), paging through and
//! removing the account's items, the final transaction with its receipt and
//! ledger, and the grace period: the reminder, a cancellation, the purge's
//! start. The profile's status decides a race between a cancellation and the
//! purge: each writes it on condition that it is still `deletion_scheduled`, so
//! exactly one wins.

use super::error::StoreError;
use super::items::profile::{account as profile, schema::account_from_item};
use super::items::{cancellation, claim, job, ledger, member, receipt, s, token, ItemExt};
use super::keys;
use super::table::{Store, TxOutcome, Written};
use crate::model::account::{Account, AccountStatus};
use crate::model::deletion::{CancellationRecord, DeletionFinal};
use crate::model::ids::AccountId;
use crate::model::job::Job;
use crate::model::purpose::Purpose;
use crate::model::session::Session;

/// The parts of accepting a deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptDeletionPart {
    /// Spent, expired, or not this account's.
    Token,
    /// Not active and deletable, not in this session, or no longer listing the token.
    Profile,
    /// A deletion job exists already.
    Job,
}

/// The parts of finishing a deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalizeDeletionPart {
    Profile,
    Claim,
    Membership,
    Receipt,
    /// A ledger entry exists already.
    Ledger,
    /// Never refused: the account's unspent tokens go with it.
    Token,
    /// The job's lease went to another worker.
    Job,
}

/// The parts of cancelling a deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelDeletionPart {
    /// Spent, expired, or not this account's.
    Token,
    /// Not in its grace period any more (purge begun, or already cancelled), not in this session, or no longer listing the token.
    Profile,
    /// The deletion job is gone or is another deletion's.
    Job,
    /// The record of this cancellation exists already.
    Record,
}

/// One page of the items an account owns besides its profile.
#[derive(Debug)]
pub struct AccountItemsPage {
    /// The profile, while it exists (the final transaction deletes it).
    pub profile: Option<Account>,
    /// Sort keys of the other items, in key order.
    pub item_keys: Vec<String>,
    pub more: bool,
}

/// A deletion, as the operations ask the table for it: the lock, the purge page by page, the final
/// transaction, and the grace period.
pub(crate) trait DeletionStore {
    /// Pattern "accept a deletion": one transaction spends the token, checks the
    /// account is active, deletable and without holds, locks it and creates the job.
    async fn accept_deletion(
        &self,
        account: &AccountId,
        session: Session,
        token_hash: &str,
        now: i64,
        locked_as: AccountStatus,
        job: &Job,
    ) -> Result<TxOutcome<AcceptDeletionPart>, StoreError>;

    /// Pattern "page through an account's items": a consistent Query of keys only,
    /// from the start of the partition (what was deleted is no longer there).
    async fn account_items_page(&self, account: &AccountId, limit: usize) -> Result<AccountItemsPage, StoreError>;

    /// Pattern "delete an account's items": BatchWriteItem, 25 keys a request.
    async fn delete_account_items(&self, account: &AccountId, sort_keys: &[String]) -> Result<(), StoreError>;

    /// Pattern "finish a deletion": one transaction deletes the profile and the
    /// membership, releases the identifier claims, writes the receipt (which the
    /// table's stream carries downstream) and the ledger, and ends the job.
    async fn finalize_deletion(
        &self,
        account: &Account,
        job: &Job,
        owner: &str,
        receipt: &DeletionFinal,
    ) -> Result<TxOutcome<FinalizeDeletionPart>, StoreError>;

    /// Pattern "cancel a deletion": one transaction spends the token, makes the
    /// profile active again (if still scheduled for the deletion `job` is), ends
    /// the job and writes the record. Nothing else changed in the grace period:
    /// claims, memberships and items are removed only by the purge.
    async fn cancel_deletion(
        &self,
        account: &AccountId,
        session: Session,
        token_hash: &str,
        job: &Job,
        record: &CancellationRecord,
    ) -> Result<TxOutcome<CancelDeletionPart>, StoreError>;

    /// Pattern "begin the purge": the scheduled profile becomes `deleting` (a
    /// cancellation can no longer win), if it is still the deletion `job` is.
    /// `true` also when an earlier run already began it.
    async fn begin_purge(&self, account: &AccountId, job: &Job) -> Result<bool, StoreError>;

    /// Pattern "remind, then wait for the purge": after the reminder the job is
    /// due again at the purge, its lease ended. `false`: the lease was lost.
    async fn reminder_sent(&self, job: &Job, owner: &str, purge_at: i64) -> Result<bool, StoreError>;

    /// Pattern "sign out, then purge": the deletion's next step is the purge, now (lease renewed) or, in a
    /// grace period, at `wake` (lease ended). `false`: the lease was lost.
    async fn signed_out(&self, job: &Job, owner: &str, now: i64, wake: Option<i64>) -> Result<bool, StoreError>;
}

impl DeletionStore for Store {
    async fn accept_deletion(
        &self,
        account: &AccountId,
        session: Session,
        token_hash: &str,
        now: i64,
        locked_as: AccountStatus,
        job: &Job,
    ) -> Result<TxOutcome<AcceptDeletionPart>, StoreError> {
        self.transact(vec![
            (AcceptDeletionPart::Token, token::consumption(token_hash, account, Purpose::DeleteAccount, now)),
            (AcceptDeletionPart::Profile, profile::deletion_lock(account, session, token_hash, now, locked_as)),
            (AcceptDeletionPart::Job, job::creation(job)),
        ])
        .await
    }

    async fn account_items_page(&self, account: &AccountId, limit: usize) -> Result<AccountItemsPage, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::account_partition(account)))
            .consistent_read(true)
            .limit(limit as i32 + 1)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let more = out.last_evaluated_key.is_some();
        let mut page = AccountItemsPage { profile: None, item_keys: Vec::new(), more };
        for item in out.items.unwrap_or_default() {
            match item.str("sk") {
                Some(keys::PROFILE) => page.profile = Some(account_from_item(&item)?),
                Some(sk) => page.item_keys.push(sk.to_string()),
                None => {}
            }
        }
        Ok(page)
    }

    async fn delete_account_items(&self, account: &AccountId, sort_keys: &[String]) -> Result<(), StoreError> {
        self.delete_keys(sort_keys.iter().map(|sk| keys::account_item(account, sk)).collect()).await
    }

    async fn finalize_deletion(
        &self,
        account: &Account,
        job: &Job,
        owner: &str,
        receipt: &DeletionFinal,
    ) -> Result<TxOutcome<FinalizeDeletionPart>, StoreError> {
        use FinalizeDeletionPart as Part;
        let mut ops = vec![(Part::Profile, profile::deletion_end(&account.id))];
        for id in &receipt.identifiers {
            ops.push((Part::Claim, claim::release(id, &account.id, receipt.identifiers_free_at)));
        }
        for id in &receipt.handover_claims {
            ops.push((Part::Claim, claim::release(id, &account.id, None)));
        }
        if let Some(enterprise) = &account.enterprise_id {
            ops.push((Part::Membership, member::removal(enterprise, &account.id)));
        }
        ops.push((Part::Receipt, receipt::creation(account, receipt)));
        ops.extend(receipt.ledger.iter().map(|e| (Part::Ledger, ledger::creation(e, receipt.ledger_next_at))));
        // The profile lists every live token of the account (each redemption and handover deletes the ones it unlists).
        ops.extend(account.live_tokens.iter().map(|h| (Part::Token, token::removal(h))));
        ops.push((Part::Job, job::deletion(job, owner)));
        self.transact(ops).await
    }

    async fn cancel_deletion(
        &self,
        account: &AccountId,
        session: Session,
        token_hash: &str,
        job: &Job,
        record: &CancellationRecord,
    ) -> Result<TxOutcome<CancelDeletionPart>, StoreError> {
        use CancelDeletionPart as Part;
        self.transact(vec![
            (Part::Token, token::consumption(token_hash, account, Purpose::CancelDeletion, record.cancelled_at)),
            (Part::Profile, profile::cancellation(account, session, token_hash, job.requested_at)),
            (Part::Job, job::withdrawal(job)),
            (Part::Record, cancellation::creation(account, record)),
        ])
        .await
    }

    async fn begin_purge(&self, account: &AccountId, job: &Job) -> Result<bool, StoreError> {
        let op = profile::purge_start(account, job.requested_at);
        Ok(matches!(self.write(op, false).await?, Written::Done(_)))
    }

    async fn reminder_sent(&self, job: &Job, owner: &str, purge_at: i64) -> Result<bool, StoreError> {
        Ok(matches!(self.write(job::reminded(job, owner, purge_at), false).await?, Written::Done(_)))
    }

    async fn signed_out(&self, job: &Job, owner: &str, now: i64, wake: Option<i64>) -> Result<bool, StoreError> {
        Ok(matches!(self.write(job::signed_out(job, owner, now, wake), false).await?, Written::Done(_)))
    }
}
