//! What can stand between an account and its deletion or dismissal, each with
//! the action that clears it; a leaf module so prerequisites and enterprises both use it.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Blocker {
    pub kind: String,
    pub detail: String,
    pub action: String,
}

/// The blocker a default administrator gets on the mobile app (docs/seeds.md#deletion).
pub fn desktop_client_required() -> Blocker {
    Blocker {
        kind: "desktop_client_required".into(),
        detail: "The default enterprise administrator cannot dismiss the enterprise or delete the account from the mobile app.".into(),
        action: "Use the management platform on a computer, or the desktop client.".into(),
    }
}

/// An administrator is handing the account over (docs/seeds.md#handover): it is not the holder's to delete meanwhile.
pub fn handover_pending() -> Blocker {
    Blocker {
        kind: HANDOVER_PENDING.into(),
        detail: "An administrator of your enterprise is handing this account over to a designated person.".into(),
        action: "Ask the administrator; the account cannot be deleted while the handover waits for its confirmation."
            .into(),
    }
}

pub const HANDOVER_PENDING: &str = "handover_pending";
