//! The events downstream services receive (docs/events.md): the table's stream
//! delivered to publish-events as the template's event source mapping would,
//! onto a bus in moto. Each event is checked against its schema as it is read
//! (`EventsTap::published`) and searched for the accounts' personal data.

use journeys::harness::TestStack;
use journeys::tap::{personal_data_in, EventsTap};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const BOB_PHONE: &str = "+8613800000002";

async fn with_people(stack: &TestStack) {
    stack
        .seed(json!({
            "enterprises": [{"id": "acme-{id}", "name": "Acme", "default_admin": "alice-{id}"}],
            "accounts": [
                {"id": "alice-{id}", "username": "alice-{id}", "email": "alice-{id}@example.com", "name": "Alice Example",
                 "enterprise_id": "acme-{id}", "role": "default_admin"},
                {"id": "bob-{id}", "username": "bob-{id}", "email": "bob-{id}@example.com", "phone": BOB_PHONE,
                 "name": "Bob Example", "enterprise_id": "acme-{id}", "role": "member"},
                {"id": "dave-{id}", "username": "dave-{id}", "email": "dave-{id}@example.com"}
            ],
            "holds": [{"account_id": "dave-{id}", "kind": "account_balance", "detail": "12.30 CNY left"}]
        }))
        .await;
}

/// Every email, phone, name and username of the seeded accounts.
fn personal_data(stack: &TestStack) -> Vec<String> {
    let mut data = vec![BOB_PHONE.to_string(), "Alice Example".into(), "Bob Example".into()];
    for who in ["alice", "bob", "dave", "frank"] {
        data.extend([stack.email(who), format!("username\":\"{}", stack.id(who))]);
    }
    data.push(BOB_PHONE.trim_start_matches('+').to_string());
    data
}

fn of_type<'a>(events: &'a [Value], detail_type: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["detail-type"] == detail_type).collect()
}

#[tokio::test]
async fn a_deletion_publishes_account_deleted_once_and_no_personal_data() {
    let stack = TestStack::with_stream().await;
    with_people(&stack).await;
    let tap = EventsTap::on(&stack).await;
    let bob = stack.user("bob");
    let reply = bob.delete(&bob.token_for("delete_account").await).await;
    reply.expect(200, "");
    let events = tap.events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    let deleted = &events[0];
    assert_eq!(
        (deleted["source"].as_str(), deleted["detail-type"].as_str()),
        (Some("account-deletion"), Some("Account Deleted"))
    );
    assert_eq!(deleted["detail"]["account_id"], json!(bob.id));
    assert_eq!(deleted["detail"]["receipt_id"], json!(reply.str("receipt_id")));
    assert_eq!(deleted["detail"]["deleted_at"], json!(reply.str("deleted_at")));
    let personal = personal_data(&stack);
    assert_eq!(
        personal_data_in(&events, &personal.iter().map(String::as_str).collect::<Vec<_>>()),
        Vec::<String>::new()
    );
    // Delivered again (nothing new in the stream): nothing new on the bus.
    assert_eq!(tap.events().await.len(), 1);
    stack.finish().await;
}

#[tokio::test]
async fn a_refused_deletion_publishes_nothing() {
    let stack = TestStack::with_stream().await;
    with_people(&stack).await;
    let tap = EventsTap::on(&stack).await;
    let dave = stack.user("dave");
    dave.delete(&dave.token_for("delete_account").await).await.expect(409, "prerequisites_unmet");
    assert_eq!(tap.events().await, Vec::<Value>::new(), "the cancelled transaction published nothing");
    stack.finish().await;
}

#[tokio::test]
async fn a_scheduled_deletion_publishes_scheduled_then_deleted_with_one_receipt() {
    let stack = TestStack::with_stream_and(|c| c.deletion_grace_seconds = 3600).await;
    with_people(&stack).await;
    let tap = EventsTap::on(&stack).await;
    let bob = stack.user("bob");
    let reply = bob.delete(&bob.token_for("delete_account").await).await;
    reply.expect(202, "");
    let events = tap.events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    let scheduled = &events[0]["detail"];
    assert_eq!(events[0]["detail-type"], "Account Deletion Scheduled");
    assert_eq!(
        (scheduled["account_id"].as_str(), scheduled["purge_at"].as_str()),
        (Some(bob.id.as_str()), Some(reply.str("purge_at")))
    );
    stack.app.clock.advance(3601);
    stack.app.run_cleanup(Instant::now() + Duration::from_secs(60)).await;
    let events = tap.events().await;
    let deleted = of_type(&events, "Account Deleted");
    assert_eq!(deleted.len(), 1, "{events:?}");
    assert_eq!(deleted[0]["detail"]["receipt_id"], scheduled["receipt_id"]);
    assert_eq!(deleted[0]["detail"]["requested_at"], scheduled["requested_at"]);
    assert_ne!(deleted[0]["detail"]["event_id"], scheduled["event_id"]);
    stack.finish().await;
}

#[tokio::test]
async fn a_dismissal_and_a_handover_publish_their_facts_without_the_new_holders_contacts() {
    let stack = TestStack::with_stream().await;
    with_people(&stack).await;
    let tap = EventsTap::on(&stack).await;
    let (alice, bob) = (stack.user("alice"), stack.user("bob"));
    alice.dismiss(&alice.token_for("dismiss_enterprise").await).await.expect(200, "");
    let token = bob.token_for("handover_account").await;
    let body = json!({"verification_token": token, "new_email": stack.email("frank"), "new_phone": "+8613800000077", "new_name": "Frank Example"});
    bob.hand_over(body).await.expect(202, "");
    let code = stack.user("frank").code_from_mail().await;
    bob.confirm_handover(None, &code).await.expect(200, "");
    let events = tap.events().await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["detail-type"].as_str()).collect();
    assert_eq!(kinds, ["Enterprise Dismissed", "Account Handed Over"], "{events:?}");
    assert_eq!(events[0]["detail"]["enterprise_id"], json!(stack.id("acme")));
    assert_eq!(events[0]["detail"]["members_released"], json!(1));
    assert_eq!(events[1]["detail"]["account_id"], json!(bob.id));
    let mut personal = personal_data(&stack);
    personal.extend(["8613800000077".to_string(), "Frank Example".into()]);
    assert_eq!(
        personal_data_in(&events, &personal.iter().map(String::as_str).collect::<Vec<_>>()),
        Vec::<String>::new()
    );
    stack.finish().await;
}

#[tokio::test]
async fn a_crash_of_publish_events_mid_batch_loses_nothing_and_repeats_the_same_event_ids() {
    let stack = TestStack::with_stream().await;
    let people: Vec<String> = (0..12).map(|i| format!("p{i}")).collect();
    let accounts: Vec<Value> = people
        .iter()
        .map(|p| json!({"id": format!("{p}-{{id}}"), "username": format!("{p}-{{id}}"), "email": format!("{p}-{{id}}@example.com")}))
        .collect();
    stack.seed(json!({ "accounts": accounts })).await;
    let tap = EventsTap::on(&stack).await;
    for p in &people {
        let user = stack.user(p);
        user.delete(&user.token_for("delete_account").await).await.expect(200, "");
    }
    // The process dies after its first PutEvents (ten events) and before it answers: the mapping gets a function error.
    tap.publisher.failpoints.arm("events.put", 1);
    let mut crashes = 0;
    let publisher = &tap.publisher;
    let dead = tap
        .deliver_with(&mut async |batch| {
            let answer = publish_events::handle(publisher, batch).await.map_err(|e| e.to_string());
            crashes += answer.is_err() as usize;
            answer
        })
        .await;
    assert_eq!((crashes, dead.len()), (1, 0), "one crash, then retried to the end: {dead:?}");
    let events = tap.published().await;
    assert!(events.len() > people.len(), "the events put before the crash went again: {}", events.len());
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for event in &events {
        let detail = &event["detail"];
        ids.entry(detail["account_id"].as_str().unwrap().to_string())
            .or_default()
            .insert(detail["event_id"].as_str().unwrap().to_string());
    }
    let expected: BTreeSet<String> = people.iter().map(|p| stack.id(p)).collect();
    assert_eq!(ids.keys().cloned().collect::<BTreeSet<_>>(), expected, "every deletion reached the bus");
    assert!(ids.values().all(|set| set.len() == 1), "a duplicate carries its original's event_id: {ids:?}");
    stack.finish().await;
}

#[tokio::test]
async fn a_ready_export_publishes_account_data_exported_with_ids_and_times_only() {
    let stack = TestStack::with_stream().await;
    with_people(&stack).await;
    let tap = EventsTap::on(&stack).await;
    let bob = stack.user("bob");
    let reply = bob.export(&bob.token_for("export_data").await).await;
    reply.expect(200, "");
    let events = tap.events().await;
    let exported = of_type(&events, "Account Data Exported");
    assert_eq!(exported.len(), 1, "{events:?}");
    let detail = &exported[0]["detail"];
    assert_eq!((&detail["account_id"], &detail["export_id"]), (&json!(bob.id), &reply.body["export_id"]));
    assert_eq!(detail["expires_at"], reply.body["expires_at"]);
    let personal = personal_data(&stack);
    let personal: Vec<&str> = personal.iter().map(String::as_str).collect();
    assert!(personal_data_in(&events, &personal).is_empty());
    assert!(!exported[0].to_string().contains("http"), "the link never goes on the bus");
    stack.finish().await;
}
