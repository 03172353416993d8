//! The writes on the profile that make and end an account: registration, the
//! hold count, a deletion's lock and grace period, and a dismissal's release.

use super::schema::{spending_token, within_session, IN_PROGRESS_AS, PENDING};
use crate::model::account::{AccountStatus, NewAccount, Role};
use crate::model::ids::AccountId;
use crate::model::purpose::Purpose;
use crate::model::session::Session;
use crate::store::items::{n, s};
use crate::store::keys;
use crate::store::op::Op;

/// A new profile, active, for the registration's transaction.
pub fn registration(account: &NewAccount, now: i64) -> Op {
    let mut profile = keys::profile(&account.id);
    profile.extend([
        ("account_id".to_string(), s(account.id.as_str())),
        ("role".to_string(), s(account.role.as_str())),
        ("status".to_string(), s(AccountStatus::Active.as_str())),
        ("hold_count".to_string(), n(0)),
        ("created_at".to_string(), n(now)),
        ("locale".to_string(), s(account.locale.as_str())),
    ]);
    let optional = [
        ("username", account.username.as_ref().map(|v| v.as_str().to_string())),
        ("email", account.email.as_ref().map(|v| v.as_str().to_string())),
        ("phone", account.phone.as_ref().map(|v| v.as_str().to_string())),
        ("name", account.name.clone()),
        ("enterprise_id", account.enterprise_id.clone()),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            profile.insert(name.to_string(), s(v));
        }
    }
    Op::put(profile).when("attribute_not_exists(pk)")
}

/// One more hold, only while the account is active.
pub fn hold_added(account: &AccountId) -> Op {
    Op::update(keys::profile(account), "ADD hold_count :one")
        .when("#status = :active")
        .name("#status", "status")
        .value(":active", s(AccountStatus::Active.as_str()))
        .value(":one", n(1))
}

pub fn hold_removed(account: &AccountId) -> Op {
    Op::update(keys::profile(account), "ADD hold_count :minus").value(":minus", n(-1)).when("attribute_exists(pk)")
}

/// Locks the profile for its deletion (`locked_as`): active, with an email, no holds, not an
/// enterprise's default administrator, no administrator's handover waiting or under way, in
/// this session and still listing the token spent.
pub fn deletion_lock(
    account: &AccountId,
    session: Session,
    token_hash: &str,
    now: i64,
    locked_as: AccountStatus,
) -> Op {
    let lock = Op::update(keys::profile(account), "SET #status = :locked, deletion_requested_at = :now")
        .when(
            "#status = :active AND attribute_exists(email) AND (attribute_not_exists(hold_count) OR hold_count = :zero) \
             AND NOT (#role = :default_admin AND attribute_exists(enterprise_id))",
        )
        .name("#status", "status")
        .name("#role", "role")
        .value(":active", s(AccountStatus::Active.as_str()))
        .value(":locked", s(locked_as.as_str()))
        .value(":now", n(now))
        .value(":zero", n(0))
        .value(":default_admin", s(Role::DefaultAdmin.as_str()));
    // Not while an administrator's handover of the account waits for its code or is under way.
    let lock = lock
        .and_when("attribute_not_exists(#hp) OR attribute_not_exists(#hp.#as) OR #hp.#exp <= :now")
        .and_when("attribute_not_exists(#hipas)")
        .name("#hipas", IN_PROGRESS_AS)
        .name("#hp", PENDING)
        .name("#as", "requested_as")
        .name("#exp", "expires_at");
    within_session(spending_token(lock, Purpose::DeleteAccount, token_hash), Some(session))
}

/// The profile goes with the deletion's final transaction, once locked.
pub fn deletion_end(account: &AccountId) -> Op {
    Op::delete(keys::profile(account))
        .when("#status IN (:deleting, :scheduled)")
        .name("#status", "status")
        .value(":deleting", s(AccountStatus::Deleting.as_str()))
        .value(":scheduled", s(AccountStatus::DeletionScheduled.as_str()))
}

/// Active again, if still scheduled for the deletion requested at `requested_at`; the token spent goes too.
pub fn cancellation(account: &AccountId, session: Session, token_hash: &str, requested_at: i64) -> Op {
    let profile = Op::update(keys::profile(account), "SET #status = :active REMOVE deletion_requested_at, #ltok")
        .when("#status = :scheduled AND deletion_requested_at = :requested")
        .name("#status", "status")
        .value(":active", s(AccountStatus::Active.as_str()))
        .value(":scheduled", s(AccountStatus::DeletionScheduled.as_str()))
        .value(":requested", n(requested_at));
    // `spending_token` names the token's attribute `#ltok`, which the update removes.
    within_session(spending_token(profile, Purpose::CancelDeletion, token_hash), Some(session))
}

/// Out of the grace period into the purge (a cancellation can no longer win), if still the
/// deletion requested at `requested_at`; also when an earlier run began it.
pub fn purge_start(account: &AccountId, requested_at: i64) -> Op {
    Op::update(keys::profile(account), "SET #status = :deleting")
        .when("#status IN (:scheduled, :deleting) AND deletion_requested_at = :requested")
        .name("#status", "status")
        .value(":deleting", s(AccountStatus::Deleting.as_str()))
        .value(":scheduled", s(AccountStatus::DeletionScheduled.as_str()))
        .value(":requested", n(requested_at))
}

/// The dismissing administrator's profile: active in the enterprise, in this session, still listing the token spent.
pub fn dismissal_check(caller: &AccountId, session: Session, token_hash: &str, enterprise: &str) -> Op {
    let profile = Op::check(keys::profile(caller), "#status = :active AND enterprise_id = :e")
        .name("#status", "status")
        .value(":active", s(AccountStatus::Active.as_str()))
        .value(":e", s(enterprise));
    within_session(spending_token(profile, Purpose::DismissEnterprise, token_hash), Some(session))
}

/// The exporting account's profile: active, in this session, still listing the token spent.
pub fn export_check(account: &AccountId, session: Session, token_hash: &str) -> Op {
    let profile = Op::check(keys::profile(account), "#status = :active")
        .name("#status", "status")
        .value(":active", s(AccountStatus::Active.as_str()));
    within_session(spending_token(profile, Purpose::ExportData, token_hash), Some(session))
}

/// A member becomes an individual, if still a live member of the enterprise (active or in its grace period).
pub fn released_member(account: &AccountId, enterprise: &str) -> Op {
    Op::update(keys::profile(account), "SET #role = :individual REMOVE enterprise_id")
        .when("enterprise_id = :e AND #status IN (:active, :scheduled)")
        .name("#role", "role")
        .name("#status", "status")
        .value(":individual", s(Role::Individual.as_str()))
        .value(":e", s(enterprise))
        .value(":active", s(AccountStatus::Active.as_str()))
        .value(":scheduled", s(AccountStatus::DeletionScheduled.as_str()))
}

/// The default administrator becomes an individual when the enterprise is dismissed.
pub fn released_admin(admin: &AccountId, enterprise: &str) -> Op {
    Op::update(keys::profile(admin), "SET #role = :individual REMOVE enterprise_id")
        .when("enterprise_id = :e")
        .name("#role", "role")
        .value(":individual", s(Role::Individual.as_str()))
        .value(":e", s(enterprise))
}
