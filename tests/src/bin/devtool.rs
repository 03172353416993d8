//! The dev tool behind `scripts/dev`: `provision` (table from the template,
//! verified sender, the export bucket, the local bus, and with `CODE_SECRET_ID` the code secret in moto), `drop-table`, `seed FILE`, `mail`,
//! `events` (what reached the local bus), `deliver-stream PORT` (the table's stream to publish-events, as
//! Lambda's event source mapping would, and the erasure reports to erasure-ledger, until stopped),
//! `ledger ACCOUNT` (a deletion's erasure ledger), `report ...` (an erasure report put on the bus as a
//! downstream system would), `audit` (every invariant over the whole table, docs/audit.md), `event` (the events
//! the scripts send the functions), `hold register|release ...` (what another service does through
//! `App::register_hold` / `App::release_hold`) and `fault-proxy RATE STATE_DIR` (the soak's fault proxies in
//! front of DynamoDB Local and moto, docs/soak.md) and `cleanup` (one run of the cleanup function's handler with
//! a real deadline). Reads the same environment as the functions.

#[path = "devtool/audit.rs"]
mod audit;

use journeys::event;
use journeys::fixtures::Fixtures;
use journeys::localstack;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["provision"] => provision().await,
        ["drop-table"] => drop_table().await,
        ["seed", file] => seed(file).await,
        ["mail"] => mail().await,
        ["events"] => events().await,
        ["ledger", account] => ledger(account).await,
        ["report", system, account, receipt, outcome, ground @ ..] if ground.len() <= 1 => {
            report(system, account, receipt, outcome, ground.first().copied()).await
        }
        ["deliver-stream", port, state] => deliver_stream(port, state).await,
        ["hold", "register", account, kind, reference, detail @ ..] if detail.len() <= 1 => {
            return hold_register(account, kind, reference, detail.first().copied().unwrap_or("")).await;
        }
        ["hold", "release", account, kind, reference] => return hold_release(account, kind, reference).await,
        ["fault-proxy", rate, state] => fault_proxy(rate, state).await,
        ["cognito-triggers", moto, lambda_port, state] => cognito_triggers(moto, lambda_port, state).await,
        ["cleanup"] => cleanup_once().await,
        ["audit", options @ ..] => return audit::run(options).await,
        ["event", "schedule"] => print_json(&event::scheduled()),
        ["event", method, path, options @ ..] => http_event(method, path, options),
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("devtool: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str =
    "usage: devtool provision | drop-table | seed FILE | mail | events | deliver-stream LAMBDA_PORT STATE_DIR
       | audit [--table NAME] [--segments N] [--max-rcu UNITS_PER_SECOND]
       | event schedule
       | hold register ACCOUNT KIND REFERENCE [DETAIL] | hold release ACCOUNT KIND REFERENCE
       | cognito-triggers MOTO_URL LAMBDA_PORT STATE_DIR   (the user pool's triggers, tests/src/cognito.rs)
       | fault-proxy RATE STATE_DIR   (FAULT_KINDS: comma-separated, default all; FAULT_SEED: a number;
                                     FAULT_PERSIST: the share of faults that last through the SDK's retries)
       | cleanup
       | event METHOD PATH [--sub ACCOUNT] [--client CLIENT_ID] [--iat SECONDS] [--body JSON]";

/// Prints an API Gateway HTTP API event; without `--sub` and `--client` it has no authorizer.
fn http_event(method: &str, path: &str, options: &[&str]) -> Result<(), localstack::Error> {
    let (mut sub, mut client, mut iat, mut body) = (None, None, None, None);
    for pair in options.chunks(2) {
        match pair {
            ["--sub", value] => sub = Some(*value),
            ["--client", value] => client = Some(*value),
            ["--iat", value] => iat = Some(value.to_string()),
            ["--body", value] => body = Some(*value),
            _ => return Err(USAGE.into()),
        }
    }
    // A caller's JWT was issued just now unless the script says when.
    let iat = iat.or_else(|| sub.map(|_| shared::clock::Clock::default().now().to_string()));
    print_json(&event::http(method, path, sub, client, iat.as_deref(), body))
}

fn print_json(value: &serde_json::Value) -> Result<(), localstack::Error> {
    println!("{value}");
    Ok(())
}

fn required(name: &str) -> Result<String, localstack::Error> {
    std::env::var(name).map_err(|_| format!("{name} is required").into())
}

async fn provision() -> Result<(), localstack::Error> {
    let sdk = localstack::sdk_config().await;
    let table = required("TABLE_NAME")?;
    localstack::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table, localstack::Stream::AsTemplate).await?;
    localstack::verify_sender(&aws_sdk_sesv2::Client::new(&sdk), &required("SENDER_EMAIL")?).await?;
    // With CODE_SECRET_ID the functions read the key from (moto's) Secrets Manager, as on AWS.
    if let Ok(secret_id) = std::env::var("CODE_SECRET_ID") {
        let client = aws_sdk_secretsmanager::Client::new(&sdk);
        if client.describe_secret().secret_id(&secret_id).send().await.is_err() {
            localstack::put_code_secret(&client, &secret_id, &required("CODE_SECRET")?).await?;
        }
        println!("code secret {secret_id} ready");
    }
    // The export bucket as the template defines it (EXPORT_BUCKET, docs/data-export.md).
    if let Ok(bucket) = std::env::var("EXPORT_BUCKET") {
        localstack::provision_export_bucket(&localstack::s3_client(&sdk), &bucket).await?;
        println!("export bucket {bucket} ready");
    }
    let bus = local_bus();
    bus.provision().await?;
    println!("table {table} ready, sender verified, bus {} with its events in log group {}", bus.bus, bus.log_group);
    Ok(())
}

async fn drop_table() -> Result<(), localstack::Error> {
    let sdk = localstack::sdk_config().await;
    let table = required("TABLE_NAME")?;
    match aws_sdk_dynamodb::Client::new(&sdk).delete_table().table_name(&table).send().await {
        Ok(_) => println!("table {table} dropped"),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => {
            println!("no table {table}")
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

async fn seed(file: &str) -> Result<(), localstack::Error> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let fixtures = Fixtures::parse(&text)?;
    let app = shared::App::from_env().await?;
    fixtures.load(&app).await?;
    eprintln!(
        "seeded {} enterprises, {} accounts, {} holds from {file}",
        fixtures.enterprises.len(),
        fixtures.accounts.len(),
        fixtures.holds.len()
    );
    // The id map of contract section 6: without an identity provider each account keeps its fixture id.
    let ids: serde_json::Map<String, serde_json::Value> =
        fixtures.accounts.iter().map(|a| (a.id.clone(), serde_json::json!(a.id))).collect();
    println!("{}", serde_json::json!({ "accounts": ids }));
    Ok(())
}

async fn mail() -> Result<(), localstack::Error> {
    println!("{}", serde_json::to_string_pretty(&localstack::mails().await?)?);
    Ok(())
}

/// The bus of `EVENT_BUS_NAME` (as publish-events gets it) and its read-back.
fn local_bus() -> journeys::bus::LocalBus {
    journeys::bus::LocalBus::named(&shared::config::event_bus_name(|name| std::env::var(name).ok()))
}

async fn events() -> Result<(), localstack::Error> {
    println!("{}", serde_json::to_string_pretty(&local_bus().events().await?)?);
    Ok(())
}

/// Polls the table's stream every half second and hands what the template's
/// filters select to publish-events through `cargo lambda watch`'s Invoke API.
/// Where it has read to is kept in STATE_DIR, so a restart goes on from there;
/// batches out of retries are appended to STATE_DIR/publish-events-failed.jsonl
/// (the on-failure destination).
async fn deliver_stream(port: &str, state: &str) -> Result<(), localstack::Error> {
    use journeys::esm::{read_new_records, EventSourceMapping, StreamPosition};
    let table = required("TABLE_NAME")?;
    let esm = EventSourceMapping::from_template()?;
    let state = std::path::Path::new(state);
    let position_file = state.join("stream-position.json");
    let mut position: StreamPosition =
        std::fs::read(&position_file).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let url = format!("http://127.0.0.1:{port}/2015-03-31/functions/publish-events/invocations");
    let record_url = format!("http://127.0.0.1:{port}/2015-03-31/functions/erasure-ledger/invocations");
    let bus = local_bus();
    eprintln!("delivering the stream of {table} to publish-events ({} filters)", esm.filters.len());
    loop {
        match read_new_records(&table, &mut position).await {
            Ok(records) => {
                let selected: Vec<serde_json::Value> = records.into_iter().filter(|r| esm.selects(r)).collect();
                if !selected.is_empty() {
                    eprintln!("{} records for publish-events", selected.len());
                    let dead = esm.deliver(selected, &mut async |batch| invoke(&url, batch).await).await;
                    for failure in dead {
                        eprintln!("to the on-failure destination: {failure}");
                        use std::io::Write;
                        let mut file = std::fs::OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(state.join("publish-events-failed.jsonl"))?;
                        writeln!(file, "{failure}")?;
                    }
                }
                std::fs::write(&position_file, serde_json::to_vec(&position)?)?;
            }
            Err(error) => eprintln!("reading the stream failed (retried): {error}"),
        }
        // What the report rule queued goes to erasure-ledger; a failure stays queued and comes back.
        match bus.reports().await {
            Ok(reports) => {
                for (handle, report) in reports {
                    match invoke(&record_url, report).await {
                        Ok(answer) => {
                            eprintln!("erasure-ledger: {answer}");
                            bus.report_done(&handle).await?;
                        }
                        Err(error) => eprintln!("erasure-ledger failed (retried): {error}"),
                    }
                }
            }
            Err(error) => eprintln!("reading the reports failed (retried): {error}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// One invocation through the Invoke API; a function error is an `Err`, as Lambda reports it to the mapping.
async fn invoke(url: &str, batch: serde_json::Value) -> Result<serde_json::Value, String> {
    let headers = "Content-Type: application/json\r\n";
    let raw = localstack::http_request("POST", url, headers, &batch.to_string()).await.map_err(|e| e.to_string())?;
    let answer: serde_json::Value =
        serde_json::from_slice(&raw).map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&raw)))?;
    if answer.get("errorType").is_some() || answer.get("errorMessage").is_some() {
        return Err(answer.to_string());
    }
    Ok(answer)
}

/// A deletion's ledger as an operator reads it (docs/erasure-ledger.md): no personal data.
async fn ledger(account: &str) -> Result<(), localstack::Error> {
    let app = shared::App::from_env().await?;
    println!("{}", serde_json::to_string_pretty(&app.ledger(account).await?)?);
    Ok(())
}

async fn report(
    system: &str,
    account: &str,
    receipt: &str,
    outcome: &str,
    ground: Option<&str>,
) -> Result<(), localstack::Error> {
    let mut detail = serde_json::json!({"account_id": account, "receipt_id": receipt, "outcome": outcome});
    if let Some(ground) = ground {
        detail["ground"] = serde_json::json!(ground);
    }
    local_bus().put_report(system, &detail).await?;
    println!("{system} reported {outcome} for {receipt} on the bus");
    Ok(())
}

/// What a hold command did, as one JSON line: `{"hold": "registered" | "released" | "refused" |
/// "already_registered" | "not_found", ...}`. Exit 0 when it was done, 3 when the table refused it
/// (the account is not active, the hold exists, no such hold), 1 on any other error.
fn hold_outcome(outcome: &str, account: &str, kind: &str, reference: &str) -> ExitCode {
    println!("{}", serde_json::json!({"hold": outcome, "account_id": account, "kind": kind, "reference": reference}));
    if matches!(outcome, "registered" | "released") {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}

async fn hold_register(account: &str, kind: &str, reference: &str, detail: &str) -> ExitCode {
    use shared::holds::HoldError;
    use shared::model::hold::Hold;
    let result = async {
        let app = shared::App::from_env().await?;
        let hold = Hold::new(kind, reference, detail)?;
        let id =
            shared::model::ids::AccountId::parse(account).ok_or_else(|| format!("{account:?} is not an account id"))?;
        Ok::<_, localstack::Error>(app.register_hold(&id, &hold).await)
    }
    .await;
    match result {
        Ok(Ok(())) => hold_outcome("registered", account, kind, reference),
        Ok(Err(HoldError::AccountNotActive)) => hold_outcome("refused", account, kind, reference),
        Ok(Err(HoldError::AlreadyRegistered)) => hold_outcome("already_registered", account, kind, reference),
        Ok(Err(e)) => {
            eprintln!("devtool: hold register: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("devtool: hold register: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn hold_release(account: &str, kind: &str, reference: &str) -> ExitCode {
    use shared::holds::HoldError;
    let result = async {
        let app = shared::App::from_env().await?;
        let id =
            shared::model::ids::AccountId::parse(account).ok_or_else(|| format!("{account:?} is not an account id"))?;
        Ok::<_, localstack::Error>(app.release_hold(&id, kind, reference).await)
    }
    .await;
    match result {
        Ok(Ok(())) => hold_outcome("released", account, kind, reference),
        Ok(Err(HoldError::NotFound)) => hold_outcome("not_found", account, kind, reference),
        Ok(Err(e)) => {
            eprintln!("devtool: hold release: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("devtool: hold release: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Two fault proxies, one in front of DynamoDB Local (`AWS_ENDPOINT_URL_DYNAMODB`) and one in front of moto
/// (`AWS_ENDPOINT_URL`), each faulting a share RATE of the requests at random (journeys::faults::RandomFaults),
/// a share FAULT_PERSIST (default 0) of them on every retry of the operation too.
/// Until stopped, it rewrites STATE_DIR/faults.json every second: the proxies' URLs, which `scripts/dev up`
/// hands to the functions, and what each proxy saw and injected.
/// moto's cognito-idp behind the proxy that invokes sign-up-triggers (on cargo lambda watch) as
/// Cognito would; its address goes to STATE_DIR/idp.json, where `scripts/dev idp` reads it.
async fn cognito_triggers(moto: &str, lambda_port: &str, state: &str) -> Result<(), localstack::Error> {
    use journeys::cognito::{invoke_url, TriggerProxy};
    let function = format!("http://127.0.0.1:{lambda_port}/2015-03-31/functions/sign-up-triggers/invocations");
    let proxy = TriggerProxy::start("127.0.0.1:0", moto, invoke_url(function.clone())).await?;
    let file = std::path::Path::new(state).join("idp.json");
    let partial = file.with_extension("json.tmp");
    std::fs::write(&partial, serde_json::to_vec(&serde_json::json!({"endpoint": proxy.url()}))?)?;
    std::fs::rename(&partial, &file)?;
    eprintln!("cognito-idp with its triggers on {} -> {moto}; triggers: {function}", proxy.url());
    proxy.wait().await;
    Ok(())
}

async fn fault_proxy(rate: &str, state: &str) -> Result<(), localstack::Error> {
    use journeys::faults::{Fault, FaultProxy, RandomFaults};
    let rate: f64 = rate.parse().map_err(|_| format!("RATE must be a number between 0 and 1, not {rate}"))?;
    let kinds = match std::env::var("FAULT_KINDS") {
        Ok(list) if !list.trim().is_empty() => list
            .split(',')
            .map(|name| Fault::named(name.trim()).ok_or_else(|| format!("FAULT_KINDS: no fault named {name}")))
            .collect::<Result<Vec<_>, _>>()?,
        _ => Fault::ALL.to_vec(),
    };
    let seed = match std::env::var("FAULT_SEED") {
        Ok(seed) => seed.parse().map_err(|_| format!("FAULT_SEED must be a number, not {seed}"))?,
        Err(_) => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos() as u64,
    };
    let persist = match std::env::var("FAULT_PERSIST") {
        Ok(share) => share.parse().map_err(|_| format!("FAULT_PERSIST must be a number from 0 to 1, not {share}"))?,
        Err(_) => 0.0,
    };
    let dynamodb_upstream = required("AWS_ENDPOINT_URL_DYNAMODB")?;
    let moto_upstream = required("AWS_ENDPOINT_URL")?;
    let faults = RandomFaults { rate, kinds: kinds.clone(), seed, persist };
    let dynamodb = FaultProxy::start_random(&dynamodb_upstream, faults.clone()).await?;
    // Another draw sequence for moto, still fixed by the seed.
    let moto = FaultProxy::start_random(&moto_upstream, RandomFaults { seed: seed ^ 0x5eed, ..faults }).await?;
    let file = std::path::Path::new(state).join("faults.json");
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    eprintln!(
        "fault proxies: {} -> {dynamodb_upstream}, {} -> {moto_upstream}; rate {rate}, faults {}, seed {seed}",
        dynamodb.url(),
        moto.url(),
        names.join(",")
    );
    loop {
        let report = serde_json::json!({
            "rate": rate, "kinds": names, "seed": seed, "persist": persist,
            "dynamodb": {"url": dynamodb.url(), "upstream": dynamodb_upstream, "counts": dynamodb.summary()},
            "moto": {"url": moto.url(), "upstream": moto_upstream, "counts": moto.summary()},
        });
        let partial = file.with_extension("json.tmp");
        std::fs::write(&partial, serde_json::to_vec_pretty(&report)?)?;
        std::fs::rename(&partial, &file)?;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// The cleanup function's timeout in infra/template.yaml (CleanupFunction: Timeout).
const CLEANUP_TIMEOUT_MS: u64 = 120_000;

/// One run of the cleanup function's handler, as the schedule invokes it on AWS, with the
/// deadline its timeout gives; prints the summary. Through `cargo lambda watch` (1.9) an
/// invocation's deadline is 600000 ms after the epoch (a duration sent where the runtime API
/// wants a time), so cleanup invoked there stops before it starts (`stopped_early`, nothing done).
async fn cleanup_once() -> Result<(), localstack::Error> {
    let app = shared::App::from_env().await?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let summary = cleanup::handle(&app, now.as_millis() as u64 + CLEANUP_TIMEOUT_MS).await;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}
