//! Linking credentials and contacts (the services that own them, and the fixtures).

use crate::internal::{internal_from, Internal};
use crate::model::handover::contacts::{Channel, ContactSlot};
use crate::model::handover::credentials::{Credential, InvalidCredential};
use crate::model::ids::{AccountId, EmailAddress, PhoneNumber};
use crate::store::CredentialStore;
use crate::App;

/// Why a credential or a contact could not be linked.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Invalid(#[from] InvalidCredential),
    #[error("{0} is malformed")]
    InvalidContact(String),
    #[error(
        "the account is not active (unknown, deleted or being deleted), or a handover of it is pending or running"
    )]
    AccountNotActive,
    #[error("this credential is already linked")]
    AlreadyLinked,
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(LinkError);

impl App {
    /// Links a credential to an active account (the services that own them, and the fixtures).
    pub async fn link_credential(&self, account: &AccountId, credential: &Credential) -> Result<(), LinkError> {
        credential.validate()?;
        match self.store.link_credential(account, credential, self.clock.now()).await? {
            crate::store::TxOutcome::Committed => Ok(()),
            outcome if outcome.refused(&crate::store::LinkCredentialPart::Profile) => Err(LinkError::AccountNotActive),
            _ => Err(LinkError::AlreadyLinked),
        }
    }

    /// Keeps contacts apart from the account's email and phone (e.g. a security email).
    pub async fn set_contacts(&self, account: &AccountId, contacts: &[(ContactSlot, String)]) -> Result<(), LinkError> {
        let mut normalised = Vec::with_capacity(contacts.len());
        for (slot, value) in contacts {
            let bad = |_| LinkError::InvalidContact(slot.name());
            let value = match slot.channel {
                Channel::Email => EmailAddress::parse(value).map_err(bad)?.as_str().to_string(),
                Channel::Phone => PhoneNumber::parse(value).map_err(bad)?.as_str().to_string(),
            };
            normalised.push((*slot, value));
        }
        if self.store.set_contacts(account, &normalised).await? {
            Ok(())
        } else {
            Err(LinkError::AccountNotActive)
        }
    }
}
