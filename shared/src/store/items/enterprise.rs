//! An enterprise (`ENTERPRISE#<id>` / `META`): its name, default administrator
//! and status, which a dismissal moves from active through dismissing to dismissed.

use super::{n, s, Item, ItemExt};
use crate::model::enterprise::{Enterprise, EnterpriseStatus};
use crate::model::ids::AccountId;
use crate::store::error::StoreError;
use crate::store::keys;
use crate::store::op::Op;

pub fn from_item(item: &Item) -> Result<Enterprise, StoreError> {
    let status = item
        .str("status")
        .and_then(EnterpriseStatus::parse)
        .ok_or_else(|| StoreError::Malformed("enterprise status".into()))?;
    Ok(Enterprise {
        id: item.str("enterprise_id").unwrap_or_default().to_string(),
        name: item.str("name").unwrap_or_default().to_string(),
        default_admin: item.str("default_admin").and_then(AccountId::parse),
        status,
        dismissed_at: item.num("dismissed_at"),
        members_released: item.num("members_released").unwrap_or(0).max(0) as u64,
    })
}

/// A new enterprise, if the id is free.
pub fn creation(enterprise: &Enterprise) -> Op {
    let mut item = keys::enterprise(&enterprise.id);
    item.extend([
        ("enterprise_id".to_string(), s(&enterprise.id)),
        ("name".to_string(), s(&enterprise.name)),
        ("status".to_string(), s(enterprise.status.as_str())),
    ]);
    if let Some(admin) = &enterprise.default_admin {
        item.insert("default_admin".to_string(), s(admin.as_str()));
    }
    Op::put(item).when("attribute_not_exists(pk)")
}

/// From active to dismissing, only for its default administrator.
pub fn dismissal_start(enterprise: &str, caller: &AccountId) -> Op {
    Op::update(keys::enterprise(enterprise), "SET #status = :dismissing")
        .when("#status = :active AND default_admin = :me")
        .name("#status", "status")
        .value(":active", s(EnterpriseStatus::Active.as_str()))
        .value(":dismissing", s(EnterpriseStatus::Dismissing.as_str()))
        .value(":me", s(caller.as_str()))
}

/// From dismissing to dismissed, with how many members were released.
pub fn dismissal_end(enterprise: &str, members_released: u64, now: i64) -> Op {
    Op::update(
        keys::enterprise(enterprise),
        "SET #status = :dismissed, dismissed_at = :now, members_released = :released",
    )
    .when("#status = :dismissing")
    .name("#status", "status")
    .value(":dismissing", s(EnterpriseStatus::Dismissing.as_str()))
    .value(":dismissed", s(EnterpriseStatus::Dismissed.as_str()))
    .value(":now", n(now))
    .value(":released", n(members_released))
}
