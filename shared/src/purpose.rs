//! What a verification code and the token it buys are for.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    DeleteAccount,
    DismissEnterprise,
    HandoverAccount,
    /// The designated person proving a new email during a handover; never asked for by clients.
    ConfirmHandover,
}

#[derive(Debug, thiserror::Error)]
#[error("purpose must be one of delete_account, dismiss_enterprise, handover_account")]
pub struct UnsupportedPurpose;

impl Purpose {
    pub const ALL: [Purpose; 4] =
        [Self::DeleteAccount, Self::DismissEnterprise, Self::HandoverAccount, Self::ConfirmHandover];

    /// The purposes a client may ask a code for (docs/api.md#purposes).
    pub fn from_client(s: &str) -> Result<Self, UnsupportedPurpose> {
        match s {
            "delete_account" => Ok(Self::DeleteAccount),
            "dismiss_enterprise" => Ok(Self::DismissEnterprise),
            "handover_account" => Ok(Self::HandoverAccount),
            _ => Err(UnsupportedPurpose),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeleteAccount => "delete_account",
            Self::DismissEnterprise => "dismiss_enterprise",
            Self::HandoverAccount => "handover_account",
            Self::ConfirmHandover => "confirm_handover",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
