//! Accounts as the domain sees them: roles, statuses, the profile, and a new
//! account as sign-up registers it.

use super::ids::{AccountId, EmailAddress, Identifier, PhoneNumber, Username};
use super::locale::Locale;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    DefaultAdmin,
    Admin,
    Member,
    Individual,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "default_admin" => Self::DefaultAdmin,
            "admin" => Self::Admin,
            "member" => Self::Member,
            "individual" => Self::Individual,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DefaultAdmin => "default_admin",
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Individual => "individual",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    /// Accepted for deletion; the purge is under way.
    Deleting,
    /// Locked; purged once the grace period has passed.
    DeletionScheduled,
}

impl AccountStatus {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "deleting" => Self::Deleting,
            "deletion_scheduled" => Self::DeletionScheduled,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Deleting => "deleting",
            Self::DeletionScheduled => "deletion_scheduled",
        }
    }

    /// Still an account its holder can come back to: active, or in a grace period it may cancel.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Active | Self::DeletionScheduled)
    }
}

/// An account as the domain sees it (its profile).
#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    pub username: Option<Username>,
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
    pub name: Option<String>,
    pub enterprise_id: Option<String>,
    pub role: Role,
    pub status: AccountStatus,
    /// The language of the account's mail, and of its answers when a request asks for none.
    pub locale: Locale,
    pub hold_count: u32,
    /// When the account was last handed over: sessions signed in before it are refused.
    pub sessions_revoked_at: Option<i64>,
    /// Hashes of the verification tokens the account's current holder may still spend.
    pub live_tokens: Vec<String>,
    /// A handover of the account waiting for its confirmation code, if any.
    pub pending_handover: Option<PendingBy>,
    /// The role of the administrator carrying out a handover of the account that is under way, if one is.
    pub handover_running_as: Option<Role>,
    /// The new email and phone a running handover has claimed for the account (released by a deletion that overtakes it).
    pub reserved: Vec<Identifier>,
}

/// Who asked for a pending handover, with what authority, and until when it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBy {
    /// The pending handover's id: its confirmation code is bound to it.
    pub id: String,
    pub requested_by: AccountId,
    /// The requester's role when an administrator asked; `None` when the holder did.
    pub requested_as: Option<Role>,
    pub expires_at: i64,
}

impl PendingBy {
    /// An administrator outranks the holder, the default administrator an administrator.
    pub fn rank(&self) -> u8 {
        authority_rank(self.requested_as)
    }
}

/// The holder 0, an administrator 1, the default administrator 2.
pub fn authority_rank(role: Option<Role>) -> u8 {
    match role {
        None | Some(Role::Member | Role::Individual) => 0,
        Some(Role::Admin) => 1,
        Some(Role::DefaultAdmin) => 2,
    }
}

impl Account {
    /// An administrator's handover of this account waits for its code or is under way: the holder may not act on the account.
    pub fn awaits_administrators_handover(&self, now: i64) -> bool {
        self.handover_running_as.is_some()
            || self.pending_handover.as_ref().is_some_and(|p| p.requested_as.is_some() && p.expires_at > now)
    }

    pub fn identifiers(&self) -> Vec<Identifier> {
        let mut ids = Vec::new();
        ids.extend(self.username.clone().map(Identifier::Username));
        ids.extend(self.email.clone().map(Identifier::Email));
        ids.extend(self.phone.clone().map(Identifier::Phone));
        ids
    }

    pub fn is_default_admin(&self) -> bool {
        self.role == Role::DefaultAdmin && self.enterprise_id.is_some()
    }
}

/// A new account as sign-up (or the fixtures loader) registers it.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: AccountId,
    pub username: Option<Username>,
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
    pub name: Option<String>,
    pub enterprise_id: Option<String>,
    pub role: Role,
    pub locale: Locale,
}
