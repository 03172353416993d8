//! An identifier's claim (`CLAIM#<KIND>#<value>` / `CLAIM`): the live account
//! that holds it, or, ownerless, until when a deletion's quarantine keeps it.

use super::{n, s, Item, ItemExt};
use crate::model::due::DueBucket;
use crate::model::handover::view::ClaimState;
use crate::model::ids::{AccountId, Identifier};
use crate::store::keys;
use crate::store::op::Op;

/// Takes the claim for `owner`: free, or its quarantine has passed.
pub fn taking(id: &Identifier, owner: &AccountId, now: i64) -> Op {
    let mut claim = keys::claim(id);
    claim.extend([("owner".to_string(), s(owner.as_str())), ("claimed_at".to_string(), n(now))]);
    Op::put(claim).when("attribute_not_exists(pk) OR free_at <= :now").value(":now", n(now))
}

/// Checks, without taking it, that nobody but `owner` may hold the claim: free, `owner`'s, or out of quarantine.
pub fn free_for(id: &Identifier, owner: &AccountId, now: i64) -> Op {
    Op::check(keys::claim(id), "attribute_not_exists(pk) OR #owner = :me OR free_at <= :now")
        .name("#owner", "owner")
        .value(":me", s(owner.as_str()))
        .value(":now", n(now))
}

/// Releases `owner`'s claim: deleted at once, or kept ownerless in quarantine until `free_at`
/// (then it is in the due index).
pub fn release(id: &Identifier, owner: &AccountId, free_at: Option<i64>) -> Op {
    let op = match free_at {
        None => Op::delete(keys::claim(id)),
        Some(at) => Op::update(
            keys::claim(id),
            "SET free_at = :at, due_bucket = :bucket, due_at = :at, #ttl = :at REMOVE #owner",
        )
        .name("#ttl", "ttl")
        .value(":at", n(at))
        .value(":bucket", s(DueBucket::Claim.as_str())),
    };
    op.when("attribute_not_exists(pk) OR #owner = :me").name("#owner", "owner").value(":me", s(owner.as_str()))
}

/// Frees a quarantined claim: only if its quarantine has passed and nobody took it since.
pub fn freeing(id: &Identifier, now: i64) -> Op {
    Op::delete(keys::claim(id))
        .when("free_at <= :now AND attribute_not_exists(#owner)")
        .name("#owner", "owner")
        .value(":now", n(now))
}

pub fn state_from_item(id: &Identifier, item: &Item) -> ClaimState {
    ClaimState { id: id.clone(), owner: item.str("owner").and_then(AccountId::parse), free_at: item.num("free_at") }
}
