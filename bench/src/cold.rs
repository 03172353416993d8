//! Cold start: exec → first poll of the Runtime API, and exec → first answer,
//! for every function against the lambda_http hello world.

use crate::options::Options;
use crate::process::{self, binary, Env};
use crate::report::{Cold, FunctionReport};
use crate::runtime_api::RuntimeApi;
use crate::scenarios::{self, answer_status, Bed, Error};
use crate::stats::Stats;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// The CA bundles the SDK's TLS set-up (rustls-native-certs, via openssl-probe) finds first.
const CA_BUNDLES: [&str; 2] = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"];
const WHAT_IF: &str = "what-if";

#[derive(Default)]
struct Samples {
    poll: Vec<Duration>,
    response: Vec<Duration>,
    statuses: BTreeMap<String, usize>,
    off_main_path: usize,
    error: Option<String>,
}

impl Samples {
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

/// Fills the cold figures of `functions` and `hello`; returns the what-if row
/// (a function with `SSL_CERT_FILE` set), when there is a CA bundle to point at.
pub async fn measure(
    options: &Options,
    beds: &BTreeMap<&'static str, Bed>,
    env_of: &dyn Fn(&str) -> Env,
    functions: &mut [FunctionReport],
    hello: &mut FunctionReport,
) -> Result<Option<FunctionReport>, Error> {
    let mut cold: BTreeMap<String, Samples> = BTreeMap::new();
    let runnable: Vec<&str> =
        options.functions.iter().copied().filter(|f| binary(&options.bin_dir, f).is_file()).collect();
    // (key, binary, extra environment): every function, the hello world, and
    // one what-if: a function with SSL_CERT_FILE set, which makes the SDK's TLS
    // set-up read that one CA bundle instead of the bundle and every file of
    // the certificate directory.
    let mut subjects: Vec<(String, &str, Env)> = runnable.iter().map(|f| (f.to_string(), *f, vec![])).collect();
    subjects.push(("hello".into(), "hello", vec![]));
    let bundle = CA_BUNDLES.iter().find(|p| Path::new(p).is_file());
    let what_if_of = runnable.iter().copied().find(|f| *f == "check-prerequisites").or(runnable.first().copied());
    if let (Some(bundle), Some(f)) = (bundle, what_if_of) {
        subjects.push((WHAT_IF.into(), f, vec![("SSL_CERT_FILE".into(), bundle.to_string())]));
    }
    // One untimed round first loads every binary into the page cache; the
    // subjects take turns so a busy moment of the machine falls on all alike.
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
            let bin = binary(&options.bin_dir, f);
            match start(&bin, f, &env, serde_json::to_vec(&event)?, http, &options.log_dir) {
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
        let bin = binary(&options.bin_dir, &report.function);
        match cold.remove(report.function.as_str()) {
            Some(samples) => {
                report.cold = samples.summary(hello_poll.as_ref(), hello_response.as_ref());
                report.cold_error = samples.error;
            }
            None if !bin.is_file() => report.cold_error = Some(format!("no binary at {}", bin.display())),
            None => {}
        }
    }
    Ok(what_if)
}

/// exec → first `/next`, exec → first answer, and the answer's status.
fn start(
    bin: &Path,
    function: &str,
    env: &[(String, String)],
    event: Vec<u8>,
    http: bool,
    log_dir: &Path,
) -> Result<(Duration, Duration, u16), String> {
    let api = RuntimeApi::start(function).map_err(|e| e.to_string())?;
    let exec = Instant::now();
    let mut child = process::spawn(bin, function, &api, env, log_dir)?;
    let result = (|| {
        let polled = api
            .wait_first_poll(&mut child, Duration::from_secs(30))
            .map_err(|e| format!("before its first poll: {e}"))?;
        let answer =
            api.invoke(&mut child, event, Duration::from_secs(60)).map_err(|e| format!("on its first event: {e}"))?;
        Ok((polled - exec, answer.answered_at - exec, answer_status(answer.ok, &answer.body, http)))
    })();
    process::stop(child);
    result
}
