//! The common crate of the account-deletion functions. The functions parse
//! an event, call one operation of [`App`] and map its result to a response;
//! every rule lives here, one module per concern.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod accounts;
pub mod caller;
pub mod cleanup;
pub mod clock;
pub mod codes;
pub mod config;
pub mod crypto;
pub mod deletion;
pub mod enterprises;
pub mod failpoints;
pub mod handover;
pub mod holds;
pub mod http;
pub mod identifiers;
pub mod mail;
pub mod prerequisites;
pub mod purpose;
pub mod runtime;
pub mod store;
pub mod tokens;
pub mod work;

pub use lambda_http;

use config::{Config, ConfigError};

/// Everything an operation needs, built once per process.
pub struct App {
    pub config: Config,
    pub store: store::Store,
    pub mailer: mail::Mailer,
    pub clock: clock::Clock,
    pub failpoints: failpoints::FailPoints,
}

impl App {
    /// From the SDK's standard settings (`AWS_ENDPOINT_URL`, `AWS_REGION`,
    /// credentials), so one binary runs on AWS and on the local stack.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(Self::new(config, &sdk))
    }

    pub fn new(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        let store = store::Store::new(aws_sdk_dynamodb::Client::new(sdk), config.table_name.clone());
        let mailer = mail::Mailer::new(aws_sdk_sesv2::Client::new(sdk), config.sender_email.clone());
        Self { config, store, mailer, clock: clock::Clock::default(), failpoints: failpoints::FailPoints::default() }
    }
}
