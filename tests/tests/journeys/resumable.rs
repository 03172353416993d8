//! Long operations: interrupted after each step and finished by cleanup with
//! exactly the state of an uninterrupted run; accounts and enterprises larger
//! than one request; cleanup reading only what is due.

use aws_sdk_dynamodb::types::AttributeValue;
use journeys::harness::{number, TestStack};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

async fn cleanup(stack: &TestStack) -> shared::cleanup::CleanupSummary {
    stack.app.run_cleanup(Instant::now() + Duration::from_secs(300)).await
}

async fn with_bob(stack: &TestStack, items: usize) {
    stack.seed(json!({"accounts": [{"id": "bob-{id}", "username": "bob-{id}", "email": "bob-{id}@example.com", "phone": "+4915100000000"}]})).await;
    stack.attach_items(&stack.id("bob"), items).await;
}

#[tokio::test]
async fn a_deletion_interrupted_after_any_step_is_finished_by_cleanup_exactly_once() {
    for (point, nth) in [
        ("deletion.accepted", 1),
        ("deletion.page_counted", 1),
        ("deletion.page_counted", 3),
        ("deletion.page_deleted", 2),
    ] {
        let stack = TestStack::start().await;
        with_bob(&stack, 250).await;
        let bob = stack.user("bob");
        let token = bob.token_for("delete_account").await;
        stack.app.failpoints.arm(point, nth);
        bob.delete(&token).await.expect(500, "internal");
        // Accepted before the crash: the account is already gone for every caller.
        bob.check().await.expect(410, "account_deleted");
        assert_eq!(cleanup(&stack).await.deletions_finished, 0, "{point}: the dead worker's lease still runs");
        stack.app.clock.advance(121);
        assert_eq!(cleanup(&stack).await.deletions_finished, 1, "{point}");
        assert!(stack.keys_with_prefix(&format!("ACCOUNT#{}", bob.id)).await.is_empty(), "{point}");
        assert!(stack.keys_with_prefix("CLAIM#").await.is_empty(), "{point}");
        assert!(stack.keys_with_prefix("JOB#").await.is_empty(), "{point}");
        let receipt = stack.item(&format!("RECEIPT#{}", bob.id), "RECEIPT").await.unwrap();
        assert_eq!(number(&receipt, "items_removed"), Some(250), "{point}: every item counted once");
        assert_eq!(number(&receipt, "identifiers_released"), Some(3));
        assert_eq!(
            bob.mails().await.iter().filter(|m| m.subject.contains("deleted")).count(),
            1,
            "{point}: one notice"
        );
        assert_eq!(cleanup(&stack).await.deletions_finished, 0, "nothing is done twice");
        stack.finish().await;
    }
}

fn enterprise(members: usize) -> serde_json::Value {
    let mut accounts = vec![
        json!({"id": "gina-{id}", "email": "gina-{id}@example.com", "enterprise_id": "globex-{id}", "role": "default_admin"}),
    ];
    accounts.extend((0..members).map(|i| json!({"id": format!("m{i}-{{id}}"), "email": format!("m{i}-{{id}}@example.com"), "enterprise_id": "globex-{id}"})));
    json!({"enterprises": [{"id": "globex-{id}", "name": "Globex", "default_admin": "gina-{id}"}], "accounts": accounts})
}

async fn assert_dismissed(stack: &TestStack, members: usize) {
    let meta = stack.item(&format!("ENTERPRISE#{}", stack.id("globex")), "META").await.unwrap();
    assert_eq!(meta["status"].as_s().unwrap(), "dismissed");
    assert_eq!(number(&meta, "members_released"), Some(members as i64));
    assert_eq!(
        stack.keys_with_prefix(&format!("ENTERPRISE#{}", stack.id("globex"))).await.len(),
        1,
        "only META is left"
    );
    assert!(stack.keys_with_prefix("JOB#").await.is_empty());
    let mails = journeys::localstack::mails().await.unwrap();
    let mut notices: HashMap<String, usize> = HashMap::new();
    for mail in mails.iter().filter(|m| m.subject == "Enterprise Globex was dismissed") {
        for to in
            mail.to.iter().filter(|t| t.ends_with(&format!("-{}@example.com", stack.id("").trim_start_matches('-'))))
        {
            *notices.entry(to.clone()).or_default() += 1;
        }
    }
    assert_eq!(notices.len(), members, "every member is told");
    assert!(notices.values().all(|n| *n == 1), "and told once");
    for item in stack.all_items().await.iter().filter(|i| i["sk"].as_s().unwrap() == "PROFILE") {
        assert_eq!(item["role"].as_s().unwrap(), "individual");
        assert!(!item.contains_key("enterprise_id"));
    }
}

#[tokio::test]
async fn a_dismissal_interrupted_after_any_step_is_finished_by_cleanup_exactly_once() {
    for (point, nth) in [("dismissal.accepted", 1), ("dismissal.page_released", 2), ("dismissal.member_notified", 45)] {
        let stack = TestStack::start().await;
        stack.seed(enterprise(90)).await;
        let gina = stack.user("gina");
        let token = gina.token_for("dismiss_enterprise").await;
        stack.app.failpoints.arm(point, nth);
        gina.dismiss(&token).await.expect(500, "internal");
        stack.app.clock.advance(121);
        assert_eq!(cleanup(&stack).await.dismissals_finished, 1, "{point}");
        assert_dismissed(&stack, 90).await;
        stack.finish().await;
    }
}

#[tokio::test]
async fn an_account_with_5000_items_is_deleted_in_the_background() {
    let stack = TestStack::start().await;
    with_bob(&stack, 5000).await;
    let bob = stack.user("bob");
    let token = bob.token_for("delete_account").await;
    let started = Instant::now();
    let reply = bob.delete(&token).await;
    reply.expect(202, "");
    assert_eq!(reply.str("status"), "deleting");
    bob.check().await.expect(410, "account_deleted");
    let summary = cleanup(&stack).await;
    assert_eq!(summary.deletions_finished, 1);
    eprintln!("5000-item deletion: {:?} (request + cleanup)", started.elapsed());
    assert!(stack.keys_with_prefix(&format!("ACCOUNT#{}", bob.id)).await.is_empty());
    let receipt = stack.item(&format!("RECEIPT#{}", bob.id), "RECEIPT").await.unwrap();
    assert_eq!(number(&receipt, "items_removed"), Some(5000));
    assert_eq!(reply.str("receipt_id"), receipt["receipt_id"].as_s().unwrap());
    stack.finish().await;
}

#[tokio::test]
async fn an_enterprise_with_2000_members_is_dismissed_completely() {
    let stack = TestStack::start().await;
    stack.seed(enterprise(2000)).await;
    let gina = stack.user("gina");
    let token = gina.token_for("dismiss_enterprise").await;
    let started = Instant::now();
    let reply = gina.dismiss(&token).await;
    reply.expect(202, "");
    assert_eq!(reply.str("status"), "dismissing");
    assert_eq!(cleanup(&stack).await.dismissals_finished, 1);
    eprintln!("2000-member dismissal: {:?} (request + cleanup)", started.elapsed());
    assert_dismissed(&stack, 2000).await;
    stack.finish().await;
}

#[tokio::test]
async fn cleanup_reads_what_is_due_not_the_table() {
    let stack = TestStack::start().await;
    with_bob(&stack, 20_000).await;
    // 100 tokens that expired without being used, as verify-code writes them.
    let now = stack.app.clock.now();
    for i in 0..100 {
        let item = HashMap::from([
            ("pk".to_string(), AttributeValue::S(format!("TOKEN#expired{i:03}"))),
            ("sk".to_string(), AttributeValue::S("TOKEN".into())),
            ("account_id".to_string(), AttributeValue::S(stack.id("bob"))),
            ("purpose".to_string(), AttributeValue::S("delete_account".into())),
            ("expires_at".to_string(), AttributeValue::N((now - 10).to_string())),
            ("due_bucket".to_string(), AttributeValue::S("token".into())),
            ("due_at".to_string(), AttributeValue::N((now - 10).to_string())),
        ]);
        stack.dynamo.put_item().table_name(&stack.table).set_item(Some(item)).send().await.unwrap();
    }
    let summary = cleanup(&stack).await;
    assert_eq!(summary.tokens_removed, 100);
    assert!(
        (100..=110).contains(&summary.due_entries_read),
        "read {} entries for 100 due among 20,000",
        summary.due_entries_read
    );
    assert_eq!(cleanup(&stack).await.due_entries_read, 0);
    stack.finish().await;
}

#[tokio::test]
async fn a_cleanup_run_cut_short_by_its_deadline_is_carried_on_by_the_next() {
    let stack = TestStack::with(|c| c.inline_work_items = 100).await;
    with_bob(&stack, 5000).await;
    let bob = stack.user("bob");
    bob.delete(&bob.token_for("delete_account").await).await.expect(202, "");
    let short = stack.app.run_cleanup(Instant::now() + Duration::from_millis(300)).await;
    assert_eq!((short.deletions_finished, short.jobs_paused), (0, 1), "{short:?}");
    let left = stack.keys_with_prefix(&format!("ACCOUNT#{}", bob.id)).await.len();
    assert!(left > 1 && left < 5000, "progress was saved: {left} items left");
    let next = cleanup(&stack).await;
    assert_eq!(next.deletions_finished, 1);
    let receipt = stack.item(&format!("RECEIPT#{}", bob.id), "RECEIPT").await.unwrap();
    assert_eq!(number(&receipt, "items_removed"), Some(5000));
    stack.finish().await;
}
