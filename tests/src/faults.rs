//! A fault proxy on loopback between the code under test and one AWS service
//! (DynamoDB Local or moto): it forwards HTTP/1.1 requests unchanged, and on
//! the requests a [`Rule`] picks it resets the connection, stalls, or answers
//! a 500, a throttling error or a cancelled transaction, as the service
//! would. It records every operation it saw, so a test can fault each step of
//! a journey in turn.
//!
//! [`FaultProxy::start_random`] is the soak's kind (`devtool fault-proxy`,
//! docs/soak.md): it faults a share of all requests at random and only counts
//! what it did, so it can run for as long as the stack runs.

pub use crate::iam::Access;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What the proxy does instead of forwarding a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The connection is reset before the request reaches the service.
    Reset,
    /// No answer at all: the client's attempt timeout has to end the wait.
    Stall,
    /// HTTP 500 with the service's InternalServerError.
    ServerError,
    /// The service's throttling answer (DynamoDB 400 ThrottlingException, SES 429).
    Throttle,
    /// DynamoDB cancels a transaction for a conflicting one (`TransactionConflict`).
    Conflict,
    /// The request reaches the service and is done, then the answer is lost.
    AnswerLost,
}

impl Fault {
    pub const ALL: [Fault; 6] =
        [Fault::Reset, Fault::Stall, Fault::ServerError, Fault::Throttle, Fault::Conflict, Fault::AnswerLost];

    /// The name `devtool fault-proxy` takes and counts by.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Reset => "reset",
            Fault::Stall => "timeout",
            Fault::ServerError => "5xx",
            Fault::Throttle => "throttle",
            Fault::Conflict => "conflict",
            Fault::AnswerLost => "answer_lost",
        }
    }

    pub fn named(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether the service could answer `operation` so: only a transaction is cancelled for a conflict.
    fn fits(self, operation: &str) -> bool {
        self != Fault::Conflict || operation == "TransactWriteItems"
    }
}

/// Faults each request with probability `rate`, with one of `kinds` that fits
/// its operation, drawn from a generator seeded with `seed` (the same seed, the
/// same draws in the same order of requests). A share `persist` of those faults
/// lasts through every retry the SDK makes of that operation (the requests with
/// the same `amz-sdk-invocation-id`), as an outage longer than the retries would:
/// those are the ones a function answers `busy`.
#[derive(Debug, Clone)]
pub struct RandomFaults {
    pub rate: f64,
    pub kinds: Vec<Fault>,
    pub seed: u64,
    pub persist: f64,
}

/// How many operations whose faults persist are remembered (the latest).
const PERSISTING: usize = 512;

/// splitmix64: small, seedable, and good enough to pick faults.
#[derive(Debug, Clone)]
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Which requests to fault: the `skip`+1-th request whose operation contains
/// `operation` (every request with ""), and the `times - 1` after it that match.
#[derive(Debug, Clone)]
pub struct Rule {
    pub operation: String,
    pub skip: usize,
    pub times: usize,
    pub fault: Fault,
}

impl Rule {
    /// The `nth` request (0-based) of any operation, and every retry after it.
    pub fn at(nth: usize, fault: Fault) -> Self {
        Self { operation: String::new(), skip: nth, times: usize::MAX, fault }
    }
}

#[derive(Default)]
struct State {
    rule: Option<Rule>,
    /// The soak's mode: no log of operations, only counts.
    random: Option<(RandomFaults, Draws)>,
    /// Operations (SDK invocation ids) faulted on every attempt, the latest last.
    persisting: std::collections::VecDeque<(String, Fault)>,
    seen: Vec<String>,
    accesses: Vec<Access>,
    matched: usize,
    injected: usize,
    requests: usize,
    /// Faults injected, by fault name and by operation.
    by_fault: BTreeMap<&'static str, usize>,
    by_operation: BTreeMap<String, usize>,
}

impl State {
    fn pick(&mut self, operation: &str, invocation: Option<&str>) -> Option<Fault> {
        if let Some((faults, draws)) = self.random.as_mut() {
            if let Some(id) = invocation {
                if let Some((_, fault)) = self.persisting.iter().find(|(known, _)| known == id) {
                    return Some(*fault);
                }
            }
            if draws.unit() >= faults.rate {
                return None;
            }
            let fitting: Vec<Fault> = faults.kinds.iter().copied().filter(|f| f.fits(operation)).collect();
            if fitting.is_empty() {
                return None;
            }
            let fault = fitting[(draws.next() % fitting.len() as u64) as usize];
            if let Some(id) = invocation.filter(|_| draws.unit() < faults.persist) {
                if self.persisting.len() == PERSISTING {
                    self.persisting.pop_front();
                }
                self.persisting.push_back((id.to_string(), fault));
            }
            return Some(fault);
        }
        let rule = self.rule.clone().filter(|r| operation.contains(&r.operation))?;
        self.matched += 1;
        (self.matched > rule.skip && self.matched - rule.skip <= rule.times).then_some(rule.fault)
    }
}

/// A running proxy; it stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Result<Self, Error> {
        Self::listen(upstream, State::default()).await
    }

    /// Listens on a free loopback port, forwards to `upstream` and faults what
    /// `faults` draws; keeps no log of operations (see [`FaultProxy::summary`]).
    pub async fn start_random(upstream: &str, faults: RandomFaults) -> Result<Self, Error> {
        if !(0.0..=1.0).contains(&faults.rate) || !(0.0..=1.0).contains(&faults.persist) {
            return Err(format!(
                "a fault rate and its share that persists are between 0 and 1, not {} and {}",
                faults.rate, faults.persist
            )
            .into());
        }
        let draws = Draws(faults.seed);
        Self::listen(upstream, State { random: Some((faults, draws)), ..State::default() }).await
    }

    async fn listen(upstream: &str, state: State) -> Result<Self, Error> {
        let upstream = upstream.strip_prefix("http://").ok_or("the proxy forwards to http:// only")?;
        let upstream = upstream.trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, upstream.clone(), shared.clone()));
            }
        });
        Ok(Self { addr, state, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Faults from now on what `rule` picks; replaces any earlier rule.
    pub fn inject(&self, rule: Rule) {
        let mut state = self.lock();
        state.rule = Some(rule);
        state.matched = 0;
    }

    /// Forwards everything again.
    pub fn heal(&self) {
        self.lock().rule = None;
    }

    /// Forgets the operations seen so far.
    pub fn clear_log(&self) {
        let mut state = self.lock();
        state.seen.clear();
        state.accesses.clear();
    }

    /// What the DynamoDB requests seen asked IAM for, item by item.
    pub fn accesses(&self) -> Vec<Access> {
        self.lock().accesses.clone()
    }

    /// The operations seen, in order (faulted ones included).
    pub fn operations(&self) -> Vec<String> {
        self.lock().seen.clone()
    }

    /// How many requests were faulted.
    pub fn injected(&self) -> usize {
        self.lock().injected
    }

    /// Requests seen and faults injected, in total, by fault and by operation.
    pub fn summary(&self) -> serde_json::Value {
        let state = self.lock();
        serde_json::json!({
            "requests": state.requests,
            "injected": state.injected,
            "by_fault": state.by_fault,
            "by_operation": state.by_operation,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One HTTP/1.1 request as read from the client.
pub(crate) struct Request {
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// DynamoDB names its operation in `X-Amz-Target`; SES v2 in its path.
    pub(crate) fn operation(&self) -> String {
        if let Some(target) = self.header("x-amz-target") {
            return target.rsplit('.').next().unwrap_or(target).to_string();
        }
        let path = self.head.split_whitespace().nth(1).unwrap_or("");
        if path.contains("/outbound-emails") {
            "SendEmail".into()
        } else {
            path.to_string()
        }
    }

    fn is_dynamodb(&self) -> bool {
        self.header("x-amz-target").is_some_and(|t| t.starts_with("DynamoDB"))
    }
}

pub(crate) async fn read_request(client: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Request> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-length")))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            let total = end + 4 + length;
            while buffer.len() < total {
                if !read_more(client, buffer).await {
                    return None;
                }
            }
            let body = buffer[end + 4..total].to_vec();
            buffer.drain(..total);
            return Some(Request { head, body });
        }
        if !read_more(client, buffer).await {
            return None;
        }
    }
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

/// Serves one client connection, request by request (the SDK keeps connections alive).
async fn serve(mut client: TcpStream, upstream: String, state: Arc<Mutex<State>>) {
    let mut buffer = Vec::new();
    while let Some(request) = read_request(&mut client, &mut buffer).await {
        let operation = request.operation();
        let fault = {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            s.requests += 1;
            if s.random.is_none() {
                s.seen.push(operation.clone());
                if request.is_dynamodb() {
                    s.accesses.extend(crate::iam::accesses(&operation, &request.body));
                }
            }
            let picked = s.pick(&operation, request.header("amz-sdk-invocation-id"));
            if let Some(fault) = picked {
                s.injected += 1;
                *s.by_fault.entry(fault.name()).or_default() += 1;
                *s.by_operation.entry(operation.clone()).or_default() += 1;
            }
            picked
        };
        let answer = match fault {
            None => forward(&request, &upstream).await,
            Some(Fault::Reset) => return reset(client),
            Some(Fault::Stall) => {
                // Held until the client gives up and closes, or the test ends.
                let mut sink = Vec::new();
                while read_more(&mut client, &mut sink).await {}
                return;
            }
            Some(Fault::AnswerLost) => {
                let _ = forward(&request, &upstream).await;
                return reset(client);
            }
            Some(fault) => Some(error_answer(&request, fault)),
        };
        let Some((bytes, keep_alive)) = answer else { return reset(client) };
        if client.write_all(&bytes).await.is_err() || !keep_alive {
            return;
        }
    }
}

fn reset(client: TcpStream) {
    // Linger 0: the close sends a RST, as a dropped connection on the network would.
    let _ = client.set_zero_linger();
    drop(client);
}

/// Sends the request on a connection of its own and returns the whole answer,
/// and whether the client's connection can carry another request.
pub(crate) async fn forward(request: &Request, upstream: &str) -> Option<(Vec<u8>, bool)> {
    let mut server = TcpStream::connect(upstream).await.ok()?;
    let mut head: Vec<&str> =
        request.head.lines().filter(|l| !l.to_ascii_lowercase().starts_with("connection:")).collect();
    head.push("Connection: close");
    let mut bytes = head.join("\r\n").into_bytes();
    bytes.extend_from_slice(b"\r\n\r\n");
    bytes.extend_from_slice(&request.body);
    server.write_all(&bytes).await.ok()?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).await.ok()?;
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let answer_head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    // An answer delimited by the close of the connection ends the client's connection too.
    let delimited = answer_head.contains("content-length:") || answer_head.contains("transfer-encoding: chunked");
    Some((answer, delimited))
}

fn error_answer(request: &Request, fault: Fault) -> (Vec<u8>, bool) {
    let (status, error_type, extra) = match (fault, request.is_dynamodb()) {
        (Fault::ServerError, true) => ("500 Internal Server Error", "InternalServerError", String::new()),
        (Fault::ServerError, false) => ("500 Internal Server Error", "InternalFailure", String::new()),
        (Fault::Throttle, true) => ("400 Bad Request", "ThrottlingException", String::new()),
        (Fault::Throttle, false) => ("429 Too Many Requests", "TooManyRequestsException", String::new()),
        (_, true) => {
            // One reason a part of the transaction, as DynamoDB lists them.
            let parts = serde_json::from_slice::<serde_json::Value>(&request.body)
                .ok()
                .and_then(|b| b.get("TransactItems").and_then(|t| t.as_array()).map(Vec::len))
                .unwrap_or(1);
            let reasons =
                vec![r#"{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}"#; parts];
            (
                "400 Bad Request",
                "TransactionCanceledException",
                format!(r#","CancellationReasons":[{}]"#, reasons.join(",")),
            )
        }
        (_, false) => ("500 Internal Server Error", "InternalFailure", String::new()),
    };
    let body = if request.is_dynamodb() {
        format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{error_type}","message":"injected by the fault proxy"{extra}}}"#
        )
    } else {
        r#"{"message":"injected by the fault proxy"}"#.to_string()
    };
    let content_type = if request.is_dynamodb() { "application/x-amz-json-1.0" } else { "application/json" };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nx-amzn-ErrorType: {error_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    ([head.into_bytes(), body.into_bytes()].concat(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(rate: f64, kinds: &[Fault]) -> State {
        let faults = RandomFaults { rate, kinds: kinds.to_vec(), seed: 7, persist: 0.0 };
        State { random: Some((faults, Draws(7))), ..State::default() }
    }

    #[test]
    fn a_rate_faults_about_that_share_of_requests() {
        let mut state = random(0.02, &Fault::ALL);
        let faulted = (0..100_000).filter(|_| state.pick("GetItem", None).is_some()).count();
        assert!((1_700..=2_300).contains(&faulted), "{faulted} of 100000 faulted at 2%");
        let mut none = random(0.0, &Fault::ALL);
        assert!((0..10_000).all(|_| none.pick("GetItem", None).is_none()));
        let mut all = random(1.0, &[Fault::Throttle]);
        assert!((0..1_000).all(|_| all.pick("SendEmail", None) == Some(Fault::Throttle)));
    }

    #[test]
    fn only_a_transaction_is_cancelled_for_a_conflict() {
        let mut state = random(1.0, &Fault::ALL);
        let picked: Vec<Fault> = (0..5_000).filter_map(|_| state.pick("UpdateItem", None)).collect();
        assert_eq!(picked.len(), 5_000);
        assert!(!picked.contains(&Fault::Conflict));
        for fault in Fault::ALL.into_iter().filter(|f| *f != Fault::Conflict) {
            assert!(picked.contains(&fault), "{fault:?} never drawn");
        }
        let mut conflicts_only = random(1.0, &[Fault::Conflict]);
        assert_eq!(conflicts_only.pick("PutItem", None), None);
        assert_eq!(conflicts_only.pick("TransactWriteItems", None), Some(Fault::Conflict));
    }

    #[test]
    fn a_persisting_fault_hits_every_retry_of_its_operation_and_no_other() {
        let mut state = random(0.5, &[Fault::Throttle, Fault::ServerError]);
        state.random.as_mut().unwrap().0.persist = 1.0;
        let first = (0..100).find_map(|i| state.pick("GetItem", Some(&format!("op-{i}"))).map(|f| (i, f)));
        let (i, fault) = first.expect("a fault in 100 draws at 50%");
        for _ in 0..5 {
            assert_eq!(state.pick("GetItem", Some(&format!("op-{i}"))), Some(fault), "every retry is faulted alike");
        }
        let mut once = random(1.0, &[Fault::Throttle]);
        assert_eq!(once.pick("GetItem", Some("op-a")), Some(Fault::Throttle));
        once.random.as_mut().unwrap().0.rate = 0.0;
        assert_eq!(once.pick("GetItem", Some("op-a")), None, "without persist a retry is drawn again");
    }

    #[test]
    fn every_fault_has_a_name_it_is_found_by() {
        for fault in Fault::ALL {
            assert_eq!(Fault::named(fault.name()), Some(fault));
        }
        assert_eq!(Fault::named("meteor"), None);
    }
}
