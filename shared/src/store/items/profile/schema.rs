//! The profile's attributes, and how they read into the model; with the two
//! conditions every write on the caller's own profile adds (the session, the token).

use crate::model::account::{Account, AccountStatus, PendingBy, Role};
use crate::model::code::{CodeSlot, CodeState};
use crate::model::handover::contacts::ContactSlot;
use crate::model::handover::pending::{IamUsers, NewOwner, PendingHandover};
use crate::model::handover::view::HandoverView;
use crate::model::ids::{AccountId, EmailAddress, Identifier, PhoneNumber, Username};
use crate::model::locale::Locale;
use crate::model::purpose::Purpose;
use crate::model::session::Session;
use crate::store::error::StoreError;
use crate::store::items::{n, s, Item, ItemExt};
use crate::store::op::Op;

/// Written by a handover: sessions signed in before it are refused.
pub const SESSIONS_REVOKED_AT: &str = "sessions_revoked_at";
/// A handover waiting for its confirmation code (a map).
pub const PENDING: &str = "handover_pending";
/// The id of a handover too large for one transaction, while it runs.
pub const IN_PROGRESS: &str = "handover_in_progress";
/// Beside `IN_PROGRESS` when an administrator carries the handover out: their role, which the holder may not overrule.
pub const IN_PROGRESS_AS: &str = "handover_in_progress_as";
/// While a handover runs in several transactions: the identifiers it claimed (a list of `{kind, value}`).
pub const RESERVED: &str = "handover_reserved";
/// The count of credentials linked and contacts set (`HandoverView::links_version`).
pub const LINKS_VERSION: &str = "links_version";
/// In a code's slot: the id of the last request that spent an attempt on it (a lost answer's retry is known by it).
pub const ATTEMPT: &str = "attempt_id";

/// The hash of the one token of a purpose the account may still spend; a handover removes it.
pub fn token_attr(purpose: Purpose) -> String {
    format!("token_{purpose}")
}

/// A purpose's code and its send history (a map).
pub fn slot_attr(purpose: Purpose) -> String {
    format!("code_{purpose}")
}

/// Wrong codes in a row for a purpose.
pub fn failures_attr(purpose: Purpose) -> String {
    format!("failures_{purpose}")
}

pub fn last_failure_attr(purpose: Purpose) -> String {
    format!("last_failure_{purpose}")
}

/// Every code, failure streak and token attribute a handover ends.
pub fn verification_attrs() -> Vec<String> {
    Purpose::ALL
        .iter()
        .flat_map(|p| [slot_attr(*p), failures_attr(*p), last_failure_attr(*p), token_attr(*p)])
        .collect()
}

pub fn account_from_item(item: &Item) -> Result<Account, StoreError> {
    let id = item.str("account_id").and_then(AccountId::parse);
    let role = item.str("role").and_then(Role::parse);
    let status = item.str("status").and_then(AccountStatus::parse);
    let (Some(id), Some(role), Some(status)) = (id, role, status) else {
        return Err(StoreError::Malformed(item.str("pk").unwrap_or("profile").to_string()));
    };
    Ok(Account {
        username: item.str("username").and_then(|v| Username::parse(v).ok()),
        email: item.str("email").and_then(|v| EmailAddress::parse(v).ok()),
        phone: item.str("phone").and_then(|v| PhoneNumber::parse(v).ok()),
        name: item.str("name").map(String::from),
        enterprise_id: item.str("enterprise_id").map(String::from),
        locale: item.str("locale").and_then(Locale::parse).unwrap_or_default(),
        hold_count: item.num("hold_count").unwrap_or(0).max(0) as u32,
        sessions_revoked_at: item.num(SESSIONS_REVOKED_AT),
        pending_handover: item.map(PENDING).and_then(|m| {
            Some(PendingBy {
                id: m.str("id")?.to_string(),
                requested_by: m.str("requested_by").and_then(AccountId::parse)?,
                requested_as: m.str("requested_as").and_then(Role::parse),
                expires_at: m.num("expires_at").unwrap_or(0),
            })
        }),
        handover_running_as: item.str(IN_PROGRESS_AS).and_then(Role::parse),
        reserved: item
            .get(RESERVED)
            .and_then(|v| v.as_l().ok())
            .map(|list| list.iter().filter_map(|v| v.as_m().ok()).filter_map(identifier_from_map).collect())
            .unwrap_or_default(),
        live_tokens: Purpose::ALL.iter().filter_map(|p| item.str(&token_attr(*p)).map(String::from)).collect(),
        id,
        role,
        status,
    })
}

/// `{kind, value}`, as a handover records what it claimed.
pub fn identifier_value(id: &Identifier) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::M(Item::from([
        ("kind".to_string(), s(id.kind())),
        ("value".to_string(), s(id.value())),
    ]))
}

fn identifier_from_map(m: &Item) -> Option<Identifier> {
    let value = m.str("value")?;
    match m.str("kind")? {
        "email" => EmailAddress::parse(value).ok().map(Identifier::Email),
        "phone" => PhoneNumber::parse(value).ok().map(Identifier::Phone),
        "username" => Username::parse(value).ok().map(Identifier::Username),
        _ => None,
    }
}

/// The profile as the code rules of `purpose` need it.
pub fn code_state_from_item(item: &Item, purpose: Purpose) -> Result<CodeState, StoreError> {
    let slot = item.map(&slot_attr(purpose)).map(|m| CodeSlot {
        hash: m.str("hash").map(String::from),
        expires_at: m.num("expires_at").unwrap_or(0),
        attempts_left: m.num("attempts_left").unwrap_or(0).max(0) as u32,
        sent_at: m.num("sent_at").unwrap_or(0),
        window_start: m.num("window_start").unwrap_or(0),
        window_sends: m.num("window_sends").unwrap_or(0).max(0) as u32,
    });
    Ok(CodeState {
        account: account_from_item(item)?,
        slot,
        failures: item.num(&failures_attr(purpose)).unwrap_or(0).max(0) as u32,
        last_failure_at: item.num(&last_failure_attr(purpose)).unwrap_or(0),
        token: item.str(&token_attr(purpose)).map(String::from),
    })
}

/// A text field of the purpose's slot as stored (`hash`, [`ATTEMPT`]).
pub fn slot_field<'i>(item: &'i Item, purpose: Purpose, field: &str) -> Option<&'i str> {
    item.map(&slot_attr(purpose)).and_then(|m| m.str(field))
}

pub fn slot_value(slot: &CodeSlot) -> aws_sdk_dynamodb::types::AttributeValue {
    let mut m = Item::from([
        ("expires_at".into(), n(slot.expires_at)),
        ("attempts_left".into(), n(slot.attempts_left)),
        ("sent_at".into(), n(slot.sent_at)),
        ("window_start".into(), n(slot.window_start)),
        ("window_sends".into(), n(slot.window_sends)),
    ]);
    if let Some(h) = &slot.hash {
        m.insert("hash".into(), s(h.clone()));
    }
    aws_sdk_dynamodb::types::AttributeValue::M(m)
}

/// The profile as a handover reads it (no credentials: they are items of their own).
pub fn view_from_profile(item: &Item) -> Result<HandoverView, StoreError> {
    Ok(HandoverView {
        account: account_from_item(item)?,
        pending: item.map(PENDING).map(pending_from_map).transpose()?,
        in_progress: item.str(IN_PROGRESS).map(String::from),
        contacts: ContactSlot::ALL
            .iter()
            .filter_map(|slot| Some((*slot, item.str(&slot.name())?.to_string())))
            .collect(),
        credentials: Vec::new(),
        complete: true,
        links_version: item.num(LINKS_VERSION).unwrap_or(0).max(0) as u64,
    })
}

pub fn pending_value(p: &PendingHandover) -> aws_sdk_dynamodb::types::AttributeValue {
    let mut m = Item::from([
        ("id".into(), s(&p.id)),
        ("new_email".into(), s(p.owner.email.as_str())),
        ("iam_users".into(), s(p.iam_users.as_str())),
        ("requested_by".into(), s(p.requested_by.as_str())),
        ("requested_at".into(), n(p.requested_at)),
        ("expires_at".into(), n(p.expires_at)),
    ]);
    if let Some(role) = p.requested_as {
        m.insert("requested_as".into(), s(role.as_str()));
    }
    if let Some(phone) = &p.owner.phone {
        m.insert("new_phone".into(), s(phone.as_str()));
    }
    if let Some(name) = &p.owner.name {
        m.insert("new_name".into(), s(name));
    }
    aws_sdk_dynamodb::types::AttributeValue::M(m)
}

fn pending_from_map(m: &Item) -> Result<PendingHandover, StoreError> {
    let bad = || StoreError::Malformed(PENDING.into());
    Ok(PendingHandover {
        id: m.str("id").ok_or_else(bad)?.to_string(),
        owner: NewOwner {
            email: m.str("new_email").and_then(|v| EmailAddress::parse(v).ok()).ok_or_else(bad)?,
            phone: m.str("new_phone").map(PhoneNumber::parse).transpose().map_err(|_| bad())?,
            name: m.str("new_name").map(String::from),
        },
        iam_users: if m.str("iam_users") == Some("delete") { IamUsers::Delete } else { IamUsers::ResetPassword },
        requested_by: m.str("requested_by").and_then(AccountId::parse).ok_or_else(bad)?,
        requested_as: m.str("requested_as").and_then(Role::parse),
        requested_at: m.num("requested_at").unwrap_or(0),
        expires_at: m.num("expires_at").unwrap_or(0),
    })
}

/// A write on the caller's own profile holds only for a session (signed in and issued) from after the account's last handover.
pub fn within_session(op: Op, session: Option<Session>) -> Op {
    let Some(session) = session else { return op };
    let op = op.name("#srev", SESSIONS_REVOKED_AT);
    match session.since() {
        Some(since) => op.and_when("attribute_not_exists(#srev) OR #srev < :since").value(":since", n(since)),
        None => op.and_when("attribute_not_exists(#srev)"),
    }
}

/// A transaction spending a token holds only while the profile still lists it (a handover ends it).
pub fn spending_token(op: Op, purpose: Purpose, token_hash: &str) -> Op {
    op.and_when("#ltok = :ltok").name("#ltok", token_attr(purpose)).value(":ltok", s(token_hash))
}
