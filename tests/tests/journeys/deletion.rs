//! The deletion journey of docs/seeds.md#deletion and #prerequisites: see every blocker, dismiss the
//! enterprise first, delete for good, and register the freed identifiers again.

use journeys::harness::{number, TestStack, User};
use serde_json::{json, Value};
use shared::model::hold::Hold;
use shared::model::ids::AccountId;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn acme() -> Value {
    json!({
        "enterprises": [{"id": "acme-{id}", "name": "Acme", "default_admin": "alice-{id}"}],
        "accounts": [
            {"id": "alice-{id}", "username": "alice-{id}", "email": "alice-{id}@example.com", "phone": "+86138{id8}", "enterprise_id": "acme-{id}", "role": "default_admin"},
            {"id": "bob-{id}", "username": "bob-{id}", "email": "bob-{id}@example.com", "enterprise_id": "acme-{id}", "role": "member"},
            {"id": "carol-{id}", "username": "carol-{id}", "role": "individual"},
            {"id": "dave-{id}", "username": "dave-{id}", "email": "dave-{id}@example.com"}
        ],
        "holds": [{"account_id": "dave-{id}", "kind": "account_balance", "detail": "12.30 CNY left"}]
    })
}

async fn seeded(stack: &TestStack) {
    let phone_digits: String = stack
        .id("")
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| char::from(b'0' + (c as u8 % 10)))
        .take(8)
        .collect();
    let fixtures = acme().to_string().replace("{id8}", &phone_digits);
    stack.seed(serde_json::from_str(&fixtures).unwrap()).await;
}

fn blocker_kinds(reply: &Value) -> Vec<String> {
    reply["blockers"].as_array().unwrap().iter().map(|b| b["kind"].as_str().unwrap().to_string()).collect()
}

async fn cleanup(stack: &TestStack) -> shared::cleanup::CleanupSummary {
    stack.app.run_cleanup(Instant::now() + Duration::from_secs(120)).await
}

/// Nothing of the account is left but its receipt, and the receipt holds no personal data.
async fn assert_gone(stack: &TestStack, user: &User<'_>) {
    assert!(stack.keys_with_prefix(&format!("ACCOUNT#{}", user.id)).await.is_empty());
    let receipt = stack.item(&format!("RECEIPT#{}", user.id), "RECEIPT").await.expect("a receipt");
    let text = format!("{receipt:?}");
    assert!(!text.contains(&user.email) && !text.contains("username"), "{text}");
    assert!(stack.keys_with_prefix(&format!("CLAIM#USERNAME#{}", user.id)).await.is_empty());
    assert!(stack.keys_with_prefix(&format!("CLAIM#EMAIL#{}", user.email)).await.is_empty());
    assert!(stack.keys_with_prefix(&format!("JOB#deletion#{}", user.id)).await.is_empty());
    user.check().await.expect(410, "account_deleted");
    user.send_code("delete_account").await.expect(410, "account_deleted");
}

#[tokio::test]
async fn a_default_admin_dismisses_the_enterprise_then_deletes_the_account() {
    let stack = TestStack::start().await;
    seeded(&stack).await;
    let (alice, bob) = (stack.user("alice"), stack.user("bob"));

    let check = alice.check().await;
    check.expect(200, "");
    assert_eq!(check.body["deletable"], json!(false));
    assert_eq!(blocker_kinds(&check.body), ["enterprise_not_dismissed"]);
    assert!(check.body["blockers"][0]["detail"].as_str().unwrap().contains("Acme"));

    // Deleting first is refused, and the token survives for a later try.
    let token = alice.token_for("delete_account").await;
    let refused = alice.delete(&token).await;
    refused.expect(409, "prerequisites_unmet");
    assert_eq!(blocker_kinds(&refused.body), ["enterprise_not_dismissed"]);
    assert_eq!(stack.keys_with_prefix("TOKEN#").await.len(), 1);

    // Bob, a member, cannot dismiss; then Alice does.
    let bob_token = bob.token_for("dismiss_enterprise").await;
    bob.dismiss(&bob_token).await.expect(403, "not_default_admin");
    let dismissal = alice.dismiss(&alice.token_for("dismiss_enterprise").await).await;
    dismissal.expect(200, "");
    assert_eq!((dismissal.str("status"), dismissal.body["members_released"].as_u64()), ("dismissed", Some(1)));
    assert!(dismissal.str("dismissed_at").ends_with('Z'));
    let bob_profile = stack.profile(&bob.id).await.unwrap();
    assert_eq!(bob_profile["role"].as_s().unwrap(), "individual");
    assert!(!bob_profile.contains_key("enterprise_id"));
    let notices: Vec<_> = bob.mails().await.into_iter().filter(|m| m.subject.contains("dismissed")).collect();
    assert_eq!(notices.len(), 1);
    assert!(stack
        .keys_with_prefix(&format!("ENTERPRISE#{}", stack.id("acme")))
        .await
        .iter()
        .all(|(_, sk)| sk == "META"));
    stack.app.clock.advance(61);
    alice.dismiss(&alice.token_for("dismiss_enterprise").await).await.expect(409, "enterprise_not_active");

    // Now deletable: the earlier token still works.
    assert_eq!(alice.check().await.body["deletable"], json!(true));
    let deleted = alice.delete(&token).await;
    deleted.expect(200, "");
    assert_eq!((deleted.str("status"), deleted.str("account_id")), ("deleted", alice.id.as_str()));
    let receipt_id = deleted.str("receipt_id").to_string();
    assert_gone(&stack, &alice).await;
    let receipt = stack.item(&format!("RECEIPT#{}", alice.id), "RECEIPT").await.unwrap();
    assert_eq!(receipt["receipt_id"].as_s().unwrap(), &receipt_id);
    let notice: Vec<_> = alice.mails().await.into_iter().filter(|m| m.subject.contains("deleted")).collect();
    assert_eq!(notice.len(), 1);
    assert!(notice[0].body.contains(&receipt_id));
    alice.delete(&token).await.expect(410, "account_deleted");

    // Bob, now an individual, deletes his account too.
    assert_eq!(bob.check().await.body["deletable"], json!(true));
    bob.delete(&bob.token_for("delete_account").await).await.expect(200, "");
    assert_gone(&stack, &bob).await;

    // Seed 002: the username and email are free to register again.
    stack
        .seed(json!({"accounts": [{"id": "alice2-{id}", "username": "alice-{id}", "email": "alice-{id}@example.com"}]}))
        .await;
    assert_eq!(
        stack.item(&format!("CLAIM#EMAIL#{}", alice.email), "CLAIM").await.unwrap()["owner"].as_s().unwrap(),
        &stack.id("alice2")
    );
    stack.finish().await;
}

#[tokio::test]
async fn every_blocker_is_shown_with_what_clears_it() {
    let stack = TestStack::start().await;
    seeded(&stack).await;
    let (carol, dave) = (stack.user("carol"), stack.user("dave"));
    let check = carol.check().await;
    assert_eq!(blocker_kinds(&check.body), ["email_not_bound"]);
    assert!(check.body["blockers"][0]["action"].as_str().unwrap().contains("Bind an email"));

    let check = dave.check().await;
    assert_eq!(blocker_kinds(&check.body), ["account_balance"]);
    assert_eq!(check.body["blockers"][0]["detail"], json!("12.30 CNY left"));
    let dave_id = AccountId::parse(&dave.id).unwrap();
    stack.app.register_hold(&dave_id, &Hold::new("arrears", "bill-7", "3 unpaid bills").unwrap()).await.unwrap();
    let token = dave.token_for("delete_account").await;
    let before = stack.snapshot().await;
    let refused = dave.delete(&token).await;
    refused.expect(409, "prerequisites_unmet");
    assert_eq!(blocker_kinds(&refused.body), ["account_balance", "arrears"]);
    assert_eq!(stack.snapshot().await, before, "a refused deletion changes nothing");

    stack.app.release_hold(&dave_id, "account_balance", "default").await.unwrap();
    stack.app.release_hold(&dave_id, "arrears", "bill-7").await.unwrap();
    assert_eq!(number(&stack.profile(&dave.id).await.unwrap(), "hold_count"), Some(0));
    dave.delete(&token).await.expect(200, "");
    assert_gone(&stack, &dave).await;
    // A hold for an account that is gone is refused.
    assert!(stack.app.register_hold(&dave_id, &Hold::new("arrears", "late", "x").unwrap()).await.is_err());
    assert!(stack.keys_with_prefix(&format!("ACCOUNT#{}", dave.id)).await.is_empty());
    stack.finish().await;
}

#[tokio::test]
async fn a_default_admin_cannot_dismiss_or_delete_from_the_mobile_app() {
    let stack = TestStack::with(|c| c.mobile_client_ids = ["ios-app".to_string()].into()).await;
    seeded(&stack).await;
    let alice = stack.user("alice").on_client("ios-app");
    let check = alice.check().await;
    assert_eq!(blocker_kinds(&check.body), ["enterprise_not_dismissed", "desktop_client_required"]);
    let token = alice.token_for("dismiss_enterprise").await;
    let before = stack.snapshot().await;
    let refused = alice.dismiss(&token).await;
    refused.expect(409, "prerequisites_unmet");
    assert_eq!(blocker_kinds(&refused.body), ["desktop_client_required"]);
    assert_eq!(stack.snapshot().await, before);
    // From the web console the same token works.
    stack.user("alice").dismiss(&token).await.expect(200, "");
    // Bob, a member, may use the mobile app.
    let bob = stack.user("bob").on_client("ios-app");
    bob.delete(&bob.token_for("delete_account").await).await.expect(200, "");
    stack.finish().await;
}

#[tokio::test]
async fn tokens_are_checked_and_spent_only_when_the_action_is_accepted() {
    let stack = TestStack::start().await;
    seeded(&stack).await;
    let bob = stack.user("bob");
    let dismiss_token = bob.token_for("dismiss_enterprise").await;
    bob.delete(&dismiss_token).await.expect(403, "token_invalid");
    bob.delete(&"0".repeat(64)).await.expect(403, "token_invalid");
    // Another person's token is useless.
    let dave = stack.user("dave");
    let bobs = bob.token_for("delete_account").await;
    dave.delete(&bobs).await.expect(409, "prerequisites_unmet");
    stack.user("nobody").delete(&bobs).await.expect(404, "account_not_found");
    stack.user("carol").dismiss(&bobs).await.expect(409, "enterprise_not_active");
    bob.delete(&bobs).await.expect(200, "");
    bob.delete(&bobs).await.expect(410, "account_deleted");
    stack.finish().await;
}

#[tokio::test]
async fn with_a_grace_period_the_account_is_locked_at_once_and_purged_later() {
    let stack = TestStack::with(|c| c.deletion_grace_seconds = 3600).await;
    seeded(&stack).await;
    let bob = stack.user("bob");
    let scheduled = bob.delete(&bob.token_for("delete_account").await).await;
    scheduled.expect(202, "");
    assert_eq!(scheduled.str("status"), "deletion_scheduled");
    assert!(scheduled.str("purge_at").ends_with('Z'));
    bob.check().await.expect(410, "account_deleted");
    bob.send_code("delete_account").await.expect(410, "account_deleted");
    assert_eq!(cleanup(&stack).await.deletions_finished, 0);
    assert!(stack.profile(&bob.id).await.is_some());
    stack.app.clock.advance(3601);
    assert_eq!(cleanup(&stack).await.deletions_finished, 1);
    assert_gone(&stack, &bob).await;
    let subjects: Vec<String> = bob.mails().await.into_iter().map(|m| m.subject).collect();
    assert_eq!(subjects.iter().filter(|s| *s == "Your account was deleted").count(), 1, "{subjects:?}");
    assert_eq!(subjects.iter().filter(|s| *s == "Your account will be deleted").count(), 1, "{subjects:?}");
    stack.finish().await;
}

#[tokio::test]
async fn with_a_quarantine_identifiers_are_held_then_freed_by_cleanup() {
    let stack = TestStack::with(|c| c.identifier_quarantine_seconds = 600).await;
    seeded(&stack).await;
    let bob = stack.user("bob");
    bob.delete(&bob.token_for("delete_account").await).await.expect(200, "");
    let taken = shared::model::account::NewAccount {
        id: AccountId::parse(&stack.id("bob2")).unwrap(),
        username: None,
        email: Some(shared::model::ids::EmailAddress::parse(&bob.email).unwrap()),
        phone: None,
        name: None,
        enterprise_id: None,
        role: shared::model::account::Role::Individual,
        locale: Default::default(),
    };
    assert!(matches!(
        stack.app.register_account(&taken).await,
        Err(shared::accounts::AccountError::IdentifierTaken { kind: "email", .. })
    ));
    stack.app.clock.advance(601);
    assert!(cleanup(&stack).await.claims_freed >= 2);
    assert!(stack.keys_with_prefix(&format!("CLAIM#EMAIL#{}", bob.email)).await.is_empty());
    stack.app.register_account(&taken).await.unwrap();
    stack.finish().await;
}

#[tokio::test]
async fn twenty_concurrent_deletes_make_one_deletion() {
    let stack = Arc::new(TestStack::start().await);
    seeded(&stack).await;
    let bob = stack.user("bob");
    let token = bob.token_for("delete_account").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (stack, token) = (stack.clone(), token.clone());
        tasks.spawn(async move { stack.user("bob").delete(&token).await });
    }
    let mut deleted = 0;
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        match reply.status {
            200 => deleted += 1,
            403 | 410 => assert!(["token_invalid", "account_deleted"].contains(&reply.code())),
            _ => panic!("unexpected {}", reply.body),
        }
    }
    assert_eq!(deleted, 1);
    assert_eq!(stack.keys_with_prefix(&format!("RECEIPT#{}", bob.id)).await.len(), 1);
    assert_eq!(bob.mails().await.iter().filter(|m| m.subject.contains("deleted")).count(), 1);
    assert_gone(&stack, &bob).await;
    stack.finish().await;
}

#[tokio::test]
async fn a_hold_racing_a_deletion_either_blocks_it_or_is_refused() {
    for round in 0..5 {
        let stack = Arc::new(TestStack::start().await);
        seeded(&stack).await;
        let bob = stack.user("bob");
        let token = bob.token_for("delete_account").await;
        let id = AccountId::parse(&bob.id).unwrap();
        let holder = {
            let (stack, id) = (stack.clone(), id.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(round * 3)).await;
                stack
                    .app
                    .register_hold(&id, &Hold::new("active_resources", "ecs-1", "1 server running").unwrap())
                    .await
                    .is_ok()
            })
        };
        let deleted = bob.delete(&token).await;
        let held = holder.await.unwrap();
        match (deleted.status, held) {
            (200, false) => assert_gone(&stack, &bob).await,
            (409, true) => assert_eq!(blocker_kinds(&deleted.body), ["active_resources"]),
            (status, held) => panic!("round {round}: deletion {status} and hold registered {held}: {}", deleted.body),
        }
        stack.finish().await;
    }
}

#[tokio::test]
async fn a_member_deleting_during_the_dismissal_leaves_a_consistent_state() {
    for _ in 0..3 {
        let stack = Arc::new(TestStack::start().await);
        seeded(&stack).await;
        let (alice, bob) = (stack.user("alice"), stack.user("bob"));
        let (dismiss_token, delete_token) =
            (alice.token_for("dismiss_enterprise").await, bob.token_for("delete_account").await);
        let s2 = stack.clone();
        let bob_deletes = tokio::spawn(async move { s2.user("bob").delete(&delete_token).await });
        let dismissed = alice.dismiss(&dismiss_token).await;
        let bob_reply = bob_deletes.await.unwrap();
        dismissed.expect(200, "");
        bob_reply.expect(200, "");
        assert_gone(&stack, &bob).await;
        assert!(stack
            .keys_with_prefix(&format!("ENTERPRISE#{}", stack.id("acme")))
            .await
            .iter()
            .all(|(_, sk)| sk == "META"));
        assert!(bob.mails().await.iter().filter(|m| m.subject.contains("dismissed")).count() <= 1);
        assert_eq!(stack.profile(&alice.id).await.unwrap()["role"].as_s().unwrap(), "individual");
        stack.finish().await;
    }
}

#[tokio::test]
async fn refused_dismissals_and_checks_change_nothing() {
    let stack = TestStack::start().await;
    seeded(&stack).await;
    let (alice, bob) = (stack.user("alice"), stack.user("bob"));
    let bob_token = bob.token_for("dismiss_enterprise").await;
    let alice_delete_token = alice.token_for("delete_account").await;
    let before = stack.snapshot().await;
    // A member is not the default administrator; the default administrator needs a dismissal token of her own.
    bob.dismiss(&bob_token).await.expect(403, "not_default_admin");
    alice.dismiss(&bob_token).await.expect(403, "token_invalid");
    alice.dismiss(&alice_delete_token).await.expect(403, "token_invalid");
    alice.dismiss(&"f".repeat(64)).await.expect(403, "token_invalid");
    stack.user("dave").dismiss(&bob_token).await.expect(409, "enterprise_not_active");
    stack.user("nobody").dismiss(&bob_token).await.expect(404, "account_not_found");
    stack.user("nobody").check().await.expect(404, "account_not_found");
    assert_eq!(stack.snapshot().await, before, "no token spent, no enterprise touched");
    let meta = stack.item(&format!("ENTERPRISE#{}", stack.id("acme")), "META").await.unwrap();
    assert_eq!(meta["status"].as_s().unwrap(), "active");
    stack.finish().await;
}
