//! A deletion's grace period in the table: cancelling it, starting the purge
//! when it ends, and moving the job from its reminder to its purge. The
//! profile's status decides a race between a cancellation and the purge: each
//! writes it on condition that it is still `deletion_scheduled`, so exactly one wins.

use super::codes::{spending_token, within_session};
use super::{key, keys, n, s, Op, Store, StoreError, TxOutcome};
use crate::model::account::AccountStatus;
use crate::model::deletion::CancellationRecord;
use crate::model::ids::AccountId;
use crate::model::job::Job;
use crate::model::purpose::Purpose;
use crate::model::session::Session;

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

fn profile_key(account: &AccountId) -> super::Item {
    key(keys::account(account.as_str()), keys::PROFILE)
}

impl Store {
    /// Pattern "cancel a deletion": one transaction spends the token, makes the
    /// profile active again (if still scheduled for the deletion `job` is), ends
    /// the job and writes the record. Nothing else changed in the grace period:
    /// claims, memberships and items are removed only by the purge.
    pub async fn cancel_deletion(
        &self,
        account: &AccountId,
        session: Session,
        token_hash: &str,
        job: &Job,
        record: &CancellationRecord,
    ) -> Result<TxOutcome<CancelDeletionPart>, StoreError> {
        use CancelDeletionPart as Part;
        let token = self.token_consumption(token_hash, account, Purpose::CancelDeletion, record.cancelled_at);
        let profile = Op::update(profile_key(account), "SET #status = :active REMOVE deletion_requested_at, #ltok")
            .when("#status = :scheduled AND deletion_requested_at = :requested")
            .name("#status", "status")
            .value(":active", s(AccountStatus::Active.as_str()))
            .value(":scheduled", s(AccountStatus::DeletionScheduled.as_str()))
            .value(":requested", n(job.requested_at));
        let profile = within_session(spending_token(profile, Purpose::CancelDeletion, token_hash), Some(session));
        let job_end = Op::delete(super::jobs::job_key_of(job))
            .when("#ref = :r")
            .name("#ref", "reference")
            .value(":r", s(&job.reference));
        let mut item = key(keys::account(account.as_str()), &format!("CANCELLATION#{}", record.receipt_id));
        item.extend([
            ("kind".to_string(), s("deletion_cancellation")),
            ("account_id".to_string(), s(account.as_str())),
            ("receipt_id".to_string(), s(&record.receipt_id)),
            ("requested_at".to_string(), n(record.requested_at)),
            ("cancelled_at".to_string(), n(record.cancelled_at)),
        ]);
        self.transact(vec![
            (Part::Token, token),
            (Part::Profile, profile),
            (Part::Job, job_end),
            (Part::Record, Op::put(item).when("attribute_not_exists(pk)")),
        ])
        .await
    }

    /// Pattern "begin the purge": the scheduled profile becomes `deleting` (a
    /// cancellation can no longer win), if it is still the deletion `job` is.
    /// `true` also when an earlier run already began it.
    pub async fn begin_purge(&self, account: &AccountId, job: &Job) -> Result<bool, StoreError> {
        let op = Op::update(profile_key(account), "SET #status = :deleting")
            .when("#status IN (:scheduled, :deleting) AND deletion_requested_at = :requested")
            .name("#status", "status")
            .value(":deleting", s(AccountStatus::Deleting.as_str()))
            .value(":scheduled", s(AccountStatus::DeletionScheduled.as_str()))
            .value(":requested", n(job.requested_at));
        Ok(matches!(self.write(op, false).await?, super::Written::Done(_)))
    }

    /// Pattern "remind, then wait for the purge": after the reminder the job is
    /// due again at the purge, its lease ended. `false`: the lease was lost.
    pub async fn reminder_sent(&self, job: &Job, owner: &str, purge_at: i64) -> Result<bool, StoreError> {
        let op = Op::update(super::jobs::job_key_of(job), "SET due_at = :purge REMOVE lease_owner")
            .when("lease_owner = :me")
            .value(":me", s(owner))
            .value(":purge", n(purge_at));
        Ok(matches!(self.write(op, false).await?, super::Written::Done(_)))
    }
}
