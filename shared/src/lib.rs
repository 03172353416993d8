//! The common crate of the account-deletion functions. The functions parse
//! an event, call one operation of [`App`] and map its result to a response;
//! every rule lives here, one module per concern.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod accounts;
pub mod audit;
pub mod blockers;
pub mod bucket;
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
pub mod exports;
pub mod failpoints;
pub mod handover;
pub mod holds;
pub mod http;
pub mod identity;
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
pub mod signup;
pub mod startup;
pub mod store;
pub mod tokens;
pub mod trust;
pub mod work;

pub use lambda_http;

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

/// The SDK's configuration as [`aws_config::defaults`] resolves it, with [`sdk_timeouts`] and the
/// HTTP client [`trust::Trust`] chooses (Amazon's roots only, unless the environment configures
/// a trust or a proxy of its own). Where the keys are in the environment (Lambda puts the role's
/// there) the credentials are the environment's, the link the default chain would take first,
/// without building the rest of the chain at every start (the profile, web identity, ECS and
/// instance metadata providers and the STS endpoint rules).
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(sdk_timeouts());
    let loader = trust::Trust::choose(|name| std::env::var(name).ok()).configure(loader);
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let keys_in_env = set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY");
    let loader = if keys_in_env {
        loader.credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new())
    } else {
        loader
    };
    loader.load().await
}

/// What a function uses besides the table, so that its start builds nothing else: a function
/// that hashes no code or token reads no secret, one that sends no mail builds no SES client.
#[derive(Debug, Clone, Copy)]
pub struct Uses {
    /// Hashes codes or tokens: the key is read at start (`CODE_SECRET`, or the secret `CODE_SECRET_ID` names).
    pub keys: bool,
    /// Sends mail: an SES client is built.
    pub mail: bool,
    /// Writes or removes data exports: `EXPORT_BUCKET` is required, and the S3 client is built
    /// when an export is first touched.
    pub exports: Option<bucket::S3ClientFn>,
    /// Calls the user pool (with `IDENTITY_PROVIDER=cognito`): a Cognito client is built.
    pub pool: bool,
}

impl Uses {
    pub const EVERYTHING: Self = Self { keys: true, mail: true, exports: Self::EXPORTS, pool: true };
    /// Reads and writes the table only.
    pub const TABLE: Self = Self { keys: false, mail: false, exports: None, pool: false };
    /// What a function that touches exports names in [`Uses::exports`].
    pub const EXPORTS: Option<bucket::S3ClientFn> = Some(bucket::ExportBucket::client);
}

/// Everything an operation needs, built once per process.
pub struct App {
    pub config: Config,
    /// The keys for codes and tokens, read again from Secrets Manager as they rotate (unread where [`Uses::keys`] is false).
    pub secrets: secrets::SecretRing,
    pub store: store::Store,
    /// Without an SES client where [`Uses::mail`] is false.
    pub mailer: mail::Mailer,
    /// Without an S3 client where [`Uses::exports`] is `None`.
    pub exports: bucket::ExportBucket,
    /// The user pool the accounts keep in step; without a client where [`Uses::pool`] is false or there is none.
    pub pool: identity::UserPool,
    pub clock: clock::Clock,
    pub failpoints: failpoints::FailPoints,
    pub metrics: metrics::Metrics,
}

impl App {
    /// From the SDK's standard settings (`AWS_ENDPOINT_URL`, `AWS_REGION`,
    /// credentials), so one binary runs on AWS and on the local stack; everything built.
    /// `CODE_SECRET` set (local use, tests): that key; else the secret `CODE_SECRET_ID` names, read here.
    pub async fn from_env() -> Result<Self, ConfigError> {
        // The export bucket where one is configured (the tools); the functions say what they use.
        let uses =
            Uses { exports: Uses::EXPORTS.filter(|_| std::env::var_os("EXPORT_BUCKET").is_some()), ..Uses::EVERYTHING };
        Self::start(&mut startup::Startup::begin(), uses).await
    }

    /// As [`App::from_env`], building only what `uses` names and timing each step into `startup`,
    /// with the DynamoDB connection opened (a warm-up GetItem) while the secret is read,
    /// so the first request pays for neither and init waits for one round trip, not two.
    pub async fn start(startup: &mut startup::Startup, uses: Uses) -> Result<Self, ConfigError> {
        Self::start_with(startup, uses, |name| std::env::var(name).ok()).await
    }

    /// As [`App::start`], with the settings read through `lookup` (tests need not touch the process environment).
    pub async fn start_with(
        startup: &mut startup::Startup,
        uses: Uses,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        use startup::{timed, Phase};
        let env = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        // The key in the environment, or not needed: a bad setting stops here, before any request.
        let config = Config::from_lookup(env)?;
        if uses.exports.is_some() && config.export_bucket.is_none() {
            return Err(ConfigError::Missing("EXPORT_BUCKET"));
        }
        let secret_id = match (&config.code_secrets, &config.code_secret_id) {
            (None, Some(secret_id)) if uses.keys => Some(secret_id.clone()),
            _ => None,
        };
        startup.mark(Phase::Configuration);
        let sdk = load_sdk_config().await;
        startup.mark(Phase::SdkConfig);
        let store = store::Store::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name.clone());
        let mailer = if uses.mail {
            mail::Mailer::new(aws_sdk_sesv2::Client::new(&sdk), config.sender_email.clone())
        } else {
            mail::Mailer::none(config.sender_email.clone())
        };
        let exports = match (&config.export_bucket, uses.exports) {
            (Some(bucket), Some(client)) => {
                let local = sdk.endpoint_url().is_some() || env("AWS_ENDPOINT_URL_S3").is_some();
                bucket::ExportBucket::lazy(&sdk, client, local, bucket.clone())
            }
            _ => bucket::ExportBucket::none(),
        };
        let secrets_client = secret_id.as_ref().map(|_| aws_sdk_secretsmanager::Client::new(&sdk));
        let pool = if uses.pool { user_pool(&config, &sdk) } else { identity::UserPool::none() };
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
        let (config, ring) = match (read, secrets_client, secret_id) {
            (Some((read, took)), Some(client), Some(secret_id)) => {
                startup.secret = Some(took);
                let read = read?;
                let config = Config::resolved(env, Some(read.clone()))?;
                let source = secrets::SecretSource::SecretsManager { client, secret_id };
                (config, secrets::SecretRing::new(source, read, now))
            }
            _ => {
                let ring = secrets::SecretRing::from_config(config.code_secrets.as_ref().filter(|_| uses.keys));
                (config, ring)
            }
        };
        let (clock, failpoints) = (clock::Clock::default(), failpoints::FailPoints::default());
        let metrics = metrics::Metrics::default();
        Ok(Self { config, secrets: ring, store, mailer, exports, pool, clock, failpoints, metrics })
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

    /// Everything built, the keys from the configuration (tests, the fixtures' tools).
    pub fn new(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let ring = secrets::SecretRing::from_config(config.code_secrets.as_ref());
        Self::assemble(config, sdk, ring)
    }

    fn assemble(config: Config, sdk: &aws_config::SdkConfig, secrets: secrets::SecretRing) -> Self {
        let store = store::Store::new(aws_sdk_dynamodb::Client::new(sdk), config.table_name.clone());
        let mailer = mail::Mailer::new(aws_sdk_sesv2::Client::new(sdk), config.sender_email.clone());
        let exports = match &config.export_bucket {
            Some(bucket) => {
                let local = sdk.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
                bucket::ExportBucket::new(bucket::ExportBucket::client(sdk, local), bucket.clone())
            }
            None => bucket::ExportBucket::none(),
        };
        let pool = user_pool(&config, sdk);
        let (clock, failpoints) = (clock::Clock::default(), failpoints::FailPoints::default());
        let metrics = metrics::Metrics::default();
        Self { config, secrets, store, mailer, exports, pool, clock, failpoints, metrics }
    }
}

/// The Cognito client, only when the configuration names a pool.
fn user_pool(config: &Config, sdk: &aws_config::SdkConfig) -> identity::UserPool {
    match &config.identity {
        identity::IdentityProvider::Cognito { user_pool_id } => {
            identity::UserPool::new(aws_sdk_cognitoidentityprovider::Client::new(sdk), user_pool_id.clone())
        }
        identity::IdentityProvider::None => identity::UserPool::none(),
    }
}
