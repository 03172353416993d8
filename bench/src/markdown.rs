//! The report as Markdown, ready for the README: how it was made, the table
//! (each figure against its target) and the init breakdown.

use crate::breakdown::{PARTS, STEPS};
use crate::report::{
    FunctionReport, Report, Trip, BINARY_TARGET_BYTES, COLD_RATIO_TARGET, FIRST_REQUEST_TARGET, MIB,
    PYTHON_RATIO_TARGET, RSS_TARGET_KB,
};

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

/// Short column names for the breakdown's steps; the legend under the table gives the long ones.
fn short(step: &str) -> &'static str {
    match step {
        "exec_to_main" => "exec → init",
        "logging" => "logging",
        "configuration" => "settings",
        "sdk_config" => "SDK config",
        "clients" => "clients",
        "connections" => "secret ‖ warm-up",
        "log_and_poll" => "→ first poll",
        "other" => "other",
        "secret" => "(secret)",
        "warm_up" => "(warm-up)",
        "tls_setup" => "(TLS set-up)",
        _ => "?",
    }
}

fn is_reference(f: &FunctionReport) -> bool {
    matches!(f.function.as_str(), "hello" | "python")
}

fn row(report: &Report, f: &FunctionReport) -> String {
    let same = |cell: String| if f.variant.is_some() { "″".to_string() } else { cell };
    let binary = same(f.binary_bytes.map_or("–".into(), |b| format!("{} {}", mb(b), mark(b <= BINARY_TARGET_BYTES))));
    let zip = same(f.zip_bytes.map_or("–".into(), mb));
    let (poll, poll_ratio, response, python_ratio) = match &f.cold {
        Some(c) => (
            format!("{:.1} / {:.1}", c.to_first_poll.p50_ms, c.to_first_poll.p95_ms),
            match (f.function.as_str(), c.poll_ratio_vs_hello) {
                ("hello", _) => "1".to_string(),
                (_, Some(r)) => format!("{r:.1} {}", mark(r <= COLD_RATIO_TARGET)),
                _ => "–".into(),
            },
            format!("{:.1} / {:.1}", c.to_first_response.p50_ms, c.to_first_response.p95_ms),
            match (f.function.as_str(), c.response_ratio_vs_python) {
                ("python", _) => "1".to_string(),
                ("hello", Some(r)) => format!("1/{:.0}", 1.0 / r),
                (_, Some(r)) => format!("1/{:.0} {}", 1.0 / r, mark(r <= PYTHON_RATIO_TARGET)),
                _ => "–".into(),
            },
        ),
        None => {
            let why = f.cold_error.as_deref().map_or("–".to_string(), |e| format!("did not start: {e}"));
            (why, "–".into(), "–".into(), "–".into())
        }
    };
    let (first, warm, rss) = match &f.warm {
        Some(w) => {
            let off = if w.off_main_path > 0 {
                format!(" ({} of {} off the main path)", w.off_main_path, w.invocations)
            } else {
                String::new()
            };
            let ratio = w.first_ms / w.latency.p50_ms.max(0.001);
            // A function timed on any answer has no warm main path to hold its first request to.
            let first = if is_reference(f) || w.main_path.is_empty() {
                format!("{:.1}", w.first_ms)
            } else {
                format!("{:.1} ({ratio:.1}×) {}", w.first_ms, mark(ratio <= FIRST_REQUEST_TARGET))
            };
            (
                first,
                format!("{:.1} / {:.1}{off}", w.latency.p50_ms, w.latency.p99_ms),
                format!("{:.1} {}", w.peak_rss_kb as f64 / 1024.0, mark(w.peak_rss_kb <= RSS_TARGET_KB)),
            )
        }
        None => ("–".into(), "–".into(), "–".into()),
    };
    let trips =
        report.round_trips.iter().filter(|t| t.function == f.function).map(Trip::cell).collect::<Vec<_>>().join("; ");
    let trips = if trips.is_empty() || f.variant.is_some() { "–".to_string() } else { trips };
    let cleanup = if f.function == "cleanup" && f.variant.is_none() && !report.cleanup.is_empty() {
        let sizes = report.cleanup.iter().map(|c| short_count(c.live_items)).collect::<Vec<_>>().join(" / ");
        let reads = report.cleanup.iter().map(|c| c.items_read.to_string()).collect::<Vec<_>>().join(" / ");
        let flat = report.cleanup.windows(2).all(|w| w[1].items_read <= w[0].items_read + 5);
        format!("{reads} at {sizes} live {}", mark(flat))
    } else {
        "–".into()
    };
    format!(
        "| {} | {binary} | {zip} | {rss} | {poll} | {poll_ratio} | {response} | {python_ratio} | {first} | {warm} | {trips} | {cleanup} |",
        f.name
    )
}

fn breakdown_row(f: &FunctionReport) -> Option<String> {
    let b = f.breakdown.as_ref()?;
    let total = f.cold.as_ref().map_or("–".into(), |c| format!("{:.1}", c.to_first_poll.p50_ms));
    let cells = STEPS
        .iter()
        .map(|(k, _)| k)
        .chain(PARTS.iter().map(|(k, _)| k))
        .map(|k| b.get(k).map_or("–".into(), |v| format!("{v:.2}")))
        .collect::<Vec<_>>()
        .join(" | ");
    Some(format!("| {} | {cells} | {total} |", f.name))
}

impl Report {
    pub fn markdown(&self) -> String {
        let starts = self.functions.iter().find_map(|f| f.cold.as_ref().map(|c| c.starts)).unwrap_or(0);
        let calls = self.functions.iter().find_map(|f| f.warm.as_ref().map(|w| w.invocations)).unwrap_or(0);
        let m = &self.machine;
        let mut out = format!(
            "Made by `{}` ({} mode) on {}, {:.0} s; {} cores ({}), {} MiB, Linux {}; load average {} at the start, {} at the end. \
             The functions reached DynamoDB Local and moto over: {}.\n\n",
            self.command,
            self.mode,
            self.started_at,
            self.duration_s,
            m.nproc,
            m.cpu,
            m.memory_mib,
            m.kernel,
            m.load_average_at_start,
            m.load_average_at_end,
            self.wiring
        );
        out.push_str(&format!(
            "| function | binary MiB (≤ 8) | zip MiB | peak RSS MiB (≤ 32) | exec → first poll, ms median / p95 ({starts} starts) | × hello (≤ {COLD_RATIO_TARGET}) | exec → first response, ms median / p95 | × Python (≤ 1/25) | first request ms (≤ {FIRST_REQUEST_TARGET}× warm p50) | warm ms p50 / p99 ({calls} calls) | requests per operation (floor) | cleanup items read, 100 due |\n"
        ));
        out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for f in self.rows() {
            out.push_str(&row(self, f));
            out.push('\n');
        }
        out.push_str("\nWhere init goes (medians over the cold starts, ms; from each function's `startup` line and the bench's clock at exec and first poll):\n\n");
        let heads = STEPS.iter().chain(PARTS.iter()).map(|(k, _)| short(k)).collect::<Vec<_>>();
        out.push_str(&format!("| function | {} | exec → first poll |\n", heads.join(" | ")));
        out.push_str(&format!("|---|{}---|\n", "---|".repeat(heads.len())));
        for line in self.rows().filter_map(breakdown_row) {
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
        for (k, what) in STEPS.iter().chain(PARTS.iter()) {
            out.push_str(&format!("- {}: {what}\n", short(k)));
        }
        if let Some(e) = &self.export {
            let mib = |kb: u64| kb as f64 / 1024.0;
            out.push_str(&format!(
                "\nA data export through cleanup's pages (docs/data-export.md): {} items; export-data answered {} in {:.0} ms \
                 (peak RSS {:.1} MiB), {} cleanup run(s) (peak RSS {:.1} MiB); the archive ({:.1} MiB) ready {:.1} s after \
                 the request (target: under 60 s, each process under 64 MiB: {}).\n",
                e.items,
                e.request_status,
                e.request_ms,
                mib(e.export_data_peak_rss_kb),
                e.cleanup_runs,
                mib(e.cleanup_peak_rss_kb),
                e.archive_bytes as f64 / 1024.0 / 1024.0,
                e.ready_s,
                if e.within_targets { "met" } else { "missed" }
            ));
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
