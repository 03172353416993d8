//! An [`App`] whose SDK clients carry the bench's interceptors: every DynamoDB
//! and SES request is counted by operation as it goes on the wire (retries
//! included), the items DynamoDB read for each Query or Scan are added up, and
//! the text of each mail is kept so the bench can read the codes it sends.

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use shared::config::Config;
use shared::App;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// What the interceptors saw since the last [`Recorder::take`].
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// Requests by service and operation, e.g. `dynamodb:PutItem`, `sesv2:SendEmail`.
    pub requests: BTreeMap<String, u64>,
    /// Items DynamoDB read to answer Query and Scan requests (`ScannedCount`).
    pub items_scanned: u64,
    /// Items GetItem and BatchGetItem returned.
    pub items_fetched: u64,
    /// Time on the wire by service and operation, in ms (requests are sequential here).
    pub wire_ms: BTreeMap<String, f64>,
}

impl Seen {
    /// Items read: scanned by Query and Scan, fetched by GetItem and BatchGetItem.
    pub fn items_read(&self) -> u64 {
        self.items_scanned + self.items_fetched
    }

    pub fn count(&self, service: &str) -> u64 {
        self.requests.iter().filter(|(k, _)| k.starts_with(&format!("{service}:"))).map(|(_, v)| v).sum()
    }

    /// `PutItem 1, SendEmail 1`.
    pub fn describe(&self) -> String {
        self.requests
            .iter()
            .map(|(k, v)| format!("{} {v}", k.split_once(':').map_or(k.as_str(), |x| x.1)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Default)]
struct Log {
    seen: Seen,
    in_flight: Option<(String, std::time::Instant)>,
    /// (recipient, text part) of every SendEmail, oldest first.
    mails: Vec<(String, String)>,
}

#[derive(Debug, Default, Clone)]
pub struct Recorder(Arc<Mutex<Log>>);

impl Recorder {
    fn lock(&self) -> MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn landed(&self) {
        let mut log = self.lock();
        if let Some((op, at)) = log.in_flight.take() {
            *log.seen.wire_ms.entry(op).or_default() += at.elapsed().as_secs_f64() * 1000.0;
        }
    }

    /// Returns what was seen and starts counting again from zero.
    pub fn take(&self) -> Seen {
        std::mem::take(&mut self.lock().seen)
    }

    /// The code in the newest mail to `address`, and forgets the mails.
    pub fn code_for(&self, address: &str) -> Option<String> {
        let mut log = self.lock();
        let code =
            log.mails.iter().rev().find(|(to, _)| to == address).and_then(|(_, text)| journeys::harness::code_in(text));
        log.mails.clear();
        code
    }
}

#[derive(Debug)]
struct DynamoDb(Recorder);

impl Intercept for DynamoDb {
    fn name(&self) -> &'static str {
        "bench-dynamodb-counter"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The JSON protocol names the operation in X-Amz-Target: `DynamoDB_20120810.PutItem`.
        let target = ctx.request().headers().get("x-amz-target").unwrap_or("unknown");
        let op = format!("dynamodb:{}", target.rsplit('.').next().unwrap_or(target));
        let mut log = self.0.lock();
        *log.seen.requests.entry(op.clone()).or_default() += 1;
        log.in_flight = Some((op, std::time::Instant::now()));
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _: &aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.landed();
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        ctx: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::{
            batch_get_item::BatchGetItemOutput, get_item::GetItemOutput, query::QueryOutput, scan::ScanOutput,
        };
        let Ok(output) = ctx.output_or_error() else { return Ok(()) };
        let (scanned, fetched) = if let Some(q) = output.downcast_ref::<QueryOutput>() {
            (q.scanned_count as u64, 0)
        } else if let Some(s) = output.downcast_ref::<ScanOutput>() {
            (s.scanned_count as u64, 0)
        } else if let Some(g) = output.downcast_ref::<GetItemOutput>() {
            (0, g.item.is_some() as u64)
        } else if let Some(b) = output.downcast_ref::<BatchGetItemOutput>() {
            (0, b.responses.as_ref().map_or(0, |r| r.values().map(|v| v.len() as u64).sum()))
        } else {
            (0, 0)
        };
        let mut log = self.0.lock();
        log.seen.items_scanned += scanned;
        log.seen.items_fetched += fetched;
        Ok(())
    }
}

#[derive(Debug)]
struct Ses(Recorder);

impl Intercept for Ses {
    fn name(&self) -> &'static str {
        "bench-ses-counter"
    }

    fn read_before_transmit(
        &self,
        ctx: &aws_sdk_sesv2::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_sesv2::config::RuntimeComponents,
        _: &mut aws_sdk_sesv2::config::ConfigBag,
    ) -> Result<(), aws_sdk_sesv2::error::BoxError> {
        // SES v2 is REST: the operation is in the path.
        let request = ctx.request();
        let path = request.uri().split('?').next().unwrap_or_default();
        let op = if path.ends_with("/v2/email/outbound-emails") {
            "SendEmail"
        } else if path.contains("/v2/email/identities") {
            "EmailIdentity"
        } else {
            "other"
        };
        let mut log = self.0.lock();
        *log.seen.requests.entry(format!("sesv2:{op}")).or_default() += 1;
        log.in_flight = Some((format!("sesv2:{op}"), std::time::Instant::now()));
        if op == "SendEmail" {
            if let Some(mail) = request.body().bytes().and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
            {
                let to =
                    mail.pointer("/Destination/ToAddresses/0").and_then(|v| v.as_str()).unwrap_or_default().to_string();
                let text = mail
                    .pointer("/Content/Simple/Body/Text/Data")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string();
                log.mails.push((to, text));
            }
        }
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _: &aws_sdk_sesv2::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _: &aws_sdk_sesv2::config::RuntimeComponents,
        _: &mut aws_sdk_sesv2::config::ConfigBag,
    ) -> Result<(), aws_sdk_sesv2::error::BoxError> {
        self.0.landed();
        Ok(())
    }
}

/// The bench's settings for a function: the defaults of docs/api.md#configuration, except a
/// resend cooldown of 0 and a daily limit no run reaches, so one account can
/// take a thousand codes in a row.
pub fn settings(table: &str) -> Vec<(String, String)> {
    let pool = USER_POOL.get().map(|id| [("IDENTITY_PROVIDER", "cognito"), ("USER_POOL_ID", id.as_str())]);
    [
        ("TABLE_NAME", table),
        ("SENDER_EMAIL", SENDER),
        ("CODE_SECRET", SECRET),
        ("RESEND_COOLDOWN_SECONDS", "0"),
        ("DAILY_CODE_LIMIT", "100000000"),
        ("EXPORT_BUCKET", EXPORT_BUCKET),
    ]
    .iter()
    .chain(pool.iter().flatten())
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// With `BENCH_IDENTITY_PROVIDER=cognito`: the user pool (in the bench's moto) the functions keep in step.
static USER_POOL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// From now on the functions run with `IDENTITY_PROVIDER=cognito` and this pool.
pub fn use_user_pool(id: String) {
    let _ = USER_POOL.set(id);
}

pub const SENDER: &str = "no-reply@example.com";
pub const SECRET: &str = "bench-only-secret-0123456789abcdef0123456789";
/// The bench's export bucket (crate::export_cost creates it in moto).
pub const EXPORT_BUCKET: &str = "bench-exports";

/// An app over `table` with counting clients, configured as the functions are.
pub fn app(sdk: &aws_config::SdkConfig, table: &str, recorder: &Recorder) -> App {
    let env: std::collections::HashMap<String, String> = settings(table).into_iter().collect();
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("the bench's settings are valid");
    let dynamo = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(sdk).interceptor(DynamoDb(recorder.clone())).build(),
    );
    let ses = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(sdk).interceptor(Ses(recorder.clone())).build(),
    );
    App {
        secrets: shared::secrets::SecretRing::from_config(config.code_secrets.as_ref()),
        store: shared::store::Store::new(dynamo, config.table_name.clone()),
        mailer: shared::mail::Mailer::new(ses, config.sender_email.clone()),
        exports: shared::bucket::ExportBucket::new(journeys::localstack::s3_client(sdk), EXPORT_BUCKET),
        // The bench runs without a user pool, as the functions do by default.
        pool: shared::identity::UserPool::none(),
        config,
        clock: shared::clock::Clock::default(),
        failpoints: shared::failpoints::FailPoints::default(),
        metrics: shared::metrics::Metrics::default(),
    }
}
