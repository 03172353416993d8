//! `devtool audit`: every invariant over the whole table (docs/audit.md), read-only.
//! Locally `scripts/dev audit`; against a deployed table, the same command with `--table`
//! and the operator's own AWS credentials and region (the SDK's standard settings).
//! Prints `{"items_checked": N, "violations": [...]}`; exits 0 when clean, 1 with
//! violations, 2 when the table could not be read or the options are wrong.

use shared::audit::audit_table;
use shared::store::scan::ScanPace;
use shared::store::Store;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: devtool audit [--table NAME] [--segments N] [--max-rcu UNITS_PER_SECOND]
  --table     the table (default: TABLE_NAME)
  --segments  parallel Scan segments (default 4)
  --max-rcu   read capacity units per second the audit may consume (default: no bound)";

#[derive(Debug)]
struct Options {
    table: String,
    pace: ScanPace,
}

fn parse(args: &[&str]) -> Result<Options, String> {
    let mut table = std::env::var("TABLE_NAME").ok();
    let mut pace = ScanPace::default();
    for pair in args.chunks(2) {
        match pair {
            ["--table", name] => table = Some(name.to_string()),
            ["--segments", n] => {
                pace.segments = n.parse().ok().filter(|n| (1..=1_000_000).contains(n)).ok_or("--segments: 1 or more")?
            }
            ["--max-rcu", r] => {
                let rate: f64 = r.parse().ok().filter(|r: &f64| *r > 0.0).ok_or("--max-rcu: a positive number")?;
                pace.max_read_units_per_second = Some(rate);
            }
            _ => return Err(USAGE.into()),
        }
    }
    let table = table.filter(|t| !t.is_empty()).ok_or("no table: pass --table NAME or set TABLE_NAME")?;
    Ok(Options { table, pace })
}

pub async fn run(args: &[&str]) -> ExitCode {
    let options = match parse(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("devtool audit: {message}");
            return ExitCode::from(2);
        }
    };
    // A 1 MB page from a busy table can take longer than the functions' 3 s attempts.
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(60))
        .build();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(timeouts).load().await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), options.table.clone());
    let now = shared::clock::Clock::default().now();
    let report = match audit_table(&store, &options.pace, now).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("devtool audit: {error}");
            return ExitCode::from(2);
        }
    };
    match serde_json::to_string(&report) {
        Ok(json) => println!("{json}"),
        Err(error) => {
            eprintln!("devtool audit: {error}");
            return ExitCode::from(2);
        }
    }
    let cost = &report.cost;
    eprintln!(
        "devtool audit: {} items of {} in {:.1} s over {} segments: {:.0} read units, {} bytes ({:.0} bytes an item), {} partitions read again, {} violations",
        report.items_checked,
        options.table,
        cost.elapsed.as_secs_f64(),
        options.pace.segments,
        cost.scan.read_units,
        cost.scan.bytes,
        cost.scan.bytes as f64 / report.items_checked.max(1) as f64,
        cost.partitions_reread,
        report.violations.len()
    );
    if report.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn options_are_read_and_checked() {
        let o = parse(&["--table", "prod", "--segments", "8", "--max-rcu", "250"]).unwrap();
        assert_eq!((o.table.as_str(), o.pace.segments, o.pace.max_read_units_per_second), ("prod", 8, Some(250.0)));
        for bad in [&["--segments", "0"][..], &["--max-rcu", "-1"], &["--table"], &["--colour", "red"]] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
