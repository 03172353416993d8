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
/// "On the order of a hello world's": read here as at most this many times its median.
pub const COLD_RATIO_TARGET: f64 = 3.0;

#[derive(Debug, Serialize)]
pub struct Cold {
    pub starts: usize,
    pub to_first_poll: Stats,
    pub to_first_response: Stats,
    /// Median exec → first poll over the hello world's.
    pub poll_ratio_vs_hello: Option<f64>,
    pub response_ratio_vs_hello: Option<f64>,
    pub statuses: BTreeMap<String, usize>,
    /// First answers that were not the main path's.
    pub off_main_path: usize,
}

#[derive(Debug, Serialize)]
pub struct Warm {
    pub main_path: String,
    pub invocations: usize,
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

    fn cell(&self) -> String {
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
    pub round_trips: &'static str,
    pub cleanup: &'static str,
}

/// The init work a function does beyond a hello world, timed in-process.
#[derive(Debug, Serialize)]
pub struct InitWork {
    /// `aws_config` from the environment, with fresh HTTP clients.
    pub sdk_config: Stats,
    /// The warm-up GetItem on a fresh connection.
    pub first_get_item: Stats,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub mode: &'static str,
    pub command: String,
    pub started_at: String,
    pub duration_s: f64,
    pub machine: Machine,
    pub targets: Targets,
    pub hello: FunctionReport,
    pub functions: Vec<FunctionReport>,
    /// The first function's cold start again with one setting changed.
    pub cold_what_if: Option<FunctionReport>,
    pub init_work: Option<InitWork>,
    pub round_trips: Vec<Trip>,
    pub cleanup: Vec<Cleanup>,
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / MIB as f64)
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mut machine: Machine,
        mode: &'static str,
        command: String,
        started_at: String,
        took: Duration,
        functions: Vec<FunctionReport>,
        hello: FunctionReport,
        cold_what_if: Option<FunctionReport>,
        init_work: Option<InitWork>,
        round_trips: Vec<Trip>,
        cleanup: Vec<Cleanup>,
    ) -> Self {
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
                round_trips: "send-code 1 write + 1 send; verify-code at most 2; check-prerequisites 1 Query; small delete-account at most 3",
                cleanup: "items read flat in table size",
            },
            hello,
            functions,
            cold_what_if,
            init_work,
            round_trips,
            cleanup,
        }
    }

    /// Every function that ran answered its main path as docs/api.md says.
    pub fn main_paths_ok(&self) -> bool {
        let functions = self.functions.iter().chain([&self.hello]).chain(self.cold_what_if.as_ref());
        let mut ok = true;
        for f in functions {
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

    fn row(&self, f: &FunctionReport) -> String {
        let same = |cell: String| if f.variant.is_some() { "″".to_string() } else { cell };
        let binary =
            same(f.binary_bytes.map_or("–".into(), |b| format!("{} {}", mb(b), mark(b <= BINARY_TARGET_BYTES))));
        let zip = same(f.zip_bytes.map_or("–".into(), mb));
        let (poll, response, ratio) = match &f.cold {
            Some(c) => (
                format!("{:.1} / {:.1}", c.to_first_poll.p50_ms, c.to_first_poll.p95_ms),
                format!("{:.1} / {:.1}", c.to_first_response.p50_ms, c.to_first_response.p95_ms),
                match (f.function.as_str(), c.poll_ratio_vs_hello) {
                    ("hello", _) => "1".to_string(),
                    (_, Some(r)) => format!("{r:.1} {}", mark(r <= COLD_RATIO_TARGET)),
                    _ => "–".into(),
                },
            ),
            None => {
                let why = f.cold_error.as_deref().map_or("–".to_string(), |e| format!("did not start: {e}"));
                (why, "–".into(), "–".into())
            }
        };
        let (warm, rss) = match &f.warm {
            Some(w) => {
                let off = if w.off_main_path > 0 {
                    format!(" ({} of {} off the main path)", w.off_main_path, w.invocations)
                } else {
                    String::new()
                };
                (
                    format!("{:.1} / {:.1}{off}", w.latency.p50_ms, w.latency.p99_ms),
                    format!("{:.1} {}", w.peak_rss_kb as f64 / 1024.0, mark(w.peak_rss_kb <= RSS_TARGET_KB)),
                )
            }
            None => ("–".into(), "–".into()),
        };
        let trips =
            self.round_trips.iter().filter(|t| t.function == f.function).map(Trip::cell).collect::<Vec<_>>().join("; ");
        let trips = if trips.is_empty() || f.variant.is_some() { "–".to_string() } else { trips };
        let cleanup = if f.function == "cleanup" && !self.cleanup.is_empty() {
            let sizes = self.cleanup.iter().map(|c| short_count(c.live_items)).collect::<Vec<_>>().join(" / ");
            let reads = self.cleanup.iter().map(|c| c.items_read.to_string()).collect::<Vec<_>>().join(" / ");
            let flat = self.cleanup.windows(2).all(|w| w[1].items_read <= w[0].items_read + 5);
            format!("{reads} at {sizes} live {}", mark(flat))
        } else {
            "–".into()
        };
        format!(
            "| {} | {binary} | {zip} | {poll} | {response} | {ratio} | {warm} | {rss} | {trips} | {cleanup} |",
            f.name
        )
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "| function | binary MiB (≤ 8) | zip MiB | cold exec → first poll, ms median / p95 ({} starts) | cold exec → first response, ms median / p95 | first poll × hello (≤ {COLD_RATIO_TARGET}) | warm ms p50 / p99 ({} calls) | peak RSS MiB (≤ 32) | requests per operation (floor) | cleanup items read, 100 due |\n",
            self.functions.iter().find_map(|f| f.cold.as_ref().map(|c| c.starts)).unwrap_or(0),
            self.functions.iter().find_map(|f| f.warm.as_ref().map(|w| w.invocations)).unwrap_or(0),
        ));
        out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
        for f in &self.functions {
            out.push_str(&self.row(f));
            out.push('\n');
        }
        out.push_str(&self.row(&self.hello));
        out.push('\n');
        if let Some(what_if) = &self.cold_what_if {
            out.push_str(&self.row(what_if));
            out.push('\n');
        }
        out
    }
}

fn short_count(n: usize) -> String {
    match (n / 1000, n % 1000) {
        (k, 0) if k > 0 => format!("{k}k"),
        _ => n.to_string(),
    }
}
