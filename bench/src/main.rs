//! The benchmark behind `scripts/bench`: cold start, warm latency, round trips,
//! size and cleanup cost of every function, on the local stack (DynamoDB Local and moto).
//!
//! `scripts/bench` builds the release binaries, zips them, starts a DynamoDB Local and a moto
//! and runs this with the SDK's standard endpoint settings pointing at them; see `bench --help`.
//! One module per measurement: `cold` (with `breakdown`), `warm`, `trips`,
//! `cleanup_cost`; `tls` is the TLS leg in front of the services.

mod breakdown;
mod cleanup_cost;
mod cold;
mod export_cost;
mod markdown;
mod options;
mod probe;
mod process;
mod report;
mod runtime_api;
mod scenarios;
mod stats;
mod tls;
mod trips;
mod warm;

use cold::{Scenario, Subject};
use options::{Options, USAGE};
use process::{Program, Wiring};
use report::{FunctionReport, Report, Rows};
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
    // Table names of this run only, so a DynamoDB Local that served an earlier run can serve this one.
    let run_id = shared::crypto::hex(&shared::crypto::random_bytes::<3>()?);
    let table_of = |f: &str| format!("bench-{run_id}-{f}");
    // The functions that call the pool build a Cognito client at init: measured with BENCH_IDENTITY_PROVIDER=cognito.
    if std::env::var("BENCH_IDENTITY_PROVIDER").as_deref() == Ok("cognito") {
        let client = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
        let (pool, _) = journeys::cognito::create_pool(&client, &format!("bench-{run_id}")).await?;
        note(format!("with a user pool ({pool}): delete-account, cleanup and handover-account build a Cognito client"));
        probe::use_user_pool(pool);
    }
    let setting = |name: &str| std::env::var(name).unwrap_or_else(|_| "unset".into());
    note(format!(
        "AWS_ENDPOINT_URL {}, AWS_ENDPOINT_URL_DYNAMODB {}; mode {}",
        setting("AWS_ENDPOINT_URL"),
        setting("AWS_ENDPOINT_URL_DYNAMODB"),
        if options.short { "short" } else { "full" }
    ));

    let plain = Wiring { ssl_cert_file: tls::system_bundle().map(String::from), ..Wiring::default() };
    let wiring = if options.tls {
        match tls_leg(&options, &sdk, &run_id).await {
            Ok(w) => w,
            Err(e) => {
                note(format!("no TLS leg ({e}): the functions reach the services over plain HTTP"));
                plain.clone()
            }
        }
    } else {
        plain.clone()
    };
    note(format!("the functions reach the services over: {}", wiring.describe()));

    // One table per function with a main path, so no function's run grows another's.
    let mut beds = BTreeMap::new();
    for f in options.functions.iter().filter_map(|f| scenarios::main_path_of(f)) {
        beds.insert(f, Bed::new(&sdk, f, table_of(f)).await?);
    }
    let subject = |f: &str, wiring: &Wiring, name: Option<String>| {
        let mut report = FunctionReport::new(f, &options.bin_dir, &options.zip_dir);
        let scenario = scenarios::main_path_of(f).map_or(Scenario::AnyAnswer, Scenario::MainPath);
        if let Some(name) = name {
            report.name = name;
            report.variant = Some(wiring.describe());
        } else if scenario == Scenario::AnyAnswer {
            report.name = format!("{f} (no main path in the bench: any answer)");
        }
        let env = process::function_env(&table_of(f), wiring);
        Subject { report, program: Program::binary(&options.bin_dir, f), env, scenario, warm: true }
    };
    let mut subjects: Vec<Subject> = options.functions.iter().map(|f| subject(f, &wiring, None)).collect();
    let mut hello = FunctionReport::new("hello", &options.bin_dir, &options.zip_dir);
    hello.name = "lambda_http hello world".into();
    let program = Program::binary(&options.bin_dir, "hello");
    subjects.push(Subject { report: hello, program, env: vec![], scenario: Scenario::Reference, warm: true });
    if let Some(python) = &options.python {
        let mut report = FunctionReport::new("python", &options.bin_dir, &options.zip_dir);
        report.name = "Python 3 + boto3 (DynamoDB, SESv2 clients)".into();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/baseline.py").to_string();
        let program = Program { path: python.clone(), args: vec![script] };
        let env = process::aws_env(&wiring);
        subjects.push(Subject { report, program, env, scenario: Scenario::Reference, warm: false });
    }
    // What-ifs, the set-up the init target is measured in: every function again over plain HTTP
    // with the key in the environment and no SSL_CERT_FILE, as on AWS; check-prerequisites also
    // with SSL_CERT_FILE naming the system's bundle (what the TLS leg's own rows set).
    for f in &options.functions {
        let mut variants = vec![Wiring::default()];
        if f == "check-prerequisites" && !wiring.endpoints.is_empty() {
            variants.insert(0, plain.clone());
        }
        for w in variants {
            let mut s = subject(f, &w, Some(format!("{f}, what if {}", w.describe())));
            s.warm = false;
            subjects.push(s);
        }
    }

    note(format!(
        "cold starts: {} per function (after one untimed start that loads the binary into the page cache)",
        options.cold_starts
    ));
    cold::measure(&options, &beds, &mut subjects).await;

    if options.runs("warm") {
        note(format!("warm runs: {} invocations per function", options.warm));
        warm::measure(&options, &beds, &mut subjects).await;
    }

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

    let export = if options.runs("export") && options.functions.iter().any(|f| f == "export-data") {
        note(format!("data export: an account with {} items, through cleanup's pages", options.export_items));
        let env = process::function_env(&table_of("export"), &wiring);
        let measured = export_cost::measure(
            &sdk,
            &table_of("export"),
            options.export_items,
            &options.bin_dir,
            &options.log_dir,
            &env,
        )
        .await;
        match measured {
            Ok(e) => {
                note(format!(
                    "  ready in {:.1} s ({} cleanup runs); peak RSS export-data {} kB, cleanup {} kB",
                    e.ready_s, e.cleanup_runs, e.export_data_peak_rss_kb, e.cleanup_peak_rss_kb
                ));
                Some(Ok(e))
            }
            Err(e) => Some(Err(e.to_string())),
        }
    } else {
        None
    };

    let rows = into_rows(subjects, wiring.describe());
    let mode = if options.short { "short" } else { "full" };
    let report =
        Report::new(machine, mode, options.command.clone(), started_at, started.elapsed(), rows, trips, cleanup);
    let mut report = report;
    let export_failed = match export {
        Some(Ok(e)) => {
            report.export = Some(e);
            false
        }
        Some(Err(e)) => {
            eprintln!("bench: data export: {e}");
            true
        }
        None => false,
    };
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
    Ok(report.main_paths_ok() && !export_failed)
}

/// The TLS leg: this run's certificates, a TLS endpoint in front of DynamoDB
/// Local and one in front of moto, and the code secret in Secrets Manager.
async fn tls_leg(options: &Options, sdk: &aws_config::SdkConfig, run_id: &str) -> Result<Wiring, Error> {
    let certificates = tls::Certificates::make(&options.out.with_file_name("tls"))?;
    let upstream = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let dynamodb = tls::front(&certificates, &upstream("AWS_ENDPOINT_URL_DYNAMODB")?).await?;
    let moto = tls::front(&certificates, &upstream("AWS_ENDPOINT_URL")?).await?;
    note(format!("TLS endpoints: DynamoDB {dynamodb}, moto {moto}"));
    let secret_id = format!("bench-{run_id}-code-secret");
    journeys::localstack::put_code_secret(&aws_sdk_secretsmanager::Client::new(sdk), &secret_id, probe::SECRET).await?;
    Ok(Wiring {
        endpoints: vec![("AWS_ENDPOINT_URL".into(), moto), ("AWS_ENDPOINT_URL_DYNAMODB".into(), dynamodb)],
        ssl_cert_file: Some(certificates.bundle.display().to_string()),
        secret_id: Some(secret_id),
    })
}

/// The subjects back into the report's rows.
fn into_rows(subjects: Vec<Subject>, wiring: String) -> Rows {
    let mut rows = Rows {
        wiring,
        hello: FunctionReport::new("hello", "".as_ref(), "".as_ref()),
        python: None,
        functions: vec![],
        what_ifs: vec![],
    };
    for s in subjects {
        match s.report.function.as_str() {
            _ if s.report.variant.is_some() => rows.what_ifs.push(s.report),
            "hello" => rows.hello = s.report,
            "python" => rows.python = Some(s.report),
            _ => rows.functions.push(s.report),
        }
    }
    rows
}
