//! The work some later cleanup run must do, by bucket: a job whose lease lapses
//! or whose time comes, a claim whose quarantine ends, a token that expires, a
//! ledger entry whose re-announcement or deadline comes.

use super::ids::Identifier;
use super::job::JobKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueBucket {
    Job,
    Claim,
    Token,
    Ledger,
}

impl DueBucket {
    /// In the order a cleanup run visits them.
    pub const ALL: [DueBucket; 4] = [Self::Job, Self::Claim, Self::Token, Self::Ledger];

    /// As stored in `due_bucket`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Job => "job",
            Self::Claim => "claim",
            Self::Token => "token",
            Self::Ledger => "ledger",
        }
    }
}

/// One thing the due index says is due, by what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueEntry {
    /// A job whose lease lapsed or whose time came.
    Job { kind: JobKind, subject: String },
    /// A claim whose quarantine may have passed.
    Claim(Identifier),
    /// A token that may have expired where TTL lags.
    Token { hash: String },
    /// A ledger entry whose re-announcement or deadline came.
    Ledger { account: String, system: String },
}
