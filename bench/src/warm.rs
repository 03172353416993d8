//! Warm latency and peak RSS: one process per function, answering
//! `options.warm` events of its main path in a row.

use crate::cold::{self, Subject};
use crate::options::Options;
use crate::process;
use crate::report::Warm;
use crate::runtime_api::RuntimeApi;
use crate::scenarios::{self, answer_status, Bed, Error};
use crate::stats::Stats;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Fills the warm figures of the subjects that take a warm run (and whose cold start worked).
pub async fn measure(options: &Options, beds: &BTreeMap<&'static str, Bed>, subjects: &mut [Subject]) {
    for subject in subjects.iter_mut().filter(|s| s.warm) {
        if subject.report.cold_error.is_some() {
            subject.report.warm_error = Some("skipped: the cold start failed".into());
            continue;
        }
        let started = Instant::now();
        match run(subject, beds, options.warm, &options.log_dir).await {
            Ok(w) => {
                crate::note(format!(
                    "  {}: first {:.1} ms, p50 {:.1} ms, p99 {:.1} ms, peak RSS {} kB ({:.0} s)",
                    subject.report.name,
                    w.first_ms,
                    w.latency.p50_ms,
                    w.latency.p99_ms,
                    w.peak_rss_kb,
                    started.elapsed().as_secs_f64()
                ));
                subject.report.warm = Some(w);
            }
            Err(e) => subject.report.warm_error = Some(e.to_string()),
        }
    }
}

async fn run(
    subject: &Subject,
    beds: &BTreeMap<&'static str, Bed>,
    invocations: usize,
    log_dir: &std::path::Path,
) -> Result<Warm, Error> {
    let function = subject.report.function.as_str();
    let api = RuntimeApi::start(function)?;
    let mut child = process::spawn(&subject.program, function, &api, &subject.env, log_dir)?;
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
            let (event, expected, http) = cold::event(subject, beds).await?;
            prepare_time += t.elapsed();
            let answer = api
                .invoke(&mut child, serde_json::to_vec(&event)?, Duration::from_secs(60))
                .map_err(|e| format!("invocation: {e}"))?;
            let status = answer_status(answer.ok, &answer.body, http);
            if expected.is_some_and(|e| e != status) {
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
            first_ms: latencies.first().map_or(0.0, |d| crate::stats::ms(*d)),
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
