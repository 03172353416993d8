//! Every DynamoDB access pattern of the bundle, and nothing else. The key
//! design is the table in `docs/key-design.md`; each pattern below names its row.
//! The store imports the model only: it reads and writes model types, reports
//! which part of a transaction was refused, and never decides what that means.
//!
//! `keys` formats every key; `items` owns each kind of item's attributes and
//! writes; the modules by concern put them together into the access patterns.

mod accounts;
mod codes;
mod credentials;
mod deletion;
mod enterprises;
mod error;
mod exports;
mod handover;
mod items;
mod jobs;
mod keys;
mod ledger;
mod op;
pub mod scan;
mod sweep;
mod table;

pub use accounts::{HoldPart, RegistrationPart};
pub use codes::CodeWrite;
pub use credentials::LinkCredentialPart;
pub use deletion::{AcceptDeletionPart, AccountItemsPage, CancelDeletionPart, FinalizeDeletionPart};
pub use enterprises::{AcceptDismissalPart, FinishDismissalPart, ReleaseMembersPart};
pub use error::StoreError;
pub use exports::{AcceptExportPart, ExportReadyPart};
pub use handover::{HandoverConflict, StartRead, StoredToken};
pub use sweep::{DueCursor, DUE_INDEX};
pub use table::{Store, TxOutcome};

// The operations reach the table through these, one per concern; `Store` implements them all.
pub(crate) use accounts::AccountStore;
pub(crate) use codes::CodeStore;
pub(crate) use credentials::CredentialStore;
pub(crate) use deletion::DeletionStore;
pub(crate) use enterprises::EnterpriseStore;
pub(crate) use exports::ExportStore;
pub(crate) use handover::HandoverStore;
pub(crate) use jobs::JobStore;
pub(crate) use ledger::LedgerStore;
pub(crate) use scan::ScanStore;
pub(crate) use sweep::SweepStore;
