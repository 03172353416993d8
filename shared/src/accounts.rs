//! The operations on an account itself: registering it, reading it live, and
//! the rules that refuse a caller its own account.

use crate::internal::{internal_from, Internal};
use crate::model::account::{Account, AccountStatus, NewAccount};
use crate::model::ids::AccountId;
use crate::model::locale::Locale;
use crate::model::purpose::Purpose;
use crate::model::session::Session;
use crate::store::{AccountStore, RegistrationPart, StoreError, TxOutcome};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("no such account")]
    NotFound,
    #[error("the account was deleted")]
    Deleted,
    #[error("the account has no bound email")]
    EmailNotBound,
    #[error("the session began before the account was handed over")]
    SessionRevoked,
    #[error("an administrator's handover of the account is pending")]
    HandoverPending,
    #[error("the account's deletion is not in its grace period")]
    DeletionNotScheduled,
    #[error("{kind} {value:?} is held by a live account")]
    IdentifierTaken { kind: &'static str, value: String },
    #[error("account {0} already exists")]
    AlreadyExists(String),
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(AccountError);

/// The caller's own account, refused to a session from before its last handover.
pub fn admit(account: &Account, session: Session) -> Result<(), AccountError> {
    if session.revoked_by(account.sessions_revoked_at) {
        Err(AccountError::SessionRevoked)
    } else {
        Ok(())
    }
}

/// Why a code or token of `purpose` is refused to an account whose status is not the purpose's:
/// no deletion to cancel for an active account; for every other case, the account is gone.
pub fn refusal_for(account: &Account, purpose: Purpose) -> AccountError {
    if purpose == Purpose::CancelDeletion && account.status == AccountStatus::Active {
        AccountError::DeletionNotScheduled
    } else {
        AccountError::Deleted
    }
}

impl crate::App {
    /// Registers an account the way sign-up does: its username, email and phone
    /// are claimed in the same transaction, so a live account's identifier is refused.
    pub async fn register_account(&self, account: &NewAccount) -> Result<(), AccountError> {
        let outcome = self.store.register_account(account, self.clock.now()).await?;
        if let TxOutcome::Committed = outcome {
            return Ok(());
        }
        if outcome.refused(&RegistrationPart::Profile) {
            return Err(AccountError::AlreadyExists(account.id.to_string()));
        }
        let taken = outcome.refused_parts().iter().find_map(|part| match part {
            RegistrationPart::Claim(id) => Some(id),
            _ => None,
        });
        match taken {
            Some(id) => Err(AccountError::IdentifierTaken { kind: id.kind(), value: id.value().to_string() }),
            None => Err(StoreError::Unavailable(format!("registration cancelled: {outcome:?}")).into()),
        }
    }

    /// The caller's account, or the API's error for an unknown or deleted one (docs/api.md#errors).
    pub async fn live_account(&self, id: &AccountId) -> Result<Account, AccountError> {
        match self.store.get_account(id).await? {
            Some(a) if a.status == AccountStatus::Active => Ok(a),
            Some(_) => Err(AccountError::Deleted),
            None => Err(self.missing_account(id).await),
        }
    }

    /// The account's `locale`; the default when it is gone or cannot be read
    /// (a problem is answered whatever the store does).
    pub async fn account_locale(&self, id: &AccountId) -> Locale {
        match self.store.get_account(id).await {
            Ok(Some(account)) => account.locale,
            _ => Locale::default(),
        }
    }

    /// Why an account is not there: deleted (a receipt stays) or never known.
    pub async fn missing_account(&self, id: &AccountId) -> AccountError {
        match self.store.receipt_exists(id).await {
            Ok(true) => AccountError::Deleted,
            Ok(false) => AccountError::NotFound,
            Err(e) => e.into(),
        }
    }
}
