//! Cold start: exec → first poll of the Runtime API, exec → first answer, and
//! where init's time went (crate::breakdown), for every subject: the functions,
//! the lambda_http hello world, the Python baseline and the what-if rows.

use crate::breakdown::{Breakdown, Startup};
use crate::options::Options;
use crate::process::{self, Env, Program};
use crate::report::{Cold, FunctionReport};
use crate::runtime_api::RuntimeApi;
use crate::scenarios::{self, answer_status, Bed, Error};
use crate::stats::Stats;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What a subject answers: a function's main path, or any event (the references).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A function with a main path in crate::scenarios.
    MainPath(&'static str),
    /// A function the bench has no main path for: timed on an event to its
    /// route, whatever it answers (it joins the table without bench code).
    AnyAnswer,
    /// The hello world and the Python baseline: any HTTP event, 200.
    Reference,
}

/// One row of the table: what runs, with which environment.
pub struct Subject {
    pub report: FunctionReport,
    pub program: Program,
    pub env: Env,
    pub scenario: Scenario,
    /// Whether it also takes a warm run (the what-ifs and the Python baseline do not).
    pub warm: bool,
}

#[derive(Default)]
struct Samples {
    poll: Vec<Duration>,
    response: Vec<Duration>,
    steps: Vec<BTreeMap<&'static str, f64>>,
    statuses: BTreeMap<String, usize>,
    off_main_path: usize,
    error: Option<String>,
}

impl Samples {
    fn summary(&self) -> Option<Cold> {
        Some(Cold {
            starts: self.poll.len(),
            to_first_poll: Stats::of(&self.poll)?,
            to_first_response: Stats::of(&self.response)?,
            poll_ratio_vs_hello: None,
            response_ratio_vs_python: None,
            statuses: self.statuses.clone(),
            off_main_path: self.off_main_path,
        })
    }
}

/// The event for `subject`'s next start, its expected status, and whether it is an HTTP event.
pub async fn event(
    subject: &Subject,
    beds: &BTreeMap<&'static str, Bed>,
) -> Result<(serde_json::Value, Option<u16>, bool), Error> {
    Ok(match subject.scenario {
        Scenario::MainPath(f) => {
            let p = beds.get(f).ok_or("no table for the function")?.prepare().await?;
            let http = p.status.is_some();
            (p.event, Some(p.status.unwrap_or(200)), http)
        }
        Scenario::AnyAnswer => (scenarios::http_event(&subject.report.function, "bench", None), None, true),
        Scenario::Reference => (scenarios::http_event("hello", "bench", None), Some(200), true),
    })
}

/// Fills the cold figures and the breakdown of every subject.
pub async fn measure(options: &Options, beds: &BTreeMap<&'static str, Bed>, subjects: &mut [Subject]) {
    let mut samples: Vec<Samples> = subjects.iter().map(|_| Samples::default()).collect();
    // One untimed round first loads every binary into the page cache; the
    // subjects take turns so a busy moment of the machine falls on all alike.
    let rounds = if options.runs("cold") { options.cold_starts + 1 } else { 0 };
    for round in 0..rounds {
        for (subject, samples) in subjects.iter().zip(samples.iter_mut()) {
            if samples.error.is_some() || !subject.program.exists() {
                continue;
            }
            let (event, expected, http) = match event(subject, beds).await {
                Ok(e) => e,
                Err(e) => {
                    samples.error = Some(format!("preparing the event: {e}"));
                    continue;
                }
            };
            let event = match serde_json::to_vec(&event) {
                Ok(e) => e,
                Err(e) => {
                    samples.error = Some(e.to_string());
                    continue;
                }
            };
            match start(subject, event, http, &options.log_dir) {
                Ok(s) if round > 0 => {
                    if let Some(startup) = &s.startup {
                        samples.steps.push(startup.steps(s.exec_unix_us, s.poll));
                    }
                    samples.poll.push(s.poll);
                    samples.response.push(s.response);
                    *samples.statuses.entry(s.status.to_string()).or_default() += 1;
                    samples.off_main_path += usize::from(expected.is_some_and(|e| e != s.status));
                }
                Ok(_) => {}
                Err(e) => samples.error = Some(e),
            }
        }
    }
    for (subject, samples) in subjects.iter_mut().zip(samples) {
        let report = &mut subject.report;
        report.cold = samples.summary();
        report.breakdown = Breakdown::of(&samples.steps);
        report.cold_error = samples.error;
        if !subject.program.exists() && report.cold_error.is_none() {
            report.cold_error = Some(format!("no program at {}", subject.program.path.display()));
        }
    }
}

struct Start {
    exec_unix_us: u64,
    poll: Duration,
    response: Duration,
    status: u16,
    startup: Option<Startup>,
}

/// exec → first `/next`, exec → first answer, the answer's status and the `startup` line.
fn start(subject: &Subject, event: Vec<u8>, http: bool, log_dir: &Path) -> Result<Start, String> {
    let name = &subject.report.function;
    let api = RuntimeApi::start(name).map_err(|e| e.to_string())?;
    let log_from = process::log_len(log_dir, name);
    let exec_unix_us = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64);
    let exec = Instant::now();
    let mut child = process::spawn(&subject.program, name, &api, &subject.env, log_dir)?;
    let result: Result<_, String> = (|| {
        let polled = api
            .wait_first_poll(&mut child, Duration::from_secs(30))
            .map_err(|e| format!("before its first poll: {e}"))?;
        let answer =
            api.invoke(&mut child, event, Duration::from_secs(60)).map_err(|e| format!("on its first event: {e}"))?;
        Ok((polled - exec, answer.answered_at - exec, answer_status(answer.ok, &answer.body, http)))
    })();
    process::stop(child);
    let (poll, response, status) = result?;
    let startup = Startup::find(&process::log_since(log_dir, name, log_from));
    Ok(Start { exec_unix_us, poll, response, status, startup })
}
