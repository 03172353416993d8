//! The domain model: every type the store reads and writes, with the rules that
//! need nothing but the values themselves. It imports nothing from outside
//! `model/`, so the store below the operations and the operations above it
//! speak the same types.

pub mod account;
pub mod canonical;
pub mod code;
pub mod deletion;
pub mod due;
pub mod enterprise;
pub mod export;
pub mod handover;
pub mod hold;
pub mod ids;
pub mod job;
pub mod ledger;
pub mod locale;
pub mod purpose;
pub mod session;
