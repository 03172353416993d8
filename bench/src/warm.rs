//! Warm latency and peak RSS: one process per function, answering
//! `options.warm` events of its main path in a row.

use crate::options::Options;
use crate::process::{self, binary, Env};
use crate::report::{FunctionReport, Warm};
use crate::runtime_api::RuntimeApi;
use crate::scenarios::{self, answer_status, Bed, Error, Prepared};
use crate::stats::Stats;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// What makes the next event of a warm run.
trait Prepare {
    async fn prepare(&self) -> Result<Prepared, Error>;
}

impl Prepare for Bed {
    async fn prepare(&self) -> Result<Prepared, Error> {
        Bed::prepare(self).await
    }
}

/// The hello world takes any event.
struct HelloBed;

impl Prepare for HelloBed {
    async fn prepare(&self) -> Result<Prepared, Error> {
        Ok(Prepared { event: scenarios::http_event("hello", "bench", None), status: Some(200) })
    }
}

/// Fills the warm figures of `functions` (those whose cold start worked) and `hello`.
pub async fn measure(
    options: &Options,
    beds: &BTreeMap<&'static str, Bed>,
    env_of: &dyn Fn(&str) -> Env,
    functions: &mut [FunctionReport],
    hello: &mut FunctionReport,
) {
    for report in functions.iter_mut() {
        let Some((f, bed)) = beds.get_key_value(report.function.as_str()) else { continue };
        if report.cold_error.is_some() {
            report.warm_error = Some("skipped: the cold start failed".into());
            continue;
        }
        let started = Instant::now();
        match run(&binary(&options.bin_dir, f), f, &env_of(f), bed, options.warm, &options.log_dir).await {
            Ok(w) => {
                crate::note(format!(
                    "  {f}: p50 {:.1} ms, p99 {:.1} ms, peak RSS {} kB ({:.0} s)",
                    w.latency.p50_ms,
                    w.latency.p99_ms,
                    w.peak_rss_kb,
                    started.elapsed().as_secs_f64()
                ));
                report.warm = Some(w);
            }
            Err(e) => report.warm_error = Some(e.to_string()),
        }
    }
    match run(&binary(&options.bin_dir, "hello"), "hello", &[], &HelloBed, options.warm, &options.log_dir).await {
        Ok(w) => hello.warm = Some(w),
        Err(e) => hello.warm_error = Some(e.to_string()),
    }
}

async fn run(
    bin: &Path,
    function: &str,
    env: &[(String, String)],
    bed: &impl Prepare,
    invocations: usize,
    log_dir: &Path,
) -> Result<Warm, Error> {
    let api = RuntimeApi::start(function)?;
    let mut child = process::spawn(bin, function, &api, env, log_dir)?;
    let result: Result<Warm, Error> = async {
        api.wait_first_poll(&mut child, Duration::from_secs(30)).map_err(|e| format!("before its first poll: {e}"))?;
        let rss_after_init_kb = process::peak_rss_kb(child.id()).unwrap_or(0);
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
            peak_rss_kb: process::peak_rss_kb(child.id()).unwrap_or(0),
            preparation_s: prepare_time.as_secs_f64(),
        })
    }
    .await;
    process::stop(child);
    result
}
