//! A cancellation record (`ACCOUNT#<id>` / `CANCELLATION#<receipt>`): no personal
//! data; its INSERT in the stream is the event `Account Deletion Cancelled`.

use super::{n, s};
use crate::model::deletion::CancellationRecord;
use crate::model::ids::AccountId;
use crate::store::keys;
use crate::store::op::Op;

pub fn creation(account: &AccountId, record: &CancellationRecord) -> Op {
    let mut item = keys::cancellation(account, &record.receipt_id);
    item.extend([
        ("kind".to_string(), s("deletion_cancellation")),
        ("account_id".to_string(), s(account.as_str())),
        ("receipt_id".to_string(), s(&record.receipt_id)),
        ("requested_at".to_string(), n(record.requested_at)),
        ("cancelled_at".to_string(), n(record.cancelled_at)),
    ]);
    Op::put(item).when("attribute_not_exists(pk)")
}
