//! Account handover (docs/seeds.md#handover): a transferred or resigned employee's account
//! is given to a designated person in one verified, all-or-nothing operation.
//!
//! Starting (`start_handover`) spends a `handover_account` token of the caller
//! (the account's holder, or an administrator of its enterprise), stores the
//! pending handover on the account's profile and mails a `confirm_handover`
//! code to the NEW address; the code machinery (cooldown, daily limit,
//! attempts, lock) applies to it as to every code. If the code cannot go out,
//! the token and the previous pending handover are put back: nothing is consumed.
//!
//! Confirming (`confirm_handover`) trades the code for an internal token and
//! spends it in the transaction that does the handover: the contacts are
//! rebound, the old email and phone claims released and the new ones taken,
//! every authenticator and third-party login unlinked, every access key
//! deactivated, every IAM user deleted or made to change its password, the
//! account made to change its password with its sessions revoked, and the
//! record with the checklist written. An account whose credentials do not fit
//! one transaction takes its new identifiers and is marked in the acceptance
//! transaction, then revoked page by page with recorded progress and rebound
//! in a final transaction; `cleanup` finishes one that was cut off, or rolls
//! it back (releasing what it took) when a deletion overtook it.
//!
//! Both parties are mailed by the job after the handover committed, at least
//! once: twice only if the process dies between a send and the progress write after it.

mod confirm;
mod error;
mod job;
mod linking;
mod request;
mod start;
#[cfg(test)]
mod tests;

pub use confirm::HandoverOutcome;
pub use error::HandoverError;
pub use linking::LinkError;
pub use request::{parse_account_id, HandoverRequest};
pub use start::{HandoverStarted, HandoverStatus};
