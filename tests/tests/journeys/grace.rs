//! A deletion's grace period (`DELETION_GRACE_SECONDS` > 0): the user is told
//! when the purge happens and how to cancel, reminded before it, and can cancel
//! with a `cancel_deletion` code; the account is then exactly as it was. A
//! cancellation and the purge that race have one winner.

use journeys::harness::{Item, TestStack};
use journeys::tap::EventsTap;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const GRACE: i64 = 3600;
const REMINDER: i64 = 600;

async fn acme(stack: &TestStack) {
    stack
        .seed(json!({
            "enterprises": [{"id": "acme-{id}", "name": "Acme", "default_admin": "alice-{id}"}],
            "accounts": [
                {"id": "alice-{id}", "username": "alice-{id}", "email": "alice-{id}@example.com", "enterprise_id": "acme-{id}", "role": "default_admin"},
                {"id": "bob-{id}", "username": "bob-{id}", "email": "bob-{id}@example.com", "phone": "+8613800000002",
                 "name": "Bob Example", "enterprise_id": "acme-{id}", "role": "member"}
            ]
        }))
        .await;
}

/// Every item but tokens and cancellation records, without the attributes of
/// the verification machinery (codes, failure streaks, live tokens): what the account *is*.
async fn account_state(stack: &TestStack) -> Vec<BTreeMap<String, String>> {
    let machinery = ["code_", "failures_", "last_failure_", "token_"];
    let mut items: Vec<BTreeMap<String, String>> = stack
        .all_items()
        .await
        .iter()
        .filter(|item| {
            let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            !text("pk").starts_with("TOKEN#") && !text("sk").starts_with("CANCELLATION#")
        })
        .map(|item: &Item| {
            item.iter()
                .filter(|(k, _)| !machinery.iter().any(|m| k.starts_with(m)))
                .map(|(k, v)| (k.clone(), format!("{v:?}")))
                .collect()
        })
        .collect();
    items.sort();
    items
}

async fn cleanup(stack: &TestStack) -> shared::cleanup::CleanupSummary {
    stack.app.run_cleanup(Instant::now() + Duration::from_secs(60)).await
}

#[tokio::test]
async fn a_deletion_cancelled_in_its_grace_period_leaves_the_account_as_it_was() {
    let stack = TestStack::with_stream_and(|c| {
        c.deletion_grace_seconds = GRACE;
        c.deletion_reminder_seconds = REMINDER;
    })
    .await;
    acme(&stack).await;
    let tap = EventsTap::on(&stack).await;
    let bob = stack.user("bob");
    stack.attach_items(&bob.id, 3).await;
    bob.send_code("cancel_deletion").await.expect(409, "deletion_not_scheduled");
    let token = bob.token_for("delete_account").await;
    let before = account_state(&stack).await;

    let scheduled = bob.delete(&token).await;
    scheduled.expect(202, "");
    assert_eq!(scheduled.str("status"), "deletion_scheduled");
    let mail = bob.mails().await.pop().unwrap();
    assert_eq!(mail.subject, "Your account will be deleted");
    assert!(mail.body.contains(scheduled.str("purge_at")) && mail.body.contains("Cancel deletion"), "{}", mail.body);
    // Locked for everything but its cancellation.
    bob.check().await.expect(410, "account_deleted");
    bob.send_code("delete_account").await.expect(410, "account_deleted");

    stack.app.clock.advance(GRACE - REMINDER + 1);
    let summary = cleanup(&stack).await;
    assert_eq!((summary.reminders_sent, summary.deletions_finished), (1, 0));
    let reminder = bob.mails().await.pop().unwrap();
    assert_eq!(reminder.subject, "Reminder: your account will be deleted soon");
    assert!(reminder.body.contains(scheduled.str("purge_at")), "{}", reminder.body);
    assert_eq!(cleanup(&stack).await.reminders_sent, 0, "one reminder");

    let cancelled = bob.cancel_deletion(&bob.token_for("cancel_deletion").await).await;
    cancelled.expect(200, "");
    assert_eq!((cancelled.str("status"), cancelled.str("account_id")), ("active", bob.id.as_str()));
    assert_eq!(bob.mails().await.pop().unwrap().subject, "The deletion of your account was cancelled");
    assert_eq!(account_state(&stack).await, before, "holds, claims, membership, items and status as they were");
    bob.check().await.expect(200, "");

    // The purge's time passes: nothing happens to the account any more.
    stack.app.clock.advance(REMINDER);
    assert_eq!(cleanup(&stack).await.deletions_finished, 0);
    assert_eq!(account_state(&stack).await, before);
    bob.cancel_deletion(&"a".repeat(64)).await.expect(409, "deletion_not_scheduled");
    bob.send_code("cancel_deletion").await.expect(409, "deletion_not_scheduled");

    let events = tap.events().await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["detail-type"].as_str()).collect();
    assert_eq!(kinds, ["Account Deletion Scheduled", "Account Deletion Cancelled"], "{events:?}");
    assert_eq!(events[0]["detail"]["receipt_id"], events[1]["detail"]["receipt_id"]);
    assert_eq!(events[1]["detail"]["cancelled_at"], json!(cancelled.str("cancelled_at")));
    stack.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancellation_racing_the_purge_has_one_winner_in_each_of_20_rounds() {
    let stack = Arc::new(TestStack::with(|c| c.deletion_grace_seconds = 60).await);
    // Rounds 0..20 race; 20 cancels before the purge runs and 21 after, so each outcome is met on every run.
    let accounts: Vec<serde_json::Value> = (0..22)
        .map(|i| json!({"id": format!("r{i}-{{id}}"), "username": format!("r{i}-{{id}}"), "email": format!("r{i}-{{id}}@example.com")}))
        .collect();
    stack.seed(json!({ "accounts": accounts })).await;
    let (mut cancelled, mut purged) = (0, 0);
    for round in 0..22 {
        let user = stack.user(&format!("r{round}"));
        user.delete(&user.token_for("delete_account").await).await.expect(202, "");
        let token = user.token_for("cancel_deletion").await;
        stack.app.clock.advance(61);
        let (s1, s2) = (stack.clone(), stack.clone());
        let base = format!("r{round}");
        let cancel = async move { s1.user(&base).cancel_deletion(&token).await };
        let purge = async move { cleanup(&s2).await };
        let (answer, summary) = match round {
            20 => {
                let answer = cancel.await;
                (answer, purge.await)
            }
            21 => {
                let summary = purge.await;
                (cancel.await, summary)
            }
            _ => {
                let (cancel, purge) = (tokio::spawn(cancel), tokio::spawn(purge));
                (cancel.await.unwrap(), purge.await.unwrap())
            }
        };
        let profile = stack.profile(&user.id).await;
        let receipt = stack.item(&format!("RECEIPT#{}", user.id), "RECEIPT").await;
        match answer.status {
            200 => {
                cancelled += 1;
                assert_eq!(summary.deletions_finished, 0, "round {round}");
                assert!(receipt.is_none(), "round {round}: cancelled, yet a receipt");
                let status = profile.as_ref().and_then(|p| p.get("status")).and_then(|s| s.as_s().ok()).cloned();
                assert_eq!(status.as_deref(), Some("active"), "round {round}");
            }
            _ => {
                purged += 1;
                answer.expect(410, "account_deleted");
                assert_eq!(summary.deletions_finished, 1, "round {round}");
                assert!(profile.is_none() && receipt.is_some(), "round {round}: purged, yet the profile is left");
            }
        }
    }
    assert!(cancelled >= 1 && purged >= 1, "the ordered rounds: {cancelled} cancellations, {purged} purges won");
    stack.finish().await;
}
