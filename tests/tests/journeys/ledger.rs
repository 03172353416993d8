//! The erasure ledger (docs/erasure-ledger.md): each downstream system of
//! `DOWNSTREAM_SYSTEMS` reports a deletion `erased` or `retained` (with its
//! legal ground) by an event on the bus, which erasure-ledger takes;
//! `cleanup` announces the deletion again to a silent system and, past the
//! deadline, marks it overdue with the `ErasureOverdue` metric.

use journeys::harness::TestStack;
use journeys::tap::{personal_data_in, EventsTap};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const GROUND: &str = "Invoices kept 10 years: GDPR Art. 17(3)(b), commercial and tax law";

fn systems(names: &str) -> impl FnOnce(&mut shared::config::Config) + '_ {
    move |c| {
        c.downstream_systems = names.split(',').map(String::from).collect();
        c.erasure_reannounce_seconds = 3600;
        c.erasure_deadline_seconds = 3 * 3600;
    }
}

/// What a system puts on the bus, as the rule hands it to erasure-ledger.
fn report(system: &str, account: &str, receipt: &str, outcome: &str, ground: Option<&str>) -> Value {
    let mut detail = json!({"account_id": account, "receipt_id": receipt, "outcome": outcome});
    if let Some(ground) = ground {
        detail["ground"] = json!(ground);
    }
    json!({"version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "source": format!("erasure.{system}"),
           "detail-type": "Account Erasure Reported", "account": "123456789012", "time": "2026-12-02T03:00:00Z",
           "region": "us-east-1", "resources": [], "detail": detail})
}

async fn deleted_bob(stack: &TestStack) -> (String, String) {
    stack
        .seed(json!({"accounts": [{"id": "bob-{id}", "username": "bob-{id}", "email": "bob-{id}@example.com",
                                   "phone": "+8613800000002", "name": "Bob Example"}]}))
        .await;
    let bob = stack.user("bob");
    let reply = bob.delete(&bob.token_for("delete_account").await).await;
    reply.expect(200, "");
    (bob.id.clone(), reply.str("receipt_id").to_string())
}

async fn record(stack: &TestStack, event: Value) -> Value {
    erasure_ledger::handle(&stack.app, event).await.expect("only a table failure is an error")
}

async fn cleanup(stack: &TestStack) -> shared::cleanup::CleanupSummary {
    stack.app.run_cleanup(Instant::now() + Duration::from_secs(60)).await
}

fn status_of(ledger: &Value, system: &str) -> String {
    let entry = ledger["systems"].as_array().unwrap().iter().find(|s| s["system"] == system).unwrap();
    entry["status"].as_str().unwrap().to_string()
}

async fn ledger(stack: &TestStack, account: &str) -> Value {
    serde_json::to_value(stack.app.ledger(account).await.unwrap()).unwrap()
}

#[tokio::test]
async fn three_systems_report_and_the_ledger_is_complete() {
    let stack = TestStack::with_stream_and(systems("billing,storage,analytics")).await;
    let (bob, receipt) = deleted_bob(&stack).await;
    let open = ledger(&stack, &bob).await;
    assert_eq!((open["receipt_id"].as_str(), open["complete"].as_bool()), (Some(receipt.as_str()), Some(false)));
    for system in ["billing", "storage", "analytics"] {
        assert_eq!(status_of(&open, system), "pending");
    }

    // Through the bus, as a system reports: the template's rule queues it for erasure-ledger.
    let tap = EventsTap::on(&stack).await;
    let detail = json!({"account_id": bob, "receipt_id": receipt, "outcome": "erased"});
    tap.bus.put_report("billing", &detail).await.unwrap();
    tap.bus.put_report("billing", &json!({"unrelated": true})).await.unwrap();
    let queued = tap.bus.reports().await.unwrap();
    assert_eq!(queued.len(), 2, "{queued:?}");
    let answers: Vec<Value> = {
        let mut answers = Vec::new();
        for (handle, event) in queued {
            answers.push(record(&stack, event).await);
            tap.bus.report_done(&handle).await.unwrap();
        }
        answers
    };
    assert_eq!(answers.iter().filter(|a| **a == json!({"outcome": "recorded"})).count(), 1, "{answers:?}");
    assert_eq!(answers.iter().filter(|a| a["refused"].is_string()).count(), 1, "{answers:?}");
    assert_eq!(
        record(&stack, report("storage", &bob, &receipt, "retained", Some(GROUND))).await["outcome"],
        "recorded"
    );
    // Idempotent: the same report again changes nothing; a different one is refused.
    assert_eq!(record(&stack, report("billing", &bob, &receipt, "erased", None)).await["outcome"], "already_recorded");
    assert!(record(&stack, report("billing", &bob, &receipt, "retained", Some(GROUND))).await["refused"].is_string());
    // Not a system of the configuration, no ground for retained, another deletion: refused, nothing recorded.
    assert!(record(&stack, report("crm", &bob, &receipt, "erased", None)).await["refused"].is_string());
    assert!(record(&stack, report("analytics", &bob, &receipt, "retained", None)).await["refused"].is_string());
    assert!(record(&stack, report("analytics", &bob, "rcpt_other", "erased", None)).await["refused"].is_string());
    assert_eq!(status_of(&ledger(&stack, &bob).await, "analytics"), "pending");
    assert_eq!(record(&stack, report("analytics", &bob, &receipt, "erased", None)).await["outcome"], "recorded");

    let done = ledger(&stack, &bob).await;
    assert_eq!(done["complete"], json!(true), "{done}");
    assert_eq!(
        ["analytics", "billing", "storage"].map(|s| status_of(&done, s)),
        ["erased", "erased", "retained"].map(String::from)
    );
    let storage = done["systems"].as_array().unwrap().iter().find(|s| s["system"] == "storage").unwrap();
    assert_eq!(storage["ground"], json!(GROUND));
    assert!(storage["reported_at"].as_str().unwrap().ends_with('Z'));
    let text = done.to_string();
    assert!(!text.contains("example.com") && !text.contains("Bob Example") && !text.contains("13800000002"), "{text}");

    stack.app.clock.advance(4 * 3600);
    let summary = cleanup(&stack).await;
    assert_eq!((summary.erasures_reannounced, summary.erasures_overdue), (0, 0), "nothing is owed");

    // The operators' route answers the same ledger to an IAM principal, and nobody else.
    let read = |iam: bool| {
        let mut event = journeys::event::http("GET", &format!("/v1/erasure-ledger/{bob}"), None, None, None, None);
        event["routeKey"] = json!("GET /v1/erasure-ledger/{account_id}");
        event["pathParameters"] = json!({"account_id": bob});
        if iam {
            event["requestContext"]["authorizer"] = json!({"iam": {"accountId": "123456789012", "userArn": "arn:aws:iam::123456789012:user/dpo", "userId": "AIDA"}});
        }
        event
    };
    let answer = erasure_ledger::handle(&stack.app, read(true)).await.unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, done);
    let refused = erasure_ledger::handle(&stack.app, read(false)).await.unwrap();
    assert_eq!(refused["statusCode"], 401, "{refused}");
    stack.finish().await;
}

#[tokio::test]
async fn a_silent_system_is_announced_again_then_overdue_with_the_metric() {
    let stack = TestStack::with_stream_and(systems("billing,storage")).await;
    stack.app.metrics.capture();
    let tap = EventsTap::on(&stack).await;
    let (bob, receipt) = deleted_bob(&stack).await;
    record(&stack, report("billing", &bob, &receipt, "erased", None)).await;

    for announcement in [2, 3] {
        stack.app.clock.advance(3601);
        let summary = cleanup(&stack).await;
        assert_eq!((summary.erasures_reannounced, summary.erasures_overdue), (1, 0));
        let events = tap.events().await;
        let asked = events.last().unwrap();
        assert_eq!(asked["detail-type"], "Account Erasure Requested", "{events:?}");
        assert_eq!(
            (&asked["detail"]["system"], &asked["detail"]["receipt_id"], &asked["detail"]["announcement"]),
            (&json!("storage"), &json!(receipt), &json!(announcement))
        );
    }
    assert!(stack.app.metrics.lines().is_empty());
    stack.app.clock.advance(3601);
    let summary = cleanup(&stack).await;
    assert_eq!((summary.erasures_reannounced, summary.erasures_overdue), (0, 1));
    let metrics = stack.app.metrics.lines();
    assert_eq!(metrics.len(), 1, "{metrics:?}");
    let metric: Value = serde_json::from_str(&metrics[0]).unwrap();
    assert_eq!((&metric["ErasureOverdue"], &metric["System"]), (&json!(1), &json!("storage")));
    assert_eq!(metric["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "ErasureOverdue");
    let overdue = ledger(&stack, &bob).await;
    assert_eq!((status_of(&overdue, "storage"), status_of(&overdue, "billing")), ("overdue".into(), "erased".into()));
    stack.app.clock.advance(3601);
    assert_eq!(cleanup(&stack).await.erasures_overdue, 0, "overdue once");

    // A late report still counts.
    assert_eq!(record(&stack, report("storage", &bob, &receipt, "erased", None)).await["outcome"], "recorded");
    assert_eq!(ledger(&stack, &bob).await["complete"], json!(true));
    let events = tap.events().await;
    let personal = [format!("{bob}@example.com"), "Bob Example".into(), "8613800000002".into()];
    assert_eq!(
        personal_data_in(&events, &personal.iter().map(String::as_str).collect::<Vec<_>>()),
        Vec::<String>::new()
    );
    stack.finish().await;
}
