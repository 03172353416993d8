//! The handover's domain types: the designated person, the pending handover,
//! who may hand over, the contacts a profile keeps apart, and what the store
//! reads and writes for a handover.

use super::credentials::CredentialRef;
use super::HandoverError;
use crate::accounts::AccountError;
use crate::accounts::{authority_rank, Account, AccountId, EmailAddress, Identifier, PendingBy, PhoneNumber, Role};
use serde::{Deserialize, Serialize};

/// What happens to the account's IAM users (docs/seeds.md#handover, step 7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IamUsers {
    Delete,
    #[default]
    ResetPassword,
}

/// Where a handover stands, as handover-account answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoverStatus {
    /// Started; the code went to the new address.
    AwaitingConfirmation,
    /// Confirmed; the job finishes a large account in the background.
    HandingOver,
    HandedOver,
}

/// The designated person's contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOwner {
    pub email: EmailAddress,
    /// `None`: the old phone is removed and not replaced.
    pub phone: Option<PhoneNumber>,
    /// `None`: the old name (the leaving employee's) is removed.
    pub name: Option<String>,
}

impl NewOwner {
    pub(super) fn identifiers(&self) -> Vec<Identifier> {
        let mut ids = vec![Identifier::Email(self.email.clone())];
        ids.extend(self.phone.clone().map(Identifier::Phone));
        ids
    }
}

/// A handover waiting for its confirmation code, as kept on the target's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingHandover {
    /// Also the id of the handover record and the job.
    pub id: String,
    pub owner: NewOwner,
    pub iam_users: IamUsers,
    pub requested_by: AccountId,
    /// The requester's role when an administrator asked; `None` when the holder did.
    pub requested_as: Option<Role>,
    pub requested_at: i64,
    /// When its code expires; the pending handover is dead from then on.
    pub expires_at: i64,
}

/// Why the caller may hand the account over; the transaction re-checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authority {
    /// The account's own holder.
    Own,
    /// An administrator of the account's enterprise, above the account's role.
    Administrator { caller: AccountId, enterprise: String, caller_role: Role, target_role: Role },
}

impl Authority {
    /// Who outranks whom over a pending handover: see [`authority_rank`].
    pub fn rank(&self) -> u8 {
        match self {
            Self::Own => authority_rank(None),
            Self::Administrator { caller_role, .. } => authority_rank(Some(*caller_role)),
        }
    }

    /// A pending handover may be confirmed or replaced only with at least its requester's authority.
    pub(super) fn may_act_on(&self, pending: Option<&PendingBy>, now: i64) -> Result<(), HandoverError> {
        match pending {
            Some(p) if p.expires_at > now && p.rank() > self.rank() => Err(AccountError::HandoverPending.into()),
            _ => Ok(()),
        }
    }
}

/// The rule: the holder; the default administrator for any other account of
/// the enterprise; a common administrator for members only (never upwards).
pub fn authority_over(caller: &Account, target: &Account) -> Option<Authority> {
    if caller.id == target.id {
        return Some(Authority::Own);
    }
    let enterprise = caller.enterprise_id.as_ref().filter(|e| target.enterprise_id.as_ref() == Some(*e))?;
    let allowed = match caller.role {
        Role::DefaultAdmin => target.role != Role::DefaultAdmin,
        Role::Admin => target.role == Role::Member,
        Role::Member | Role::Individual => false,
    };
    allowed.then(|| Authority::Administrator {
        caller: caller.id.clone(),
        enterprise: enterprise.clone(),
        caller_role: caller.role,
        target_role: target.role,
    })
}

/// Whose contact a profile keeps apart from the account's email and phone (docs/seeds.md#handover, step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactRole {
    Login,
    Security,
    Service,
    Admin,
}

impl ContactRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Security => "security",
            Self::Service => "service",
            Self::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Phone,
}

/// One separately kept contact, e.g. the security email. Absent: it follows the account's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactSlot {
    pub role: ContactRole,
    pub channel: Channel,
}

impl ContactSlot {
    pub const ALL: [ContactSlot; 8] = {
        use Channel::*;
        use ContactRole::*;
        [
            ContactSlot { role: Login, channel: Email },
            ContactSlot { role: Login, channel: Phone },
            ContactSlot { role: Security, channel: Email },
            ContactSlot { role: Security, channel: Phone },
            ContactSlot { role: Service, channel: Email },
            ContactSlot { role: Service, channel: Phone },
            ContactSlot { role: Admin, channel: Email },
            ContactSlot { role: Admin, channel: Phone },
        ]
    };

    /// `security_email` and the like, as fixtures and the profile name them.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|slot| slot.name() == s)
    }

    pub fn name(self) -> String {
        let channel = match self.channel {
            Channel::Email => "email",
            Channel::Phone => "phone",
        };
        format!("{}_{channel}", self.role.as_str())
    }
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

/// One step of docs/seeds.md#handover, with what was done and how many things it touched.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChecklistItem {
    pub step: u8,
    pub item: &'static str,
    pub done: String,
    pub count: u64,
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

/// Which part of a handover transaction did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoverConflict {
    /// The account is not active, changed since it was read, or has no such pending handover.
    Profile,
    /// The caller no longer has the rights it was read with.
    Caller,
    /// The verification token is spent, expired or not the caller's.
    Token,
    /// A live account (or a quarantine) holds this identifier.
    IdentifierTaken(Identifier),
    /// A credential changed since it was read.
    Credentials,
    /// A handover job for the account exists already.
    JobExists,
    /// The job's lease went to another worker.
    Lease,
    /// Something else: a conflict that outlasted the retries.
    Other(String),
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

/// The record of a finished handover: who, when and the checklist; no secrets.
#[derive(Debug, Clone)]
pub struct HandoverRecord {
    pub id: String,
    pub requested_by: String,
    pub confirmed_by: String,
    pub requested_at: i64,
    pub handed_over_at: i64,
    pub iam_users: IamUsers,
    /// The new email, masked.
    pub destination: String,
    pub checklist: Vec<ChecklistItem>,
}
