//! What each operation of a handover's transaction stands for, and which failed.

use crate::model::ids::Identifier;
use crate::store::error::StoreError;
use crate::store::op::Op;
use crate::store::table::{Store, TxOutcome};

/// Which part of a handover transaction did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoverConflict {
    /// The account is not active, changed since it was read, or has no such pending handover.
    Profile,
    /// The caller no longer has the rights it was read with.
    Caller,
    /// The verification token is spent, expired or not the caller's.
    Token,
    /// A live account (or a quarantine) holds this identifier.
    IdentifierTaken(Identifier),
    /// A credential changed since it was read.
    Credentials,
    /// A handover job for the account exists already.
    JobExists,
    /// The job's lease went to another worker.
    Lease,
    /// Something else: a conflict that outlasted the retries.
    Other(String),
}

/// What each operation of a transaction stands for, in the order failures are reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    Profile,
    Caller,
    Token,
    Take(Identifier),
    Release,
    Credential,
    Record,
    Job,
    Progress,
}

impl Part {
    fn rank(&self) -> u8 {
        match self {
            Part::Profile => 0,
            Part::Caller => 1,
            Part::Token => 2,
            Part::Take(_) => 3,
            Part::Credential => 4,
            Part::Job => 5,
            Part::Progress => 6,
            Part::Release | Part::Record => 7,
        }
    }
}

impl Store {
    /// Runs the transaction; a refusal is reported by the first of its failed parts in `Part`'s order.
    pub(super) async fn run_parts(&self, parts: Vec<(Part, Op)>) -> Result<Result<(), HandoverConflict>, StoreError> {
        let outcome = self.transact(parts).await?;
        if let TxOutcome::Committed = outcome {
            return Ok(Ok(()));
        }
        let failed = outcome.refused_parts().iter().min_by_key(|part| part.rank()).cloned();
        Ok(Err(match failed {
            Some(Part::Profile) => HandoverConflict::Profile,
            Some(Part::Caller) => HandoverConflict::Caller,
            Some(Part::Token) => HandoverConflict::Token,
            Some(Part::Take(id)) => HandoverConflict::IdentifierTaken(id),
            Some(Part::Credential) => HandoverConflict::Credentials,
            Some(Part::Job) => HandoverConflict::JobExists,
            Some(Part::Progress) => HandoverConflict::Lease,
            _ => HandoverConflict::Other(format!("{outcome:?}")),
        }))
    }
}
