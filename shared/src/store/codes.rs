//! Verification codes (a map attribute per purpose on the account's profile)
//! and verification tokens (`TOKEN#<hash>` items).
//!
//! Codes live on the profile so that one conditional write both checks the
//! account (exists, active, email bound) and places the code, and returns the
//! bound address for the mail: send-code needs no read first.

use super::{accounts::account_from_item, key, keys, n, s, Item, ItemExt, Op, Store, StoreError, TxOutcome, Written};
use crate::accounts::AccountId;
use crate::caller::Session;
use crate::codes::{CodeSlot, CodeState, PlaceGuard, Profile};
use crate::purpose::Purpose;
use crate::tokens::TokenRecord;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// The parts of redeeming a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RedeemPart {
    /// The code was used or replaced.
    Code,
    Token,
    /// Never refused: the token of the purpose the new one replaces.
    Replaced,
}

/// Written by a handover: sessions signed in before it are refused.
pub(crate) const SESSIONS_REVOKED_AT: &str = "sessions_revoked_at";

/// The hash of the one token of a purpose the account may still spend; a handover removes it.
pub(crate) fn token_attr(purpose: Purpose) -> String {
    format!("token_{purpose}")
}

/// Every code, failure streak and token attribute a handover ends.
pub(crate) fn verification_attrs() -> Vec<String> {
    Purpose::ALL
        .iter()
        .flat_map(|p| [slot_attr(*p), failures_attr(*p), last_failure_attr(*p), token_attr(*p)])
        .collect()
}

/// A write on the caller's own profile holds only for a session (signed in and issued) from after the account's last handover.
pub(crate) fn within_session(op: Op, session: Option<Session>) -> Op {
    let Some(session) = session else { return op };
    let op = op.name("#srev", SESSIONS_REVOKED_AT);
    match session.since() {
        Some(since) => op.and_when("attribute_not_exists(#srev) OR #srev < :since").value(":since", n(since)),
        None => op.and_when("attribute_not_exists(#srev)"),
    }
}

/// A transaction spending a token holds only while the profile still lists it (a handover ends it).
pub(crate) fn spending_token(op: Op, purpose: Purpose, token_hash: &str) -> Op {
    op.and_when("#ltok = :ltok").name("#ltok", token_attr(purpose)).value(":ltok", s(token_hash))
}

pub(super) fn slot_attr(purpose: Purpose) -> String {
    format!("code_{purpose}")
}
fn failures_attr(purpose: Purpose) -> String {
    format!("failures_{purpose}")
}
fn last_failure_attr(purpose: Purpose) -> String {
    format!("last_failure_{purpose}")
}

fn slot_value(slot: &CodeSlot) -> AttributeValue {
    let mut m: Item = HashMap::from([
        ("expires_at".into(), n(slot.expires_at)),
        ("attempts_left".into(), n(slot.attempts_left)),
        ("sent_at".into(), n(slot.sent_at)),
        ("window_start".into(), n(slot.window_start)),
        ("window_sends".into(), n(slot.window_sends)),
    ]);
    if let Some(h) = &slot.hash {
        m.insert("hash".into(), s(h.clone()));
    }
    AttributeValue::M(m)
}

fn state_from_item(item: &Item, purpose: Purpose) -> Result<CodeState, StoreError> {
    let slot = item.map(&slot_attr(purpose)).map(|m| CodeSlot {
        hash: m.str("hash").map(String::from),
        expires_at: m.num("expires_at").unwrap_or(0),
        attempts_left: m.num("attempts_left").unwrap_or(0).max(0) as u32,
        sent_at: m.num("sent_at").unwrap_or(0),
        window_start: m.num("window_start").unwrap_or(0),
        window_sends: m.num("window_sends").unwrap_or(0).max(0) as u32,
    });
    Ok(CodeState {
        account: account_from_item(item)?,
        slot,
        failures: item.num(&failures_attr(purpose)).unwrap_or(0).max(0) as u32,
        last_failure_at: item.num(&last_failure_attr(purpose)).unwrap_or(0),
        token: item.str(&token_attr(purpose)).map(String::from),
    })
}

fn profile(written: Written, purpose: Purpose) -> Result<Profile, StoreError> {
    Ok(match written {
        Written::Done(Some(item)) => Profile::Written(state_from_item(&item, purpose)?),
        Written::Done(None) => return Err(StoreError::Malformed("profile write returned no image".into())),
        Written::Refused(item) => Profile::Refused(item.map(|i| state_from_item(&i, purpose)).transpose()?),
    })
}

fn profile_key(account: &AccountId) -> Item {
    key(keys::account(account.as_str()), keys::PROFILE)
}

impl Store {
    /// Pattern "place a code": one UpdateItem on the profile that checks the
    /// account is active with a bound email and the send limits still hold,
    /// stores the new code, and returns the profile as it was before.
    pub async fn place_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        code: &CodeSlot,
        guard: &PlaceGuard,
        session: Option<Session>,
    ) -> Result<Profile, StoreError> {
        let base = "attribute_exists(pk) AND #status = :active AND attribute_exists(email)";
        let op = Op::update(profile_key(account), "SET #slot = :slot")
            .name("#slot", slot_attr(purpose))
            .name("#status", "status")
            .value(":active", s(purpose.account_status().as_str()))
            .value(":slot", slot_value(code));
        let op = match guard {
            PlaceGuard::FreshWindow { window_edge } => op
                .when(format!("{base} AND (attribute_not_exists(#slot) OR #slot.window_start <= :edge)"))
                .value(":edge", n(window_edge)),
            PlaceGuard::Observed(seen) => op
                .when(format!(
                    "{base} AND #slot.window_start = :ws AND #slot.window_sends = :wn AND #slot.sent_at = :sa"
                ))
                .value(":ws", n(seen.window_start))
                .value(":wn", n(seen.window_sends))
                .value(":sa", n(seen.sent_at)),
        };
        profile(self.write(within_session(op, session), false).await?, purpose)
    }

    /// Pattern "put the previous code back": after a failed send, restores the
    /// slot as it was, unless another code has been placed since.
    pub async fn restore_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        placed_hash: &str,
        previous: Option<&CodeSlot>,
    ) -> Result<bool, StoreError> {
        let op = match previous {
            Some(prev) => Op::update(profile_key(account), "SET #slot = :prev").value(":prev", slot_value(prev)),
            None => Op::update(profile_key(account), "REMOVE #slot"),
        }
        .when("#slot.#hash = :placed")
        .name("#slot", slot_attr(purpose))
        .name("#hash", "hash")
        .value(":placed", s(placed_hash));
        Ok(matches!(self.write(op, true).await?, Written::Done(_)))
    }

    /// Pattern "spend an attempt": one UpdateItem that takes an attempt from a
    /// live code and counts a failure before the comparison, so racing requests
    /// cannot get more guesses than allowed. Returns the profile after the write.
    pub async fn spend_attempt(
        &self,
        account: &AccountId,
        purpose: Purpose,
        now: i64,
        max_failures: u32,
        session: Option<Session>,
    ) -> Result<Profile, StoreError> {
        let op = Op::update(
            profile_key(account),
            "SET #slot.attempts_left = #slot.attempts_left - :one, #fail = if_not_exists(#fail, :zero) + :one, #last = :now",
        )
        .when(
            "attribute_exists(pk) AND #status = :active AND attribute_exists(#slot.#hash) \
             AND #slot.expires_at > :now AND #slot.attempts_left > :zero \
             AND (attribute_not_exists(#fail) OR #fail < :max)",
        )
        .name("#slot", slot_attr(purpose))
        .name("#hash", "hash")
        .name("#fail", failures_attr(purpose))
        .name("#last", last_failure_attr(purpose))
        .name("#status", "status")
        .value(":active", s(purpose.account_status().as_str()))
        .value(":one", n(1))
        .value(":zero", n(0))
        .value(":now", n(now))
        .value(":max", n(max_failures));
        profile(self.write(within_session(op, session), true).await?, purpose)
    }

    /// Pattern "redeem a code": one transaction burns the code (if it is still
    /// the one that matched), clears the failure streak, stores the token and
    /// deletes the token of the purpose it `replaces` (no longer listed, never spendable).
    /// `false`: the code was used or replaced by a racing request.
    pub async fn redeem_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        code_hash: &str,
        token: &TokenRecord,
        replaces: Option<&str>,
    ) -> Result<bool, StoreError> {
        let burn = Op::update(profile_key(account), "SET #fail = :zero, #ltok = :ltok REMOVE #slot.#hash")
            .when("#status = :active AND #slot.#hash = :h")
            .name("#slot", slot_attr(purpose))
            .name("#hash", "hash")
            .name("#fail", failures_attr(purpose))
            .name("#status", "status")
            .value(":active", s(purpose.account_status().as_str()))
            .value(":h", s(code_hash))
            .value(":zero", n(0))
            .name("#ltok", token_attr(purpose))
            .value(":ltok", s(&token.hash));
        let mut item = key(keys::token(&token.hash), keys::TOKEN);
        item.extend([
            ("account_id".to_string(), s(token.account.as_str())),
            ("purpose".to_string(), s(token.purpose.as_str())),
            ("expires_at".to_string(), n(token.expires_at)),
            ("ttl".to_string(), n(token.expires_at)),
            // In the due index so cleanup can remove it where TTL lags.
            ("due_bucket".to_string(), s(super::sweep::TOKEN_BUCKET)),
            ("due_at".to_string(), n(token.expires_at)),
        ]);
        let store_token = Op::put(item).when("attribute_not_exists(pk)");
        let mut parts = vec![(RedeemPart::Code, burn), (RedeemPart::Token, store_token)];
        if let Some(old) = replaces.filter(|old| *old != token.hash) {
            parts.push((RedeemPart::Replaced, Op::delete(key(keys::token(old), keys::TOKEN))));
        }
        Ok(matches!(self.transact(parts).await?, TxOutcome::Committed))
    }

    /// Pattern "end a lock that has run out": zeroes the failure streak if it is still the one observed.
    pub async fn reset_failures(&self, account: &AccountId, purpose: Purpose, observed: u32) -> Result<(), StoreError> {
        let op = Op::update(profile_key(account), "SET #fail = :zero")
            .when("#fail = :seen")
            .name("#fail", failures_attr(purpose))
            .value(":zero", n(0))
            .value(":seen", n(observed));
        self.write(op, true).await.map(|_| ())
    }

    /// Pattern "consume a token", as an operation for a larger transaction: the
    /// token item is deleted only if it is live and bound to this account and purpose.
    pub(crate) fn token_consumption(&self, token_hash: &str, account: &AccountId, purpose: Purpose, now: i64) -> Op {
        Op::delete(key(keys::token(token_hash), keys::TOKEN))
            .when("account_id = :a AND purpose = :p AND expires_at > :now")
            .value(":a", s(account.as_str()))
            .value(":p", s(purpose.as_str()))
            .value(":now", n(now))
    }

    /// Pattern "consume a token" on its own: exactly one of racing consumers gets `true`.
    pub async fn consume_token(
        &self,
        token_hash: &str,
        account: &AccountId,
        purpose: Purpose,
        now: i64,
    ) -> Result<bool, StoreError> {
        let op = self.token_consumption(token_hash, account, purpose, now);
        Ok(matches!(self.write(op, false).await?, Written::Done(_)))
    }
}
