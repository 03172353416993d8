//! A membership (`ENTERPRISE#<id>` / `MEMBER#<account>`): listed under its
//! enterprise, so a dismissal pages through them; `notice` marks one released
//! whose notice is not yet recorded as sent.

use super::{s, Item, ItemExt};
use crate::model::account::NewAccount;
use crate::model::enterprise::MemberRef;
use crate::model::ids::AccountId;
use crate::store::keys;
use crate::store::op::Op;

/// The membership of a new account in its enterprise.
pub fn creation(enterprise: &str, account: &NewAccount) -> Op {
    let mut member = keys::member(enterprise, &account.id);
    member.extend([("account_id".to_string(), s(account.id.as_str())), ("role".to_string(), s(account.role.as_str()))]);
    Op::put(member)
}

pub fn from_item(item: &Item) -> Option<MemberRef> {
    Some(MemberRef {
        account: item.str("account_id").and_then(AccountId::parse)?,
        notice_pending: item.str("notice").is_some(),
    })
}

/// Released: the notice is pending.
pub fn notice_pending(enterprise: &str, account: &AccountId) -> Op {
    Op::update(keys::member(enterprise, account), "SET notice = :pending")
        .when("attribute_exists(pk)")
        .value(":pending", s("pending"))
}

/// The notice was sent: the membership goes.
pub fn notified(enterprise: &str, account: &AccountId) -> Op {
    Op::delete(keys::member(enterprise, account)).when("attribute_exists(notice)")
}

pub fn removal(enterprise: &str, account: &AccountId) -> Op {
    Op::delete(keys::member(enterprise, account))
}
