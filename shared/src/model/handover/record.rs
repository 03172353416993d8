//! The record of a finished handover, with its checklist: who, when and what was done; no secrets.

use super::pending::IamUsers;
use serde::Serialize;

/// A step of docs/seeds.md#handover, with what decides the words of what was done
/// (the texts are `locale::checklist`'s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecklistEntry {
    /// The email (and phone, if `new_phone`) bound to the designated person.
    Contacts {
        new_phone: bool,
    },
    /// The leaving employee's email and phone released.
    Disassociate,
    /// The name and the contacts kept apart changed.
    AccountInformation,
    /// A password change required, every session revoked.
    Password,
    /// The user pool's sign-in (contract §9): `finished` once every pool step ran; `identities_unlinked` of them.
    UserPool {
        finished: bool,
        identities_unlinked: u64,
    },
    Authenticators,
    ThirdPartyAccounts,
    IamUsers(IamUsers),
    /// The active access keys deactivated; `already_inactive` were so before.
    AccessKeys {
        already_inactive: u64,
    },
    /// The other cloud services' credentials, which this service does not hold.
    OtherCredentials,
}

impl ChecklistEntry {
    /// Its number in docs/seeds.md#handover.
    pub fn step(self) -> u8 {
        match self {
            Self::Contacts { .. } => 1,
            Self::Disassociate => 2,
            Self::AccountInformation => 3,
            Self::Password | Self::UserPool { .. } => 4,
            Self::Authenticators => 5,
            Self::ThirdPartyAccounts => 6,
            Self::IamUsers(_) => 7,
            Self::AccessKeys { .. } => 8,
            Self::OtherCredentials => 9,
        }
    }
}

/// A step of the checklist and how many things it touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChecklistLine {
    pub entry: ChecklistEntry,
    pub count: u64,
}

/// A line of the checklist in words, as the API answers it and the record keeps it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChecklistItem {
    pub step: u8,
    pub item: &'static str,
    pub done: String,
    pub count: u64,
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
