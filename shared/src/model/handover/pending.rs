//! A handover waiting for its confirmation code: the designated person, and what
//! becomes of the account's IAM users.

use crate::model::account::Role;
use crate::model::ids::{AccountId, EmailAddress, Identifier, PhoneNumber};
use serde::{Deserialize, Serialize};

/// What happens to the account's IAM users (docs/seeds.md#handover, step 7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IamUsers {
    Delete,
    #[default]
    ResetPassword,
}

impl IamUsers {
    /// As stored, and as the API names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::ResetPassword => "reset_password",
        }
    }
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
    pub fn identifiers(&self) -> Vec<Identifier> {
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
