//! A test stack: a fresh table in DynamoDB Local, an [`App`] over it with the
//! real SDK clients, and the functions' own handlers called in-process with
//! API Gateway HTTP API events, as Lambda would call them.

pub use crate::event::Function;
use crate::fixtures::Fixtures;
use crate::localstack::{self, Mail, Stream};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};
use shared::config::Config;
use shared::App;
use std::collections::HashMap;
use std::sync::Arc;

pub type Item = HashMap<String, AttributeValue>;

pub const SENDER: &str = "no-reply@example.com";
pub const SECRET: &str = "test-only-secret-0123456789abcdef0123456789";

/// A function's answer, as the client sees it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Value,
}

impl Reply {
    /// The problem's `code` member, or "" for a success.
    pub fn code(&self) -> &str {
        self.body.get("code").and_then(Value::as_str).unwrap_or("")
    }

    pub fn str(&self, member: &str) -> &str {
        self.body.get(member).and_then(Value::as_str).unwrap_or("")
    }

    #[track_caller]
    pub fn expect(&self, status: u16, code: &str) -> &Self {
        assert_eq!((self.status, self.code()), (status, code), "unexpected answer: {}", self.body);
        if status >= 400 {
            assert_eq!(self.headers.get("content-type").map(String::as_str), Some("application/problem+json"));
            assert_eq!(self.body["status"], json!(status));
            assert!(self.body["title"].is_string() && self.body["detail"].is_string(), "{}", self.body);
        }
        self
    }
}

pub struct TestStack {
    pub app: Arc<App>,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub table: String,
    /// The S3 requests of the stack's functions (the export bucket), for the IAM audit.
    pub s3: crate::iam::S3Log,
    suffix: String,
    /// Fails the test if the journey ends without auditing the table (tests/src/audit.rs).
    pub(crate) audited: crate::audit::AuditDue,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom_fill(&mut buf);
    shared::crypto::hex(&buf)
}

fn getrandom_fill(buf: &mut [u8]) {
    for chunk in buf.chunks_mut(16) {
        let bytes = shared::crypto::random_bytes::<16>().expect("random source");
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

impl TestStack {
    pub async fn start() -> Self {
        Self::with(|_| {}).await
    }

    /// A stack whose table has the template's stream, for tests of what the stream carries.
    pub async fn with_stream() -> Self {
        Self::build(Stream::AsTemplate, |_| {}).await
    }

    /// A stack with the template's stream whose configuration the test adjusts.
    pub async fn with_stream_and(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::build(Stream::AsTemplate, adjust).await
    }

    /// A stack whose configuration the test adjusts (limits, grace period, mobile clients).
    pub async fn with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::build(Stream::Off, adjust).await
    }

    async fn build(stream: Stream, adjust: impl FnOnce(&mut Config)) -> Self {
        let sdk = localstack::sdk_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let table = format!("journeys-{}", random_hex(6));
        localstack::create_table(&dynamo, &table, stream)
            .await
            .expect("DynamoDB Local must be running (scripts/test starts it)");
        localstack::verify_sender(&aws_sdk_sesv2::Client::new(&sdk), SENDER).await.expect("verify sender");
        let env = HashMap::from([
            ("TABLE_NAME", table.clone()),
            ("SENDER_EMAIL", SENDER.to_string()),
            ("CODE_SECRET", SECRET.to_string()),
            ("EXPORT_BUCKET", localstack::EXPORT_BUCKET.to_string()),
        ]);
        localstack::create_export_bucket(&aws_sdk_s3::Client::from_conf(localstack::s3_config(&sdk)))
            .await
            .expect("moto must be running (scripts/test starts it)");
        let mut config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config");
        adjust(&mut config);
        let audited = crate::audit::AuditDue::new(&table);
        let s3 = crate::iam::S3Log::default();
        let mut app = App::new(config, &sdk);
        app.exports = recorded_bucket(&s3, &sdk);
        Self { app: Arc::new(app), dynamo, table, s3, suffix: random_hex(4), audited }
    }

    /// A stack whose functions reach DynamoDB and SES through the given
    /// endpoints (fault proxies in front of the real services), with attempt
    /// timeouts short enough that a stalled request fails within a test.
    pub async fn through(dynamodb: &str, ses: &str) -> Self {
        Self::through_with(dynamodb, ses, |_| {}).await
    }

    /// As [`TestStack::through`], with the configuration the test adjusts.
    pub async fn through_with(dynamodb: &str, ses: &str, adjust: impl FnOnce(&mut Config)) -> Self {
        let stack = Self::with(adjust).await;
        let sdk = localstack::sdk_config().await;
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(1))
            .operation_attempt_timeout(std::time::Duration::from_millis(1500))
            .build();
        let dynamo =
            aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(dynamodb).timeout_config(timeouts.clone());
        let mail = aws_sdk_sesv2::config::Builder::from(&sdk).endpoint_url(ses).timeout_config(timeouts);
        let mut app = App::new(stack.app.config.clone(), &sdk);
        app.store = shared::store::Store::new(aws_sdk_dynamodb::Client::from_conf(dynamo.build()), stack.table.clone());
        app.mailer = shared::mail::Mailer::new(aws_sdk_sesv2::Client::from_conf(mail.build()), SENDER);
        app.exports = recorded_bucket(&stack.s3, &sdk);
        Self { app: Arc::new(app), ..stack }
    }

    /// A stack whose app reads the code secret from Secrets Manager (`secret_id` in moto), as on AWS.
    pub async fn reading_secret(secret_id: &str, settings: &[(&str, &str)]) -> Self {
        let stack = Self::start().await;
        let app = stack.app_reading_secret(secret_id, settings).await;
        Self { app: Arc::new(app), ..stack }
    }

    /// Another instance of the functions on this table, reading the code secret from Secrets Manager.
    pub async fn app_reading_secret(&self, secret_id: &str, settings: &[(&str, &str)]) -> App {
        let sdk = localstack::sdk_config().await;
        let mut env: HashMap<String, String> = settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.insert("TABLE_NAME".into(), self.table.clone());
        env.insert("SENDER_EMAIL".into(), SENDER.into());
        let app = App::with_secret_id(Config::resolved, |k: &str| env.get(k).cloned(), &sdk, secret_id)
            .await
            .expect("the secret is in moto");
        app.clock.advance(self.offset());
        app
    }

    /// Calls a function of `app` (another instance on this stack's table) with a JWT issued just now.
    pub async fn invoke_on(&self, app: &App, function: Function, sub: &str, body: Value) -> Reply {
        let now = app.clock.now().to_string();
        let body = (!body.is_null()).then(|| body.to_string());
        call(app, function, function.event(Some(sub), Some("web-console"), Some(&now), body.as_deref())).await
    }

    /// A name unique to this test run, so tests sharing moto's mailbox never see each other's mail.
    pub fn id(&self, base: &str) -> String {
        format!("{base}-{}", self.suffix)
    }

    pub fn email(&self, base: &str) -> String {
        format!("{}@example.com", self.id(base))
    }

    /// Loads fixtures written with `{id}` placeholders standing for this run's suffix.
    pub async fn seed(&self, fixtures: Value) {
        let text = fixtures.to_string().replace("{id}", &self.suffix);
        Fixtures::parse(&text).expect("fixtures parse").load(&self.app).await.expect("fixtures load");
    }

    /// Calls a function with a JWT issued just now (by the stack's clock).
    pub async fn invoke(&self, function: Function, sub: Option<&str>, client_id: &str, body: Option<&str>) -> Reply {
        let now = self.app.clock.now().to_string();
        self.invoke_signed(function, sub, client_id, Some(&now), body).await
    }

    /// Calls a function with a JWT issued at `iat` (`None`: a JWT without the claim).
    pub async fn invoke_signed(
        &self,
        function: Function,
        sub: Option<&str>,
        client_id: &str,
        iat: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        call(&self.app, function, function.event(sub, Some(client_id), iat, body)).await
    }

    /// The same stack with another app over its table (other clients, e.g. through a fault proxy).
    pub fn with_app(self, app: App) -> Self {
        Self { app: Arc::new(app), ..self }
    }

    /// A person whose account id is known already (a pool user's `sub`).
    pub fn user_by_id(&self, id: &str, email: &str) -> User<'_> {
        User {
            stack: self,
            id: id.to_string(),
            email: email.to_string(),
            client_id: "web-console".into(),
            signed_in: SignIn::JustNow,
            language: None,
        }
    }

    /// A user of this stack, by the base of their id (see [`TestStack::id`]).
    pub fn user(&self, base: &str) -> User<'_> {
        User {
            stack: self,
            id: self.id(base),
            email: self.email(base),
            client_id: "web-console".into(),
            signed_in: SignIn::JustNow,
            language: None,
        }
    }

    /// Every mail moto accepted for `address`, oldest first.
    pub async fn mails_to(&self, address: &str) -> Vec<Mail> {
        localstack::mails()
            .await
            .expect("moto mail")
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == address))
            .collect()
    }

    pub async fn item(&self, pk: &str, sk: &str) -> Option<Item> {
        self.dynamo
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }

    /// Every item of the table (a test may scan; the functions never do).
    pub async fn all_items(&self) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out =
                self.dynamo.scan().table_name(&self.table).set_exclusive_start_key(start).send().await.expect("scan");
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }

    /// The keys of every item whose pk starts with `prefix`, sorted.
    pub async fn keys_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        let mut keys: Vec<(String, String)> = self
            .all_items()
            .await
            .iter()
            .filter_map(|i| Some((i.get("pk")?.as_s().ok()?.clone(), i.get("sk")?.as_s().ok()?.clone())))
            .filter(|(pk, _)| pk.starts_with(prefix))
            .collect();
        keys.sort();
        keys
    }

    /// Writes `count` data items under an account, as other services' data would be.
    pub async fn attach_items(&self, account: &str, count: usize) {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let requests: Vec<WriteRequest> = (0..count)
            .map(|i| {
                let item = HashMap::from([
                    ("pk".to_string(), AttributeValue::S(format!("ACCOUNT#{account}"))),
                    ("sk".to_string(), AttributeValue::S(format!("DATA#{i:06}"))),
                    ("payload".to_string(), AttributeValue::S("x".repeat(64))),
                ]);
                WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item)).build().expect("put"))
                    .build()
            })
            .collect();
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            while !pending.is_empty() {
                let out = self
                    .dynamo
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .expect("batch write");
                pending = out.unprocessed_items.and_then(|mut m| m.remove(&self.table)).unwrap_or_default();
            }
        }
    }
}

/// The journeys' export bucket, through a client whose requests `log` records.
fn recorded_bucket(log: &crate::iam::S3Log, sdk: &aws_config::SdkConfig) -> shared::bucket::ExportBucket {
    shared::bucket::ExportBucket::new(log.client(sdk), localstack::EXPORT_BUCKET)
}

/// Calls `function` of `app` with `event`, as Lambda would, and reads the answer as the client does.
pub async fn call(app: &App, function: Function, event: Value) -> Reply {
    let request = shared::lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event");
    let response = match function {
        Function::SendCode => send_code::handle(app, request).await,
        Function::VerifyCode => verify_code::handle(app, request).await,
        Function::CheckPrerequisites => check_prerequisites::handle(app, request).await,
        Function::DismissEnterprise => dismiss_enterprise::handle(app, request).await,
        Function::DeleteAccount => delete_account::handle(app, request).await,
        Function::HandoverAccount | Function::ConfirmHandover => handover_account::handle(app, request).await,
        Function::CancelDeletion => cancel_deletion::handle(app, request).await,
        Function::ExportData | Function::ExportStatus => export_data::handle(app, request).await,
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = match response.body() {
        shared::lambda_http::Body::Text(t) => serde_json::from_str(t).expect("every answer is JSON"),
        shared::lambda_http::Body::Binary(b) => serde_json::from_slice(b).expect("every answer is JSON"),
        _ => Value::Null,
    };
    Reply { status, headers, body }
}

/// A person using the platform, with the requests the journeys make.
pub struct User<'a> {
    pub stack: &'a TestStack,
    pub id: String,
    pub email: String,
    pub client_id: String,
    pub signed_in: SignIn,
    /// The request's `Accept-Language`, if any.
    pub language: Option<String>,
}

/// When the user's JWT was issued (its `iat` claim) and the person signed in (`auth_time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// Issued at the moment of each request, by the stack's clock.
    JustNow,
    At(i64),
    /// A token refreshed at each request from a sign-in at this time: `iat` now, `auth_time` then.
    RefreshedFrom(i64),
    /// A JWT without `iat`.
    Unknown,
    /// The two claims exactly as written, e.g. malformed.
    Claims {
        iat: Option<&'static str>,
        auth_time: Option<&'static str>,
    },
}

impl User<'_> {
    /// The same person, on a session signed in at `unix_seconds` (e.g. before a handover).
    pub fn signed_in_at(mut self, unix_seconds: i64) -> Self {
        self.signed_in = SignIn::At(unix_seconds);
        self
    }

    /// The same person, on a token refreshed now from a sign-in at `unix_seconds` (`auth_time`).
    pub fn refreshed_from(mut self, unix_seconds: i64) -> Self {
        self.signed_in = SignIn::RefreshedFrom(unix_seconds);
        self
    }

    /// The same person, with a JWT whose `iat` and `auth_time` claims read exactly so.
    pub fn with_time_claims(mut self, iat: Option<&'static str>, auth_time: Option<&'static str>) -> Self {
        self.signed_in = SignIn::Claims { iat, auth_time };
        self
    }

    /// The same person, with a JWT that carries no `iat` claim.
    pub fn without_iat(mut self) -> Self {
        self.signed_in = SignIn::Unknown;
        self
    }

    /// The same person, signed in through another OAuth client (e.g. the mobile app).
    pub fn on_client(mut self, client_id: &str) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// The same person, with a browser that asks for `accept_language`.
    pub fn asking_in(mut self, accept_language: &str) -> Self {
        self.language = Some(accept_language.into());
        self
    }

    pub async fn call(&self, function: Function, body: Value) -> Reply {
        self.request(function, body, &[]).await
    }

    /// A bodiless request on a route with path parameters.
    pub async fn call_with_path(&self, function: Function, parameters: &[(&str, &str)]) -> Reply {
        self.request(function, Value::Null, parameters).await
    }

    async fn request(&self, function: Function, body: Value, parameters: &[(&str, &str)]) -> Reply {
        let body = (!body.is_null()).then(|| body.to_string());
        let now = self.stack.app.clock.now().to_string();
        let (iat, auth_time) = match self.signed_in {
            SignIn::JustNow => (Some(now), None),
            SignIn::At(at) => (Some(at.to_string()), None),
            SignIn::RefreshedFrom(at) => (Some(now), Some(at.to_string())),
            SignIn::Unknown => (None, None),
            SignIn::Claims { iat, auth_time } => (iat.map(String::from), auth_time.map(String::from)),
        };
        let mut event = function.event(Some(&self.id), Some(&self.client_id), iat.as_deref(), body.as_deref());
        if let Some(auth_time) = auth_time {
            event["requestContext"]["authorizer"]["jwt"]["claims"]["auth_time"] = json!(auth_time);
        }
        if let Some(language) = &self.language {
            event["headers"]["accept-language"] = json!(language);
        }
        let event = Function::with_path_parameters(event, parameters);
        call(&self.stack.app, function, event).await
    }

    pub async fn send_code(&self, purpose: &str) -> Reply {
        self.call(Function::SendCode, json!({"purpose": purpose})).await
    }

    pub async fn verify(&self, purpose: &str, code: &str) -> Reply {
        self.call(Function::VerifyCode, json!({"purpose": purpose, "code": code})).await
    }

    pub async fn check(&self) -> Reply {
        self.call(Function::CheckPrerequisites, Value::Null).await
    }

    pub async fn cancel_deletion(&self, token: &str) -> Reply {
        self.call(Function::CancelDeletion, json!({"verification_token": token})).await
    }

    pub async fn dismiss(&self, token: &str) -> Reply {
        self.call(Function::DismissEnterprise, json!({"verification_token": token})).await
    }

    /// Asks for a copy of the account's data.
    pub async fn export(&self, token: &str) -> Reply {
        self.call(Function::ExportData, json!({"verification_token": token})).await
    }

    /// Where the export `export_id` stands.
    pub async fn export_status(&self, export_id: &str) -> Reply {
        self.call_with_path(Function::ExportStatus, &[("export_id", export_id)]).await
    }

    pub async fn delete(&self, token: &str) -> Reply {
        self.call(Function::DeleteAccount, json!({"verification_token": token})).await
    }

    /// Starts handing over an account: `body` as the route takes it.
    pub async fn hand_over(&self, body: Value) -> Reply {
        self.call(Function::HandoverAccount, body).await
    }

    /// Confirms a pending handover of `account` (`None`: the user's own) with `code`.
    pub async fn confirm_handover(&self, account: Option<&str>, code: &str) -> Reply {
        let body = match account {
            Some(a) => json!({"code": code, "account_id": a}),
            None => json!({"code": code}),
        };
        self.call(Function::ConfirmHandover, body).await
    }

    pub async fn mails(&self) -> Vec<Mail> {
        self.stack.mails_to(&self.email).await
    }

    /// The code in the newest mail to this user.
    pub async fn code_from_mail(&self) -> String {
        let mails = self.mails().await;
        let body = &mails.last().expect("a code mail").body;
        code_in(body).expect("a 6-digit code in the mail")
    }

    /// Send, read the mail, verify: the token the journeys start from.
    pub async fn token_for(&self, purpose: &str) -> String {
        self.send_code(purpose).await.expect(202, "");
        let code = self.code_from_mail().await;
        let reply = self.verify(purpose, &code).await;
        reply.expect(200, "");
        reply.str("verification_token").to_string()
    }
}

/// The six digits after "code is" (or "验证码是") in a mail body.
pub fn code_in(body: &str) -> Option<String> {
    let at = ["code is ", "验证码是 "].iter().find_map(|m| body.find(m).map(|at| at + m.len()))?;
    let digits: String = body[at..].chars().take(6).collect();
    (digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

impl TestStack {
    /// A second app on the same table with other settings (another sender, other limits).
    pub async fn app_with(&self, adjust: impl FnOnce(&mut Config)) -> App {
        let sdk = localstack::sdk_config().await;
        let mut config = self.app.config.clone();
        adjust(&mut config);
        let app = App::new(config, &sdk);
        app.clock.advance(self.offset());
        app
    }

    fn offset(&self) -> i64 {
        self.app.clock.now() - shared::clock::Clock::default().now()
    }

    /// Every item of the table, rendered so two snapshots compare: "nothing changed".
    pub async fn snapshot(&self) -> Vec<String> {
        let mut items: Vec<String> = self.all_items().await.iter().map(canonical).collect();
        items.sort();
        items
    }

    pub async fn profile(&self, account: &str) -> Option<Item> {
        self.item(&format!("ACCOUNT#{account}"), "PROFILE").await
    }
}

/// An item as text with its attributes (and those of nested maps) in key order.
fn canonical(item: &Item) -> String {
    fn value(v: &AttributeValue) -> String {
        match v {
            AttributeValue::M(m) => format!("{{{}}}", canonical(m)),
            AttributeValue::L(l) => format!("[{}]", l.iter().map(value).collect::<Vec<_>>().join(",")),
            other => format!("{other:?}"),
        }
    }
    let mut pairs: Vec<String> = item.iter().map(|(k, v)| format!("{k}={}", value(v))).collect();
    pairs.sort();
    pairs.join(",")
}

/// A number attribute of an item, or of a map inside it (`"code_delete_account.attempts_left"`).
pub fn number(item: &Item, path: &str) -> Option<i64> {
    let mut parts = path.split('.');
    let first = item.get(parts.next()?)?;
    let value = parts.try_fold(first, |v, p| v.as_m().ok()?.get(p))?;
    value.as_n().ok()?.parse().ok()
}
