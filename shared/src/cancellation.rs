//! Cancelling a deletion in its grace period (docs/api.md#cancel-deletion).
//! In the grace period nothing but the profile's status was changed (claims,
//! memberships and items go only with the purge), so one transaction makes the
//! account what it was: active, with the same holds, claims and membership. The
//! purge begins by taking the same profile out of the grace period, so a
//! cancellation and a purge that race have exactly one winner.

use crate::accounts::{admit, AccountError};
use crate::caller::Caller;
use crate::clock::rfc3339;
use crate::internal::{internal_from, Internal};
use crate::mail::GraceNotice;
use crate::model::account::AccountStatus;
use crate::model::deletion::CancellationRecord;
use crate::model::job::JobKind;
use crate::store::{AccountStore, CancelDeletionPart, DeletionStore, JobStore, TxOutcome};
use crate::tokens::TokenString;
use crate::App;
use serde::Serialize;

/// The answer to cancel-deletion.
#[derive(Debug, Serialize)]
pub struct Cancelled {
    /// Always `active`.
    pub status: &'static str,
    pub account_id: String,
    pub cancelled_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CancellationError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("the verification token is invalid")]
    TokenInvalid,
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(CancellationError);

impl App {
    /// Cancels the caller's scheduled deletion with a `cancel_deletion` token, then mails a notice.
    pub async fn cancel_deletion(&self, caller: &Caller, token: &TokenString) -> Result<Cancelled, CancellationError> {
        let now = self.clock.now();
        let Some(job) = self.store.get_job(JobKind::Deletion, caller.account.as_str()).await? else {
            return Err(self.not_cancellable(caller).await);
        };
        if job.purge_at.is_none() {
            return Err(AccountError::Deleted.into()); // a deletion without a grace period is under way
        }
        let record =
            CancellationRecord { receipt_id: job.reference.clone(), requested_at: job.requested_at, cancelled_at: now };
        let mut outcome = TxOutcome::Cancelled(Vec::new());
        for hash in token.hashes(self)? {
            outcome = self.store.cancel_deletion(&caller.account, caller.session, &hash, &job, &record).await?;
            // Under the next key only if no token was found under this one (issued before a rotation).
            if !outcome.refused(&CancelDeletionPart::Token) {
                break;
            }
        }
        if let TxOutcome::Cancelled(_) = outcome {
            if outcome.refused(&CancelDeletionPart::Profile) || outcome.refused(&CancelDeletionPart::Job) {
                return Err(self.not_cancellable(caller).await);
            }
            return Err(CancellationError::TokenInvalid);
        }
        tracing::info!(account = %caller.account, receipt = %job.reference, "deletion cancelled");
        self.mail_grace_notice(&caller.account, GraceNotice::Cancelled, &job.reference, now).await;
        Ok(Cancelled { status: "active", account_id: caller.account.to_string(), cancelled_at: rfc3339(now) })
    }

    /// Why there is nothing to cancel: the session, an active account, or one that is (being) deleted.
    async fn not_cancellable(&self, caller: &Caller) -> CancellationError {
        match self.store.get_account(&caller.account).await {
            Ok(Some(account)) => {
                if let Err(revoked) = admit(&account, caller.session) {
                    return revoked.into();
                }
                match account.status {
                    AccountStatus::Active => AccountError::DeletionNotScheduled.into(),
                    // Still scheduled: the token was not this deletion's (spent, or for another).
                    AccountStatus::DeletionScheduled => CancellationError::TokenInvalid,
                    AccountStatus::Deleting => AccountError::Deleted.into(),
                }
            }
            Ok(None) => self.missing_account(&caller.account).await.into(),
            Err(error) => error.into(),
        }
    }
}
