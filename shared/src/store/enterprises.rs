//! Enterprises and their memberships, and a dismissal: accepting it, releasing
//! the members page by page, recording each notice, finishing it.

use super::error::StoreError;
use super::items::profile::account as profile;
use super::items::{enterprise, job, member, s, token};
use super::keys;
use super::table::{Store, TxOutcome, Written};
use crate::model::enterprise::{Enterprise, MemberRef, ReleasePlan};
use crate::model::ids::AccountId;
use crate::model::job::Job;
use crate::model::purpose::Purpose;
use crate::model::session::Session;

/// The parts of accepting a dismissal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptDismissalPart {
    /// Spent, expired, or not the caller's.
    Token,
    /// Not active, or the caller is not its default administrator.
    Enterprise,
    /// The caller is gone, out of session, or no longer lists the token.
    Profile,
    /// A dismissal job exists already.
    Job,
}

/// The parts of releasing a page of members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseMembersPart {
    /// A member is no longer an active member of this enterprise.
    Member,
    Notice,
    Drop,
    /// The job's lease went to another worker.
    Job,
}

/// The parts of finishing a dismissal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishDismissalPart {
    Enterprise,
    Admin,
    Membership,
    /// The job's lease went to another worker.
    Job,
}

/// Enterprises and a dismissal, as the operations ask the table for them.
pub(crate) trait EnterpriseStore {
    /// Pattern "read an enterprise".
    async fn get_enterprise(&self, id: &str) -> Result<Option<Enterprise>, StoreError>;

    /// Pattern "register an enterprise". `false`: the id is taken.
    async fn register_enterprise(&self, new: &Enterprise) -> Result<bool, StoreError>;

    /// Pattern "accept a dismissal": spends the token, moves the enterprise from
    /// active to dismissing (only for its default administrator), checks the
    /// caller's account is active, still lists the token and admits the session, and creates the
    /// job, in one transaction.
    async fn accept_dismissal(
        &self,
        enterprise: &str,
        caller: &AccountId,
        session: Session,
        token_hash: &str,
        now: i64,
        job: &Job,
    ) -> Result<TxOutcome<AcceptDismissalPart>, StoreError>;

    /// Pattern "page through members": a consistent Query of `MEMBER#` items.
    async fn members_page(&self, enterprise: &str, limit: usize) -> Result<(Vec<MemberRef>, bool), StoreError>;

    /// Pattern "release a page of members": one transaction turns each into an
    /// individual (only if still a live member of this enterprise: active or in its grace period), marks its
    /// notice as pending, removes dropped memberships and counts the page on the job.
    async fn release_members(
        &self,
        enterprise: &str,
        plan: &ReleasePlan,
        job: &Job,
        owner: &str,
        now: i64,
    ) -> Result<TxOutcome<ReleaseMembersPart>, StoreError>;

    /// Pattern "record a member's notice as sent": removes the membership.
    async fn member_notified(&self, enterprise: &str, account: &AccountId) -> Result<(), StoreError>;

    /// Pattern "finish a dismissal": the enterprise becomes dismissed, its default
    /// administrator an individual, and the job ends, in one transaction.
    async fn finish_dismissal(
        &self,
        enterprise: &str,
        admin: &AccountId,
        job: &Job,
        owner: &str,
        now: i64,
    ) -> Result<TxOutcome<FinishDismissalPart>, StoreError>;
}

impl EnterpriseStore for Store {
    async fn get_enterprise(&self, id: &str) -> Result<Option<Enterprise>, StoreError> {
        self.get(keys::enterprise(id)).await?.map(|i| enterprise::from_item(&i)).transpose()
    }

    async fn register_enterprise(&self, new: &Enterprise) -> Result<bool, StoreError> {
        Ok(matches!(self.write(enterprise::creation(new), false).await?, Written::Done(_)))
    }

    async fn accept_dismissal(
        &self,
        enterprise: &str,
        caller: &AccountId,
        session: Session,
        token_hash: &str,
        now: i64,
        job: &Job,
    ) -> Result<TxOutcome<AcceptDismissalPart>, StoreError> {
        self.transact(vec![
            (AcceptDismissalPart::Token, token::consumption(token_hash, caller, Purpose::DismissEnterprise, now)),
            (AcceptDismissalPart::Enterprise, enterprise::dismissal_start(enterprise, caller)),
            (AcceptDismissalPart::Profile, profile::dismissal_check(caller, session, token_hash, enterprise)),
            (AcceptDismissalPart::Job, job::creation(job)),
        ])
        .await
    }

    async fn members_page(&self, enterprise: &str, limit: usize) -> Result<(Vec<MemberRef>, bool), StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :member)")
            .expression_attribute_values(":pk", s(keys::enterprise_partition(enterprise)))
            .expression_attribute_values(":member", s(keys::MEMBER_PREFIX))
            .consistent_read(true)
            .limit(limit as i32)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let more = out.last_evaluated_key.is_some();
        Ok((out.items().iter().filter_map(member::from_item).collect(), more))
    }

    async fn release_members(
        &self,
        enterprise: &str,
        plan: &ReleasePlan,
        job: &Job,
        owner: &str,
        now: i64,
    ) -> Result<TxOutcome<ReleaseMembersPart>, StoreError> {
        use ReleaseMembersPart as Part;
        let mut ops = Vec::new();
        for account in &plan.release {
            ops.push((Part::Member, profile::released_member(account, enterprise)));
            ops.push((Part::Notice, member::notice_pending(enterprise, account)));
        }
        for account in &plan.drop {
            ops.push((Part::Drop, member::removal(enterprise, account)));
        }
        ops.push((Part::Job, job::members_released(job, owner, now, plan.release.len())));
        self.transact(ops).await
    }

    async fn member_notified(&self, enterprise: &str, account: &AccountId) -> Result<(), StoreError> {
        self.write(member::notified(enterprise, account), false).await.map(|_| ())
    }

    async fn finish_dismissal(
        &self,
        enterprise: &str,
        admin: &AccountId,
        job: &Job,
        owner: &str,
        now: i64,
    ) -> Result<TxOutcome<FinishDismissalPart>, StoreError> {
        self.transact(vec![
            (FinishDismissalPart::Enterprise, enterprise::dismissal_end(enterprise, job.done, now)),
            (FinishDismissalPart::Admin, profile::released_admin(admin, enterprise)),
            (FinishDismissalPart::Membership, member::removal(enterprise, admin)),
            (FinishDismissalPart::Job, job::deletion(job, owner)),
        ])
        .await
    }
}
