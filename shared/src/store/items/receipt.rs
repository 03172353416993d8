//! A deletion receipt (`RECEIPT#<account>` / `RECEIPT`): no personal data; its
//! INSERT in the stream is the event `Account Deleted`, and it stays so a
//! deleted account answers 410, not 404.

use super::{n, s};
use crate::model::account::Account;
use crate::model::deletion::DeletionFinal;
use crate::store::keys;
use crate::store::op::Op;

/// The receipt of `account`'s deletion.
pub fn creation(account: &Account, receipt: &DeletionFinal) -> Op {
    let mut item = keys::receipt(&account.id);
    item.extend([
        ("kind".to_string(), s("account_deletion")),
        ("receipt_id".to_string(), s(&receipt.receipt_id)),
        ("account_id".to_string(), s(account.id.as_str())),
        ("requested_at".to_string(), n(receipt.requested_at)),
        ("deleted_at".to_string(), n(receipt.deleted_at)),
        ("items_removed".to_string(), n(receipt.items_removed)),
        ("exports_removed".to_string(), n(receipt.exports_removed)),
        ("identifiers_released".to_string(), n(receipt.identifiers.len())),
        ("memberships_removed".to_string(), n(account.enterprise_id.is_some() as u8)),
    ]);
    if let Some(at) = receipt.identifiers_free_at {
        item.insert("identifiers_free_at".to_string(), n(at));
    }
    Op::put(item).when("attribute_not_exists(pk)")
}
