//! The record of a finished handover (`ACCOUNT#<id>` / `HANDOVER#<id>`): who,
//! when and the checklist, no secrets; its INSERT in the stream is the event
//! `Account Handed Over`.

use super::{n, s};
use crate::model::handover::record::HandoverRecord;
use crate::model::ids::AccountId;
use crate::store::keys;
use crate::store::op::Op;
use aws_sdk_dynamodb::types::AttributeValue;

pub fn creation(target: &AccountId, record: &HandoverRecord) -> Op {
    let checklist = record
        .checklist
        .iter()
        .map(|c| {
            AttributeValue::M(super::Item::from([
                ("step".to_string(), n(c.step)),
                ("item".to_string(), s(c.item)),
                ("done".to_string(), s(&c.done)),
                ("count".to_string(), n(c.count)),
            ]))
        })
        .collect();
    let mut item = keys::handover_record(target, &record.id);
    item.extend([
        ("kind".to_string(), s("handover")),
        ("handover_id".to_string(), s(&record.id)),
        ("requested_by".to_string(), s(&record.requested_by)),
        ("confirmed_by".to_string(), s(&record.confirmed_by)),
        ("requested_at".to_string(), n(record.requested_at)),
        ("handed_over_at".to_string(), n(record.handed_over_at)),
        ("iam_users".to_string(), s(record.iam_users.as_str())),
        ("destination".to_string(), s(&record.destination)),
        ("checklist".to_string(), AttributeValue::L(checklist)),
    ]);
    Op::put(item).when("attribute_not_exists(pk)")
}
