//! Cleanup cost against table size: what one run reads when 100 items are due
//! among more and more live ones.

use crate::probe;
use crate::report::Cleanup;
use crate::scenarios::Error;
use std::time::{Duration, Instant};

/// Loads `live` items that are not due (half plain account data, half live
/// tokens in the due index with a future due time) and `due` expired tokens,
/// then runs cleanup and counts what it read.
pub async fn measure(sdk: &aws_config::SdkConfig, table: &str, live: usize, due: usize) -> Result<Cleanup, Error> {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    use std::collections::HashMap;

    let table = table.to_string();
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let _ = dynamo.delete_table().table_name(&table).send().await;
    journeys::localstack::create_table(&dynamo, &table, journeys::localstack::Stream::Off).await?;
    let now = shared::clock::Clock::default().now();
    let item = |i: usize| -> HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
        if i < live / 2 {
            HashMap::from([
                ("pk".into(), S(format!("ACCOUNT#live-{:06}", i / 50))),
                ("sk".into(), S(format!("DATA#{i:08}"))),
                ("payload".into(), S("x".repeat(64))),
            ])
        } else {
            let (expires, tag) = if i < live { (now + 3600, "live") } else { (now - 60, "expired") };
            HashMap::from([
                ("pk".into(), S(format!("TOKEN#{tag}-{i:08}"))),
                ("sk".into(), S("TOKEN".into())),
                ("account_id".into(), S(format!("live-{:06}", i / 50))),
                ("purpose".into(), S("delete_account".into())),
                ("expires_at".into(), N(expires.to_string())),
                ("ttl".into(), N(expires.to_string())),
                ("due_bucket".into(), S("token".into())),
                ("due_at".into(), N(expires.to_string())),
            ])
        }
    };
    let load_started = Instant::now();
    let batches: Vec<Vec<WriteRequest>> = (0..live + due)
        .map(|i| {
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item(i))).build().expect("item"))
                .build()
        })
        .collect::<Vec<_>>()
        .chunks(25)
        .map(<[_]>::to_vec)
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    let mut batches = batches.into_iter();
    loop {
        while tasks.len() < 4 {
            let Some(mut pending) = batches.next() else { break };
            let (dynamo, table) = (dynamo.clone(), table.clone());
            tasks.spawn(async move {
                while !pending.is_empty() {
                    let out = dynamo.batch_write_item().request_items(&table, pending).send().await?;
                    pending = out.unprocessed_items.and_then(|mut m| m.remove(&table)).unwrap_or_default();
                }
                Ok::<_, aws_sdk_dynamodb::Error>(())
            });
        }
        match tasks.join_next().await {
            Some(done) => done??,
            None => break,
        }
    }
    let load_s = load_started.elapsed().as_secs_f64();

    let recorder = probe::Recorder::default();
    let app = probe::app(sdk, &table, &recorder);
    let run = || async {
        recorder.take();
        let started = Instant::now();
        let summary = app.run_cleanup(Instant::now() + Duration::from_secs(600)).await;
        (summary, recorder.take(), started.elapsed())
    };
    let (first, seen, took) = run().await;
    let (second, seen_again, took_again) = run().await;
    let _ = dynamo.delete_table().table_name(&table).send().await;
    Ok(Cleanup {
        live_items: live,
        due_items: due,
        load_s,
        items_read: seen.items_read(),
        due_entries_read: first.due_entries_read,
        tokens_removed: first.tokens_removed,
        dynamodb_requests: seen.count("dynamodb"),
        requests: seen.describe(),
        duration_ms: took.as_secs_f64() * 1000.0,
        next_run_items_read: seen_again.items_read(),
        next_run_due_entries_read: second.due_entries_read,
        next_run_duration_ms: took_again.as_secs_f64() * 1000.0,
    })
}
