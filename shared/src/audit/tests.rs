//! The checks over items decoded from raw attributes, without DynamoDB: the states a
//! running operation leaves between its transactions, and the masking of claim keys.
//! tests/tests/journeys/audit.rs breaks a real table, one invariant at a time.

use super::checks::{findings, shown};
use super::table::Table;
use super::Invariant;
use crate::store::scan::decode;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// An item as the SDK holds it: the tests write raw attributes, as a table would hold them.
type Item = HashMap<String, AttributeValue>;

const NOW: i64 = 1_800_000_000;

fn item(pairs: &[(&str, &str)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| {
            let value = match v.strip_prefix("n:") {
                Some(n) => AttributeValue::N(n.to_string()),
                None => AttributeValue::S(v.to_string()),
            };
            (k.to_string(), value)
        })
        .collect()
}

fn audit(items: &[Item]) -> Vec<(Invariant, String)> {
    let mut table = Table::default();
    for i in items {
        table.ingest(decode(i), NOW);
    }
    let mut found: Vec<_> = findings(&table, NOW).into_iter().map(|f| (f.invariant, f.key)).collect();
    found.sort();
    found
}

fn profile(id: &str, status: &str, extra: &[(&str, &str)]) -> Item {
    let pk = format!("ACCOUNT#{id}");
    let mut pairs = vec![("pk", pk.as_str()), ("sk", "PROFILE"), ("account_id", id), ("status", status)];
    pairs.push(("role", "individual"));
    pairs.extend_from_slice(extra);
    item(&pairs)
}

fn claim(kind: &str, value: &str, owner: &str) -> Item {
    let pk = format!("CLAIM#{}#{value}", kind.to_ascii_uppercase());
    item(&[("pk", &pk), ("sk", "CLAIM"), ("owner", owner), ("claimed_at", "n:1")])
}

fn job(kind: &str, subject: &str, due_at: i64) -> Item {
    let pk = format!("JOB#{kind}#{subject}");
    let due = format!("n:{due_at}");
    // The step a job of the kind starts at (the model's `JobStep`: an unreadable one is malformed).
    let step = match kind {
        "deletion" => "purge",
        "dismissal" => "release",
        _ => "rebind",
    };
    item(&[
        ("pk", &pk),
        ("sk", "JOB"),
        ("kind", kind),
        ("subject", subject),
        ("step", step),
        ("due_bucket", "job"),
        ("due_at", &due),
    ])
}

#[test]
fn a_purge_under_way_is_no_violation() {
    // Accepted, half purged: the profile is deleting, its job due, some items gone, claims still held.
    let items = [
        profile("bob", "deleting", &[("email", "bob@example.com")]),
        claim("email", "bob@example.com", "bob"),
        item(&[("pk", "ACCOUNT#bob"), ("sk", "DATA#000090")]),
        job("deletion", "bob", NOW + 60),
    ];
    assert_eq!(audit(&items), vec![]);
    // Without its job nothing would finish it.
    assert_eq!(audit(&items[..3]), vec![(Invariant::DeletionJobMatchesAccount, "ACCOUNT#bob/PROFILE".into())]);
}

#[test]
fn a_dismissal_under_way_is_no_violation() {
    // Released carol (notice pending), dropped a deleted member's membership not yet: the job carries on.
    let items = [
        item(&[("pk", "ENTERPRISE#acme"), ("sk", "META"), ("enterprise_id", "acme"), ("status", "dismissing")]),
        item(&[("pk", "ENTERPRISE#acme"), ("sk", "MEMBER#carol"), ("account_id", "carol"), ("notice", "pending")]),
        item(&[("pk", "ENTERPRISE#acme"), ("sk", "MEMBER#gone"), ("account_id", "gone")]),
        profile("carol", "active", &[]),
        job("dismissal", "acme", NOW + 60),
    ];
    assert_eq!(audit(&items), vec![]);
}

#[test]
fn a_claim_a_running_handover_reserved_is_held() {
    let reserved = AttributeValue::L(vec![AttributeValue::M(
        [
            ("kind".to_string(), AttributeValue::S("email".into())),
            ("value".to_string(), AttributeValue::S("new@example.com".into())),
        ]
        .into(),
    )]);
    let mut erin = profile("erin", "active", &[("handover_in_progress", "ho_1")]);
    erin.insert("handover_reserved".into(), reserved);
    let items = [erin, claim("email", "new@example.com", "erin"), job("handover", "erin", NOW + 60)];
    assert_eq!(audit(&items), vec![]);
    assert_eq!(
        audit(&items[1..]),
        vec![(Invariant::ClaimOfMissingAccount, "CLAIM#EMAIL#n***w@example.com/CLAIM".into())]
    );
}

#[test]
fn claim_keys_are_shown_masked() {
    let shown_as = |pk: &str, sk: &str| shown(&decode(&item(&[("pk", pk), ("sk", sk)])).key);
    assert_eq!(shown_as("CLAIM#EMAIL#alice@example.com", "CLAIM"), "CLAIM#EMAIL#a***e@example.com/CLAIM");
    assert_eq!(shown_as("CLAIM#PHONE#+8613800000001", "CLAIM"), "CLAIM#PHONE#+86***01/CLAIM");
    assert_eq!(shown_as("CLAIM#USERNAME#alice", "CLAIM"), "CLAIM#USERNAME#a***/CLAIM");
    assert_eq!(shown_as("ACCOUNT#alice", "PROFILE"), "ACCOUNT#alice/PROFILE");
}

#[test]
fn every_invariant_has_a_unique_name_and_a_row_in_the_docs() {
    let doc = include_str!("../../../docs/audit.md");
    let mut names: Vec<&str> = Invariant::ALL.iter().map(|i| i.as_str()).collect();
    for name in &names {
        assert!(doc.contains(&format!("| `{name}` |")), "docs/audit.md has no row for {name}");
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), Invariant::ALL.len());
}
