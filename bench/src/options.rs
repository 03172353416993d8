//! The command line of `bench` (what `scripts/bench` passes).

use crate::scenarios::FUNCTIONS;
use std::path::PathBuf;

pub const USAGE: &str = "\
usage: bench [--short] [--bin-dir DIR] [--zip-dir DIR] [--out FILE] [--markdown FILE]
             [--cold-starts N] [--warm N] [--cleanup-sizes N,N,...] [--functions NAME,...]
             [--parts cold,warm,trips,cleanup,export] [--export-items N] [--python PYTHON] [--plain] [--command TEXT]

  --short            a few iterations and small tables (what scripts/test runs)
  --bin-dir DIR      the release binaries, HELLO included (target/release)
  --zip-dir DIR      the deployment zips, NAME.zip (target/bench/zips)
  --out FILE         the JSON report (target/bench/bench.json)
  --markdown FILE    the table, also printed on stdout (target/bench/bench.md)
  --cold-starts N    timed starts per function (full 20, short 3)
  --warm N           warm invocations per function (full 1000, short 20)
  --cleanup-sizes L  live items per cleanup table (full 1000,10000,100000; short 1000,2000)
  --functions L      the functions (default: those the bench has a main path for);
                     one without a main path is timed on an event to its route, any answer
  --parts L          a subset of the measurements (default: all five)
  --export-items N   an account's items in the data export part (full 10000, short 2000):
                     export-data's request, then cleanup's runs, each a release binary
  --python PYTHON    run the Python baseline (bench/python/baseline.py) with this
                     interpreter, which must have boto3
  --plain            no TLS leg: the functions reach the services over plain HTTP
                     with the key in CODE_SECRET
  --command TEXT     the command line to record in the report

The bench's AWS clients find DynamoDB Local and moto through the SDK's standard
settings: AWS_ENDPOINT_URL_DYNAMODB for DynamoDB, AWS_ENDPOINT_URL for the rest.
The functions get the same, or, on the TLS leg, https endpoints of the bench in
front of them, SSL_CERT_FILE naming a bundle that trusts them, and
CODE_SECRET_ID naming a secret the bench puts in moto.";

pub struct Options {
    pub short: bool,
    pub bin_dir: PathBuf,
    pub zip_dir: PathBuf,
    pub out: PathBuf,
    pub markdown: PathBuf,
    pub cold_starts: usize,
    pub warm: usize,
    pub cleanup_sizes: Vec<usize>,
    pub functions: Vec<String>,
    pub python: Option<PathBuf>,
    pub tls: bool,
    pub command: String,
    pub log_dir: PathBuf,
    pub parts: Vec<String>,
    pub export_items: usize,
}

impl Options {
    pub fn runs(&self, part: &str) -> bool {
        self.parts.iter().any(|p| p == part)
    }

    /// The options of `args` (the program name left out); `Ok(None)` for `--help`.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Self>, String> {
        let target = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()));
        let bench_dir = target.join("bench");
        let (mut short, mut cold_starts, mut warm, mut cleanup_sizes) = (false, None, None, None);
        let mut export_items = None;
        let mut o = Options {
            short: false,
            bin_dir: target.join("release"),
            zip_dir: bench_dir.join("zips"),
            out: bench_dir.join("bench.json"),
            markdown: bench_dir.join("bench.md"),
            cold_starts: 0,
            warm: 0,
            cleanup_sizes: Vec::new(),
            functions: FUNCTIONS.map(String::from).to_vec(),
            python: None,
            tls: true,
            command: "bench".into(),
            log_dir: bench_dir.join("logs"),
            parts: ["cold", "warm", "trips", "cleanup", "export"].map(String::from).to_vec(),
            export_items: 0,
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "--short" => short = true,
                "--bin-dir" => o.bin_dir = value()?.into(),
                "--zip-dir" => o.zip_dir = value()?.into(),
                "--out" => o.out = value()?.into(),
                "--markdown" => o.markdown = value()?.into(),
                "--cold-starts" => cold_starts = Some(number(&flag, &value()?)?),
                "--warm" => warm = Some(number(&flag, &value()?)?),
                "--cleanup-sizes" => cleanup_sizes = Some(list(&value()?, |n| number(&flag, n))?),
                "--functions" => o.functions = list(&value()?, function)?,
                "--parts" => o.parts = list(&value()?, |p| Ok(p.to_string()))?,
                "--export-items" => export_items = Some(number(&flag, &value()?)?),
                "--python" => o.python = Some(value()?.into()),
                "--plain" => o.tls = false,
                "--command" => o.command = value()?,
                _ => return Err(format!("unexpected argument {flag:?}")),
            }
        }
        o.short = short;
        o.cold_starts = cold_starts.unwrap_or(if short { 3 } else { 20 });
        o.warm = warm.unwrap_or(if short { 20 } else { 1000 });
        o.cleanup_sizes =
            cleanup_sizes.unwrap_or_else(|| if short { vec![1_000, 2_000] } else { vec![1_000, 10_000, 100_000] });
        o.export_items = export_items.unwrap_or(if short { 2_000 } else { 10_000 });
        Ok(Some(o))
    }
}

fn number(flag: &str, value: &str) -> Result<usize, String> {
    value.trim().parse().map_err(|_| format!("{flag} takes numbers, not {value:?}"))
}

fn list<T>(value: &str, item: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    value.split(',').map(|v| item(v.trim())).collect()
}

/// A function's name as its crate and binary are named (`functions/NAME`).
fn function(name: &str) -> Result<String, String> {
    let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok && !["hello", "python"].contains(&name) {
        Ok(name.to_string())
    } else {
        Err(format!("{name:?} is not a function name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, String> {
        Options::parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn short_mode_sets_small_defaults_and_flags_override_them() {
        let o = parse(&["--short", "--warm", "5", "--functions", "send-code,cleanup"]).unwrap().unwrap();
        assert_eq!((o.short, o.cold_starts, o.warm), (true, 3, 5));
        assert_eq!(o.cleanup_sizes, [1_000, 2_000]);
        assert_eq!(o.functions, ["send-code", "cleanup"]);
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&["--functions", "Nope!"]).is_err());
        assert_eq!(parse(&["--functions", "publish-events"]).unwrap().unwrap().functions, ["publish-events"]);
        assert!(parse(&["--warm"]).is_err());
        assert_eq!(parse(&["--nope"]).err().unwrap(), "unexpected argument \"--nope\"");
    }
}
