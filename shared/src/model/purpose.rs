//! What a verification code and the token it buys are for.

use super::account::AccountStatus;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    DeleteAccount,
    DismissEnterprise,
    HandoverAccount,
    /// The designated person proving a new email during a handover; never asked for by clients.
    ConfirmHandover,
    /// Undoing a deletion in its grace period: the one purpose of an account whose deletion is scheduled.
    CancelDeletion,
    /// A copy of the account's data (docs/data-export.md).
    ExportData,
}

#[derive(Debug, thiserror::Error)]
#[error("purpose must be one of delete_account, dismiss_enterprise, handover_account, export_data, cancel_deletion")]
pub struct UnsupportedPurpose;

impl Purpose {
    pub const ALL: [Purpose; 6] = [
        Self::DeleteAccount,
        Self::DismissEnterprise,
        Self::HandoverAccount,
        Self::ConfirmHandover,
        Self::CancelDeletion,
        Self::ExportData,
    ];

    /// The purposes a client may ask a code for (docs/api.md#purposes).
    pub fn from_client(s: &str) -> Result<Self, UnsupportedPurpose> {
        match s {
            "delete_account" => Ok(Self::DeleteAccount),
            "dismiss_enterprise" => Ok(Self::DismissEnterprise),
            "handover_account" => Ok(Self::HandoverAccount),
            "cancel_deletion" => Ok(Self::CancelDeletion),
            "export_data" => Ok(Self::ExportData),
            _ => Err(UnsupportedPurpose),
        }
    }

    /// As stored: [`Purpose::as_str`] of any purpose.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeleteAccount => "delete_account",
            Self::DismissEnterprise => "dismiss_enterprise",
            Self::HandoverAccount => "handover_account",
            Self::ConfirmHandover => "confirm_handover",
            Self::CancelDeletion => "cancel_deletion",
            Self::ExportData => "export_data",
        }
    }

    /// The status the account must have for a code or token of this purpose.
    pub fn account_status(self) -> AccountStatus {
        match self {
            Self::CancelDeletion => AccountStatus::DeletionScheduled,
            _ => AccountStatus::Active,
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
