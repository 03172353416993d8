//! Enterprises and their dismissal (docs/seeds.md#deletion: the default administrator
//! dismisses the enterprise before deleting their account). Dismissal turns
//! every other member into an individual account and mails each of them; it
//! works page by page with recorded progress, so any size finishes, and a
//! run cut off is finished by `cleanup` through `resume_dismissal`.

use crate::accounts::AccountError;
use crate::blockers::{desktop_client_required, Blocker};
use crate::caller::Caller;
use crate::clock::rfc3339;
use crate::internal::{internal_from, Internal};
use crate::model::account::Role;
use crate::model::enterprise::{Enterprise, EnterpriseStatus, ReleasePlan};
use crate::model::ids::AccountId;
use crate::model::job::{Job, JobKind, JobStep, LEASE_SECONDS};
use crate::store::{
    AcceptDismissalPart, AccountStore, EnterpriseStore, JobStore, ReleaseMembersPart, StoreError, TxOutcome,
};
use crate::tokens::TokenString;
use crate::work::{random_id, Budget, Progress};
use crate::App;
use serde::Serialize;
use std::collections::HashMap;

/// Members handled per transaction: two writes each plus the job stays under DynamoDB's 100.
const MEMBERS_PER_PAGE: usize = 40;

/// Where a dismissal stands, as dismiss-enterprise answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DismissalStatus {
    /// Accepted; cleanup releases the remaining members.
    Dismissing,
    Dismissed,
}

/// The answer to dismiss-enterprise (docs/api.md#dismiss-enterprise).
#[derive(Debug, Serialize)]
pub struct Dismissal {
    pub enterprise_id: String,
    pub status: DismissalStatus,
    pub members_released: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dismissed_at: Option<String>,
}

impl Dismissal {
    pub fn finished(&self) -> bool {
        self.status == DismissalStatus::Dismissed
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DismissalError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("only the enterprise's default administrator can dismiss it")]
    NotDefaultAdmin,
    #[error("there is no active enterprise to dismiss")]
    NotActive,
    #[error("the dismissal is blocked")]
    Blocked(Vec<Blocker>),
    #[error("the verification token is invalid")]
    TokenInvalid,
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(DismissalError);

impl App {
    /// Accepts the dismissal (spending the token only then) and works through
    /// the members until done or out of budget; the rest is left to `cleanup`.
    pub async fn dismiss_enterprise(&self, caller: &Caller, token: &TokenString) -> Result<Dismissal, DismissalError> {
        let now = self.clock.now();
        let account = self.live_caller(caller).await?;
        let Some(enterprise_id) = account.enterprise_id.clone() else {
            return Err(DismissalError::NotActive);
        };
        if account.role != Role::DefaultAdmin {
            return Err(DismissalError::NotDefaultAdmin);
        }
        if caller.on_mobile_app(&self.config) {
            return Err(DismissalError::Blocked(vec![desktop_client_required()]));
        }
        let enterprise = self.store.get_enterprise(&enterprise_id).await?.ok_or(DismissalError::NotActive)?;
        if enterprise.status != EnterpriseStatus::Active {
            return Err(DismissalError::NotActive);
        }
        if enterprise.default_admin.as_ref() != Some(&caller.account) {
            return Err(DismissalError::NotDefaultAdmin);
        }
        let owner = random_id("worker")?;
        let job = Job {
            kind: JobKind::Dismissal,
            subject: enterprise_id.clone(),
            step: JobStep::Release,
            done: 0,
            cursor: None,
            requested_by: caller.account.to_string(),
            requested_at: now,
            due_at: now + LEASE_SECONDS,
            lease_owner: Some(owner.clone()),
            reference: enterprise_id.clone(),
            payload: Some(enterprise.name.clone()),
            purge_at: None,
        };
        let mut outcome = TxOutcome::Cancelled(Vec::new());
        for hash in token.hashes(self)? {
            outcome =
                self.store.accept_dismissal(&enterprise_id, &caller.account, caller.session, &hash, now, &job).await?;
            // Under the next key only if no token was found under this one (issued before a rotation).
            if !outcome.refused(&AcceptDismissalPart::Token) {
                break;
            }
        }
        match outcome {
            TxOutcome::Committed => {}
            outcome
                if outcome.refused(&AcceptDismissalPart::Enterprise) || outcome.refused(&AcceptDismissalPart::Job) =>
            {
                return Err(DismissalError::NotActive)
            }
            // The profile: deleted since the read, or the token ended by a handover of the account.
            outcome if outcome.refused(&AcceptDismissalPart::Profile) => {
                self.live_caller(caller).await?;
                return Err(DismissalError::TokenInvalid);
            }
            _ => return Err(DismissalError::TokenInvalid),
        }
        tracing::info!(account = %caller.account, enterprise = %enterprise_id, "dismissal accepted");
        self.failpoints.check("dismissal.accepted")?;
        let answer = match self.run_dismissal(&job, &owner, Budget::items(self.config.inline_work_items)).await {
            Ok(progress) => self.dismissal_answer(&job, &owner, progress).await,
            Err(error) => Err(error),
        };
        match answer {
            // Accepted already: once the lease lapses, cleanup carries the dismissal on.
            Err(DismissalError::Internal(Internal::Store(StoreError::Busy(error)))) => {
                tracing::warn!(enterprise = %enterprise_id, %error, "dismissal paused: DynamoDB is busy; cleanup carries it on");
                Ok(Dismissal {
                    enterprise_id,
                    status: DismissalStatus::Dismissing,
                    members_released: job.done,
                    dismissed_at: None,
                })
            }
            answer => answer,
        }
    }

    async fn dismissal_answer(&self, job: &Job, owner: &str, progress: Progress) -> Result<Dismissal, DismissalError> {
        let enterprise = self.store.get_enterprise(&job.subject).await?.ok_or(DismissalError::NotActive)?;
        if progress == Progress::Paused {
            self.store.release_job(job, owner, self.clock.now()).await?;
        }
        let dismissed = enterprise.status == EnterpriseStatus::Dismissed;
        Ok(Dismissal {
            enterprise_id: enterprise.id,
            status: if dismissed { DismissalStatus::Dismissed } else { DismissalStatus::Dismissing },
            members_released: if dismissed {
                enterprise.members_released
            } else {
                self.store.get_job(JobKind::Dismissal, &job.subject).await?.map_or(0, |j| j.done)
            },
            dismissed_at: enterprise.dismissed_at.map(rfc3339),
        })
    }

    /// Carries a dismissal on from wherever it stopped. Every step is
    /// idempotent: releasing a member is conditional on its membership, and a
    /// notice is recorded as sent by removing the membership right after it.
    pub async fn resume_dismissal(&self, job: &Job, owner: &str, budget: Budget) -> Result<Progress, DismissalError> {
        self.run_dismissal(job, owner, budget).await
    }

    async fn run_dismissal(&self, job: &Job, owner: &str, mut budget: Budget) -> Result<Progress, DismissalError> {
        let enterprise = job.subject.as_str();
        let enterprise_name = job.payload.clone().unwrap_or_else(|| enterprise.to_string());
        let admin = AccountId::parse(&job.requested_by)
            .ok_or_else(|| StoreError::Malformed("dismissal job requester".into()))?;
        let mut job = job.clone();
        loop {
            let (members, _) = self.store.members_page(enterprise, MEMBERS_PER_PAGE).await?;
            let others: Vec<_> = members.into_iter().filter(|m| m.account != admin).collect();
            if others.is_empty() {
                return match self.store.finish_dismissal(enterprise, &admin, &job, owner, self.clock.now()).await? {
                    TxOutcome::Committed => {
                        tracing::info!(enterprise, members_released = job.done, "enterprise dismissed");
                        Ok(Progress::Finished)
                    }
                    _ => Ok(Progress::LeaseLost),
                };
            }
            let ids: Vec<AccountId> = others.iter().map(|m| m.account.clone()).collect();
            let profiles: HashMap<AccountId, _> =
                self.store.get_accounts(&ids).await?.into_iter().map(|a| (a.id.clone(), a)).collect();
            let mut plan = ReleasePlan::default();
            for member in others.iter().filter(|m| !m.notice_pending) {
                match profiles.get(&member.account) {
                    // One in its grace period is released too: if it cancels, it comes back an individual.
                    Some(a) if a.status.is_live() && a.enterprise_id.as_deref() == Some(enterprise) => {
                        plan.release.push(member.account.clone())
                    }
                    _ => plan.drop.push(member.account.clone()),
                }
            }
            if !plan.release.is_empty() || !plan.drop.is_empty() {
                match self.store.release_members(enterprise, &plan, &job, owner, self.clock.now()).await? {
                    TxOutcome::Committed => job.done += plan.release.len() as u64,
                    // A member changed under us (say, its own deletion began): read the page again.
                    outcome if !outcome.refused(&ReleaseMembersPart::Job) => continue,
                    _ => return Ok(Progress::LeaseLost),
                }
                self.failpoints.check("dismissal.page_released")?;
            }
            let to_notify = others.iter().filter(|m| m.notice_pending).map(|m| &m.account).chain(plan.release.iter());
            for account in to_notify {
                if let Some((email, locale)) = profiles.get(account).and_then(|a| Some((a.email.as_ref()?, a.locale))) {
                    if let Err(error) = self.mailer.send_dismissal_notice(email, locale, &enterprise_name).await {
                        tracing::warn!(enterprise, account = %account, %error, "dismissal notice failed; a later run retries it");
                        return Ok(Progress::Paused);
                    }
                }
                self.store.member_notified(enterprise, account).await?;
                self.failpoints.check("dismissal.member_notified")?;
            }
            budget.spend(others.len());
            if budget.exhausted() {
                return Ok(Progress::Paused);
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnterpriseError {
    #[error("enterprise {0} already exists")]
    AlreadyExists(String),
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(EnterpriseError);

impl App {
    /// Registers an active enterprise (its members register with its id and their role).
    pub async fn register_enterprise(
        &self,
        id: &str,
        name: &str,
        default_admin: Option<&AccountId>,
    ) -> Result<(), EnterpriseError> {
        let enterprise = Enterprise {
            id: id.to_string(),
            name: name.to_string(),
            default_admin: default_admin.cloned(),
            status: EnterpriseStatus::Active,
            dismissed_at: None,
            members_released: 0,
        };
        if self.store.register_enterprise(&enterprise).await? {
            Ok(())
        } else {
            Err(EnterpriseError::AlreadyExists(id.to_string()))
        }
    }
}
