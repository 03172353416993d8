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

/// How the functions reach the services: the bench's own endpoints (plain
/// HTTP, the key in `CODE_SECRET`), or the TLS leg (crate::tls) with the key
/// read from Secrets Manager at init, as on AWS.
#[derive(Debug, Clone, Default)]
pub struct Wiring {
    /// `AWS_ENDPOINT_URL*` settings that replace the bench's own.
    pub endpoints: Env,
    /// What `SSL_CERT_FILE` names, if anything.
    pub ssl_cert_file: Option<String>,
    /// The Secrets Manager secret the functions read their key from (`CODE_SECRET_ID`).
    pub secret_id: Option<String>,
}

impl Wiring {
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        parts.push(if self.endpoints.is_empty() { "plain HTTP" } else { "TLS" }.to_string());
        parts
            .push(if self.secret_id.is_some() { "key from Secrets Manager" } else { "key in CODE_SECRET" }.to_string());
        // Relative to the repository, where the bench runs, so the report names no machine's path.
        let cwd = std::env::current_dir().map(|d| format!("{}/", d.display())).unwrap_or_default();
        let file = |f: &String| format!("SSL_CERT_FILE={}", f.strip_prefix(&cwd).unwrap_or(f));
        parts.push(self.ssl_cert_file.as_ref().map_or("no SSL_CERT_FILE".into(), file));
        parts.join(", ")
    }
}

/// A function's settings on `table`, and the bench's own AWS settings
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`, region, credentials) with
/// `wiring`'s changes, so the function finds the services as `wiring` says.
pub fn function_env(table: &str, wiring: &Wiring) -> Env {
    let mut env = crate::probe::settings(table);
    if let Some(id) = &wiring.secret_id {
        env.retain(|(k, _)| k != "CODE_SECRET");
        env.push(("CODE_SECRET_ID".into(), id.clone()));
    }
    env.extend(aws_env(wiring));
    // The SDK's HTTP client says at debug how long each connector took to build
    // (its TLS set-up), once per connector: crate::breakdown reads it.
    env.push(("RUST_LOG".into(), "info,aws_smithy_http_client=debug".into()));
    env
}

/// The bench's AWS settings with `wiring`'s endpoints and trust store: what the Python baseline gets too.
pub fn aws_env(wiring: &Wiring) -> Env {
    let mut env: Env = std::env::vars()
        .filter(|(k, _)| k.starts_with("AWS_") && !k.starts_with("AWS_LAMBDA_"))
        .filter(|(k, _)| !wiring.endpoints.iter().any(|(e, _)| e == k))
        .collect();
    env.extend(wiring.endpoints.iter().cloned());
    env.extend(wiring.ssl_cert_file.iter().map(|f| ("SSL_CERT_FILE".to_string(), f.clone())));
    env
}

/// What to run: a binary, or an interpreter and its script.
#[derive(Debug, Clone)]
pub struct Program {
    pub path: PathBuf,
    pub args: Vec<String>,
}

impl Program {
    pub fn binary(dir: &Path, function: &str) -> Self {
        Self { path: binary(dir, function), args: Vec::new() }
    }

    pub fn exists(&self) -> bool {
        self.path.is_file()
    }
}

/// The log file of `function`'s processes, appended to by each.
pub fn log_file(log_dir: &Path, function: &str) -> PathBuf {
    log_dir.join(format!("{function}.log"))
}

/// What `function`'s processes wrote to their log since it was `from` bytes long.
pub fn log_since(log_dir: &Path, function: &str, from: u64) -> String {
    let text = std::fs::read(log_file(log_dir, function)).unwrap_or_default();
    String::from_utf8_lossy(text.get(from as usize..).unwrap_or_default()).into_owned()
}

pub fn log_len(log_dir: &Path, function: &str) -> u64 {
    std::fs::metadata(log_file(log_dir, function)).map_or(0, |m| m.len())
}

pub fn spawn(
    program: &Program,
    function: &str,
    api: &RuntimeApi,
    env: &[(String, String)],
    log_dir: &Path,
) -> Result<Child, String> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file(log_dir, function))
        .map_err(|e| e.to_string())?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    Command::new(&program.path)
        .args(&program.args)
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
        .map_err(|e| format!("cannot run {}: {e}", program.path.display()))
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
