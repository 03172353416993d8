//! Every DynamoDB access pattern of the bundle, and nothing else. The key
//! design is the table in `docs/key-design.md`; each pattern below names its row.
//! The store imports the model only: it reads and writes model types, reports
//! which part of a transaction was refused, and never decides what that means.
//!
//! `keys` formats every key; `items` owns each kind of item's attributes and
//! writes; the modules by concern put them together into the access patterns.

mod accounts;
mod codes;
mod deletion;
mod enterprises;
mod error;
mod handover;
mod items;
mod jobs;
mod keys;
mod ledger;
mod op;
mod sweep;
mod table;

pub use accounts::{HoldPart, RegistrationPart};
pub use codes::CodeWrite;
pub use deletion::{AcceptDeletionPart, AccountItemsPage, CancelDeletionPart, FinalizeDeletionPart};
pub use enterprises::{AcceptDismissalPart, FinishDismissalPart, ReleaseMembersPart};
pub use error::StoreError;
pub use handover::{HandoverConflict, LinkCredentialPart, StartRead, StoredToken};
pub use sweep::{DueCursor, DUE_INDEX};
pub use table::{Store, TxOutcome};
