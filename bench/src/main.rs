//! The benchmark behind `scripts/bench`: cold start, warm latency, round trips,
//! size and cleanup cost of every function, on the local stack (moto).
//!
//! `scripts/bench` builds the release binaries, zips them, starts moto and runs
//! this with `AWS_ENDPOINT_URL` pointing at it; see `bench --help`.

mod probe;
mod report;
mod runtime_api;
mod scenarios;
mod stats;

use report::{Cleanup, Cold, FunctionReport, InitWork, Report, Trip, Warm};
use runtime_api::RuntimeApi;
use scenarios::{answer_status, Bed, Error, FUNCTIONS};
use stats::Stats;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: bench [--short] [--bin-dir DIR] [--zip-dir DIR] [--out FILE] [--markdown FILE]
             [--cold-starts N] [--warm N] [--cleanup-sizes N,N,...] [--functions NAME,...]
             [--parts cold,warm,trips,cleanup] [--command TEXT]

  --short            a few iterations and small tables (what scripts/test runs)
  --bin-dir DIR      the release binaries, HELLO included (target/release)
  --zip-dir DIR      the deployment zips, NAME.zip (target/bench/zips)
  --out FILE         the JSON report (target/bench/bench.json)
  --markdown FILE    the table, also printed on stdout (target/bench/bench.md)
  --cold-starts N    timed starts per function (full 20, short 3)
  --warm N           warm invocations per function (full 1000, short 20)
  --cleanup-sizes L  live items per cleanup table (full 1000,10000,100000; short 1000,2000)
  --functions L      a subset of the functions
  --parts L          a subset of the measurements (default: all four)
  --command TEXT     the command line to record in the report

moto must answer at AWS_ENDPOINT_URL.";

struct Options {
    short: bool,
    bin_dir: PathBuf,
    zip_dir: PathBuf,
    out: PathBuf,
    markdown: PathBuf,
    cold_starts: usize,
    warm: usize,
    cleanup_sizes: Vec<usize>,
    functions: Vec<&'static str>,
    command: String,
    log_dir: PathBuf,
    parts: Vec<String>,
}

impl Options {
    fn runs(&self, part: &str) -> bool {
        self.parts.iter().any(|p| p == part)
    }
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut short = false;
    let mut named: BTreeMap<String, String> = BTreeMap::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--short" => short = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            flag if flag.starts_with("--") => {
                let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
                named.insert(flag.trim_start_matches("--").to_string(), value);
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    let number = |name: &str, default: usize| -> Result<usize, String> {
        named.get(name).map_or(Ok(default), |v| v.parse().map_err(|_| format!("--{name} takes a number")))
    };
    let target = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()));
    let path = |name: &str, default: PathBuf| named.get(name).map(PathBuf::from).unwrap_or(default);
    let functions = match named.get("functions") {
        None => FUNCTIONS.to_vec(),
        Some(list) => list
            .split(',')
            .map(|f| {
                FUNCTIONS
                    .iter()
                    .find(|known| **known == f.trim())
                    .copied()
                    .ok_or_else(|| format!("unknown function {f:?}"))
            })
            .collect::<Result<_, _>>()?,
    };
    let cleanup_sizes = match named.get("cleanup-sizes") {
        None if short => vec![1_000, 2_000],
        None => vec![1_000, 10_000, 100_000],
        Some(list) => list
            .split(',')
            .map(|n| n.trim().parse().map_err(|_| format!("bad size {n:?}")))
            .collect::<Result<_, _>>()?,
    };
    let bench_dir = target.join("bench");
    Ok(Options {
        short,
        bin_dir: path("bin-dir", target.join("release")),
        zip_dir: path("zip-dir", bench_dir.join("zips")),
        out: path("out", bench_dir.join("bench.json")),
        markdown: path("markdown", bench_dir.join("bench.md")),
        cold_starts: number("cold-starts", if short { 3 } else { 20 })?,
        warm: number("warm", if short { 20 } else { 1000 })?,
        cleanup_sizes,
        functions,
        command: named.get("command").cloned().unwrap_or_else(|| "bench".into()),
        log_dir: bench_dir.join("logs"),
        parts: match named.get("parts") {
            None => ["cold", "warm", "trips", "cleanup"].map(String::from).to_vec(),
            Some(list) => list.split(',').map(|p| p.trim().to_string()).collect(),
        },
    })
}

fn note(message: impl AsRef<str>) {
    eprintln!("bench: {}", message.as_ref());
}

#[tokio::main]
async fn main() {
    let options = match options() {
        Ok(o) => o,
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
    let sdk = journeys::localstack::sdk_config().await;
    journeys::localstack::verify_sender(&aws_sdk_sesv2::Client::new(&sdk), probe::SENDER).await?;
    let endpoint = journeys::localstack::endpoint();
    // Table names of this run only, so a moto that served an earlier run can serve this one.
    let run_id = shared::crypto::hex(&shared::crypto::random_bytes::<3>()?);
    let table_of = |f: &str| format!("bench-{run_id}-{f}");
    note(format!("moto at {endpoint}; mode {}", if options.short { "short" } else { "full" }));

    let mut functions: Vec<FunctionReport> =
        options.functions.iter().map(|f| FunctionReport::new(f, &options.bin_dir, &options.zip_dir)).collect();
    let mut hello = FunctionReport::new("hello", &options.bin_dir, &options.zip_dir);
    hello.name = "lambda_http hello world".into();

    // One table per function, so no function's run grows another's.
    let mut beds = BTreeMap::new();
    for f in &options.functions {
        beds.insert(*f, Bed::new(&sdk, f, table_of(f)).await?);
    }
    let env_of = |f: &str| -> Env {
        let mut env = probe::settings(&table_of(f));
        env.extend(
            [
                ("AWS_ENDPOINT_URL", endpoint.as_str()),
                ("AWS_REGION", "us-east-1"),
                ("AWS_DEFAULT_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
                ("RUST_LOG", "info"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        env
    };

    // 1. Cold init, the functions and the hello world interleaved so a busy
    //    moment of the machine falls on all of them alike.
    note(format!(
        "cold starts: {} per function (after one untimed start that loads the binary into the page cache)",
        options.cold_starts
    ));
    let mut cold: BTreeMap<String, ColdSamples> = BTreeMap::new();
    let runnable: Vec<&str> =
        options.functions.iter().copied().filter(|f| binary(&options.bin_dir, f).is_file()).collect();
    // (key, binary, extra environment): every function, the hello world, and
    // one what-if: the first function with SSL_CERT_FILE set, which makes the
    // SDK's TLS set-up read that one CA bundle instead of the bundle and every
    // file of the certificate directory.
    let mut subjects: Vec<(String, &str, Env)> = runnable.iter().map(|f| (f.to_string(), *f, vec![])).collect();
    subjects.push(("hello".into(), "hello", vec![]));
    let bundle = CA_BUNDLES.iter().find(|p| Path::new(p).is_file());
    let what_if_of = runnable.iter().copied().find(|f| *f == "check-prerequisites").or(runnable.first().copied());
    if let (Some(bundle), Some(f)) = (bundle, what_if_of) {
        subjects.push((WHAT_IF.into(), f, vec![("SSL_CERT_FILE".into(), bundle.to_string())]));
    }
    let rounds = if options.runs("cold") { options.cold_starts + 1 } else { 0 };
    for round in 0..rounds {
        for (key, f, extra) in &subjects {
            let samples = cold.entry(key.clone()).or_default();
            if samples.error.is_some() {
                continue;
            }
            let (event, http, expected) = if *f == "hello" {
                (scenarios::http_event("hello", "bench", None), true, 200)
            } else {
                match beds[f].prepare().await {
                    Ok(p) => (p.event, p.status.is_some(), p.status.unwrap_or(200)),
                    Err(e) => {
                        samples.error = Some(format!("preparing the event: {e}"));
                        continue;
                    }
                }
            };
            let mut env = if *f == "hello" { vec![] } else { env_of(f) };
            env.extend(extra.iter().cloned());
            match cold_start(&binary(&options.bin_dir, f), f, &env, serde_json::to_vec(&event)?, http, &options.log_dir)
            {
                Ok((poll, response, status)) if round > 0 => {
                    samples.poll.push(poll);
                    samples.response.push(response);
                    *samples.statuses.entry(status.to_string()).or_default() += 1;
                    samples.off_main_path += usize::from(status != expected);
                }
                Ok(_) => {}
                Err(e) => samples.error = Some(e),
            }
        }
    }
    let hello_cold = cold.remove("hello").unwrap_or_default();
    let hello_poll = Stats::of(&hello_cold.poll);
    let hello_response = Stats::of(&hello_cold.response);
    hello.cold = hello_cold.summary(None, None);
    hello.cold_error = hello_cold.error.clone();
    let what_if = match (cold.remove(WHAT_IF), what_if_of, bundle) {
        (Some(samples), Some(f), Some(bundle)) => {
            let mut report = FunctionReport::new(f, &options.bin_dir, &options.zip_dir);
            report.name = format!("{f}, what if SSL_CERT_FILE={bundle}");
            report.variant = Some(format!("SSL_CERT_FILE={bundle}"));
            report.cold = samples.summary(hello_poll.as_ref(), hello_response.as_ref());
            report.cold_error = samples.error;
            Some(report)
        }
        _ => None,
    };
    for report in functions.iter_mut() {
        let f = report.function.as_str();
        match cold.remove(f) {
            Some(samples) => {
                report.cold = samples.summary(hello_poll.as_ref(), hello_response.as_ref());
                report.cold_error = samples.error;
            }
            None if !binary(&options.bin_dir, f).is_file() => {
                report.cold_error = Some(format!("no binary at {}", binary(&options.bin_dir, f).display()))
            }
            None => {}
        }
    }

    // 2 and 4. Warm latency and peak RSS, one process per function.
    note(format!("warm runs: {} invocations per function", options.warm));
    for report in functions.iter_mut().filter(|_| options.runs("warm")) {
        let f: &'static str = FUNCTIONS.iter().find(|k| **k == report.function).copied().unwrap_or("");
        if report.cold_error.is_some() {
            report.warm_error = Some("skipped: the cold start failed".into());
            continue;
        }
        let started_warm = Instant::now();
        match warm_run(&binary(&options.bin_dir, f), f, &env_of(f), &beds[f], options.warm, &options.log_dir).await {
            Ok(w) => {
                note(format!(
                    "  {f}: p50 {:.1} ms, p99 {:.1} ms, peak RSS {} kB ({:.0} s)",
                    w.latency.p50_ms,
                    w.latency.p99_ms,
                    w.peak_rss_kb,
                    started_warm.elapsed().as_secs_f64()
                ));
                report.warm = Some(w);
            }
            Err(e) => report.warm_error = Some(e.to_string()),
        }
    }
    if options.runs("warm") {
        match warm_run(&binary(&options.bin_dir, "hello"), "hello", &[], &HelloBed, options.warm, &options.log_dir)
            .await
        {
            Ok(w) => hello.warm = Some(w),
            Err(e) => hello.warm_error = Some(e.to_string()),
        }
    }

    // What a function's init does beyond the hello world's, timed in-process.
    let init = init_work(options.cold_starts.max(1), &table_of(options.functions[0])).await.ok();

    // 3. Round trips, counted by the SDK interceptors, in-process.
    let trips = if options.runs("trips") {
        note("round trips");
        round_trips(&sdk, &table_of("round-trips")).await?
    } else {
        Vec::new()
    };

    // 5. Cleanup cost against table size.
    let mut cleanup = Vec::new();
    for size in options.cleanup_sizes.iter().filter(|_| options.runs("cleanup")) {
        note(format!("cleanup: {size} live items, 100 due"));
        cleanup.push(cleanup_scale(&sdk, &table_of(&format!("cleanup-{size}")), *size, 100).await?);
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

/// Environment variables for a function process.
type Env = Vec<(String, String)>;

/// The CA bundles the SDK's TLS set-up (rustls-native-certs, via openssl-probe) finds first.
const CA_BUNDLES: [&str; 2] = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"];
const WHAT_IF: &str = "what-if";

fn binary(dir: &Path, function: &str) -> PathBuf {
    dir.join(function)
}

/// The hello world takes any event.
struct HelloBed;

trait Prepare {
    async fn prepare(&self) -> Result<scenarios::Prepared, Error>;
}

impl Prepare for Bed {
    async fn prepare(&self) -> Result<scenarios::Prepared, Error> {
        Bed::prepare(self).await
    }
}

impl Prepare for HelloBed {
    async fn prepare(&self) -> Result<scenarios::Prepared, Error> {
        Ok(scenarios::Prepared { event: scenarios::http_event("hello", "bench", None), status: Some(200) })
    }
}

#[derive(Default)]
struct ColdSamples {
    poll: Vec<Duration>,
    response: Vec<Duration>,
    statuses: BTreeMap<String, usize>,
    off_main_path: usize,
    error: Option<String>,
}

impl ColdSamples {
    fn summary(&self, hello_poll: Option<&Stats>, hello_response: Option<&Stats>) -> Option<Cold> {
        let poll = Stats::of(&self.poll)?;
        let response = Stats::of(&self.response)?;
        Some(Cold {
            starts: self.poll.len(),
            poll_ratio_vs_hello: hello_poll.map(|h| poll.p50_ms / h.p50_ms),
            response_ratio_vs_hello: hello_response.map(|h| response.p50_ms / h.p50_ms),
            to_first_poll: poll,
            to_first_response: response,
            statuses: self.statuses.clone(),
            off_main_path: self.off_main_path,
        })
    }
}

fn spawn(
    bin: &Path,
    function: &str,
    api: &RuntimeApi,
    env: &[(String, String)],
    log_dir: &Path,
) -> Result<Child, String> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_dir.join(format!("{function}.log")))
        .map_err(|e| e.to_string())?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    Command::new(bin)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// exec → first `/next`, exec → first answer, and the answer's status.
fn cold_start(
    bin: &Path,
    function: &str,
    env: &[(String, String)],
    event: Vec<u8>,
    http: bool,
    log_dir: &Path,
) -> Result<(Duration, Duration, u16), String> {
    let api = RuntimeApi::start(function).map_err(|e| e.to_string())?;
    let exec = Instant::now();
    let mut child = spawn(bin, function, &api, env, log_dir)?;
    let result = (|| {
        let polled = api
            .wait_first_poll(&mut child, Duration::from_secs(30))
            .map_err(|e| format!("before its first poll: {e}"))?;
        let answer =
            api.invoke(&mut child, event, Duration::from_secs(60)).map_err(|e| format!("on its first event: {e}"))?;
        Ok((polled - exec, answer.answered_at - exec, answer_status(answer.ok, &answer.body, http)))
    })();
    stop(child);
    result
}

/// `VmHWM` (peak resident set) of a process, in kB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn warm_run(
    bin: &Path,
    function: &str,
    env: &[(String, String)],
    bed: &impl Prepare,
    invocations: usize,
    log_dir: &Path,
) -> Result<Warm, Error> {
    let api = RuntimeApi::start(function)?;
    let mut child = spawn(bin, function, &api, env, log_dir)?;
    let result: Result<Warm, Error> = async {
        api.wait_first_poll(&mut child, Duration::from_secs(30)).map_err(|e| format!("before its first poll: {e}"))?;
        let rss_after_init_kb = peak_rss_kb(child.id()).unwrap_or(0);
        let mut latencies = Vec::with_capacity(invocations);
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        let mut unexpected = 0;
        let mut example = None;
        let mut prepare_time = Duration::ZERO;
        for _ in 0..invocations {
            let t = Instant::now();
            let prepared = bed.prepare().await?;
            prepare_time += t.elapsed();
            let answer = api
                .invoke(&mut child, serde_json::to_vec(&prepared.event)?, Duration::from_secs(60))
                .map_err(|e| format!("invocation: {e}"))?;
            let status = answer_status(answer.ok, &answer.body, prepared.status.is_some());
            if prepared.status.unwrap_or(200) != status {
                unexpected += 1;
                example
                    .get_or_insert_with(|| String::from_utf8_lossy(&answer.body).chars().take(400).collect::<String>());
            }
            *statuses.entry(status.to_string()).or_default() += 1;
            latencies.push(answer.latency());
        }
        Ok(Warm {
            main_path: scenarios::main_path(function).to_string(),
            invocations,
            latency: Stats::of(&latencies).ok_or("no invocations")?,
            statuses,
            off_main_path: unexpected,
            off_main_path_example: example,
            rss_after_init_kb,
            peak_rss_kb: peak_rss_kb(child.id()).unwrap_or(0),
            preparation_s: prepare_time.as_secs_f64(),
        })
    }
    .await;
    stop(child);
    result
}

/// The requests each operation makes, counted in-process by the SDK
/// interceptors around the functions' own handlers.
async fn round_trips(sdk: &aws_config::SdkConfig, table: &str) -> Result<Vec<Trip>, Error> {
    use serde_json::json;
    use shared::accounts::Role;
    use shared::lambda_http::{request::from_str, Body, Request, Response};
    use shared::purpose::Purpose;
    use std::future::Future;

    let bed = Bed::new(sdk, "round-trips", table.to_string()).await?;
    let mut trips = Vec::new();
    let request = |f: &str, sub: &str, body: serde_json::Value| -> Result<Request, Error> {
        let body = (!body.is_null()).then_some(body);
        Ok(from_str(&scenarios::http_event(f, sub, body.as_ref()).to_string())?)
    };
    /// One operation: what it sent, what it answered against what docs/api.md says, and its floor.
    async fn measure<F: Future<Output = Response<Body>>>(
        bed: &Bed,
        trips: &mut Vec<Trip>,
        what: (&str, &str),
        expected: u16,
        floor: Option<(u64, u64)>,
        call: F,
    ) {
        bed.recorder.take();
        let started = Instant::now();
        let status = call.await.status().as_u16();
        let took = started.elapsed();
        trips.push(Trip::new(what.0, what.1, &bed.recorder.take(), status, floor, took).expecting(expected));
    }
    let app = &bed.app;
    let purpose = json!({"purpose": "delete_account"});

    let account = bed.account("trips", Role::Individual, None).await?;
    let me = account.as_str();
    let send = ("send-code", "first code of the day");
    measure(
        &bed,
        &mut trips,
        send,
        202,
        Some((1, 1)),
        send_code::handle(app, request("send-code", me, purpose.clone())?),
    )
    .await;
    let send = ("send-code", "another code the same day");
    measure(
        &bed,
        &mut trips,
        send,
        202,
        Some((1, 1)),
        send_code::handle(app, request("send-code", me, purpose.clone())?),
    )
    .await;

    let code = bed.recorder.code_for(&format!("{account}@example.com")).ok_or("no code mailed")?;
    let wrong = format!("{:06}", (code.parse::<u32>()? + 1) % 1_000_000);
    let body = json!({"purpose": "delete_account", "code": wrong});
    measure(
        &bed,
        &mut trips,
        ("verify-code", "wrong code"),
        422,
        Some((2, 0)),
        verify_code::handle(app, request("verify-code", me, body)?),
    )
    .await;
    let body = json!({"purpose": "delete_account", "code": code});
    let what = ("verify-code", "right code (the main path)");
    measure(&bed, &mut trips, what, 200, Some((2, 0)), verify_code::handle(app, request("verify-code", me, body)?))
        .await;

    let what = ("check-prerequisites", "individual account (the main path)");
    let call = check_prerequisites::handle(app, request("check-prerequisites", me, json!(null))?);
    measure(&bed, &mut trips, what, 200, Some((1, 0)), call).await;
    let admin = bed.enterprise().await?;
    let what = ("check-prerequisites", "default admin of an active enterprise");
    let call = check_prerequisites::handle(app, request("check-prerequisites", admin.as_str(), json!(null))?);
    measure(&bed, &mut trips, what, 200, Some((1, 0)), call).await;

    let token = bed.token(&admin, Purpose::DismissEnterprise).await?;
    let what = ("dismiss-enterprise", "admin and two members (the main path)");
    let call = dismiss_enterprise::handle(
        app,
        request("dismiss-enterprise", admin.as_str(), json!({"verification_token": token}))?,
    );
    measure(&bed, &mut trips, what, 200, None, call).await;

    let heir = bed.account("trips-handing", Role::Individual, None).await?;
    let token = bed.token(&heir, Purpose::HandoverAccount).await?;
    let body =
        json!({"verification_token": token, "new_email": "trips-heir@example.com", "new_phone": "+8613700000001"});
    let what = ("handover-account", "start a handover (the main path)");
    measure(
        &bed,
        &mut trips,
        what,
        202,
        None,
        handover_account::handle(app, request("handover-account", heir.as_str(), body)?),
    )
    .await;
    let code = bed.recorder.code_for("trips-heir@example.com").ok_or("no handover code mailed")?;
    let confirm =
        scenarios::http_event_at("POST", "/v1/account/handover/confirm", heir.as_str(), Some(&json!({"code": code})));
    let what = ("handover-account", "confirm it (a small account)");
    measure(&bed, &mut trips, what, 200, None, handover_account::handle(app, from_str(&confirm.to_string())?)).await;

    let gone = bed.account("trips-gone", Role::Individual, None).await?;
    let token = bed.token(&gone, Purpose::DeleteAccount).await?;
    let what = ("delete-account", "small individual account (the main path)");
    let call =
        delete_account::handle(app, request("delete-account", gone.as_str(), json!({"verification_token": token}))?);
    measure(&bed, &mut trips, what, 200, Some((3, 1)), call).await;

    // Cleanup on this table: first whatever the runs above left due, then one expired token, then nothing.
    let deadline_ms = || {
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default()
            + Duration::from_secs(300))
        .as_millis() as u64
    };
    cleanup::handle(app, deadline_ms()).await;
    bed.expired_token().await?;
    for expect_removed in [1, 0] {
        bed.recorder.take();
        let started = Instant::now();
        let summary = cleanup::handle(app, deadline_ms()).await;
        let took = started.elapsed();
        let operation = match expect_removed {
            1 => format!("one expired token due ({} removed)", summary.tokens_removed),
            _ => format!("nothing due ({} entries read)", summary.due_entries_read),
        };
        // A run that removed what was due answers 200 here, one that did not 204, as in the warm run.
        let status = if summary.tokens_removed == expect_removed && summary.failures == 0 { 200 } else { 204 };
        trips.push(Trip::new("cleanup", &operation, &bed.recorder.take(), status, None, took).expecting(200));
    }
    Ok(trips)
}

/// Loads `live` items that are not due (half plain account data, half live
/// tokens in the due index with a future due time) and `due` expired tokens,
/// then runs cleanup and counts what it read.
async fn cleanup_scale(sdk: &aws_config::SdkConfig, table: &str, live: usize, due: usize) -> Result<Cleanup, Error> {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    use std::collections::HashMap;

    let table = table.to_string();
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let _ = dynamo.delete_table().table_name(&table).send().await;
    journeys::localstack::create_table(&dynamo, &table).await?;
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

/// `shared::runtime`'s start-up beyond a hello world: the SDK configuration
/// from the environment and the warm-up GetItem on a fresh connection.
async fn init_work(times: usize, table: &str) -> Result<InitWork, Error> {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let (mut load, mut get) = (Vec::new(), Vec::new());
    for _ in 0..times {
        let t = Instant::now();
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        load.push(t.elapsed());
        let t = Instant::now();
        let _ = client
            .get_item()
            .table_name(table)
            .key("pk", S("WARMUP".into()))
            .key("sk", S("WARMUP".into()))
            .send()
            .await;
        get.push(t.elapsed());
    }
    Ok(InitWork {
        sdk_config: Stats::of(&load).ok_or("no samples")?,
        first_get_item: Stats::of(&get).ok_or("no samples")?,
    })
}
