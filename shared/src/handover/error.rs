//! Why a start or a confirmation failed, and how long a race is run before the caller hears of it.

use crate::accounts::AccountError;
use crate::codes::CodeError;
use crate::internal::{internal_from, Internal};
use crate::model::ids::Identifier;

/// Attempts at a transaction that raced another writer before the caller is told to come back.
pub(super) const MAX_RACES: usize = 4;

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
    Job(#[from] MalformedJob),
    #[error(transparent)]
    Internal(#[from] Internal),
}

/// A handover job whose stored state cannot be read back (its subject, step or payload): a bug
/// or a hand-edited item, never the caller's doing.
#[derive(Debug, thiserror::Error)]
#[error("the handover job's {0} is malformed")]
pub struct MalformedJob(pub(super) &'static str);

internal_from!(HandoverError);

pub(super) fn taken(id: Identifier) -> HandoverError {
    AccountError::IdentifierTaken { kind: id.kind(), value: id.value().to_string() }.into()
}
