//! The writes on the profile that carry a handover: the pending handover, the
//! links version that credentials and contacts bump, the acceptance of a large
//! handover, and the rebinding that gives the account to the designated person.

use super::schema::{
    identifier_value, pending_value, spending_token, verification_attrs, within_session, IN_PROGRESS, IN_PROGRESS_AS,
    LINKS_VERSION, PENDING, RESERVED, SESSIONS_REVOKED_AT,
};
use crate::model::account::AccountStatus;
use crate::model::handover::authority::Authority;
use crate::model::handover::contacts::ContactSlot;
use crate::model::handover::pending::PendingHandover;
use crate::model::handover::view::{HandoverChange, Rebinding};
use crate::model::ids::AccountId;
use crate::model::purpose::Purpose;
use crate::model::session::Session;
use crate::store::items::{n, s};
use crate::store::keys;
use crate::store::op::Op;
use aws_sdk_dynamodb::types::AttributeValue;

/// The target's condition under an administrator's authority: still in the enterprise, in the role the rights were decided on.
fn authority_condition(authority: &Authority) -> &'static str {
    match authority {
        Authority::Own => "",
        Authority::Administrator { .. } => " AND enterprise_id = :e AND #role = :trole",
    }
}

/// The names and values of [`authority_condition`] on the target's `op`, and the check that the
/// administrator is still active in the enterprise in the role the rights were decided on.
fn with_authority(op: Op, authority: &Authority) -> (Op, Option<Op>) {
    match authority {
        Authority::Own => (op, None),
        Authority::Administrator { caller, enterprise, caller_role, target_role } => {
            let op = op.name("#role", "role").value(":e", s(enterprise)).value(":trole", s(target_role.as_str()));
            let check = Op::check(keys::profile(caller), "#status = :active AND enterprise_id = :e AND #role = :crole")
                .name("#status", "status")
                .name("#role", "role")
                .value(":active", s(AccountStatus::Active.as_str()))
                .value(":e", s(enterprise))
                .value(":crole", s(caller_role.as_str()));
            (op, Some(check))
        }
    }
}

/// Replaces the pending handover seen (`seen`: its id) with `pending` on an active target under
/// no running handover; the caller's own profile (the target's, or the administrator's check)
/// still lists the token spent and admits `session`. The second op is the administrator's check.
pub fn pending_storing(
    target: &AccountId,
    authority: &Authority,
    pending: &PendingHandover,
    seen: Option<&str>,
    token_hash: &str,
    session: Session,
) -> (Op, Option<Op>) {
    let seen_condition = if seen.is_some() { "#hp.#id = :seen" } else { "attribute_not_exists(#hp)" };
    let profile = Op::update(keys::profile(target), "SET #hp = :p")
        .when(format!(
            "#status = :active AND attribute_not_exists(#hip) AND {seen_condition}{}",
            authority_condition(authority)
        ))
        .name("#hp", PENDING)
        .name("#hip", IN_PROGRESS)
        .name("#status", "status")
        .value(":active", s(AccountStatus::Active.as_str()))
        .value(":p", pending_value(pending));
    let profile = match seen {
        Some(id) => profile.name("#id", "id").value(":seen", s(id)),
        None => profile,
    };
    let (profile, caller_check) = with_authority(profile, authority);
    let guard = |op| within_session(spending_token(op, Purpose::HandoverAccount, token_hash), Some(session));
    match caller_check {
        Some(check) => (profile, Some(guard(check))),
        None => (guard(profile), None),
    }
}

/// Puts back the pending handover `mine` replaced (`None`: none), unless another has replaced it since.
pub fn pending_restoring(target: &AccountId, mine: &str, previous: Option<&PendingHandover>) -> Op {
    match previous {
        Some(p) => Op::update(keys::profile(target), "SET #hp = :prev").value(":prev", pending_value(p)),
        None => Op::update(keys::profile(target), "REMOVE #hp"),
    }
    .when("#hp.#id = :mine")
    .name("#hp", PENDING)
    .name("#id", "id")
    .value(":mine", s(mine))
}

/// A credential is linked: the links version goes up, on an active profile with no handover running
/// (its pages were read already, so a credential linked now would survive it).
pub fn links_bumped(account: &AccountId) -> Op {
    Op::update(keys::profile(account), "ADD #lv :one")
        .when("#status = :active AND attribute_not_exists(#hip)")
        .name("#status", "status")
        .name("#hip", IN_PROGRESS)
        .name("#lv", LINKS_VERSION)
        .value(":active", s(AccountStatus::Active.as_str()))
        .value(":one", n(1))
}

/// Sets contacts kept apart (at least one) and bumps the links version, on an active profile with
/// no handover pending or running: a contact set then would be the previous holder's way back in.
pub fn contacts_setting(account: &AccountId, contacts: &[(ContactSlot, String)]) -> Op {
    let sets: Vec<String> = (0..contacts.len()).map(|i| format!("#c{i} = :c{i}")).collect();
    let op = Op::update(keys::profile(account), format!("SET {} ADD #lv :one", sets.join(", ")))
        .when("#status = :active AND attribute_not_exists(#hp) AND attribute_not_exists(#hip)")
        .name("#status", "status")
        .name("#hp", PENDING)
        .name("#hip", IN_PROGRESS)
        .name("#lv", LINKS_VERSION)
        .value(":active", s(AccountStatus::Active.as_str()))
        .value(":one", n(1));
    contacts
        .iter()
        .enumerate()
        .fold(op, |op, (i, (slot, value))| op.name(&format!("#c{i}"), slot.name()).value(&format!(":c{i}"), s(value)))
}

/// The update that gives the account to the designated person; the caller adds the conditions.
/// `marker` is the attribute the change removes (the pending handover, or the running one's id).
fn rebinding(target: &AccountId, r: &Rebinding, handover_id: &str, now: i64, marker: &str) -> Op {
    let mut sets = vec!["email = :email", "#prr = :true", "#sra = :now", "#hoa = :now", "#last = :hid"]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    let mut removes = vec!["#marker".to_string(), "#mas".to_string(), "#res".to_string()];
    // Every code, failure streak and token of the previous holder ends here.
    let verification = verification_attrs();
    removes.extend((0..verification.len()).map(|i| format!("#v{i}")));
    let mut names =
        vec![("#prr".to_string(), "password_reset_required".to_string()), ("#sra".into(), SESSIONS_REVOKED_AT.into())];
    names.extend([
        ("#hoa".to_string(), "handed_over_at".to_string()),
        ("#last".into(), "last_handover_id".into()),
        ("#marker".into(), marker.into()),
        ("#mas".into(), IN_PROGRESS_AS.into()),
        ("#res".into(), RESERVED.into()),
    ]);
    names.extend(verification.into_iter().enumerate().map(|(i, a)| (format!("#v{i}"), a)));
    let mut values = vec![
        (":email".to_string(), s(r.email.as_str())),
        (":true".into(), AttributeValue::Bool(true)),
        (":now".into(), n(now)),
        (":hid".into(), s(handover_id)),
    ];
    match &r.phone {
        Some(phone) => {
            sets.push("phone = :phone".into());
            values.push((":phone".into(), s(phone.as_str())));
        }
        None => removes.push("phone".into()),
    }
    names.push(("#name".into(), "name".into()));
    match &r.name {
        Some(name) => {
            sets.push("#name = :name".into());
            values.push((":name".into(), s(name)));
        }
        None => removes.push("#name".into()),
    }
    for (i, (slot, value)) in r.contacts.iter().enumerate() {
        names.push((format!("#c{i}"), slot.name()));
        match value {
            Some(v) => {
                sets.push(format!("#c{i} = :c{i}"));
                values.push((format!(":c{i}"), s(v)));
            }
            None => removes.push(format!("#c{i}")),
        }
    }
    let op = Op::update(keys::profile(target), format!("SET {} REMOVE {}", sets.join(", "), removes.join(", ")));
    let op = names.into_iter().fold(op, |op, (p, a)| op.name(&p, a));
    values.into_iter().fold(op, |op, (p, v)| op.value(&p, v))
}

/// The profile must be active, still bind the email it was read with, and `extra`.
fn active_with(op: Op, change: &HandoverChange<'_>, extra: &str) -> Op {
    let condition = format!(
        "#status = :active AND {extra} AND {}{}",
        if change.old_email.is_some() { "email = :old_email" } else { "attribute_not_exists(email)" },
        authority_condition(change.authority)
    );
    let op = op.when(condition).name("#status", "status").value(":active", s(AccountStatus::Active.as_str()));
    match change.old_email {
        Some(e) => op.value(":old_email", s(e.as_str())),
        None => op,
    }
}

/// The whole handover in one transaction: rebinds the profile if the pending handover is still
/// `change`'s and no credential was linked nor contact set since it was read at `links_version`.
/// The second op is the administrator's check.
pub fn committing(change: &HandoverChange<'_>, links_version: u64, rebound: &Rebinding) -> (Op, Option<Op>) {
    let profile = rebinding(change.target, rebound, change.handover_id, change.now, PENDING);
    let unchanged = if links_version == 0 { "attribute_not_exists(#lv)" } else { "#lv = :lv" };
    let profile = active_with(profile, change, &format!("#marker.#id = :hid AND {unchanged}"))
        .name("#id", "id")
        .name("#lv", LINKS_VERSION);
    let profile = if links_version == 0 { profile } else { profile.value(":lv", n(links_version)) };
    let profile = spending_token(profile, Purpose::ConfirmHandover, change.token_hash);
    with_authority(profile, change.authority)
}

/// A handover too large for one transaction begins: the pending one becomes the running one, with
/// the identifiers it takes and, for an administrator's, their role. The second op is the administrator's check.
pub fn accepting(change: &HandoverChange<'_>) -> (Op, Option<Op>) {
    let reserved = AttributeValue::L(change.take.iter().map(identifier_value).collect());
    let running_as = match change.authority {
        Authority::Own => None,
        Authority::Administrator { caller_role, .. } => Some(caller_role.as_str()),
    };
    let expression = match running_as {
        None => "SET #hip = :hid, #res = :res REMOVE #hp",
        Some(_) => "SET #hip = :hid, #res = :res, #hipas = :hipas REMOVE #hp",
    };
    let mut profile = Op::update(keys::profile(change.target), expression);
    if let Some(role) = running_as {
        profile = profile.name("#hipas", IN_PROGRESS_AS).value(":hipas", s(role));
    }
    let profile = profile
        .name("#res", RESERVED)
        .value(":res", reserved)
        .name("#hp", PENDING)
        .name("#hip", IN_PROGRESS)
        .name("#id", "id")
        .value(":hid", s(change.handover_id));
    let profile =
        spending_token(active_with(profile, change, "#hp.#id = :hid"), Purpose::ConfirmHandover, change.token_hash);
    with_authority(profile, change.authority)
}

/// The account is active and under the running handover `handover_id`.
pub fn under_handover(target: &AccountId, handover_id: &str) -> Op {
    Op::check(keys::profile(target), "#status = :active AND #hip = :hid")
        .name("#status", "status")
        .name("#hip", IN_PROGRESS)
        .value(":active", s(AccountStatus::Active.as_str()))
        .value(":hid", s(handover_id))
}

/// The running handover `handover_id` ends in the rebinding.
pub fn finishing(target: &AccountId, handover_id: &str, rebound: &Rebinding, now: i64) -> Op {
    rebinding(target, rebound, handover_id, now, IN_PROGRESS)
        .when("#status = :active AND #marker = :hid")
        .name("#status", "status")
        .value(":active", s(AccountStatus::Active.as_str()))
}
