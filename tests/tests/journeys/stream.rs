//! What the table's stream carries downstream, read from DynamoDB Local with
//! the DynamoDB Streams API: a deletion's receipt, once, however many requests
//! race for it; nothing of a transaction that was cancelled.

use journeys::harness::TestStack;
use journeys::localstack::{stream_records, StreamRecord};
use serde_json::json;
use std::sync::Arc;

async fn with_bob_and_dave(stack: &TestStack) {
    stack
        .seed(json!({
            "accounts": [
                {"id": "bob-{id}", "username": "bob-{id}", "email": "bob-{id}@example.com"},
                {"id": "dave-{id}", "username": "dave-{id}", "email": "dave-{id}@example.com"}
            ],
            "holds": [{"account_id": "dave-{id}", "kind": "account_balance", "detail": "12.30 CNY left"}]
        }))
        .await;
}

fn receipts<'a>(records: &'a [StreamRecord], account: &str) -> Vec<&'a StreamRecord> {
    records.iter().filter(|r| r.event == "INSERT" && r.pk == format!("RECEIPT#{account}")).collect()
}

/// The records as kinds of change to kinds of item, so two runs compare.
fn shape(records: &[StreamRecord]) -> Vec<String> {
    let mut shape: Vec<String> = records
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r.event,
                r.pk.split('#').next().unwrap_or(""),
                r.new_image.get("status").map_or("", String::as_str)
            )
        })
        .collect();
    shape.sort();
    shape
}

#[tokio::test]
async fn the_stream_carries_the_receipt_of_a_deletion_and_no_personal_data() {
    let stack = TestStack::with_stream().await;
    with_bob_and_dave(&stack).await;
    let bob = stack.user("bob");
    let reply = bob.delete(&bob.token_for("delete_account").await).await;
    reply.expect(200, "");
    let records = stream_records(&stack.table).await.unwrap();
    let receipt = receipts(&records, &bob.id);
    assert_eq!(receipt.len(), 1, "one receipt in the stream");
    assert_eq!(receipt[0].new_image.get("receipt_id").map(String::as_str), Some(reply.str("receipt_id")));
    let text = format!("{:?}", receipt[0].new_image);
    assert!(!text.contains(&bob.email) && !text.contains("username"), "{text}");
    stack.finish().await;
}

#[tokio::test]
async fn a_refused_deletion_puts_nothing_in_the_stream() {
    let stack = TestStack::with_stream().await;
    with_bob_and_dave(&stack).await;
    let dave = stack.user("dave");
    let token = dave.token_for("delete_account").await;
    let before = stream_records(&stack.table).await.unwrap().len();
    dave.delete(&token).await.expect(409, "prerequisites_unmet");
    assert_eq!(stream_records(&stack.table).await.unwrap().len(), before, "the cancelled transaction left no record");
    stack.finish().await;
}

#[tokio::test]
async fn twenty_racing_deletions_leave_the_stream_of_one() {
    // The stream of one deletion, uncontended.
    let alone = TestStack::with_stream().await;
    with_bob_and_dave(&alone).await;
    let bob = alone.user("bob");
    let token = bob.token_for("delete_account").await;
    let from = stream_records(&alone.table).await.unwrap().len();
    bob.delete(&token).await.expect(200, "");
    let expected = shape(&stream_records(&alone.table).await.unwrap()[from..]);
    alone.finish().await;

    let stack = Arc::new(TestStack::with_stream().await);
    with_bob_and_dave(&stack).await;
    let bob = stack.user("bob");
    let token = bob.token_for("delete_account").await;
    let from = stream_records(&stack.table).await.unwrap().len();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (stack, token) = (stack.clone(), token.clone());
        tasks.spawn(async move { stack.user("bob").delete(&token).await.status });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    let records = stream_records(&stack.table).await.unwrap();
    assert_eq!(receipts(&records, &bob.id).len(), 1);
    assert_eq!(shape(&records[from..]), expected, "the 19 cancelled transactions left nothing in the stream");
    stack.finish().await;
}
