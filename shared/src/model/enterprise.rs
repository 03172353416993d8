//! Enterprises and their memberships.

use super::ids::AccountId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnterpriseStatus {
    Active,
    Dismissing,
    Dismissed,
}

impl EnterpriseStatus {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "dismissing" => Self::Dismissing,
            "dismissed" => Self::Dismissed,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Dismissing => "dismissing",
            Self::Dismissed => "dismissed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Enterprise {
    pub id: String,
    pub name: String,
    pub default_admin: Option<AccountId>,
    pub status: EnterpriseStatus,
    pub dismissed_at: Option<i64>,
    pub members_released: u64,
}

/// What one page of a dismissal changes, all in one transaction.
#[derive(Debug, Default)]
pub struct ReleasePlan {
    /// Members still in the enterprise, active or in a deletion's grace period: become
    /// individuals, notice pending.
    pub release: Vec<AccountId>,
    /// Memberships whose account is gone or being purged: just removed.
    pub drop: Vec<AccountId>,
}

/// A membership as listed under the enterprise.
#[derive(Debug, Clone)]
pub struct MemberRef {
    pub account: AccountId,
    /// Released, but the notice is not yet recorded as sent.
    pub notice_pending: bool,
}
