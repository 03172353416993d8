//! The report: one JSON document and one markdown table, with each figure
//! set against its target (docs/benchmark.md#each-figure-against-its-target).

use crate::probe::Seen;
use crate::stats::Stats;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

pub const MIB: u64 = 1024 * 1024;
/// The targets of docs/benchmark.md#each-figure-against-its-target.
pub const BINARY_TARGET_BYTES: u64 = 8 * MIB;
pub const RSS_TARGET_KB: u64 = 32 * 1024;
/// Exec → first poll: at most this many times the hello world's median.
pub const COLD_RATIO_TARGET: f64 = 3.0;
/// Exec → first response: at most this share of the Python baseline's median.
pub const PYTHON_RATIO_TARGET: f64 = 1.0 / 25.0;
/// The first request after init: at most this many times the warm p50.
pub const FIRST_REQUEST_TARGET: f64 = 1.5;

#[derive(Debug, Serialize)]
pub struct Cold {
    pub starts: usize,
    pub to_first_poll: Stats,
    pub to_first_response: Stats,
    /// Median exec → first poll over the hello world's.
    pub poll_ratio_vs_hello: Option<f64>,
    /// Median exec → first response over the Python baseline's.
    pub response_ratio_vs_python: Option<f64>,
    pub statuses: BTreeMap<String, usize>,
    /// First answers that were not the main path's.
    pub off_main_path: usize,
}

#[derive(Debug, Serialize)]
pub struct Warm {
    pub main_path: String,
    pub invocations: usize,
    /// The first invocation after init (the first request a fresh instance serves), ms.
    pub first_ms: f64,
    /// From the event leaving on a `/next` answer to the function's answer fully read.
    pub latency: Stats,
    pub statuses: BTreeMap<String, usize>,
    pub off_main_path: usize,
    pub off_main_path_example: Option<String>,
    pub rss_after_init_kb: u64,
    pub peak_rss_kb: u64,
    /// Untimed time the bench spent making each event's state (accounts, codes, tokens).
    pub preparation_s: f64,
}

#[derive(Debug, Serialize)]
pub struct FunctionReport {
    pub function: String,
    pub name: String,
    /// A setting changed for a what-if row; its other columns are the function's own row's.
    pub variant: Option<String>,
    pub binary_bytes: Option<u64>,
    pub zip_bytes: Option<u64>,
    pub cold: Option<Cold>,
    pub cold_error: Option<String>,
    /// Where the cold starts' time went (medians), from the function's `startup` line.
    pub breakdown: Option<crate::breakdown::Breakdown>,
    pub warm: Option<Warm>,
    pub warm_error: Option<String>,
}

fn size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

impl FunctionReport {
    pub fn new(function: &str, bin_dir: &Path, zip_dir: &Path) -> Self {
        Self {
            function: function.to_string(),
            name: function.to_string(),
            variant: None,
            binary_bytes: size(&bin_dir.join(function)),
            zip_bytes: size(&zip_dir.join(format!("{function}.zip"))),
            cold: None,
            cold_error: None,
            breakdown: None,
            warm: None,
            warm_error: None,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Trip {
    pub function: String,
    pub operation: String,
    pub status: u16,
    /// What docs/api.md answers to this operation.
    pub expected_status: u16,
    pub dynamodb: u64,
    pub ses: u64,
    pub requests: BTreeMap<String, u64>,
    pub items_read: u64,
    /// Time on the wire per operation, ms, and the whole call's time.
    pub wire_ms: BTreeMap<String, f64>,
    pub total_ms: f64,
    /// The design's floor: (DynamoDB requests, SES requests) at most.
    pub floor: Option<(u64, u64)>,
    pub at_floor: Option<bool>,
}

impl Trip {
    pub fn new(
        function: &str,
        operation: &str,
        seen: &Seen,
        status: u16,
        floor: Option<(u64, u64)>,
        took: Duration,
    ) -> Self {
        let (dynamodb, ses) = (seen.count("dynamodb"), seen.count("sesv2"));
        Self {
            function: function.into(),
            operation: operation.into(),
            status,
            expected_status: status,
            dynamodb,
            ses,
            requests: seen.requests.clone(),
            items_read: seen.items_read(),
            wire_ms: seen.wire_ms.clone(),
            total_ms: took.as_secs_f64() * 1000.0,
            floor,
            at_floor: floor.map(|(d, s)| dynamodb <= d && ses <= s),
        }
    }

    pub fn expecting(mut self, status: u16) -> Self {
        self.expected_status = status;
        self
    }

    pub fn cell(&self) -> String {
        let ops = self
            .requests
            .iter()
            .map(|(k, v)| format!("{} {v}", k.split_once(':').map_or(k.as_str(), |x| x.1)))
            .collect::<Vec<_>>()
            .join(" + ");
        let verdict = match (self.floor, self.at_floor) {
            (Some((d, s)), Some(ok)) => format!(
                " (floor {d}{}) {}",
                if s > 0 { format!(" + {s} mail") } else { String::new() },
                if ok { "✓" } else { "✗" }
            ),
            _ => String::new(),
        };
        format!("{}: {ops}{verdict}", self.operation.trim_end_matches(" (the main path)"))
    }
}

#[derive(Debug, Serialize)]
pub struct Cleanup {
    pub live_items: usize,
    pub due_items: usize,
    pub load_s: f64,
    /// Items DynamoDB read for the run: ScannedCount of every Query plus items fetched by key.
    pub items_read: u64,
    pub due_entries_read: usize,
    pub tokens_removed: usize,
    pub dynamodb_requests: u64,
    pub requests: String,
    pub duration_ms: f64,
    /// The run right after, with nothing due any more.
    pub next_run_items_read: u64,
    pub next_run_due_entries_read: usize,
    pub next_run_duration_ms: f64,
}

/// A data export through cleanup's pages (crate::export_cost).
#[derive(Debug, Serialize)]
pub struct Export {
    /// The account's data items.
    pub items: usize,
    pub load_s: f64,
    /// The export-data invocation: it accepts the export and writes what fits in INLINE_WORK_ITEMS.
    pub request_ms: f64,
    pub request_status: u16,
    pub cleanup_runs: usize,
    /// From the request to the archive ready (the record `ready`).
    pub ready_s: f64,
    pub archive_bytes: u64,
    pub export_data_peak_rss_kb: u64,
    pub cleanup_peak_rss_kb: u64,
    /// Under 60 s, each process under 64 MiB.
    pub within_targets: bool,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu: String,
    pub memory_mib: u64,
    pub kernel: String,
    pub load_average_at_start: String,
    pub load_average_at_end: String,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Machine {
    pub fn here() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|x| x.1.trim().to_string())
            .unwrap_or_default();
        let memory_kb: u64 = read("/proc/meminfo")
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Self {
            nproc: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            cpu,
            memory_mib: memory_kb / 1024,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            load_average_at_start: load_average(),
            load_average_at_end: String::new(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Targets {
    pub binary_max_bytes: u64,
    pub peak_rss_max_kb: u64,
    pub cold_init_max_ratio_vs_hello: f64,
    pub first_response_max_ratio_vs_python: f64,
    pub first_request_max_ratio_vs_warm_p50: f64,
    pub round_trips: &'static str,
    pub cleanup: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub mode: &'static str,
    pub command: String,
    pub started_at: String,
    pub duration_s: f64,
    pub machine: Machine,
    pub targets: Targets,
    /// How the functions reached the services (the TLS leg, or plain HTTP).
    pub wiring: String,
    pub hello: FunctionReport,
    /// A handler that builds boto3 DynamoDB and SESv2 clients and answers, on the same Runtime API.
    pub python: Option<FunctionReport>,
    pub functions: Vec<FunctionReport>,
    /// A function's cold start again with the wiring changed.
    pub what_ifs: Vec<FunctionReport>,
    pub round_trips: Vec<Trip>,
    pub cleanup: Vec<Cleanup>,
    /// A data export through cleanup's pages, if that part ran.
    pub export: Option<Export>,
}

/// The rows of the report, as the cold and warm runs filled them.
pub struct Rows {
    pub wiring: String,
    pub hello: FunctionReport,
    pub python: Option<FunctionReport>,
    pub functions: Vec<FunctionReport>,
    pub what_ifs: Vec<FunctionReport>,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mut machine: Machine,
        mode: &'static str,
        command: String,
        started_at: String,
        took: Duration,
        rows: Rows,
        round_trips: Vec<Trip>,
        cleanup: Vec<Cleanup>,
    ) -> Self {
        let Rows { wiring, mut hello, python, mut functions, mut what_ifs } = rows;
        let hello_poll = hello.cold.as_ref().map(|c| c.to_first_poll.p50_ms);
        let python_response = python.as_ref().and_then(|p| p.cold.as_ref()).map(|c| c.to_first_response.p50_ms);
        for f in functions.iter_mut().chain(what_ifs.iter_mut()).chain([&mut hello]) {
            if let Some(c) = f.cold.as_mut() {
                c.poll_ratio_vs_hello = hello_poll.map(|h| c.to_first_poll.p50_ms / h);
                c.response_ratio_vs_python = python_response.map(|p| c.to_first_response.p50_ms / p);
            }
        }
        Self {
            mode,
            command,
            started_at,
            duration_s: took.as_secs_f64(),
            machine: {
                machine.load_average_at_end = load_average();
                machine
            },
            targets: Targets {
                binary_max_bytes: BINARY_TARGET_BYTES,
                peak_rss_max_kb: RSS_TARGET_KB,
                cold_init_max_ratio_vs_hello: COLD_RATIO_TARGET,
                first_response_max_ratio_vs_python: PYTHON_RATIO_TARGET,
                first_request_max_ratio_vs_warm_p50: FIRST_REQUEST_TARGET,
                round_trips: "send-code 1 write + 1 send; verify-code at most 2; check-prerequisites 1 Query; small delete-account at most 3",
                cleanup: "items read flat in table size",
            },
            wiring,
            hello,
            python,
            functions,
            what_ifs,
            round_trips,
            cleanup,
            export: None,
        }
    }

    /// Every row: the functions, the references, the what-ifs.
    pub fn rows(&self) -> impl Iterator<Item = &FunctionReport> {
        self.functions.iter().chain([&self.hello]).chain(self.python.as_ref()).chain(self.what_ifs.iter())
    }

    /// Every function that ran answered its main path as docs/api.md says.
    pub fn main_paths_ok(&self) -> bool {
        let mut ok = true;
        for f in self.rows() {
            let broken = [f.cold_error.as_ref(), f.warm_error.as_ref()].into_iter().flatten();
            let off_path =
                f.cold.as_ref().map_or(0, |c| c.off_main_path) + f.warm.as_ref().map_or(0, |w| w.off_main_path);
            for error in broken {
                eprintln!("bench: {}: {error}", f.name);
                ok = false;
            }
            if off_path > 0 {
                eprintln!("bench: {}: {off_path} answers off the main path (see the JSON report)", f.name);
                ok = false;
            }
        }
        for t in self.round_trips.iter().filter(|t| t.status != t.expected_status) {
            eprintln!(
                "bench: {} {}: answered {} where docs/api.md says {}",
                t.function, t.operation, t.status, t.expected_status
            );
            ok = false;
        }
        ok
    }
}
