//! A Lambda Runtime API on loopback, enough for the Rust runtime client
//! (`lambda_runtime`): the long poll `GET /2018-06-01/runtime/invocation/next`,
//! `POST .../invocation/{id}/response`, `POST .../invocation/{id}/error` and
//! `POST /2018-06-01/runtime/init/error`. Plain HTTP/1.1 on std threads, one
//! thread per connection, so the timings it takes are not queued behind an
//! async executor the function under test competes with.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Child;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PREFIX: &str = "/2018-06-01/runtime";

/// How a function answered one invocation.
#[derive(Debug, Clone)]
pub struct Answer {
    /// `true` for `/response`, `false` for `/error`.
    pub ok: bool,
    pub body: Vec<u8>,
    /// When the event left on a `/next` answer, and when the answer was fully read.
    pub handed_at: Instant,
    pub answered_at: Instant,
}

impl Answer {
    /// Lambda's own notion of the invocation's duration.
    pub fn latency(&self) -> Duration {
        self.answered_at.saturating_duration_since(self.handed_at)
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, Vec<u8>)>,
    first_poll: Option<Instant>,
    handed: HashMap<String, Instant>,
    answers: HashMap<String, Answer>,
    init_error: Option<String>,
    stopped: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    function_name: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One Runtime API endpoint, for one function process at a time.
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Why waiting for the function ended without what was waited for.
#[derive(Debug)]
pub enum WaitError {
    Exited(String),
    InitError(String),
    TimedOut,
}

impl std::fmt::Display for WaitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exited(status) => write!(f, "the process exited ({status})"),
            Self::InitError(body) => write!(f, "the function reported an init error: {body}"),
            Self::TimedOut => f.write_str("timed out"),
        }
    }
}

impl RuntimeApi {
    pub fn start(function_name: &str) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            changed: Condvar::new(),
            function_name: function_name.to_string(),
        });
        let accept_shared = shared.clone();
        std::thread::Builder::new().name("runtime-api-accept".into()).spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.lock().stopped {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let conn_shared = accept_shared.clone();
                let _ = std::thread::Builder::new().name("runtime-api-conn".into()).spawn(move || {
                    let _ = serve(stream, &conn_shared);
                });
            }
        })?;
        Ok(Self { addr, shared })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Waits for the process's first `GET /next`; returns when it arrived.
    pub fn wait_first_poll(&self, child: &mut Child, timeout: Duration) -> Result<Instant, WaitError> {
        self.wait(child, timeout, |s| s.first_poll)
    }

    /// Queues an event and waits for its answer.
    pub fn invoke(&self, child: &mut Child, event: Vec<u8>, timeout: Duration) -> Result<Answer, WaitError> {
        let id = format!("bench-{:08}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
        self.shared.lock().queue.push_back((id.clone(), event));
        self.shared.changed.notify_all();
        self.wait(child, timeout, |s| s.answers.remove(&id))
    }

    fn wait<T>(
        &self,
        child: &mut Child,
        timeout: Duration,
        mut ready: impl FnMut(&mut State) -> Option<T>,
    ) -> Result<T, WaitError> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(found) = ready(&mut state) {
                return Ok(found);
            }
            if let Some(body) = state.init_error.clone() {
                return Err(WaitError::InitError(body));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(WaitError::TimedOut);
            }
            let slice = (deadline - now).min(Duration::from_millis(20));
            state = self.shared.changed.wait_timeout(state, slice).unwrap_or_else(|e| e.into_inner()).0;
            if let Ok(Some(status)) = child.try_wait() {
                // One last look: the answer may have come just before the exit.
                if let Some(found) = ready(&mut state) {
                    return Ok(found);
                }
                return Err(WaitError::Exited(status.to_string()));
            }
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.changed.notify_all();
        // Wakes the accept loop so it sees `stopped` and ends.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

struct HttpRequest {
    method: String,
    path: String,
    body: Vec<u8>,
}

/// Reads one request; `None` when the client closed the connection.
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<HttpRequest>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or_default().to_string(), parts.next().unwrap_or_default().to_string());
    let (mut length, mut chunked) = (0usize, false);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name == "content-length" {
                length = value.parse().map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad content-length"))?;
            } else if name == "transfer-encoding" && value.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size_text = line.trim().split(';').next().unwrap_or("0");
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers (the streaming client may send error trailers), then the blank line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if length > 0 {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    }
    Ok(Some(HttpRequest { method, path, body }))
}

fn write_response(out: &mut impl Write, status: &str, headers: &[(&str, String)], body: &[u8]) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}

fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader)? {
        let arrived = Instant::now();
        let path = request.path.strip_prefix(PREFIX).unwrap_or(&request.path);
        match (request.method.as_str(), path) {
            ("GET", "/invocation/next") => {
                let mut state = shared.lock();
                if state.first_poll.is_none() {
                    state.first_poll = Some(arrived);
                    shared.changed.notify_all();
                }
                let (id, event) = loop {
                    if state.stopped {
                        return Ok(());
                    }
                    if let Some(next) = state.queue.pop_front() {
                        break next;
                    }
                    state = shared.changed.wait(state).unwrap_or_else(|e| e.into_inner());
                };
                state.handed.insert(id.clone(), Instant::now());
                drop(state);
                let deadline_ms =
                    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() + 900_000;
                let arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{}", shared.function_name);
                write_response(
                    &mut writer,
                    "200 OK",
                    &[
                        ("lambda-runtime-aws-request-id", id),
                        ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
                        ("lambda-runtime-invoked-function-arn", arn),
                    ],
                    &event,
                )?;
            }
            ("POST", "/init/error") => {
                shared.lock().init_error = Some(String::from_utf8_lossy(&request.body).into_owned());
                shared.changed.notify_all();
                write_response(&mut writer, "202 Accepted", &[], br#"{"status":"OK"}"#)?;
            }
            ("POST", p) if p.starts_with("/invocation/") => {
                let rest = &p["/invocation/".len()..];
                let (id, kind) = rest.split_once('/').unwrap_or((rest, ""));
                let mut state = shared.lock();
                match state.handed.remove(id) {
                    Some(handed_at) if kind == "response" || kind == "error" => {
                        let answer =
                            Answer { ok: kind == "response", body: request.body, handed_at, answered_at: arrived };
                        state.answers.insert(id.to_string(), answer);
                        drop(state);
                        shared.changed.notify_all();
                        write_response(&mut writer, "202 Accepted", &[], br#"{"status":"OK"}"#)?;
                    }
                    _ => {
                        drop(state);
                        write_response(
                            &mut writer,
                            "400 Bad Request",
                            &[],
                            br#"{"errorMessage":"unknown invocation"}"#,
                        )?;
                    }
                }
            }
            _ => write_response(&mut writer, "404 Not Found", &[], br#"{"errorMessage":"not found"}"#)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_chunked_bodies() {
        let plain = b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
        let r = read_request(&mut &plain[..]).unwrap().unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str(), r.body.as_slice()), ("POST", "/x", &b"hello"[..]));
        let chunked =
            b"POST /y HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nx-trailer: 1\r\n\r\n";
        let r = read_request(&mut &chunked[..]).unwrap().unwrap();
        assert_eq!(r.body, b"abcde");
        assert!(read_request(&mut &b""[..]).unwrap().is_none());
    }
}
