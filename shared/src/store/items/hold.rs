//! A hold (`ACCOUNT#<id>` / `PROFILE#HOLD#<kind>#<reference>`): what another
//! service registered against the account's deletion.

use super::{n, s, Item, ItemExt};
use crate::model::hold::Hold;
use crate::model::ids::AccountId;
use crate::store::keys;
use crate::store::op::Op;

pub fn creation(account: &AccountId, hold: &Hold, now: i64) -> Op {
    let mut item = keys::hold(account, &hold.kind, &hold.reference);
    item.extend([
        ("kind".to_string(), s(&hold.kind)),
        ("reference".to_string(), s(&hold.reference)),
        ("detail".to_string(), s(&hold.detail)),
        ("registered_at".to_string(), n(now)),
    ]);
    Op::put(item).when("attribute_not_exists(pk)")
}

pub fn removal(account: &AccountId, kind: &str, reference: &str) -> Op {
    Op::delete(keys::hold(account, kind, reference)).when("attribute_exists(pk)")
}

pub fn from_item(item: &Item) -> Hold {
    Hold {
        kind: item.str("kind").unwrap_or("unknown").to_string(),
        reference: item.str("reference").unwrap_or_default().to_string(),
        detail: item.str("detail").unwrap_or_default().to_string(),
    }
}
