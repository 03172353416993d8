//! A verification token (`TOKEN#<hash>` / `TOKEN`): only the keyed hash of what
//! the client holds, bound to an account and a purpose until it expires.

use super::{n, s, Item, ItemExt};
use crate::model::code::TokenRecord;
use crate::model::due::DueBucket;
use crate::model::ids::AccountId;
use crate::model::purpose::Purpose;
use crate::store::error::StoreError;
use crate::store::keys;
use crate::store::op::Op;

/// Stores the token a code bought; it is in the due index so cleanup can remove it where TTL lags.
pub fn creation(token: &TokenRecord) -> Op {
    let mut item = keys::token(&token.hash);
    item.extend([
        ("account_id".to_string(), s(token.account.as_str())),
        ("purpose".to_string(), s(token.purpose.as_str())),
        ("expires_at".to_string(), n(token.expires_at)),
        ("ttl".to_string(), n(token.expires_at)),
        ("due_bucket".to_string(), s(DueBucket::Token.as_str())),
        ("due_at".to_string(), n(token.expires_at)),
    ]);
    Op::put(item).when("attribute_not_exists(pk)")
}

/// Spends a token: deleted only if it is live and bound to this account and purpose.
pub fn consumption(token_hash: &str, account: &AccountId, purpose: Purpose, now: i64) -> Op {
    Op::delete(keys::token(token_hash))
        .when("account_id = :a AND purpose = :p AND expires_at > :now")
        .value(":a", s(account.as_str()))
        .value(":p", s(purpose.as_str()))
        .value(":now", n(now))
}

/// Removes a token whatever its state: one the profile no longer lists, or the account's as it is deleted (a token deleted already is no failure).
pub fn removal(token_hash: &str) -> Op {
    Op::delete(keys::token(token_hash))
}

/// Removes a token only if it really has expired.
pub fn removal_if_expired(token_hash: &str, now: i64) -> Op {
    Op::delete(keys::token(token_hash)).when("expires_at <= :now").value(":now", n(now))
}

/// Puts a spent token back exactly as it was read.
pub fn restoring(item: Item) -> Op {
    Op::put(item).when("attribute_not_exists(pk)")
}

/// The token an item under `hash` holds; `None` for one of a purpose this bundle does not know.
pub fn record_from_item(hash: &str, item: &Item) -> Result<Option<TokenRecord>, StoreError> {
    let Some(purpose) = item.str("purpose").and_then(Purpose::parse) else { return Ok(None) };
    let account =
        item.str("account_id").and_then(AccountId::parse).ok_or_else(|| StoreError::Malformed("token".into()))?;
    Ok(Some(TokenRecord { hash: hash.to_string(), account, purpose, expires_at: item.num("expires_at").unwrap_or(0) }))
}
