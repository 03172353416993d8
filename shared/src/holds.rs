//! Registering and releasing holds ([`Hold`]): other services call
//! `App::register_hold` and `App::release_hold`; the item format is in `docs/key-design.md`.

use crate::accounts::AccountError;
use crate::internal::{internal_from, Internal};
use crate::model::hold::Hold;
use crate::model::ids::AccountId;
use crate::store::{AccountStore, HoldPart, TxOutcome};
use crate::App;

#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    #[error("the account is not active (unknown, deleted or being deleted): the hold is refused")]
    AccountNotActive,
    #[error("this hold is already registered")]
    AlreadyRegistered,
    #[error("no such hold")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(HoldError);

impl App {
    /// Registers a hold, only while the account is active: a hold registered
    /// while a deletion runs is refused, never left behind an account that is gone.
    pub async fn register_hold(&self, account: &AccountId, hold: &Hold) -> Result<(), HoldError> {
        match self.store.register_hold(account, hold, self.clock.now()).await? {
            TxOutcome::Committed => Ok(()),
            outcome if outcome.refused(&HoldPart::Profile) => Err(HoldError::AccountNotActive),
            _ => Err(HoldError::AlreadyRegistered),
        }
    }

    pub async fn release_hold(&self, account: &AccountId, kind: &str, reference: &str) -> Result<(), HoldError> {
        if self.store.release_hold(account, kind, reference).await? {
            Ok(())
        } else {
            Err(HoldError::NotFound)
        }
    }
}

impl From<AccountError> for HoldError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Internal(e) => HoldError::Internal(e),
            _ => HoldError::AccountNotActive,
        }
    }
}
