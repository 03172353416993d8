//! Account deletion (docs/seeds.md#deletion): irreversible, all-or-nothing from the
//! outside. Accepting it is one transaction that spends the token, checks the
//! account can go and locks it, so from then on every function answers
//! `account_deleted`. The purge then runs page by page with recorded progress;
//! `cleanup` finishes one that was cut off through `resume_deletion`.
//!
//! The notice is sent just before the final transaction that records the
//! deletion, so it goes at least once: twice only if the process dies
//! between the send and that commit.

use crate::accounts::AccountError;
use crate::caller::Caller;
use crate::clock::rfc3339;
use crate::exports::{removed_exports, removed_exports_payload, ExportError};
use crate::identity::PoolUsername;
use crate::internal::{internal_from, Internal};
use crate::mail::GraceNotice;
use crate::model::account::AccountStatus;
use crate::model::deletion::DeletionFinal;
use crate::model::ids::AccountId;
use crate::model::job::{Job, JobKind, JobStep, LEASE_SECONDS};
use crate::prerequisites::Blocker;
use crate::store::{AcceptDeletionPart, AccountStore, DeletionStore, ExportStore, JobStore, StoreError, TxOutcome};
use crate::tokens::TokenString;
use crate::work::{random_id, Budget, Progress};
use crate::App;
use serde::Serialize;

/// Items deleted per page: four BatchWriteItem requests.
const ITEMS_PER_PAGE: usize = 100;

/// Where a deletion stands, as delete-account answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionStatus {
    /// Locked; purged when the grace period ends.
    DeletionScheduled,
    /// Accepted; cleanup finishes the purge.
    Deleting,
    Deleted,
}

/// The answer to delete-account (docs/api.md#delete-account).
#[derive(Debug, Serialize)]
pub struct DeletionReceipt {
    pub status: DeletionStatus,
    pub account_id: String,
    pub receipt_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purge_at: Option<String>,
}

impl DeletionReceipt {
    pub fn finished(&self) -> bool {
        self.status == DeletionStatus::Deleted
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeletionError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("the deletion is blocked")]
    PrerequisitesUnmet(Vec<Blocker>),
    #[error("the verification token is invalid")]
    TokenInvalid,
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(DeletionError);

impl App {
    /// Accepts the deletion and, without a grace period, purges the account
    /// until done or out of budget (then `cleanup` finishes it and the answer is 202).
    pub async fn delete_account(&self, caller: &Caller, token: &TokenString) -> Result<DeletionReceipt, DeletionError> {
        let now = self.clock.now();
        let grace = self.config.deletion_grace_seconds;
        let owner = random_id("worker")?;
        // With a user pool the job first signs the pool user out, under a lease, whatever the grace.
        let signs_out = self.config.identity.is_cognito();
        let purge_at = (grace > 0).then_some(now + grace);
        let job = Job {
            kind: JobKind::Deletion,
            subject: caller.account.to_string(),
            step: if signs_out { JobStep::SignOut } else { JobStep::Purge },
            done: 0,
            cursor: None,
            requested_by: caller.account.to_string(),
            requested_at: now,
            due_at: match purge_at {
                Some(purge_at) if !signs_out => self.scheduled_wake(now, now, purge_at),
                _ => now + LEASE_SECONDS,
            },
            lease_owner: (grace == 0 || signs_out).then(|| owner.clone()),
            reference: random_id("rcpt")?,
            payload: None,
            purge_at,
        };
        let locked_as = if grace > 0 { AccountStatus::DeletionScheduled } else { AccountStatus::Deleting };
        let mut outcome = TxOutcome::Cancelled(Vec::new());
        for hash in token.hashes(self)? {
            outcome = self.store.accept_deletion(&caller.account, caller.session, &hash, now, locked_as, &job).await?;
            // Under the next key only if no token was found under this one (issued before a rotation).
            if !outcome.refused(&AcceptDeletionPart::Token) {
                break;
            }
        }
        if let TxOutcome::Cancelled(_) = outcome {
            // Say why, in the order a user can act on: the account (and session), its blockers, the token.
            if outcome.refused(&AcceptDeletionPart::Profile) {
                let blockers = self.current_blockers(caller).await?;
                if blockers.iter().any(|b| b.kind == crate::prerequisites::HANDOVER_PENDING) {
                    return Err(AccountError::HandoverPending.into());
                }
                if !blockers.is_empty() {
                    return Err(DeletionError::PrerequisitesUnmet(blockers));
                }
                // Active, admitted and unblocked: the profile no longer lists the token (a handover ended it).
                return Err(DeletionError::TokenInvalid);
            }
            return Err(if outcome.refused(&AcceptDeletionPart::Token) {
                DeletionError::TokenInvalid
            } else {
                AccountError::Deleted.into()
            });
        }
        tracing::info!(account = %caller.account, receipt = %job.reference, grace, "deletion accepted");
        self.failpoints.check("deletion.accepted")?;
        let answer = |status, deleted_at: Option<i64>, purge_at: Option<i64>| DeletionReceipt {
            status,
            account_id: caller.account.to_string(),
            receipt_id: job.reference.clone(),
            deleted_at: deleted_at.map(rfc3339),
            purge_at: purge_at.map(rfc3339),
        };
        if grace > 0 {
            if signs_out {
                match self.run_deletion(&job, &owner, Budget::items(0), &mut None, caller.language).await {
                    Ok(Progress::Paused) => {
                        // Due again at once; if even that write fails, the lease lapses by itself.
                        if let Err(error) = self.store.release_job(&job, &owner, self.clock.now()).await {
                            tracing::warn!(account = %caller.account, %error, "the sign-out is left to cleanup");
                        }
                    }
                    Ok(_) => {}
                    // Accepted already: once the lease lapses, cleanup signs the user out.
                    Err(DeletionError::Internal(Internal::Store(error))) => {
                        tracing::warn!(account = %caller.account, %error, "the pool user's sign-out is left to cleanup");
                    }
                    Err(other) => return Err(other),
                }
            }
            self.mail_grace_notice(&caller.account, GraceNotice::Scheduled, &job.reference, now + grace).await;
            return Ok(answer(DeletionStatus::DeletionScheduled, None, Some(now + grace)));
        }
        let mut deleted_at = None;
        let purged = match self
            .run_deletion(&job, &owner, Budget::items(self.config.inline_work_items), &mut deleted_at, caller.language)
            .await
        {
            Ok(Progress::Paused) => {
                self.store.release_job(&job, &owner, self.clock.now()).await.map(|()| Progress::Paused)
            }
            Ok(progress) => Ok(progress),
            Err(DeletionError::Internal(Internal::Store(error))) => Err(error),
            Err(other) => return Err(other),
        };
        match purged {
            Ok(Progress::Finished) => Ok(answer(DeletionStatus::Deleted, deleted_at.or(Some(now)), None)),
            Ok(_) => Ok(answer(DeletionStatus::Deleting, None, None)),
            // Accepted already: the account is gone for every caller, and once the lease lapses cleanup carries the purge on.
            Err(StoreError::Busy(error)) => {
                tracing::warn!(account = %caller.account, %error, "deletion paused: DynamoDB is busy; cleanup carries it on");
                Ok(answer(DeletionStatus::Deleting, None, None))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Carries a deletion on from wherever it stopped (also a scheduled one whose grace has passed).
    pub async fn resume_deletion(&self, job: &Job, owner: &str, budget: Budget) -> Result<Progress, DeletionError> {
        self.run_deletion(job, owner, budget, &mut None, None).await
    }

    /// `deleted_at` receives the time of the final transaction when this run makes it.
    /// `language`: what the request that deletes inline asked for; else the notice
    /// is in the account's `locale` (a run of cleanup has no request).
    async fn run_deletion(
        &self,
        job: &Job,
        owner: &str,
        mut budget: Budget,
        deleted_at: &mut Option<i64>,
        language: Option<crate::model::locale::Locale>,
    ) -> Result<Progress, DeletionError> {
        let account_id =
            AccountId::parse(&job.subject).ok_or_else(|| StoreError::Malformed("deletion job subject".into()))?;
        let mut job = job.clone();
        if job.step == JobStep::SignOut {
            match self.sign_out_before_purge(&account_id, &job, owner).await? {
                Progress::Finished if job.purge_at.is_none() => job.step = JobStep::Purge,
                Progress::Finished => return Ok(Progress::Waiting),
                other => return Ok(other),
            }
        }
        if let Some(purge_at) = job.purge_at {
            if self.clock.now() < purge_at {
                // Woken for the reminder: mail it, then sleep until the purge.
                self.mail_grace_notice(&account_id, GraceNotice::Reminder, &job.reference, purge_at).await;
                return Ok(if self.store.reminder_sent(&job, owner, purge_at).await? {
                    Progress::Waiting
                } else {
                    Progress::LeaseLost
                });
            }
            // The grace period ends here: from now on a cancellation loses (docs/api.md#cancel-deletion).
            if !self.store.begin_purge(&account_id, &job).await? {
                tracing::info!(account = %account_id, receipt = %job.reference, "the deletion was cancelled before its purge");
                return Ok(Progress::LeaseLost);
            }
            self.failpoints.check("deletion.purge_begun")?;
        }
        // The exports go first (docs/data-export.md), counted once for the receipt.
        if removed_exports(&job).is_none() {
            let removed = match self.remove_exports(&account_id).await {
                Ok(removed) => removed,
                Err(ExportError::Internal(e)) => return Err(e.into()),
                Err(ExportError::Account(e)) => return Err(e.into()),
                Err(error) => {
                    tracing::warn!(account = %account_id, %error, "exports not removed yet; a later run retries");
                    return Ok(Progress::Paused);
                }
            };
            let payload = removed_exports_payload(removed);
            if !self.store.exports_counted(&job, owner, self.clock.now(), &payload).await? {
                return Ok(Progress::LeaseLost);
            }
            job.payload = Some(payload);
            self.failpoints.check("deletion.exports_removed")?;
        }
        loop {
            let page = self.store.account_items_page(&account_id, ITEMS_PER_PAGE).await?;
            if !page.item_keys.is_empty() {
                // Count only keys past the last counted one: a page re-read after a crash is not counted twice.
                let fresh =
                    page.item_keys.iter().filter(|k| job.cursor.as_deref().is_none_or(|c| k.as_str() > c)).count();
                let last = page.item_keys.last().cloned().unwrap_or_default();
                if !self.store.count_page(&job, owner, self.clock.now(), fresh, &last).await? {
                    return Ok(Progress::LeaseLost);
                }
                job.done += fresh as u64;
                job.cursor = Some(last);
                self.failpoints.check("deletion.page_counted")?;
                self.store.delete_account_items(&account_id, &page.item_keys).await?;
                self.failpoints.check("deletion.page_deleted")?;
                budget.spend(page.item_keys.len());
                if budget.exhausted() {
                    return Ok(Progress::Paused);
                }
                continue;
            }
            let Some(account) = page.profile else {
                // The final transaction already ran (it also ends the job): nothing is left to do.
                return Ok(Progress::Finished);
            };
            // Before the final transaction, so that a failure leaves the job to repeat it; the claims
            // it releases keep the user name from signing up in between (the pre sign-up trigger).
            if self.config.identity.is_cognito() {
                if let Err(error) = self.pool.delete_user(&PoolUsername::of(&account)).await {
                    tracing::warn!(account = %account_id, %error, "the pool user could not be deleted; a later run retries it");
                    return Ok(Progress::Paused);
                }
                self.failpoints.check("deletion.pool_user_deleted")?;
            }
            if let Some(email) = &account.email {
                if let Err(error) =
                    self.mailer.send_deletion_notice(email, language.unwrap_or(account.locale), &job.reference).await
                {
                    tracing::warn!(account = %account_id, %error, "deletion notice failed; a later run retries it");
                    return Ok(Progress::Paused);
                }
            }
            let now = self.clock.now();
            let quarantine = self.config.identifier_quarantine_seconds;
            let identifiers = account.identifiers();
            // What an overtaken handover had claimed goes now too, not when its job next runs (never the account's own).
            let handover_claims = account.reserved.iter().filter(|id| !identifiers.contains(id)).cloned().collect();
            let receipt = DeletionFinal {
                receipt_id: job.reference.clone(),
                requested_at: job.requested_at,
                deleted_at: now,
                items_removed: job.done,
                exports_removed: removed_exports(&job).unwrap_or(0),
                identifiers,
                identifiers_free_at: (quarantine > 0).then_some(now + quarantine),
                handover_claims,
                ledger: self.ledger_entries(&account_id, &job.reference, now),
                ledger_next_at: now + self.config.erasure_reannounce_seconds.min(self.config.erasure_deadline_seconds),
            };
            return match self.store.finalize_deletion(&account, &job, owner, &receipt).await? {
                TxOutcome::Committed => {
                    *deleted_at = Some(now);
                    tracing::info!(account = %account_id, receipt = %job.reference, items_removed = job.done, "account deleted");
                    Ok(Progress::Finished)
                }
                _ => Ok(Progress::LeaseLost),
            };
        }
    }

    /// The deletion's first step with a user pool: every session of the pool user ends (a user
    /// already gone counts as done). `Finished`: on to the purge (or the grace period).
    async fn sign_out_before_purge(
        &self,
        account_id: &AccountId,
        job: &Job,
        owner: &str,
    ) -> Result<Progress, DeletionError> {
        if let Some(account) = self.store.get_account(account_id).await? {
            if let Err(error) = self.pool.sign_out_everywhere(&PoolUsername::of(&account)).await {
                tracing::warn!(account = %account_id, %error, "the pool user could not be signed out; a later run retries it");
                return Ok(Progress::Paused);
            }
        }
        self.failpoints.check("deletion.signed_out")?;
        let now = self.clock.now();
        let wake = job.purge_at.map(|purge_at| self.scheduled_wake(job.requested_at, now, purge_at));
        Ok(if self.store.signed_out(job, owner, now, wake).await? { Progress::Finished } else { Progress::LeaseLost })
    }

    /// When a scheduled deletion asked at `requested_at` next wakes: for the reminder when there is time
    /// for one, else at the purge; never before `now`.
    fn scheduled_wake(&self, requested_at: i64, now: i64, purge_at: i64) -> i64 {
        let (grace, reminder) = (purge_at - requested_at, self.config.deletion_reminder_seconds);
        let wake = if (1..grace).contains(&reminder) { purge_at - reminder } else { purge_at };
        wake.max(now)
    }

    /// A mail of the grace period; a failure is logged, not retried (the scheduled
    /// mail has the reminder after it, and the answer says when the purge is).
    pub(crate) async fn mail_grace_notice(
        &self,
        account: &AccountId,
        notice: GraceNotice,
        receipt: &str,
        purge_at: i64,
    ) {
        let (email, locale) = match self.store.get_account(account).await {
            Ok(Some(profile)) => (profile.email, profile.locale),
            Ok(None) => (None, Default::default()),
            Err(error) => {
                tracing::warn!(account = %account, %error, ?notice, "could not read the account to mail it");
                (None, Default::default())
            }
        };
        let Some(email) = email else { return };
        if let Err(error) = self.mailer.send_grace_notice(&email, locale, notice, receipt, &rfc3339(purge_at)).await {
            tracing::warn!(account = %account, %error, ?notice, "grace period mail failed");
        }
    }
}
