//! Enterprises (`ENTERPRISE#<id>` / `META`) and their memberships
//! (`ENTERPRISE#<id>` / `MEMBER#<account>`), and the dismissal patterns.

use super::{accounts::account_from_item, key, keys, n, s, Item, ItemExt, Job, Op, Store, StoreError, TxOutcome};
use crate::accounts::{Account, AccountId, AccountStatus, Role};
use crate::caller::Session;
use crate::enterprises::{Enterprise, EnterpriseStatus, ReleasePlan};
use crate::purpose::Purpose;

/// A membership as listed under the enterprise.
#[derive(Debug, Clone)]
pub struct MemberRef {
    pub account: AccountId,
    /// Released, but the notice is not yet recorded as sent.
    pub notice_pending: bool,
}

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

pub(super) fn enterprise_from_item(item: &Item) -> Result<Enterprise, StoreError> {
    let status = item
        .str("status")
        .and_then(EnterpriseStatus::parse)
        .ok_or_else(|| StoreError::Malformed("enterprise status".into()))?;
    Ok(Enterprise {
        id: item.str("enterprise_id").unwrap_or_default().to_string(),
        name: item.str("name").unwrap_or_default().to_string(),
        default_admin: item.str("default_admin").and_then(AccountId::parse),
        status,
        dismissed_at: item.num("dismissed_at"),
        members_released: item.num("members_released").unwrap_or(0).max(0) as u64,
    })
}

fn meta_key(enterprise: &str) -> Item {
    key(keys::enterprise(enterprise), keys::META)
}

fn member_key(enterprise: &str, account: &AccountId) -> Item {
    key(keys::enterprise(enterprise), &keys::member(account.as_str()))
}

fn profile_key(account: &AccountId) -> Item {
    key(keys::account(account.as_str()), keys::PROFILE)
}

impl Store {
    /// Pattern "read an enterprise".
    pub async fn get_enterprise(&self, id: &str) -> Result<Option<Enterprise>, StoreError> {
        self.get(meta_key(id)).await?.map(|i| enterprise_from_item(&i)).transpose()
    }

    /// Pattern "register an enterprise". `false`: the id is taken.
    pub async fn register_enterprise(&self, enterprise: &Enterprise) -> Result<bool, StoreError> {
        let mut item = meta_key(&enterprise.id);
        item.extend([
            ("enterprise_id".to_string(), s(&enterprise.id)),
            ("name".to_string(), s(&enterprise.name)),
            ("status".to_string(), s(enterprise.status.as_str())),
        ]);
        if let Some(admin) = &enterprise.default_admin {
            item.insert("default_admin".to_string(), s(admin.as_str()));
        }
        Ok(matches!(self.write(Op::put(item).when("attribute_not_exists(pk)"), false).await?, super::Written::Done(_)))
    }

    /// Pattern "accept a dismissal": spends the token, moves the enterprise from
    /// active to dismissing (only for its default administrator), checks the
    /// caller's account is active, still lists the token and admits the session, and creates the
    /// job, in one transaction. Operation order: 0 token, 1 enterprise, 2 caller's profile, 3 job.
    pub async fn accept_dismissal(
        &self,
        enterprise: &str,
        caller: &AccountId,
        session: Session,
        token_hash: &str,
        now: i64,
        job: &Job,
    ) -> Result<TxOutcome<AcceptDismissalPart>, StoreError> {
        let token = self.token_consumption(token_hash, caller, Purpose::DismissEnterprise, now);
        let meta = Op::update(meta_key(enterprise), "SET #status = :dismissing")
            .when("#status = :active AND default_admin = :me")
            .name("#status", "status")
            .value(":active", s(EnterpriseStatus::Active.as_str()))
            .value(":dismissing", s(EnterpriseStatus::Dismissing.as_str()))
            .value(":me", s(caller.as_str()));
        let profile = Op::check(profile_key(caller), "#status = :active AND enterprise_id = :e")
            .name("#status", "status")
            .value(":active", s(AccountStatus::Active.as_str()))
            .value(":e", s(enterprise));
        let profile = super::codes::within_session(
            super::codes::spending_token(profile, Purpose::DismissEnterprise, token_hash),
            Some(session),
        );
        self.transact(vec![
            (AcceptDismissalPart::Token, token),
            (AcceptDismissalPart::Enterprise, meta),
            (AcceptDismissalPart::Profile, profile),
            (AcceptDismissalPart::Job, self.job_creation(job)),
        ])
        .await
    }

    /// Pattern "page through members": a consistent Query of `MEMBER#` items.
    pub async fn members_page(&self, enterprise: &str, limit: usize) -> Result<(Vec<MemberRef>, bool), StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :member)")
            .expression_attribute_values(":pk", s(keys::enterprise(enterprise)))
            .expression_attribute_values(":member", s("MEMBER#"))
            .consistent_read(true)
            .limit(limit as i32)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let more = out.last_evaluated_key.is_some();
        let members = out
            .items()
            .iter()
            .filter_map(|i| {
                Some(MemberRef {
                    account: i.str("account_id").and_then(AccountId::parse)?,
                    notice_pending: i.str("notice").is_some(),
                })
            })
            .collect();
        Ok((members, more))
    }

    /// Pattern "read many profiles": BatchGetItem.
    pub async fn get_accounts(&self, ids: &[AccountId]) -> Result<Vec<Account>, StoreError> {
        let keys = ids.iter().map(profile_key).collect();
        self.get_many(keys).await?.iter().map(account_from_item).collect()
    }

    /// Pattern "release a page of members": one transaction turns each into an
    /// individual (only if still a live member of this enterprise: active or in its grace period), marks its
    /// notice as pending, removes dropped memberships and counts the page on the job.
    pub async fn release_members(
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
            ops.push((
                Part::Member,
                Op::update(profile_key(account), "SET #role = :individual REMOVE enterprise_id")
                    .when("enterprise_id = :e AND #status IN (:active, :scheduled)")
                    .name("#role", "role")
                    .name("#status", "status")
                    .value(":individual", s(Role::Individual.as_str()))
                    .value(":e", s(enterprise))
                    .value(":active", s(AccountStatus::Active.as_str()))
                    .value(":scheduled", s(AccountStatus::DeletionScheduled.as_str())),
            ));
            ops.push((
                Part::Notice,
                Op::update(member_key(enterprise, account), "SET notice = :pending")
                    .when("attribute_exists(pk)")
                    .value(":pending", s("pending")),
            ));
        }
        for account in &plan.drop {
            ops.push((Part::Drop, Op::delete(member_key(enterprise, account))));
        }
        ops.push((
            Part::Job,
            self.job_progress(job, owner, now, "done = done + :released").value(":released", n(plan.release.len())),
        ));
        self.transact(ops).await
    }

    /// Pattern "record a member's notice as sent": removes the membership.
    pub async fn member_notified(&self, enterprise: &str, account: &AccountId) -> Result<(), StoreError> {
        let op = Op::delete(member_key(enterprise, account)).when("attribute_exists(notice)");
        self.write(op, false).await.map(|_| ())
    }

    /// Pattern "finish a dismissal": the enterprise becomes dismissed, its default
    /// administrator an individual, and the job ends, in one transaction.
    pub async fn finish_dismissal(
        &self,
        enterprise: &str,
        admin: &AccountId,
        job: &Job,
        owner: &str,
        now: i64,
    ) -> Result<TxOutcome<FinishDismissalPart>, StoreError> {
        let meta = Op::update(
            meta_key(enterprise),
            "SET #status = :dismissed, dismissed_at = :now, members_released = :released",
        )
        .when("#status = :dismissing")
        .name("#status", "status")
        .value(":dismissing", s(EnterpriseStatus::Dismissing.as_str()))
        .value(":dismissed", s(EnterpriseStatus::Dismissed.as_str()))
        .value(":now", n(now))
        .value(":released", n(job.done));
        let admin_profile = Op::update(profile_key(admin), "SET #role = :individual REMOVE enterprise_id")
            .when("enterprise_id = :e")
            .name("#role", "role")
            .value(":individual", s(Role::Individual.as_str()))
            .value(":e", s(enterprise));
        let membership = Op::delete(member_key(enterprise, admin));
        self.transact(vec![
            (FinishDismissalPart::Enterprise, meta),
            (FinishDismissalPart::Admin, admin_profile),
            (FinishDismissalPart::Membership, membership),
            (FinishDismissalPart::Job, self.job_deletion(job, owner)),
        ])
        .await
    }
}
