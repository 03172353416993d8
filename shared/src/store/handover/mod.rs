//! Handover (docs/seeds.md#handover) in the table: what a start reads, the
//! pending handover on the target's profile, the credentials and contacts, and
//! the transactions that carry a handover out, whole or page by page. Each
//! transaction names the part whose condition failed as a [`HandoverConflict`],
//! never as an error string.

mod commit;
mod conflict;
mod credentials;
mod start;

pub use conflict::HandoverConflict;
pub use credentials::LinkCredentialPart;
pub use start::{StartRead, StoredToken};
