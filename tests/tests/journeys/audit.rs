//! The audit (docs/audit.md), one invariant at a time: a fresh table the audit finds
//! clean, one item written or changed directly as no operation of the bundle would,
//! and exactly that violation reported.

use aws_sdk_dynamodb::types::AttributeValue;
use journeys::harness::TestStack;
use serde_json::json;
use std::collections::HashMap;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Alice, default administrator of Acme; Bob, its member; Carol, an individual: a table the audit finds clean.
async fn clean() -> TestStack {
    let stack = TestStack::start().await;
    stack
        .seed(json!({
            "enterprises": [{"id": "acme-{id}", "name": "Acme", "default_admin": "alice-{id}"}],
            "accounts": [
                {"id": "alice-{id}", "username": "alice-{id}", "email": "alice-{id}@example.com",
                 "enterprise_id": "acme-{id}", "role": "default_admin"},
                {"id": "bob-{id}", "email": "bob-{id}@example.com", "enterprise_id": "acme-{id}", "role": "member"},
                {"id": "carol-{id}", "username": "carol-{id}", "email": "carol-{id}@example.com"}
            ],
            "holds": [{"account_id": "bob-{id}", "kind": "arrears", "detail": "12.30 CNY"}]
        }))
        .await;
    let report = stack.audit().await;
    assert!(report.violations.is_empty(), "a seeded table is clean: {:?}", report.violations);
    assert!(report.items_checked >= 12, "{} items", report.items_checked);
    stack
}

async fn put(stack: &TestStack, attributes: &[(&str, AttributeValue)]) {
    let item: HashMap<String, AttributeValue> = attributes.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    stack.dynamo.put_item().table_name(&stack.table).set_item(Some(item)).send().await.expect("put");
}

async fn set(stack: &TestStack, pk: &str, sk: &str, expression: &str, values: &[(&str, AttributeValue)]) {
    let mut update = stack
        .dynamo
        .update_item()
        .table_name(&stack.table)
        .key("pk", s(pk))
        .key("sk", s(sk))
        .update_expression(expression);
    for (name, value) in values {
        update = update.expression_attribute_values(*name, value.clone());
    }
    // `#role` stands for the attribute `role` (a reserved word), and so on.
    for word in expression.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '#')) {
        if let Some(attribute) = word.strip_prefix('#') {
            update = update.expression_attribute_names(word, attribute);
        }
    }
    update.send().await.expect("update");
}

async fn delete(stack: &TestStack, pk: &str, sk: &str) {
    stack.dynamo.delete_item().table_name(&stack.table).key("pk", s(pk)).key("sk", s(sk)).send().await.expect("delete");
}

fn account(stack: &TestStack, base: &str) -> String {
    format!("ACCOUNT#{}", stack.id(base))
}

#[tokio::test]
async fn an_item_of_no_known_kind() {
    let stack = clean().await;
    put(&stack, &[("pk", s("STRAY#1")), ("sk", s("X"))]).await;
    stack.finish_expecting(&[("known_item_kind", "STRAY#1/X")]).await;
}

#[tokio::test]
async fn a_hold_whose_key_is_not_its_kind_and_reference() {
    let stack = clean().await;
    let pk = account(&stack, "carol");
    put(
        &stack,
        &[("pk", s(&pk)), ("sk", s("PROFILE#HOLD#arrears#inv-1")), ("kind", s("arrears")), ("reference", s("inv-2"))],
    )
    .await;
    stack.finish_expecting(&[("item_well_formed", &format!("{pk}/PROFILE#HOLD#arrears#inv-1"))]).await;
}

#[tokio::test]
async fn a_profile_whose_username_claim_is_gone() {
    let stack = clean().await;
    delete(&stack, &format!("CLAIM#USERNAME#{}", stack.id("carol")), "CLAIM").await;
    stack.finish_expecting(&[("identifier_claimed", &format!("{}/PROFILE", account(&stack, "carol")))]).await;
}

#[tokio::test]
async fn a_claim_of_an_account_without_profile() {
    let stack = clean().await;
    let email = format!("ghost-{}-x@example.com", stack.id("g"));
    put(&stack, &[("pk", s(format!("CLAIM#EMAIL#{email}"))), ("sk", s("CLAIM")), ("owner", s(stack.id("ghost")))])
        .await;
    // The key shows the address masked.
    stack.finish_expecting(&[("claim_of_missing_account", "CLAIM#EMAIL#g***x@example.com/CLAIM")]).await;
}

#[tokio::test]
async fn a_claim_its_owner_does_not_hold() {
    let stack = clean().await;
    put(&stack, &[("pk", s("CLAIM#PHONE#+4915100000099")), ("sk", s("CLAIM")), ("owner", s(stack.id("carol")))]).await;
    stack.finish_expecting(&[("claim_not_held_by_owner", "CLAIM#PHONE#+49***99/CLAIM")]).await;
}

#[tokio::test]
async fn a_hold_count_that_is_not_the_holds() {
    let stack = clean().await;
    let pk = account(&stack, "bob");
    set(&stack, &pk, "PROFILE", "SET hold_count = :two", &[(":two", n(2))]).await;
    stack.finish_expecting(&[("hold_count_matches", &format!("{pk}/PROFILE"))]).await;
}

#[tokio::test]
async fn items_of_an_account_without_profile() {
    let stack = clean().await;
    let pk = account(&stack, "ghost");
    for sk in ["DATA#2", "DATA#1", "MFA#phone"] {
        put(&stack, &[("pk", s(&pk)), ("sk", s(sk)), ("payload", s("x"))]).await;
    }
    // One violation per account, at its first item.
    stack.finish_expecting(&[("account_item_without_profile", &format!("{pk}/DATA#1"))]).await;
}

fn job(kind: &str, subject: &str, due_at: i64) -> Vec<(&'static str, AttributeValue)> {
    vec![
        ("pk", s(format!("JOB#{kind}#{subject}"))),
        ("sk", s("JOB")),
        ("kind", s(kind)),
        ("subject", s(subject)),
        ("step", s("purge")),
        ("done", n(0)),
        ("requested_by", s(subject)),
        ("requested_at", n(due_at)),
        ("reference", s("rcpt_planted")),
        ("due_bucket", s("job")),
        ("due_at", n(due_at)),
    ]
}

#[tokio::test]
async fn a_deletion_job_of_an_active_account() {
    let stack = clean().await;
    let carol = stack.id("carol");
    put(&stack, &job("deletion", &carol, stack.app.clock.now())).await;
    stack.finish_expecting(&[("deletion_job_matches_account", &format!("JOB#deletion#{carol}/JOB"))]).await;
}

#[tokio::test]
async fn a_handover_under_way_without_its_job() {
    let stack = clean().await;
    let pk = account(&stack, "carol");
    set(&stack, &pk, "PROFILE", "SET handover_in_progress = :id", &[(":id", s("ho_planted"))]).await;
    stack.finish_expecting(&[("handover_job_exists", &format!("{pk}/PROFILE"))]).await;
}

fn receipt(account: &str) -> Vec<(&'static str, AttributeValue)> {
    vec![
        ("pk", s(format!("RECEIPT#{account}"))),
        ("sk", s("RECEIPT")),
        ("kind", s("account_deletion")),
        ("receipt_id", s("rcpt_planted")),
        ("account_id", s(account)),
        ("requested_at", n(1)),
        ("deleted_at", n(2)),
        ("items_removed", n(0)),
    ]
}

#[tokio::test]
async fn a_receipt_of_an_account_with_a_profile() {
    let stack = clean().await;
    let carol = stack.id("carol");
    put(&stack, &receipt(&carol)).await;
    stack.finish_expecting(&[("receipt_of_live_account", &format!("RECEIPT#{carol}/RECEIPT"))]).await;
}

#[tokio::test]
async fn a_ledger_entry_without_its_receipt() {
    let stack = clean().await;
    let ghost = stack.id("ghost");
    put(
        &stack,
        &[
            ("pk", s(format!("LEDGER#{ghost}"))),
            ("sk", s("SYSTEM#billing")),
            ("kind", s("erasure")),
            ("account_id", s(&ghost)),
            ("receipt_id", s("rcpt_planted")),
            ("system", s("billing")),
            ("status", s("erased")),
            ("reported_at", n(3)),
        ],
    )
    .await;
    stack.finish_expecting(&[("ledger_entry_has_receipt", &format!("LEDGER#{ghost}/SYSTEM#billing"))]).await;
}

#[tokio::test]
async fn a_receipt_with_an_attribute_the_key_design_does_not_list() {
    let stack = clean().await;
    let ghost = stack.id("ghost");
    let mut item = receipt(&ghost);
    item.push(("email", s("ghost@example.com")));
    put(&stack, &item).await;
    let report = stack.audit().await;
    assert!(!serde_json::to_string(&report).unwrap().contains("ghost@"), "the value is never reported");
    stack.finish_expecting(&[("no_personal_data_kept", &format!("RECEIPT#{ghost}/RECEIPT"))]).await;
}

fn token(hash: &str, account: &str, expires_at: i64) -> Vec<(&'static str, AttributeValue)> {
    vec![
        ("pk", s(format!("TOKEN#{hash}"))),
        ("sk", s("TOKEN")),
        ("account_id", s(account)),
        ("purpose", s("delete_account")),
        ("expires_at", n(expires_at)),
        ("ttl", n(expires_at)),
        ("due_bucket", s("token")),
        ("due_at", n(expires_at)),
    ]
}

/// A token's key, as `crypto::keyed_hash` writes it: 64 hex digits.
fn hashed(digit: char) -> String {
    digit.to_string().repeat(64)
}

#[tokio::test]
async fn an_unexpired_token_of_an_account_without_profile() {
    let stack = clean().await;
    let now = stack.app.clock.now();
    put(&stack, &token(&hashed('a'), &stack.id("ghost"), now + 600)).await;
    // An expired one is TTL's and cleanup's to remove: no violation.
    put(&stack, &token(&hashed('b'), &stack.id("ghost"), now - 1)).await;
    stack.finish_expecting(&[("token_of_deleted_account", &format!("TOKEN#{}/TOKEN", hashed('a')))]).await;
}

#[tokio::test]
async fn a_token_outside_the_due_index() {
    let stack = clean().await;
    let mut item = token(&hashed('c'), &stack.id("carol"), stack.app.clock.now() + 600);
    item.retain(|(name, _)| !name.starts_with("due_"));
    put(&stack, &item).await;
    stack.finish_expecting(&[("in_due_index", &format!("TOKEN#{}/TOKEN", hashed('c')))]).await;
}

#[tokio::test]
async fn a_token_stored_as_it_was_sent() {
    let stack = clean().await;
    let pk = account(&stack, "carol");
    set(&stack, &pk, "PROFILE", "SET token_delete_account = :t", &[(":t", s("the-token-itself"))]).await;
    let report = stack.audit().await;
    assert!(!serde_json::to_string(&report).unwrap().contains("the-token-itself"), "the value is never reported");
    stack.finish_expecting(&[("stored_only_hashed", &format!("{pk}/PROFILE"))]).await;
}

#[tokio::test]
async fn a_job_leased_past_any_lease() {
    let stack = clean().await;
    let carol = stack.id("carol");
    let mut item = job("handover", &carol, stack.app.clock.now() + 3600);
    item.push(("lease_owner", s("worker_planted")));
    put(&stack, &item).await;
    stack.finish_expecting(&[("job_leased_or_due", &format!("JOB#handover#{carol}/JOB"))]).await;
}

#[tokio::test]
async fn a_second_default_administrator() {
    let stack = clean().await;
    set(&stack, &account(&stack, "bob"), "PROFILE", "SET #role = :admin", &[(":admin", s("default_admin"))]).await;
    let meta = format!("ENTERPRISE#{}/META", stack.id("acme"));
    stack.finish_expecting(&[("enterprise_has_default_admin", &meta)]).await;
}

#[tokio::test]
async fn a_member_whose_membership_is_gone() {
    let stack = clean().await;
    delete(&stack, &format!("ENTERPRISE#{}", stack.id("acme")), &format!("MEMBER#{}", stack.id("bob"))).await;
    stack.finish_expecting(&[("profile_enterprise_consistent", &format!("{}/PROFILE", account(&stack, "bob")))]).await;
}

#[tokio::test]
async fn a_membership_of_an_account_without_profile() {
    let stack = clean().await;
    let (pk, ghost) = (format!("ENTERPRISE#{}", stack.id("acme")), stack.id("ghost"));
    put(
        &stack,
        &[("pk", s(&pk)), ("sk", s(format!("MEMBER#{ghost}"))), ("account_id", s(&ghost)), ("role", s("member"))],
    )
    .await;
    stack.finish_expecting(&[("membership_has_member", &format!("{pk}/MEMBER#{ghost}"))]).await;
}

#[tokio::test]
async fn a_membership_of_a_dismissed_enterprise() {
    let stack = clean().await;
    let (old, carol) = (stack.id("old"), stack.id("carol"));
    let pk = format!("ENTERPRISE#{old}");
    put(
        &stack,
        &[
            ("pk", s(&pk)),
            ("sk", s("META")),
            ("enterprise_id", s(&old)),
            ("name", s("Old")),
            ("status", s("dismissed")),
        ],
    )
    .await;
    put(&stack, &[("pk", s(&pk)), ("sk", s(format!("MEMBER#{carol}"))), ("account_id", s(&carol))]).await;
    stack.finish_expecting(&[("no_member_of_dismissed_enterprise", &format!("{pk}/MEMBER#{carol}"))]).await;
}

#[tokio::test]
async fn a_dismissing_enterprise_without_its_job() {
    let stack = clean().await;
    let pk = format!("ENTERPRISE#{}", stack.id("acme"));
    set(&stack, &pk, "META", "SET #status = :dismissing", &[(":dismissing", s("dismissing"))]).await;
    stack.finish_expecting(&[("dismissal_job_matches_enterprise", &format!("{pk}/META"))]).await;
}
