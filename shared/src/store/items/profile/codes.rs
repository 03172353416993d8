//! The writes on the profile's codes (a map per purpose, `code_<purpose>`) and
//! failure streaks: placing a code, putting the previous one back, spending an
//! attempt, burning a code that matched, ending a lock.

use super::schema::{failures_attr, last_failure_attr, slot_attr, slot_value, token_attr, within_session, ATTEMPT};
use crate::model::code::{CodeSlot, PlaceGuard};
use crate::model::ids::AccountId;
use crate::model::purpose::Purpose;
use crate::model::session::Session;
use crate::store::items::{n, s};
use crate::store::keys;
use crate::store::op::Op;

/// Places `code` if the account has the purpose's status and a bound email and `guard` still holds.
pub fn placing(
    account: &AccountId,
    purpose: Purpose,
    code: &CodeSlot,
    guard: &PlaceGuard,
    session: Option<Session>,
) -> Op {
    let base = "attribute_exists(pk) AND #status = :active AND attribute_exists(email)";
    let op = Op::update(keys::profile(account), "SET #slot = :slot")
        .name("#slot", slot_attr(purpose))
        .name("#status", "status")
        .value(":active", s(purpose.account_status().as_str()))
        .value(":slot", slot_value(code));
    let op = match guard {
        PlaceGuard::FreshWindow { window_edge } => op
            .when(format!("{base} AND (attribute_not_exists(#slot) OR #slot.window_start <= :edge)"))
            .value(":edge", n(window_edge)),
        PlaceGuard::Observed(seen) => op
            .when(format!("{base} AND #slot.window_start = :ws AND #slot.window_sends = :wn AND #slot.sent_at = :sa"))
            .value(":ws", n(seen.window_start))
            .value(":wn", n(seen.window_sends))
            .value(":sa", n(seen.sent_at)),
    };
    within_session(op, session)
}

/// Puts the slot back as it was (`None`: removes it), unless another code than `placed_hash` was placed since.
pub fn restoring(account: &AccountId, purpose: Purpose, placed_hash: &str, previous: Option<&CodeSlot>) -> Op {
    match previous {
        Some(prev) => Op::update(keys::profile(account), "SET #slot = :prev").value(":prev", slot_value(prev)),
        None => Op::update(keys::profile(account), "REMOVE #slot"),
    }
    .when("#slot.#hash = :placed")
    .name("#slot", slot_attr(purpose))
    .name("#hash", "hash")
    .value(":placed", s(placed_hash))
}

/// Takes an attempt from a live code and counts a failure, before the comparison. The slot
/// keeps `attempt` (the request's id), so the same write sent again (an SDK retry after a
/// lost answer) fails its condition instead of spending a second attempt.
pub fn attempt_spending(
    account: &AccountId,
    purpose: Purpose,
    now: i64,
    max_failures: u32,
    session: Option<Session>,
    attempt: &str,
) -> Op {
    let op = Op::update(
        keys::profile(account),
        "SET #slot.attempts_left = #slot.attempts_left - :one, #fail = if_not_exists(#fail, :zero) + :one, \
         #last = :now, #slot.#attempt = :attempt",
    )
    .when(
        "attribute_exists(pk) AND #status = :active AND attribute_exists(#slot.#hash) \
         AND #slot.expires_at > :now AND #slot.attempts_left > :zero \
         AND (attribute_not_exists(#fail) OR #fail < :max) \
         AND (attribute_not_exists(#slot.#attempt) OR #slot.#attempt <> :attempt)",
    )
    .name("#slot", slot_attr(purpose))
    .name("#hash", "hash")
    .name("#attempt", ATTEMPT)
    .value(":attempt", s(attempt))
    .name("#fail", failures_attr(purpose))
    .name("#last", last_failure_attr(purpose))
    .name("#status", "status")
    .value(":active", s(purpose.account_status().as_str()))
    .value(":one", n(1))
    .value(":zero", n(0))
    .value(":now", n(now))
    .value(":max", n(max_failures));
    within_session(op, session)
}

/// Burns the code (if it is still the one that matched), clears the failure streak and lists the token bought.
pub fn burning(account: &AccountId, purpose: Purpose, code_hash: &str, token_hash: &str) -> Op {
    Op::update(keys::profile(account), "SET #fail = :zero, #ltok = :ltok REMOVE #slot.#hash")
        .when("#status = :active AND #slot.#hash = :h")
        .name("#slot", slot_attr(purpose))
        .name("#hash", "hash")
        .name("#fail", failures_attr(purpose))
        .name("#status", "status")
        .value(":active", s(purpose.account_status().as_str()))
        .value(":h", s(code_hash))
        .value(":zero", n(0))
        .name("#ltok", token_attr(purpose))
        .value(":ltok", s(token_hash))
}

/// Zeroes the failure streak if it is still the one observed.
pub fn failures_reset(account: &AccountId, purpose: Purpose, observed: u32) -> Op {
    Op::update(keys::profile(account), "SET #fail = :zero")
        .when("#fail = :seen")
        .name("#fail", failures_attr(purpose))
        .value(":zero", n(0))
        .value(":seen", n(observed))
}
