//! Each function's main path, as events the bench hands to the release binary
//! (or to the function's handler in-process, for the round-trip counts). The
//! state an event needs (an account, a code, a token, something due) is made
//! beforehand by the bench's own [`App`] on the function's table, untimed.

use crate::probe::{self, Recorder};
use journeys::event::{self, Function};
use serde_json::{json, Value};
use shared::model::account::{NewAccount, Role};
use shared::model::ids::{AccountId, EmailAddress, PhoneNumber, Username};
use shared::model::purpose::Purpose;
use shared::App;
use std::sync::atomic::{AtomicU64, Ordering};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The functions the bench has a main path for, in the order the table lists
/// them when `--functions` is not given (scripts/bench passes the list of
/// scripts/lib/common.sh; a function not named here is timed on any answer).
pub const FUNCTIONS: [&str; 7] = [
    "send-code",
    "verify-code",
    "check-prerequisites",
    "dismiss-enterprise",
    "delete-account",
    "handover-account",
    "cleanup",
];

/// `function` as the bench's scenarios name it, if it has a main path here.
pub fn main_path_of(function: &str) -> Option<&'static str> {
    FUNCTIONS.iter().copied().find(|f| *f == function)
}

/// What the main path is, in words, for the report.
pub fn main_path(function: &str) -> &'static str {
    match function {
        "send-code" => "202: a code mailed to an account (its first of the day)",
        "verify-code" => "200: the right code traded for a token",
        "check-prerequisites" => "200: an individual account with no blockers",
        "dismiss-enterprise" => "200: an enterprise of a default admin and two members dismissed",
        "delete-account" => "200: an individual account (username, email, phone) deleted at once",
        "handover-account" => "202: a handover started (a confirmation code mailed to the new email)",
        "cleanup" => "a run with one expired token due, which it removes",
        _ => "",
    }
}

/// An API Gateway HTTP API event for `function`'s first route, from `sub` on
/// the web console; the hello world, which answers any route, gets `POST /`.
pub fn http_event(function: &str, sub: &str, body: Option<&Value>) -> Value {
    let (method, path) = Function::named(function).map_or(("POST", "/"), Function::route);
    let body = body.map(Value::to_string);
    let iat = shared::clock::Clock::default().now().to_string();
    event::http(method, path, Some(sub), Some("web-console"), Some(&iat), body.as_deref())
}

/// One event of a function's main path and what its answer must be.
pub struct Prepared {
    pub event: Value,
    /// The HTTP status the main path answers; `None` for the schedule (any success).
    pub status: Option<u16>,
}

/// The status of a function's answer: the `statusCode` of an API Gateway
/// response; for a scheduled run 200 when it removed what was due, 204 when
/// it removed nothing; 0 for an error.
pub fn answer_status(ok: bool, body: &[u8], http: bool) -> u16 {
    let Some(answer) = serde_json::from_slice::<Value>(body).ok().filter(|_| ok) else {
        return 0;
    };
    if !http {
        let removed = answer.get("tokens_removed").and_then(Value::as_u64).unwrap_or(0);
        return if removed > 0 { 200 } else { 204 };
    }
    answer.get("statusCode").and_then(Value::as_u64).map_or(0, |s| s as u16)
}

/// A function's table, with the bench's own app over it.
pub struct Bed {
    pub function: &'static str,
    pub table: String,
    pub app: App,
    pub recorder: Recorder,
    counter: AtomicU64,
}

/// The account the main paths of send-code, verify-code and check-prerequisites use.
const STEADY: &str = "steady";

impl Bed {
    pub async fn new(sdk: &aws_config::SdkConfig, function: &'static str, table: String) -> Result<Self, Error> {
        let recorder = Recorder::default();
        let app = probe::app(sdk, &table, &recorder);
        let bed = Self { function, table, app, recorder, counter: AtomicU64::new(0) };
        journeys::localstack::create_table(bed.app.store.client(), &bed.table, journeys::localstack::Stream::Off)
            .await?;
        Ok(bed)
    }

    /// Drops the table and makes it again from the template, so every event finds
    /// the same state (`STEADY` registered anew: no cooldown or daily limit of an earlier event).
    pub async fn fresh_table(&self) -> Result<(), Error> {
        let client = self.app.store.client();
        let _ = client.delete_table().table_name(&self.table).send().await;
        journeys::localstack::create_table(client, &self.table, journeys::localstack::Stream::Off).await?;
        Ok(())
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers an account with a username, an email and a phone, as sign-up would.
    async fn register(&self, id: &str, role: Role, enterprise: Option<&str>) -> Result<AccountId, Error> {
        let n = self.next();
        let account = NewAccount {
            id: AccountId::parse(id).ok_or("account id")?,
            username: Some(Username::parse(id)?),
            email: Some(EmailAddress::parse(&format!("{id}@example.com"))?),
            phone: Some(PhoneNumber::parse(&format!("+86{:011}", 13_900_000_000u64 + n))?),
            name: None,
            enterprise_id: enterprise.map(String::from),
            role,
            locale: Default::default(),
        };
        self.app.register_account(&account).await?;
        Ok(account.id)
    }

    /// A new account, `base-N`.
    pub async fn account(&self, base: &str, role: Role, enterprise: Option<&str>) -> Result<AccountId, Error> {
        let id = format!("{base}-{}", self.next());
        self.register(&id, role, enterprise).await
    }

    /// Sends a code in-process and reads it back from the mail the SDK sent.
    pub async fn code(&self, account: &AccountId, purpose: Purpose) -> Result<String, Error> {
        self.app
            .send_code(&shared::caller::Caller::new(account.clone()), purpose)
            .await
            .map_err(|e| format!("send_code: {e}"))?;
        self.recorder.code_for(&format!("{account}@example.com")).ok_or_else(|| "no code in the mail".into())
    }

    /// Send and verify in-process: a token the function can spend.
    pub async fn token(&self, account: &AccountId, purpose: Purpose) -> Result<String, Error> {
        let code = self.code(account, purpose).await?;
        let code = shared::codes::VerificationCode::parse(&code)?;
        let token = self
            .app
            .verify_code(&shared::caller::Caller::new(account.clone()), purpose, &code)
            .await
            .map_err(|e| format!("verify_code: {e}"))?;
        Ok(token.verification_token)
    }

    /// An enterprise of a default admin and two members; returns the admin.
    pub async fn enterprise(&self) -> Result<AccountId, Error> {
        let ent = format!("ent-{}", self.next());
        let admin = format!("{ent}-admin");
        self.app
            .register_enterprise(&ent, &format!("Enterprise {ent}"), Some(&AccountId::parse(&admin).ok_or("admin id")?))
            .await?;
        let admin = self.register(&admin, Role::DefaultAdmin, Some(&ent)).await?;
        for _ in 0..2 {
            self.account(&format!("{ent}-member"), Role::Member, Some(&ent)).await?;
        }
        Ok(admin)
    }

    /// An expired verification token, as `redeem_code` writes one, due in the cleanup index.
    pub async fn expired_token(&self) -> Result<(), Error> {
        use aws_sdk_dynamodb::types::AttributeValue::{N, S};
        let n = self.next();
        let past = (self.app.clock.now() - 60).to_string();
        self.app
            .store
            .client()
            .put_item()
            .table_name(&self.table)
            .item("pk", S(format!("TOKEN#expired-{n:08}")))
            .item("sk", S("TOKEN".into()))
            .item("account_id", S(format!("gone-{n}")))
            .item("purpose", S("delete_account".into()))
            .item("expires_at", N(past.clone()))
            .item("ttl", N(past.clone()))
            .item("due_bucket", S("token".into()))
            .item("due_at", N(past.clone()))
            .send()
            .await?;
        // The due index is a global secondary index, updated after the write returns (on AWS and in
        // DynamoDB Local alike): wait until it lists the token, so the run has one entry due.
        for _ in 0..200 {
            let listed = self
                .app
                .store
                .client()
                .query()
                .table_name(&self.table)
                .index_name("due")
                .key_condition_expression("due_bucket = :b AND due_at <= :now")
                .filter_expression("pk = :pk")
                .expression_attribute_values(":b", S("token".into()))
                .expression_attribute_values(":now", N(past.clone()))
                .expression_attribute_values(":pk", S(format!("TOKEN#expired-{n:08}")))
                .send()
                .await?;
            if listed.count() > 0 {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        Err("the due index never listed the expired token".into())
    }

    /// The next event of the main path, on a fresh table with whatever it needs made beforehand.
    pub async fn prepare(&self) -> Result<Prepared, Error> {
        self.fresh_table().await?;
        if matches!(self.function, "send-code" | "check-prerequisites" | "verify-code") {
            self.register(STEADY, Role::Individual, None).await?;
        }
        let http = |sub: &str, body: Option<Value>, status: u16| Prepared {
            event: http_event(self.function, sub, body.as_ref()),
            status: Some(status),
        };
        Ok(match self.function {
            "send-code" => http(STEADY, Some(json!({"purpose": "delete_account"})), 202),
            "check-prerequisites" => http(STEADY, None, 200),
            "verify-code" => {
                let account = AccountId::parse(STEADY).ok_or("id")?;
                let code = self.code(&account, Purpose::DeleteAccount).await?;
                http(account.as_str(), Some(json!({"purpose": "delete_account", "code": code})), 200)
            }
            "delete-account" => {
                let account = self.account("gone", Role::Individual, None).await?;
                let token = self.token(&account, Purpose::DeleteAccount).await?;
                http(account.as_str(), Some(json!({"verification_token": token})), 200)
            }
            "dismiss-enterprise" => {
                let admin = self.enterprise().await?;
                let token = self.token(&admin, Purpose::DismissEnterprise).await?;
                http(admin.as_str(), Some(json!({"verification_token": token})), 200)
            }
            "handover-account" => {
                let account = self.account("handing", Role::Individual, None).await?;
                let token = self.token(&account, Purpose::HandoverAccount).await?;
                let n = self.next();
                let body = json!({"verification_token": token, "new_email": format!("heir-{n}@example.com"), "new_phone": format!("+86{:011}", 13_700_000_000u64 + n)});
                http(account.as_str(), Some(body), 202)
            }
            "cleanup" => {
                self.expired_token().await?;
                Prepared { event: event::scheduled(), status: None }
            }
            other => return Err(format!("no main path for {other}").into()),
        })
    }
}
