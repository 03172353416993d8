//! The common crate of the account-deletion functions. The functions parse
//! an event, call one operation of [`App`] and map its result to a response;
//! every rule lives here, one module per concern.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod accounts;
pub mod blockers;
pub mod caller;
pub mod cancellation;
pub mod cleanup;
pub mod clock;
pub mod codes;
pub mod config;
pub mod crypto;
pub mod deletion;
pub mod enterprises;
pub mod events;
pub mod failpoints;
pub mod handover;
pub mod holds;
pub mod http;
pub mod internal;
pub mod ledger;
pub mod locale;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod prerequisites;
pub mod publish;
pub mod runtime;
pub mod secrets;
pub mod startup;
pub mod store;
pub mod tokens;
pub mod work;

pub use lambda_http;

// bench/ (not changed here) imports `shared::purpose::Purpose`; the model owns it.
pub use model::purpose;

use config::{Config, ConfigError};
use std::time::Duration;

/// Without them a request to a service that stops answering waits until Lambda
/// kills the function: each attempt gets 3 s (DynamoDB and SES answer in
/// milliseconds), the SDK's three attempts 10 s, well inside API Gateway's 30 s.
pub fn sdk_timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(10))
        .build()
}

/// Everything an operation needs, built once per process.
pub struct App {
    pub config: Config,
    /// The keys for codes and tokens, read again from Secrets Manager as they rotate.
    pub secrets: secrets::SecretRing,
    pub store: store::Store,
    pub mailer: mail::Mailer,
    pub clock: clock::Clock,
    pub failpoints: failpoints::FailPoints,
    pub metrics: metrics::Metrics,
}

impl App {
    /// From the SDK's standard settings (`AWS_ENDPOINT_URL`, `AWS_REGION`,
    /// credentials), so one binary runs on AWS and on the local stack.
    /// `CODE_SECRET` set (local use, tests): that key; else the secret `CODE_SECRET_ID` names, read here.
    pub async fn from_env() -> Result<Self, ConfigError> {
        Self::start(&mut startup::Startup::begin()).await
    }

    /// As [`App::from_env`], timing each step into `startup`, and with the
    /// DynamoDB connection opened (a warm-up GetItem) while the secret is read,
    /// so the first request pays for neither and init waits for one round trip, not two.
    pub async fn start(startup: &mut startup::Startup) -> Result<Self, ConfigError> {
        use startup::{timed, Phase};
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let secret_id = match (env("CODE_SECRET"), env("CODE_SECRET_ID")) {
            (None, Some(secret_id)) => Some(secret_id),
            _ => None,
        };
        // With the key in the environment a bad setting stops here, before any request.
        let config = if secret_id.is_none() { Some(Config::from_env()?) } else { None };
        startup.mark(Phase::Configuration);
        let sdk =
            aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(sdk_timeouts()).load().await;
        startup.mark(Phase::SdkConfig);
        let table = config.as_ref().map(|c| c.table_name.clone()).or_else(|| env("TABLE_NAME")).unwrap_or_default();
        let store = store::Store::new(aws_sdk_dynamodb::Client::new(&sdk), table);
        let ses = aws_sdk_sesv2::Client::new(&sdk);
        let secrets_client = secret_id.as_ref().map(|_| aws_sdk_secretsmanager::Client::new(&sdk));
        startup.mark(Phase::Clients);
        let now = clock::Clock::default().now();
        let read = async {
            match (secrets_client.as_ref(), secret_id.as_deref()) {
                (Some(client), Some(id)) => Some(timed(secrets::fetch(client, id, now)).await),
                _ => None,
            }
        };
        let (read, ((), warm_up)) = tokio::join!(read, timed(store.warm_up()));
        startup.mark(Phase::Connections);
        startup.warm_up = Some(warm_up);
        let (config, ring) = match (config, read, secrets_client, secret_id) {
            (Some(config), ..) => {
                let ring = secrets::SecretRing::new(secrets::SecretSource::Environment, config.code_secrets.clone(), 0);
                (config, ring)
            }
            (None, Some((read, took)), Some(client), Some(secret_id)) => {
                startup.secret = Some(took);
                let read = read?;
                let config = Config::resolved(env, Some(read.clone()))?;
                let source = secrets::SecretSource::SecretsManager { client, secret_id };
                (config, secrets::SecretRing::new(source, read, now))
            }
            _ => return Err(ConfigError::Missing("CODE_SECRET")),
        };
        let mailer = mail::Mailer::new(ses, config.sender_email.clone());
        let (clock, failpoints) = (clock::Clock::default(), failpoints::FailPoints::default());
        let metrics = metrics::Metrics::default();
        Ok(Self { config, secrets: ring, store, mailer, clock, failpoints, metrics })
    }

    /// An app whose keys are read from the Secrets Manager secret `secret_id` (and refreshed as it rotates).
    pub async fn with_secret_id<L: Fn(&str) -> Option<String>>(
        build: impl FnOnce(L, Option<config::CodeSecrets>) -> Result<Config, ConfigError>,
        lookup: L,
        sdk: &aws_config::SdkConfig,
        secret_id: &str,
    ) -> Result<Self, ConfigError> {
        let client = aws_sdk_secretsmanager::Client::new(sdk);
        let now = clock::Clock::default().now();
        let read = secrets::fetch(&client, secret_id, now).await?;
        let config = build(lookup, Some(read.clone()))?;
        let source = secrets::SecretSource::SecretsManager { client, secret_id: secret_id.to_string() };
        Ok(Self::assemble(config, sdk, secrets::SecretRing::new(source, read, now)))
    }

    pub fn new(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let ring = secrets::SecretRing::new(secrets::SecretSource::Environment, config.code_secrets.clone(), 0);
        Self::assemble(config, sdk, ring)
    }

    fn assemble(config: Config, sdk: &aws_config::SdkConfig, secrets: secrets::SecretRing) -> Self {
        let store = store::Store::new(aws_sdk_dynamodb::Client::new(sdk), config.table_name.clone());
        let mailer = mail::Mailer::new(aws_sdk_sesv2::Client::new(sdk), config.sender_email.clone());
        let (clock, failpoints) = (clock::Clock::default(), failpoints::FailPoints::default());
        let metrics = metrics::Metrics::default();
        Self { config, secrets, store, mailer, clock, failpoints, metrics }
    }
}
