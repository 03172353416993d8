//! A credential the leaving employee may have held under the account
//! (`MFA#<device>`, `LOGIN#<provider>#<subject>`, `ACCESS_KEY#<key>`,
//! `IAM_USER#<name>` in the account's partition), as the owning services link
//! them and a handover revokes them.

use super::{n, s, Item, ItemExt};
use crate::model::handover::credentials::{Credential, CredentialKind, CredentialRef, Revocations};
use crate::model::ids::AccountId;
use crate::store::keys;
use crate::store::op::Op;
use aws_sdk_dynamodb::types::AttributeValue;

/// An access key's `Active` or `Inactive`: a page of credentials reads it beside the sort key.
pub const STATE: &str = "state";

/// The credential, if the same one is not linked already.
pub fn creation(account: &AccountId, credential: &Credential, now: i64) -> Op {
    let mut item = keys::credential(account, credential);
    match credential {
        Credential::Mfa { id, label } => {
            item.extend([("kind".to_string(), s("mfa_device")), ("device_id".to_string(), s(id))]);
            if let Some(label) = label {
                item.insert("label".to_string(), s(label));
            }
        }
        Credential::ThirdPartyLogin { provider, subject } => {
            item.extend([
                ("kind".to_string(), s("third_party_login")),
                ("provider".to_string(), s(provider)),
                ("subject".to_string(), s(subject)),
            ]);
        }
        Credential::AccessKey { id, active } => {
            item.extend([
                ("kind".to_string(), s("access_key")),
                ("key_id".to_string(), s(id)),
                (STATE.to_string(), s(if *active { "Active" } else { "Inactive" })),
            ]);
        }
        Credential::IamUser { name } => {
            item.extend([
                ("kind".to_string(), s("iam_user")),
                ("name".to_string(), s(name)),
                ("password_reset_required".to_string(), AttributeValue::Bool(false)),
            ]);
        }
    }
    item.insert("linked_at".to_string(), n(now));
    Op::put(item).when("attribute_not_exists(pk)")
}

/// A credential of `kind` as a page reads it (its sort key and state).
pub fn ref_from_item(kind: CredentialKind, item: &Item) -> Option<CredentialRef> {
    let sort_key = item.str("sk")?;
    Some(CredentialRef { kind, sort_key: sort_key.to_string(), active: item.str(STATE) != Some("Inactive") })
}

/// What a handover does to the credentials, by sort key: unlink (delete), deactivate an access
/// key, or have an IAM user change its password; each only if the credential is as it was read.
pub fn revocations(account: &AccountId, r: &Revocations, now: i64) -> Vec<Op> {
    let mut ops = Vec::new();
    for sk in &r.delete {
        ops.push(Op::delete(keys::account_item(account, sk)).when("attribute_exists(pk)"));
    }
    for sk in &r.deactivate {
        let op = Op::update(keys::account_item(account, sk), "SET #state = :inactive, deactivated_at = :now")
            .when("#state = :active")
            .name("#state", STATE)
            .value(":active", s("Active"))
            .value(":inactive", s("Inactive"))
            .value(":now", n(now));
        ops.push(op);
    }
    for sk in &r.reset_password {
        let op = Op::update(keys::account_item(account, sk), "SET password_reset_required = :true")
            .when("attribute_exists(pk)")
            .value(":true", AttributeValue::Bool(true));
        ops.push(op);
    }
    ops
}
