//! Where a cold start's time goes, from the function's own `startup` log line
//! (shared/src/startup.rs: monotonic durations of each step of init, and the
//! wall clock at the start of init) and the bench's clock at exec and at the
//! first poll. One sample per cold start; the report gives medians.

use crate::stats::Stats;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// The steps, in order; each sample's steps add up to exec → first poll.
pub const STEPS: [(&str, &str); 8] = [
    ("exec_to_main", "exec → init starts (loader, Rust start-up, tokio runtime)"),
    ("logging", "log subscriber"),
    ("configuration", "settings from the environment"),
    ("sdk_config", "SDK config (region, credentials chain, profile files)"),
    ("clients", "client construction"),
    ("connections", "secret read ‖ warm-up (TLS roots, connect, handshake, request)"),
    ("log_and_poll", "startup line, runtime set-up → first poll"),
    ("other", "rest of init, untimed"),
];

/// Durations within `connections`, not steps of their own.
pub const PARTS: [(&str, &str); 3] = [
    ("secret", "of which: the secret read alone"),
    ("warm_up", "of which: the warm-up GetItem alone"),
    (
        "tls_setup",
        "of which: TLS set-up, the SDK's own timing of its HTTPS connectors (CA certificates loaded and parsed, \
         the rustls configuration), added up over the clients that made a request during init",
    ),
];

/// What the SDK's HTTP client logs (at debug) when it builds a connector, with the time it took.
const CONNECTOR_LINE: &str = "new connector created in ";

/// The `startup` line's fields, read from a function's output.
#[derive(Debug, Clone, Default)]
pub struct Startup {
    pub main_unix_us: u64,
    pub init_us: u64,
    pub fields: BTreeMap<String, u64>,
}

impl Startup {
    /// The first `startup` line in `log` (the JSON lines one process wrote), with
    /// the SDK's connector timings logged before it (`tls_setup`).
    pub fn find(log: &str) -> Option<Self> {
        let mut tls_setup_us = 0;
        for line in log.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()) {
            let Some(message) = line.pointer("/fields/message").and_then(Value::as_str) else { continue };
            if let Some(took) = message.strip_prefix(CONNECTOR_LINE) {
                tls_setup_us += debug_duration_us(took).unwrap_or(0);
                continue;
            }
            if message != "startup" {
                continue;
            }
            let mut fields: BTreeMap<String, u64> = line
                .get("fields")?
                .as_object()?
                .iter()
                .filter_map(|(k, v)| Some((k.strip_suffix("_us")?.to_string(), v.as_u64()?)))
                .collect();
            fields.insert("tls_setup".into(), tls_setup_us);
            return Some(Self { main_unix_us: *fields.get("main_unix")?, init_us: *fields.get("init")?, fields });
        }
        None
    }

    /// One cold start's steps, in µs: `exec_unix_us` is the bench's wall clock
    /// just before exec, `poll` the time from exec to the first poll.
    pub fn steps(&self, exec_unix_us: u64, poll: Duration) -> BTreeMap<&'static str, f64> {
        let poll_us = poll.as_micros() as f64;
        let exec_to_main = self.main_unix_us.saturating_sub(exec_unix_us) as f64;
        let field = |k: &str| self.fields.get(k).copied().unwrap_or(0) as f64;
        let timed: f64 =
            ["logging", "configuration", "sdk_config", "clients", "connections"].iter().map(|k| field(k)).sum();
        let mut steps = BTreeMap::new();
        steps.insert("exec_to_main", exec_to_main);
        for k in ["logging", "configuration", "sdk_config", "clients", "connections"] {
            steps.insert(k, field(k));
        }
        steps.insert("other", (self.init_us as f64 - timed).max(0.0));
        steps.insert("log_and_poll", (poll_us - exec_to_main - self.init_us as f64).max(0.0));
        for (k, _) in PARTS {
            steps.insert(k, field(k));
        }
        steps
    }
}

/// A `Duration`'s `Debug` text (`812.5µs`, `1.2345ms`, `2s`) in µs.
fn debug_duration_us(text: &str) -> Option<u64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "ns" => 0.001,
        "µs" | "us" => 1.0,
        "ms" => 1_000.0,
        "s" => 1_000_000.0,
        _ => return None,
    };
    Some((number * scale).round() as u64)
}

/// The medians of every step over a function's cold starts, in ms.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Breakdown {
    pub starts: usize,
    pub median_ms: BTreeMap<String, f64>,
}

impl Breakdown {
    pub fn of(samples: &[BTreeMap<&'static str, f64>]) -> Option<Self> {
        let first = samples.first()?;
        let median_ms = first
            .keys()
            .filter_map(|k| {
                let v: Vec<Duration> = samples
                    .iter()
                    .filter_map(|s| s.get(k))
                    .map(|us| Duration::from_nanos((us * 1000.0) as u64))
                    .collect();
                Some((k.to_string(), Stats::of(&v)?.p50_ms))
            })
            .collect();
        Some(Self { starts: samples.len(), median_ms })
    }

    pub fn get(&self, step: &str) -> Option<f64> {
        self.median_ms.get(step).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_of_a_startup_line_add_up_to_the_first_poll() {
        let log = concat!(
            r#"{"level":"INFO","fields":{"message":"hello"}}"#,
            "\n",
            r#"{"level":"DEBUG","fields":{"message":"new connector created in 812.5µs"}}"#,
            "\n",
            r#"{"level":"DEBUG","fields":{"message":"new connector created in 1.25ms"}}"#,
            "\n",
            r#"{"level":"INFO","fields":{"message":"startup","main_unix_us":1000500,"logging_us":100,"configuration_us":10,"sdk_config_us":300,"clients_us":200,"connections_us":2000,"secret_us":1500,"warm_up_us":1900,"init_us":2700}}"#,
            "\n"
        );
        let s = Startup::find(log).unwrap();
        let steps = s.steps(1_000_000, Duration::from_micros(4000));
        assert_eq!(steps["exec_to_main"], 500.0);
        assert_eq!(steps["other"], 90.0);
        assert_eq!(steps["log_and_poll"], 800.0);
        assert_eq!(steps["warm_up"], 1900.0);
        assert_eq!(steps["tls_setup"], 813.0 + 1250.0);
        let sum: f64 = STEPS.iter().map(|(k, _)| steps[k]).sum();
        assert_eq!(sum, 4000.0);
        assert!(Startup::find("not json\n").is_none());
        let b = Breakdown::of(&[steps.clone(), steps]).unwrap();
        assert_eq!((b.starts, b.get("connections")), (2, Some(2.0)));
    }
}
