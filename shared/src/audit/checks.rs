//! The audit's checks: what an item breaks on its own ([`item_findings`], as it is
//! read) and what the items break together ([`findings`], once the table is read).
//! Each finding names the partitions it read, so the audit can read them again to
//! confirm it. docs/audit.md explains every invariant and the states a running
//! operation leaves that the checks accept.

use super::table::Table;
use super::Invariant;
use crate::model::account::{AccountStatus, Role};
use crate::model::due::DueBucket;
use crate::model::enterprise::EnterpriseStatus;
use crate::model::ids::EmailAddress;
use crate::model::job::{JobKind, LEASE_SECONDS};
use crate::model::ledger::ErasureStatus;
use crate::store::scan::{ItemKey, ItemKind, Partition, ProfileItem, ScannedItem};
use std::collections::HashMap;

/// A lease is written as the writer's now plus [`LEASE_SECONDS`]; this much clock skew between writers is not a fault.
const CLOCK_SKEW_SECONDS: i64 = 60;

/// What a receipt, a ledger entry and a cancellation record may carry (docs/key-design.md): ids, times, counts.
const RECEIPT_ATTRIBUTES: [&str; 12] = [
    "pk",
    "sk",
    "kind",
    "receipt_id",
    "account_id",
    "requested_at",
    "exports_removed",
    "deleted_at",
    "items_removed",
    "identifiers_released",
    "memberships_removed",
    "identifiers_free_at",
];
const LEDGER_ATTRIBUTES: [&str; 16] = [
    "pk",
    "sk",
    "kind",
    "account_id",
    "receipt_id",
    "system",
    "status",
    "ground",
    "deleted_at",
    "deadline_at",
    "announced_at",
    "announcements",
    "reported_at",
    "overdue_at",
    "due_bucket",
    "due_at",
];
const CANCELLATION_ATTRIBUTES: [&str; 7] =
    ["pk", "sk", "kind", "account_id", "receipt_id", "requested_at", "cancelled_at"];

/// A violation as the checks find it, with the partitions it was decided on.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub invariant: Invariant,
    pub key: String,
    pub detail: String,
    pub involves: Vec<Partition>,
}

fn found(invariant: Invariant, key: String, detail: String, involves: &[&Partition]) -> Found {
    Found { invariant, key, detail, involves: involves.iter().map(|p| (*p).clone()).collect() }
}

/// `pk/sk`, with a claim's value masked: the key of a claim is an email, phone or username.
pub(super) fn shown(key: &ItemKey) -> String {
    key.shown(masked)
}

/// Enough of an identifier for its holder to recognise, not enough to harvest.
fn masked(kind: &str, value: &str) -> String {
    let first: String = value.chars().take(1).collect();
    match kind {
        "email" => EmailAddress::parse(value).map(|e| e.masked()).unwrap_or_else(|_| format!("{first}***")),
        // The country code's first digits and the last two.
        "phone" => {
            let chars: Vec<char> = value.chars().collect();
            let head: String = chars.iter().take(3).collect();
            let tail: String = chars.iter().skip(chars.len().saturating_sub(2).max(3)).collect();
            format!("{head}***{tail}")
        }
        _ => format!("{first}***"),
    }
}

/// What one item breaks on its own.
pub(super) fn item_findings(item: &ScannedItem, now: i64) -> Vec<Found> {
    let pk = &item.key.partition;
    let key = || shown(&item.key);
    let one = |invariant, detail: String| vec![found(invariant, key(), detail, &[pk])];
    match &item.kind {
        ItemKind::Unknown => one(Invariant::KnownItemKind, "no kind of item in docs/key-design.md has this key".into()),
        ItemKind::Malformed { kind, reason } => {
            one(Invariant::ItemWellFormed, format!("a {kind} whose attributes do not decode: {reason}"))
        }
        ItemKind::Claim(claim) if claim.owner.is_none() && !claim.due.is_in(DueBucket::Claim) => one(
            Invariant::InDueIndex,
            format!(
                "a {} claim in quarantine outside the due index ({}): cleanup never frees it",
                claim.kind,
                DueBucket::Claim.as_str()
            ),
        ),
        ItemKind::Token(token) => {
            let mut out = Vec::new();
            if !is_keyed_hash(&token.hash) {
                let detail =
                    format!("a token of account {} kept under something that is not a keyed hash", token.account);
                out.push(found(Invariant::StoredOnlyHashed, key(), detail, &[pk]));
            }
            if !token.due.is_in(DueBucket::Token) {
                let detail = format!(
                    "a token of account {} outside the due index ({}): cleanup never removes it",
                    token.account,
                    DueBucket::Token.as_str()
                );
                out.push(found(Invariant::InDueIndex, key(), detail, &[pk]));
            }
            out
        }
        ItemKind::Profile(profile) => profile
            .stored_secrets
            .iter()
            .filter(|(_, value)| !is_keyed_hash(value))
            .map(|(name, _)| {
                let detail = format!("the profile's {name} is not a keyed hash: a code or token stored as it was sent");
                found(Invariant::StoredOnlyHashed, key(), detail, &[pk])
            })
            .collect(),
        ItemKind::Job(job) => {
            let lease_end = now + LEASE_SECONDS + CLOCK_SKEW_SECONDS;
            if !job.due.is_in(DueBucket::Job) {
                one(
                    Invariant::JobLeasedOrDue,
                    format!(
                        "a {} job outside the due index ({}): if its worker dies, no cleanup run takes it over",
                        job.job.kind.as_str(),
                        DueBucket::Job.as_str()
                    ),
                )
            } else if job.job.lease_owner.is_some() && job.due.at.is_some_and(|at| at > lease_end) {
                one(
                    Invariant::JobLeasedOrDue,
                    format!(
                        "a {} job leased until {}, more than a lease ({LEASE_SECONDS} s) from now: a dead worker's lease would not lapse",
                        job.job.kind.as_str(),
                        job.due.at.unwrap_or_default()
                    ),
                )
            } else {
                Vec::new()
            }
        }
        ItemKind::Receipt(receipt) => {
            let mut out = extra_attributes("receipt", &receipt.attributes, &RECEIPT_ATTRIBUTES, key(), pk);
            if receipt.kind.as_deref() != Some("account_deletion") || receipt.receipt_id.is_none() {
                out.push(found(
                    Invariant::ItemWellFormed,
                    key(),
                    "a receipt without kind account_deletion or without receipt_id".into(),
                    &[pk],
                ));
            }
            out
        }
        ItemKind::Ledger(entry) => {
            let mut out = extra_attributes("ledger entry", &entry.attributes, &LEDGER_ATTRIBUTES, key(), pk);
            let pending = entry.entry.status == ErasureStatus::Pending;
            if pending && !entry.due.is_in(DueBucket::Ledger) {
                out.push(found(
                    Invariant::InDueIndex,
                    key(),
                    format!("a pending ledger entry outside the due index ({}): it is never announced again nor marked overdue", DueBucket::Ledger.as_str()),
                    &[pk],
                ));
            }
            if !pending && entry.due.bucket.is_some() {
                out.push(found(
                    Invariant::InDueIndex,
                    key(),
                    format!("a ledger entry {} but still in the due index", entry.entry.status.as_str()),
                    &[pk],
                ));
            }
            out
        }
        ItemKind::Cancellation { attributes, .. } => {
            extra_attributes("cancellation record", attributes, &CANCELLATION_ATTRIBUTES, key(), pk)
        }
        _ => Vec::new(),
    }
}

/// What `crypto::keyed_hash` writes: an HMAC-SHA256 in 64 lowercase hex digits.
fn is_keyed_hash(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// An item kept on purpose carries only the attributes the key design lists for it: names are reported, never values.
fn extra_attributes(kind: &str, attributes: &[String], allowed: &[&str], key: String, pk: &Partition) -> Vec<Found> {
    let extra: Vec<&str> = attributes.iter().map(String::as_str).filter(|a| !allowed.contains(a)).collect();
    if extra.is_empty() {
        return Vec::new();
    }
    let detail = format!("a {kind} carries attributes docs/key-design.md does not list for it: {}", extra.join(", "));
    vec![found(Invariant::NoPersonalDataKept, key, detail, &[pk])]
}

/// What the items break together, and what each broke on its own.
pub(super) fn findings(t: &Table, now: i64) -> Vec<Found> {
    let mut out: Vec<Found> = t.item_findings.values().flatten().cloned().collect();
    profiles(t, &mut out);
    claims(t, &mut out);
    account_items(t, &mut out);
    tokens(t, now, &mut out);
    jobs(t, &mut out);
    receipts_and_ledgers(t, &mut out);
    enterprises(t, &mut out);
    memberships(t, &mut out);
    out
}

fn profiles(t: &Table, out: &mut Vec<Found>) {
    for (pk, profile) in &t.profiles {
        let account = &profile.account;
        let (id, status) = (account.id.as_str(), account.status);
        let key = shown(&profile.key);
        // Every status keeps its claims: they go only with the profile, in the deletion's final transaction.
        for identifier in account.identifiers() {
            let (kind, claim_pk) = (identifier.kind(), Partition::claim(&identifier));
            let wrong = match t.claims.get(&claim_pk).map(|c| c.owner.as_deref()) {
                None => format!("its {kind} has no claim: another account can take it"),
                Some(None) => format!("its {kind}'s claim is in quarantine: another account can take it"),
                Some(Some(owner)) if owner != id => format!("its {kind} is claimed by account {owner}"),
                Some(Some(_)) => continue,
            };
            out.push(found(Invariant::IdentifierClaimed, key.clone(), wrong, &[pk, &claim_pk]));
        }
        let holds = t.account_items.get(pk).map_or(0, |items| items.holds);
        if profile.hold_count != holds as i64 {
            let detail = format!("hold_count is {} but the account has {holds} hold items", profile.hold_count);
            out.push(found(Invariant::HoldCountMatches, key.clone(), detail, &[pk]));
        }
        let deletion_job = Partition::Job(JobKind::Deletion, id.to_string());
        let locked = matches!(status, AccountStatus::Deleting | AccountStatus::DeletionScheduled);
        if locked && !t.jobs.contains_key(&deletion_job) {
            let detail = format!("status {} but no deletion job: nothing finishes the deletion", status.as_str());
            out.push(found(Invariant::DeletionJobMatchesAccount, key.clone(), detail, &[pk, &deletion_job]));
        }
        // A deletion overtaking the holder's own handover leaves the marker; the purge ends both.
        let handover_job = Partition::Job(JobKind::Handover, id.to_string());
        if status == AccountStatus::Active
            && profile.handover_in_progress.is_some()
            && !t.jobs.contains_key(&handover_job)
        {
            let detail =
                "a handover is under way (handover_in_progress) but its job is gone: the account stays locked".into();
            out.push(found(Invariant::HandoverJobExists, key.clone(), detail, &[pk, &handover_job]));
        }
        // A purge keeps the profile's enterprise until its final transaction, which removes the membership too.
        if status.is_live() {
            profile_enterprise(t, pk, profile, &key, out);
        }
    }
}

fn profile_enterprise(t: &Table, pk: &Partition, profile: &ProfileItem, key: &str, out: &mut Vec<Found>) {
    let account = &profile.account;
    let Some(enterprise) = &account.enterprise_id else {
        if account.role != Role::Individual {
            let detail = format!("role {} without an enterprise", account.role.as_str());
            out.push(found(Invariant::ProfileEnterpriseConsistent, key.into(), detail, &[pk]));
        }
        return;
    };
    let enterprise_pk = Partition::Enterprise(enterprise.clone());
    let involves = [pk, &enterprise_pk];
    let wrong = match t.enterprises.get(&enterprise_pk).map(|e| e.status) {
        None => Some((
            Invariant::ProfileEnterpriseConsistent,
            format!("names enterprise {enterprise}, which does not exist"),
        )),
        Some(EnterpriseStatus::Dismissed) => Some((
            Invariant::NoMemberOfDismissedEnterprise,
            format!("names enterprise {enterprise}, which is dismissed"),
        )),
        Some(_) if account.role == Role::Individual => Some((
            Invariant::ProfileEnterpriseConsistent,
            format!("role individual, yet names enterprise {enterprise}"),
        )),
        Some(_) => {
            let listed =
                t.memberships.get(&enterprise_pk).is_some_and(|m| m.iter().any(|m| m.account == account.id.as_str()));
            (!listed).then(|| {
                (
                    Invariant::ProfileEnterpriseConsistent,
                    format!("names enterprise {enterprise}, which has no membership of it"),
                )
            })
        }
    };
    if let Some((invariant, detail)) = wrong {
        out.push(found(invariant, key.into(), detail, &involves));
    }
}

fn claims(t: &Table, out: &mut Vec<Found>) {
    for (pk, claim) in &t.claims {
        let Some(owner) = &claim.owner else { continue };
        let profile_pk = Partition::Account(owner.clone());
        let key = shown(&claim.key);
        match t.profiles.get(&profile_pk) {
            None => {
                let detail = format!(
                    "the {} claimed for account {owner}, which has no profile: it can never be taken again",
                    claim.kind
                );
                out.push(found(Invariant::ClaimOfMissingAccount, key, detail, &[pk, &profile_pk]));
            }
            Some(profile) => {
                let same = |kind: &str, value: &str| kind == claim.kind && value == claim.value;
                let account = &profile.account;
                let held = account.identifiers().iter().chain(&account.reserved).any(|i| same(i.kind(), i.value()));
                if !held {
                    let detail =
                        format!("the {} claimed for account {owner}, which neither holds nor reserves it", claim.kind);
                    out.push(found(Invariant::ClaimNotHeldByOwner, key, detail, &[pk, &profile_pk]));
                }
            }
        }
    }
}

fn account_items(t: &Table, out: &mut Vec<Found>) {
    for (pk, items) in &t.account_items {
        if t.profiles.contains_key(pk) {
            continue;
        }
        let Partition::Account(account) = pk else { continue };
        let detail = format!(
            "account {account} has no profile, yet {} items ({} holds) under it: a deletion left them",
            items.items, items.holds
        );
        // Counted only with an item read, so there is a first one.
        let Some(first) = &items.first else { continue };
        out.push(found(Invariant::AccountItemWithoutProfile, shown(first), detail, &[pk]));
    }
}

fn tokens(t: &Table, now: i64, out: &mut Vec<Found>) {
    for (pk, token) in &t.tokens {
        let profile_pk = Partition::Account(token.account.clone());
        if token.expires_at > now && !t.profiles.contains_key(&profile_pk) {
            let detail = format!(
                "a token of account {}, which has no profile, live for {} more seconds",
                token.account,
                token.expires_at - now
            );
            out.push(found(Invariant::TokenOfDeletedAccount, shown(&token.key), detail, &[pk, &profile_pk]));
        }
    }
}

fn jobs(t: &Table, out: &mut Vec<Found>) {
    for (pk, job) in &t.jobs {
        let subject = job.job.subject.as_str();
        let key = shown(&job.key);
        match job.job.kind {
            JobKind::Deletion => {
                let profile_pk = Partition::Account(subject.to_string());
                let wrong = match t.profiles.get(&profile_pk).map(|p| p.account.status) {
                    None => "the account has no profile: the final transaction ends the job with it".to_string(),
                    Some(AccountStatus::Active) => {
                        "the account is active: a cancellation ends the job with the deletion".to_string()
                    }
                    Some(_) => continue,
                };
                out.push(found(Invariant::DeletionJobMatchesAccount, key, wrong, &[pk, &profile_pk]));
            }
            JobKind::Dismissal => {
                let enterprise_pk = Partition::Enterprise(subject.to_string());
                let wrong = match t.enterprises.get(&enterprise_pk).map(|e| e.status) {
                    None => "the enterprise does not exist".to_string(),
                    Some(EnterpriseStatus::Dismissing) => continue,
                    Some(status) => format!("the enterprise is {}: the last transaction ends the job", status.as_str()),
                };
                out.push(found(Invariant::DismissalJobMatchesEnterprise, key, wrong, &[pk, &enterprise_pk]));
            }
            // A handover job outlives the handover's transactions (it mails both parties), even a deletion.
            JobKind::Handover => {}
            JobKind::Export => {
                let profile_pk = Partition::Account(subject.to_string());
                if t.profiles.contains_key(&profile_pk) {
                    continue;
                }
                let wrong = "the account has no profile: its deletion ends the export job first".to_string();
                out.push(found(Invariant::ExportJobMatchesAccount, key, wrong, &[pk, &profile_pk]));
            }
        }
    }
}

fn receipts_and_ledgers(t: &Table, out: &mut Vec<Found>) {
    for (pk, receipt) in &t.receipts {
        let profile_pk = Partition::Account(receipt.account.clone());
        if t.profiles.contains_key(&profile_pk) {
            let detail = format!(
                "account {} has a receipt and a profile: the deletion's final transaction writes one and deletes the other",
                receipt.account
            );
            out.push(found(Invariant::ReceiptOfLiveAccount, shown(&receipt.key), detail, &[pk, &profile_pk]));
        }
    }
    for (pk, entries) in &t.ledgers {
        for entry in entries {
            let receipt_pk = Partition::Receipt(entry.entry.account_id.clone());
            let wrong = match t.receipts.get(&receipt_pk).map(|r| r.receipt_id.as_deref()) {
                None => {
                    format!("no receipt for account {}: the receipt is written with the ledger", entry.entry.account_id)
                }
                Some(id) if id != Some(entry.entry.receipt_id.as_str()) => {
                    format!("names receipt {}, the account's receipt is another", entry.entry.receipt_id)
                }
                Some(_) => continue,
            };
            out.push(found(Invariant::LedgerEntryHasReceipt, shown(&entry.key), wrong, &[pk, &receipt_pk]));
        }
    }
}

fn enterprises(t: &Table, out: &mut Vec<Found>) {
    // Live accounts that say they are the default administrator of each enterprise.
    let mut claimed: HashMap<&str, Vec<&str>> = HashMap::new();
    for profile in t.profiles.values() {
        let account = &profile.account;
        if let (Some(enterprise), Role::DefaultAdmin, true) =
            (&account.enterprise_id, account.role, account.status.is_live())
        {
            claimed.entry(enterprise.as_str()).or_default().push(account.id.as_str());
        }
    }
    for (pk, enterprise) in &t.enterprises {
        let key = shown(&enterprise.key);
        let id = enterprise.id.as_str();
        match enterprise.status {
            EnterpriseStatus::Active => {
                let named = enterprise.default_admin.as_ref().map(|a| a.as_str());
                let admin_pk = named.map(|a| Partition::Account(a.to_string()));
                let wrong = match (named, admin_pk.as_ref().and_then(|p| t.profiles.get(p))) {
                    (None, _) => Some("names no default administrator".to_string()),
                    (Some(admin), None) => Some(format!("its default administrator {admin} has no profile")),
                    (Some(admin), Some(p)) if p.account.status != AccountStatus::Active => {
                        Some(format!("its default administrator {admin} is {}", p.account.status.as_str()))
                    }
                    (Some(admin), Some(p))
                        if p.account.role != Role::DefaultAdmin || p.account.enterprise_id.as_deref() != Some(id) =>
                    {
                        Some(format!("its default administrator {admin} is not a default_admin of this enterprise"))
                    }
                    _ => None,
                };
                let mut involves = vec![pk];
                involves.extend(admin_pk.as_ref());
                if let Some(detail) = wrong {
                    out.push(found(Invariant::EnterpriseHasDefaultAdmin, key.clone(), detail, &involves));
                }
                for other in claimed.get(id).into_iter().flatten().filter(|a| Some(**a) != named) {
                    let other_pk = Partition::Account(other.to_string());
                    let detail = format!("account {other} is a default_admin of it too: one per enterprise");
                    out.push(found(Invariant::EnterpriseHasDefaultAdmin, key.clone(), detail, &[pk, &other_pk]));
                }
            }
            EnterpriseStatus::Dismissing => {
                let job_pk = Partition::Job(JobKind::Dismissal, id.to_string());
                if !t.jobs.contains_key(&job_pk) {
                    let detail = "dismissing, but no dismissal job: its members are never released".into();
                    out.push(found(Invariant::DismissalJobMatchesEnterprise, key, detail, &[pk, &job_pk]));
                }
            }
            EnterpriseStatus::Dismissed => {
                for member in t.memberships.get(pk).into_iter().flatten() {
                    let detail = format!("enterprise {id} is dismissed, yet lists account {}", member.account);
                    let key = shown(&member.key);
                    out.push(found(Invariant::NoMemberOfDismissedEnterprise, key, detail, &[pk]));
                }
            }
        }
    }
}

fn memberships(t: &Table, out: &mut Vec<Found>) {
    for (pk, members) in &t.memberships {
        let status = t.enterprises.get(pk).map(|e| e.status);
        for member in members {
            let key = shown(&member.key);
            let profile_pk = Partition::Account(member.account.clone());
            let wrong = match status {
                None => "its enterprise does not exist".to_string(),
                // Reported as no_member_of_dismissed_enterprise; a dismissal releases, notifies or drops every member.
                Some(EnterpriseStatus::Dismissed | EnterpriseStatus::Dismissing) => continue,
                Some(EnterpriseStatus::Active) if member.notice_pending => {
                    "marked released (notice pending), yet its enterprise is active".to_string()
                }
                Some(EnterpriseStatus::Active) => match t.profiles.get(&profile_pk) {
                    None => format!("account {} has no profile: its deletion left the membership", member.account),
                    Some(p) if p.account.enterprise_id.as_deref() != Some(member.enterprise.as_str()) => {
                        format!("account {} does not name this enterprise", member.account)
                    }
                    Some(_) => continue,
                },
            };
            out.push(found(Invariant::MembershipHasMember, key, wrong, &[pk, &profile_pk]));
        }
    }
}
