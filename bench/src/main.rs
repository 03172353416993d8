//! The benchmark behind `scripts/bench`: cold start, warm latency, round trips,
//! size and cleanup cost of every function, on the local stack (moto).
//!
//! `scripts/bench` builds the release binaries, zips them, starts moto and runs
//! this with the SDK's standard endpoint settings pointing at it; see `bench --help`.
//! One module per measurement: `cold`, `warm`, `trips`, `cleanup_cost`, `init`.

mod cleanup_cost;
mod cold;
mod init;
mod options;
mod probe;
mod process;
mod report;
mod runtime_api;
mod scenarios;
mod stats;
mod trips;
mod warm;

use options::{Options, USAGE};
use report::{FunctionReport, Report};
use scenarios::{Bed, Error};
use std::collections::BTreeMap;
use std::time::Instant;

fn note(message: impl AsRef<str>) {
    eprintln!("bench: {}", message.as_ref());
}

#[tokio::main]
async fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("bench: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    match run(options).await {
        Ok(clean) => std::process::exit(if clean { 0 } else { 1 }),
        Err(e) => {
            eprintln!("bench: error: {e}");
            std::process::exit(1);
        }
    }
}

/// Returns whether every part ran (a missed target is not a failure; a broken main path is).
async fn run(options: Options) -> Result<bool, Error> {
    let started = Instant::now();
    let started_at = shared::clock::rfc3339(shared::clock::Clock::default().now());
    let machine = report::Machine::here();
    std::fs::create_dir_all(&options.log_dir)?;
    // The SDK's own defaults, as the functions load them: the endpoints come from the environment.
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    journeys::localstack::verify_sender(&aws_sdk_sesv2::Client::new(&sdk), probe::SENDER).await?;
    // Table names of this run only, so a moto that served an earlier run can serve this one.
    let run_id = shared::crypto::hex(&shared::crypto::random_bytes::<3>()?);
    let table_of = |f: &str| format!("bench-{run_id}-{f}");
    let setting = |name: &str| std::env::var(name).unwrap_or_else(|_| "unset".into());
    note(format!(
        "AWS_ENDPOINT_URL {}, AWS_ENDPOINT_URL_DYNAMODB {}; mode {}",
        setting("AWS_ENDPOINT_URL"),
        setting("AWS_ENDPOINT_URL_DYNAMODB"),
        if options.short { "short" } else { "full" }
    ));

    let mut functions: Vec<FunctionReport> =
        options.functions.iter().map(|f| FunctionReport::new(f, &options.bin_dir, &options.zip_dir)).collect();
    let mut hello = FunctionReport::new("hello", &options.bin_dir, &options.zip_dir);
    hello.name = "lambda_http hello world".into();

    // One table per function, so no function's run grows another's.
    let mut beds = BTreeMap::new();
    for f in &options.functions {
        beds.insert(*f, Bed::new(&sdk, f, table_of(f)).await?);
    }
    let env_of = |f: &str| process::function_env(&table_of(f));

    note(format!(
        "cold starts: {} per function (after one untimed start that loads the binary into the page cache)",
        options.cold_starts
    ));
    let what_if = cold::measure(&options, &beds, &env_of, &mut functions, &mut hello).await?;

    if options.runs("warm") {
        note(format!("warm runs: {} invocations per function", options.warm));
        warm::measure(&options, &beds, &env_of, &mut functions, &mut hello).await;
    }

    let init = init::measure(options.cold_starts.max(1), &table_of(options.functions[0])).await.ok();

    let trips = if options.runs("trips") {
        note("round trips");
        trips::measure(&sdk, &table_of("round-trips")).await?
    } else {
        Vec::new()
    };

    let mut cleanup = Vec::new();
    for size in options.cleanup_sizes.iter().filter(|_| options.runs("cleanup")) {
        note(format!("cleanup: {size} live items, 100 due"));
        cleanup.push(cleanup_cost::measure(&sdk, &table_of(&format!("cleanup-{size}")), *size, 100).await?);
    }

    let report = Report::new(
        machine,
        if options.short { "short" } else { "full" },
        options.command.clone(),
        started_at,
        started.elapsed(),
        functions,
        hello,
        what_if,
        init,
        trips,
        cleanup,
    );
    let markdown = report.markdown();
    if let Some(dir) = options.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&options.out, serde_json::to_vec_pretty(&report)?)?;
    std::fs::write(&options.markdown, &markdown)?;
    println!("{markdown}");
    note(format!(
        "wrote {} and {} in {:.0} s",
        options.out.display(),
        options.markdown.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(report.main_paths_ok())
}
