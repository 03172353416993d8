//! A test stack with a user pool (contract §9): a fresh pool in moto, the app configured with
//! `IDENTITY_PROVIDER=cognito`, and the trigger proxy in front of moto invoking the
//! sign-up-triggers handler in-process, so a person's Cognito client signs up as on AWS.

use crate::cognito::{create_pool, PoolClient, Trigger, TriggerProxy};
use crate::faults::FaultProxy;
use crate::harness::TestStack;
use crate::localstack;
use shared::config::Config;
use shared::identity::{IdentityProvider, UserPool};
use shared::App;
use std::sync::Arc;

pub struct PoolStack {
    pub stack: TestStack,
    /// A person's Cognito client, through the trigger proxy.
    pub pool: PoolClient,
    /// Between the functions and moto's pool when the test faults the pool's steps.
    pub faults: Option<FaultProxy>,
    /// Between the functions and DynamoDB Local when the test audits what they ask for.
    pub dynamodb: Option<FaultProxy>,
    _triggers: TriggerProxy,
}

impl PoolStack {
    pub async fn start(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::build(adjust, false, false).await
    }

    /// As [`PoolStack::start`], the functions reaching the pool through a fault proxy.
    pub async fn with_faults(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::build(adjust, true, false).await
    }

    /// As [`PoolStack::with_faults`], DynamoDB through a proxy too: what each function asks IAM for is seen.
    pub async fn audited(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::build(adjust, true, true).await
    }

    async fn build(adjust: impl FnOnce(&mut Config), faulted: bool, audited: bool) -> Self {
        let sdk = localstack::sdk_config().await;
        let admin = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
        let name = format!("journeys-{}", shared::crypto::hex(&shared::crypto::random_bytes::<6>().expect("random")));
        let (pool_id, client_id) =
            create_pool(&admin, &name).await.expect("moto must be running (scripts/test starts it)");
        let identity = IdentityProvider::Cognito { user_pool_id: pool_id.clone() };
        let adjust = |config: &mut Config| {
            adjust(config);
            config.identity = identity;
        };
        let dynamodb = match audited {
            true => {
                let upstream =
                    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("AWS_ENDPOINT_URL_DYNAMODB (scripts/dev env)");
                Some(FaultProxy::start(&upstream).await.expect("DynamoDB proxy"))
            }
            false => None,
        };
        let stack = match &dynamodb {
            Some(proxy) => TestStack::through_with(&proxy.url(), &localstack::moto_url(), adjust).await,
            None => TestStack::with(adjust).await,
        };
        let faults = match faulted {
            true => Some(FaultProxy::start(&localstack::moto_url()).await.expect("fault proxy")),
            false => None,
        };
        let stack = match &faults {
            Some(proxy) => {
                let timeouts = aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(std::time::Duration::from_secs(1))
                    .operation_attempt_timeout(std::time::Duration::from_millis(1500))
                    .build();
                let conf = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
                    .endpoint_url(proxy.url())
                    .timeout_config(timeouts)
                    .build();
                let mut app = App::new(stack.app.config.clone(), &sdk);
                app.store = stack.app.store.clone();
                app.pool = UserPool::new(aws_sdk_cognitoidentityprovider::Client::from_conf(conf), pool_id.clone());
                stack.with_app(app)
            }
            None => stack,
        };
        let app = stack.app.clone();
        let trigger: Trigger = Arc::new(move |event| {
            let app = app.clone();
            Box::pin(async move { sign_up_triggers::handle(&app, event).await.map_err(|e| e.to_string()) })
        });
        let triggers =
            TriggerProxy::start("127.0.0.1:0", &localstack::moto_url(), trigger).await.expect("trigger proxy");
        let person = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk).endpoint_url(triggers.url()).build();
        let pool =
            PoolClient { client: aws_sdk_cognitoidentityprovider::Client::from_conf(person), pool_id, client_id };
        Self { stack, pool, faults, dynamodb, _triggers: triggers }
    }
}
