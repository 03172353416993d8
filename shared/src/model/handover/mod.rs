//! The handover's model (docs/seeds.md#handover): the pending handover and its
//! designated person, who may hand over, the contacts a profile keeps apart, the
//! credentials a handover revokes, and the record it leaves.

pub mod authority;
pub mod contacts;
pub mod credentials;
pub mod pending;
pub mod record;
pub mod view;
