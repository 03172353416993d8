//! Who may hand an account over, and who outranks whom over a pending handover.

use crate::model::account::{authority_rank, Account, Role};
use crate::model::ids::AccountId;

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
