//! Function processes as Lambda starts them: a clean environment, the Runtime
//! API the bench serves, the function's settings and the AWS ones passed through.

use crate::runtime_api::RuntimeApi;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Environment variables for a function process.
pub type Env = Vec<(String, String)>;

pub fn binary(dir: &Path, function: &str) -> PathBuf {
    dir.join(function)
}

/// A function's settings on `table`, and the bench's own AWS settings
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`, region, credentials), so
/// the function finds moto exactly as the bench's clients do.
pub fn function_env(table: &str) -> Env {
    let mut env = crate::probe::settings(table);
    env.extend(std::env::vars().filter(|(k, _)| k.starts_with("AWS_") && !k.starts_with("AWS_LAMBDA_")));
    env.push(("RUST_LOG".into(), "info".into()));
    env
}

pub fn spawn(
    bin: &Path,
    function: &str,
    api: &RuntimeApi,
    env: &[(String, String)],
    log_dir: &Path,
) -> Result<Child, String> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_dir.join(format!("{function}.log")))
        .map_err(|e| e.to_string())?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    Command::new(bin)
        // Nothing of the bench's environment leaks in but what `env` passes.
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))
}

pub fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// `VmHWM` (peak resident set) of a process, in kB.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
