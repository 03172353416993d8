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
mod credentials;
mod job;
mod linking;
mod model;
mod request;
mod start;
#[cfg(test)]
mod tests;

use crate::accounts::AccountError;
use crate::codes::CodeError;
use crate::internal::{internal_from, Internal};
use crate::model::ids::Identifier;
pub use confirm::HandoverOutcome;
pub use credentials::{revocations, Counts, Credential, CredentialKind, CredentialRef, Revocations};
pub use linking::LinkError;
pub use model::{
    authority_over, rebinding, Authority, Channel, ChecklistItem, ClaimState, ContactRole, ContactSlot, HandoverChange,
    HandoverConflict, HandoverRecord, HandoverStatus, HandoverView, IamUsers, NewOwner, PendingHandover, Rebinding,
};
pub use request::{parse_account_id, HandoverRequest};
pub use start::HandoverStarted;

/// DynamoDB's limit of operations in one TransactWriteItems.
const MAX_TRANSACTION_OPS: usize = 100;
/// Credentials read per kind when deciding whether one transaction is enough.
const VIEW_LIMIT: usize = 100;
/// Credentials revoked per transaction in a large handover (plus the profile check and the progress).
const PAGE: usize = 90;
/// Attempts at a transaction that raced another writer before the caller is told to come back.
const MAX_RACES: usize = 4;

/// Why a start or a confirmation failed; `http.rs` maps each to its problem.
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Code(#[from] CodeError),
    #[error("the verification token is invalid")]
    TokenInvalid,
    #[error("the caller may not hand over this account")]
    NotAuthorized,
    #[error("a handover of this account is under way")]
    InProgress,
    #[error("racing requests kept changing the account")]
    Contended,
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(HandoverError);

fn taken(id: Identifier) -> HandoverError {
    AccountError::IdentifierTaken { kind: id.kind(), value: id.value().to_string() }.into()
}
