//! The account's profile (`ACCOUNT#<id>` / `PROFILE`): the one item every
//! concern writes. Its attribute names appear nowhere but here: [`schema`] reads
//! it into the model, and each of the other modules holds one concern's writes.

pub mod account;
pub mod codes;
pub mod handover;
pub mod schema;
