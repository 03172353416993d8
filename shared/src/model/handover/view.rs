//! The account as a handover reads it, and what one of its transactions changes.

use super::authority::Authority;
use super::contacts::{Channel, ContactSlot};
use super::credentials::CredentialRef;
use super::pending::{NewOwner, PendingHandover};
use crate::model::account::Account;
use crate::model::ids::{AccountId, EmailAddress, Identifier, PhoneNumber};

/// The account as a handover needs it: its profile, what is pending, and its credentials.
#[derive(Debug, Clone)]
pub struct HandoverView {
    pub account: Account,
    pub pending: Option<PendingHandover>,
    /// The id of a handover under way in several transactions.
    pub in_progress: Option<String>,
    /// Contacts the profile keeps apart from its email and phone, with their values.
    pub contacts: Vec<(ContactSlot, String)>,
    /// Bumped by every credential linked and contact set: a handover that revokes what it read
    /// commits only if this is still the version it read.
    pub links_version: u64,
    pub credentials: Vec<CredentialRef>,
    /// Every credential of the account is in `credentials`.
    pub complete: bool,
}

/// An identifier's claim as it stands.
#[derive(Debug, Clone)]
pub struct ClaimState {
    pub id: Identifier,
    /// `None`: ownerless, in quarantine until `free_at`.
    pub owner: Option<AccountId>,
    pub free_at: Option<i64>,
}

/// Everything one transaction of a handover changes, built by the domain.
#[derive(Debug)]
pub struct HandoverChange<'a> {
    pub target: &'a AccountId,
    pub handover_id: &'a str,
    pub authority: &'a Authority,
    /// The token the confirmation code bought (purpose `confirm_handover`), spent here.
    pub token_hash: &'a str,
    /// The profile's email when it was read: the claims released are that email's.
    pub old_email: Option<&'a EmailAddress>,
    pub take: &'a [Identifier],
    pub release: &'a [Identifier],
    pub now: i64,
}

/// The profile after the handover.
#[derive(Debug, Clone)]
pub struct Rebinding {
    pub email: EmailAddress,
    pub phone: Option<PhoneNumber>,
    pub name: Option<String>,
    /// Each separately kept contact with its new value (`None`: removed, no new phone).
    pub contacts: Vec<(ContactSlot, Option<String>)>,
    /// The previous holder's live tokens the profile lists: the rebinding unlists them, and deletes them with it.
    pub ended_tokens: Vec<String>,
}

/// The profile's contacts given to `owner`, and how many of name and contacts changed. Every
/// slot is written: one the view read gets the owner's address, and one it did not is removed,
/// so a contact set after the read cannot survive the handover.
pub fn rebinding(view: &HandoverView, owner: &NewOwner) -> (Rebinding, u64) {
    let mut changed = u64::from(owner.name != view.account.name);
    let contacts = ContactSlot::ALL
        .into_iter()
        .map(|slot| {
            let Some((_, value)) = view.contacts.iter().find(|(read, _)| *read == slot) else {
                return (slot, None);
            };
            let new = match slot.channel {
                Channel::Email => Some(owner.email.as_str().to_string()),
                Channel::Phone => owner.phone.as_ref().map(|p| p.as_str().to_string()),
            };
            changed += u64::from(new.as_deref() != Some(value.as_str()));
            (slot, new)
        })
        .collect();
    let ended_tokens = view.account.live_tokens.clone();
    (
        Rebinding {
            email: owner.email.clone(),
            phone: owner.phone.clone(),
            name: owner.name.clone(),
            contacts,
            ended_tokens,
        },
        changed,
    )
}
