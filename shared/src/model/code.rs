//! Verification codes and tokens as the table keeps them: only keyed hashes,
//! never a code's digits or a token itself.

use super::account::Account;
use super::ids::AccountId;
use super::purpose::Purpose;

/// One purpose's code and its send history, as stored on the profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeSlot {
    /// Keyed hash of the live code; gone once the code is used.
    pub hash: Option<String>,
    pub expires_at: i64,
    pub attempts_left: u32,
    pub sent_at: i64,
    pub window_start: i64,
    pub window_sends: u32,
}

/// What must still hold for a new code to be placed.
#[derive(Debug, Clone)]
pub enum PlaceGuard {
    /// The first code of a daily window: no window yet, or it began at or before `window_edge`.
    FreshWindow { window_edge: i64 },
    /// A code inside the current window: the send history is still the one observed.
    Observed(CodeSlot),
}

/// The profile as the code rules need it.
#[derive(Debug, Clone)]
pub struct CodeState {
    pub account: Account,
    pub slot: Option<CodeSlot>,
    /// Wrong codes in a row for this purpose, across codes.
    pub failures: u32,
    pub last_failure_at: i64,
    /// The hash of the purpose's live token the profile lists, if any.
    pub token: Option<String>,
}

/// A verification token as stored: only its keyed hash is ever written.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub hash: String,
    pub account: AccountId,
    pub purpose: Purpose,
    pub expires_at: i64,
}
