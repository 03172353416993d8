//! A data export through cleanup's pages (docs/data-export.md): an account with many items,
//! the export asked for from the export-data release binary, finished by the cleanup release
//! binary, each a process as Lambda starts it. Measures the time from the request to the
//! archive ready and each process's peak RSS; checks the archive holds every item once.

use crate::process::{self, Env, Program};
use crate::report::Export;
use crate::runtime_api::RuntimeApi;
use crate::scenarios::{http_event, Bed, Error};
use serde_json::{json, Value};
use shared::model::account::Role;
use shared::model::purpose::Purpose;
use std::path::Path;
use std::time::{Duration, Instant};

/// The target of issue 20: under a minute, under 64 MiB.
pub const SECONDS_TARGET: f64 = 60.0;
pub const RSS_TARGET_KB: u64 = 64 * 1024;

/// How many cleanup runs the bench waits for before it calls the export stuck.
const MAX_CLEANUP_RUNS: usize = 20;

pub async fn measure(
    sdk: &aws_config::SdkConfig,
    table: &str,
    items: usize,
    bin_dir: &Path,
    log_dir: &Path,
    env: &Env,
) -> Result<Export, Error> {
    let bed = Bed::new(sdk, "export-data", table.to_string()).await?;
    let s3 = journeys::localstack::s3_client(sdk);
    journeys::localstack::provision_export_bucket(&s3, crate::probe::EXPORT_BUCKET).await?;
    let account = bed.account("exporter", Role::Individual, None).await?;
    let load_started = Instant::now();
    load(bed.app.store.client(), table, account.as_str(), items).await?;
    let load_s = load_started.elapsed().as_secs_f64();
    let token = bed.token(&account, Purpose::ExportData).await?;

    // The request: it writes what it can within INLINE_WORK_ITEMS and hands the rest to cleanup.
    let started = Instant::now();
    let request = http_event("export-data", account.as_str(), Some(&json!({"verification_token": token})));
    let (answer, request_rss_kb) = run_once(bin_dir, log_dir, env, "export-data", &[request]).await?;
    let reply: Value = serde_json::from_slice(&answer).map_err(|e| format!("export-data answered: {e}"))?;
    let body: Value = serde_json::from_str(reply["body"].as_str().unwrap_or("{}"))?;
    let status = reply["statusCode"].as_u64().unwrap_or(0);
    if !(status == 200 || status == 202) {
        return Err(format!("export-data answered {status}: {body}").into());
    }
    let export_id = body["export_id"].as_str().ok_or("no export_id")?.to_string();
    let request_ms = started.elapsed().as_secs_f64() * 1000.0;

    // Cleanup's runs, one process, until the record says ready.
    let mut cleanup_runs = 0;
    let mut cleanup_rss_kb = 0;
    if status == 202 {
        let api = RuntimeApi::start("cleanup")?;
        let mut child = process::spawn(&Program::binary(bin_dir, "cleanup"), "cleanup", &api, env, log_dir)?;
        let result: Result<(), Error> = async {
            api.wait_first_poll(&mut child, Duration::from_secs(30)).map_err(|e| format!("cleanup: {e}"))?;
            while !ready(&bed, account.as_str(), &export_id).await? {
                if cleanup_runs == MAX_CLEANUP_RUNS {
                    return Err(format!("the export was not ready after {cleanup_runs} cleanup runs").into());
                }
                cleanup_runs += 1;
                let event = serde_json::to_vec(&journeys::event::scheduled())?;
                let answer =
                    api.invoke(&mut child, event, Duration::from_secs(900)).map_err(|e| format!("cleanup: {e}"))?;
                if !answer.ok {
                    return Err(format!("cleanup failed: {}", String::from_utf8_lossy(&answer.body)).into());
                }
            }
            Ok(())
        }
        .await;
        cleanup_rss_kb = process::peak_rss_kb(child.id()).unwrap_or(0);
        process::stop(child);
        result?;
    }
    let ready_s = started.elapsed().as_secs_f64();

    // The archive: one JSON document with every item once.
    let key = format!("exports/{account}/{export_id}.json");
    let object = s3.get_object().bucket(crate::probe::EXPORT_BUCKET).key(&key).send().await?;
    let bytes = object.body.collect().await?.into_bytes();
    let doc: Value = serde_json::from_slice(&bytes)?;
    let data_entries = doc["data"].as_array().map_or(0, Vec::len);
    if data_entries != items {
        return Err(format!("the archive holds {data_entries} of {items} items").into());
    }
    let _ = bed.app.store.client().delete_table().table_name(table).send().await;
    Ok(Export {
        items,
        load_s,
        request_ms,
        request_status: status as u16,
        cleanup_runs,
        ready_s,
        archive_bytes: bytes.len() as u64,
        export_data_peak_rss_kb: request_rss_kb,
        cleanup_peak_rss_kb: cleanup_rss_kb,
        within_targets: ready_s < SECONDS_TARGET && request_rss_kb.max(cleanup_rss_kb) < RSS_TARGET_KB,
    })
}

/// Runs `function`'s release binary for `events`; the last answer and the process's peak RSS.
async fn run_once(
    bin_dir: &Path,
    log_dir: &Path,
    env: &Env,
    function: &str,
    events: &[Value],
) -> Result<(Vec<u8>, u64), Error> {
    let api = RuntimeApi::start(function)?;
    let mut child = process::spawn(&Program::binary(bin_dir, function), function, &api, env, log_dir)?;
    let result: Result<Vec<u8>, Error> = async {
        api.wait_first_poll(&mut child, Duration::from_secs(30)).map_err(|e| format!("{function}: {e}"))?;
        let mut last = Vec::new();
        for event in events {
            let answer = api
                .invoke(&mut child, serde_json::to_vec(event)?, Duration::from_secs(120))
                .map_err(|e| format!("{function}: {e}"))?;
            last = answer.body;
        }
        Ok(last)
    }
    .await;
    let rss = process::peak_rss_kb(child.id()).unwrap_or(0);
    process::stop(child);
    Ok((result?, rss))
}

/// Whether the export's record says `ready`.
async fn ready(bed: &Bed, account: &str, export_id: &str) -> Result<bool, Error> {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let item = bed
        .app
        .store
        .client()
        .get_item()
        .table_name(&bed.table)
        .key("pk", S(format!("ACCOUNT#{account}")))
        .key("sk", S(format!("EXPORT#{export_id}")))
        .consistent_read(true)
        .send()
        .await?
        .item;
    Ok(item.and_then(|i| i.get("status").and_then(|s| s.as_s().ok()).cloned()).as_deref() == Some("ready"))
}

/// `items` data items under the account, as other services' data would be (a 64-byte payload each).
async fn load(client: &aws_sdk_dynamodb::Client, table: &str, account: &str, items: usize) -> Result<(), Error> {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let requests: Vec<WriteRequest> = (0..items)
        .map(|i| {
            let item = std::collections::HashMap::from([
                ("pk".to_string(), S(format!("ACCOUNT#{account}"))),
                ("sk".to_string(), S(format!("DATA#{i:08}"))),
                ("payload".to_string(), S("x".repeat(64))),
                ("n".to_string(), N(i.to_string())),
            ]);
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().expect("item"))
                .build()
        })
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    let mut batches = requests.chunks(25).map(<[_]>::to_vec).collect::<Vec<_>>().into_iter();
    loop {
        while tasks.len() < 4 {
            let Some(mut pending) = batches.next() else { break };
            let (client, table) = (client.clone(), table.to_string());
            tasks.spawn(async move {
                while !pending.is_empty() {
                    let out = client.batch_write_item().request_items(&table, pending).send().await?;
                    pending = out.unprocessed_items.and_then(|mut m| m.remove(&table)).unwrap_or_default();
                }
                Ok::<_, aws_sdk_dynamodb::Error>(())
            });
        }
        match tasks.join_next().await {
            Some(done) => done??,
            None => return Ok(()),
        }
    }
}
