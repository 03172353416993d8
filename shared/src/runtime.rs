//! Process start-up shared by every function: logs, configuration, clients, the Lambda loop.

use crate::startup::{Phase, Startup};
use crate::{App, Uses};
use lambda_http::{service_fn, Body, Request, Response};
use std::future::Future;

/// JSON logs, one object a line, with the Lambda request id from the runtime's span.
pub fn init_logging() {
    init_logging_to(std::io::stdout);
}

pub fn init_logging_to<W>(writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(writer)
        .try_init();
}

/// Every function's `main`: the multi-thread runtime `#[tokio::main]` would build, running `serve`.
pub fn main(serve: impl Future<Output = Result<(), lambda_http::Error>>) -> Result<(), lambda_http::Error> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(serve)
}

/// Builds the app once per process; a missing or malformed setting stops here, named.
/// Logs where init's time went (`startup`, see [`crate::startup`]) just before the first poll.
async fn start(uses: Uses) -> Result<&'static App, lambda_http::Error> {
    let mut startup = Startup::begin();
    init_logging();
    startup.mark(Phase::Logging);
    let app = App::start(&mut startup, uses).await.map_err(|e| {
        tracing::error!(error = %e, "configuration error");
        e
    })?;
    startup.log();
    // One app for the life of the process, shared by every invocation.
    Ok(Box::leak(Box::new(app)))
}

/// Runs an API Gateway handler, with an app that builds what `uses` names.
pub async fn serve_http<F, Fut>(uses: Uses, handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, Request) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Response<Body>> + Send,
{
    let app = start(uses).await?;
    lambda_http::run(service_fn(move |request: Request| async move {
        app.secrets.refresh_if_stale(app.clock.now()).await;
        Ok::<_, std::convert::Infallible>(handler(app, request).await)
    }))
    .await
}

/// Runs a handler of other events (the schedule, the bus), with an app that builds what `uses` names.
pub async fn serve_events<F, Fut>(uses: Uses, handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static App, lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<serde_json::Value, lambda_http::Error>> + Send,
{
    let app = start(uses).await?;
    lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(move |event| async move {
        app.secrets.refresh_if_stale(app.clock.now()).await;
        handler(app, event).await
    }))
    .await
}

/// Runs publish-events on the table's stream: only the bus client is built.
pub async fn serve_stream<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(&'static crate::publish::Publisher, serde_json::Value) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Result<serde_json::Value, lambda_http::Error>> + Send,
{
    let mut startup = Startup::begin();
    init_logging();
    startup.mark(Phase::Logging);
    // One publisher for the life of the process, shared by every invocation.
    let publisher: &'static crate::publish::Publisher =
        Box::leak(Box::new(crate::publish::Publisher::from_env().await));
    // The SDK configuration and the one client, together; no connection is opened at init.
    startup.mark(Phase::SdkConfig);
    startup.log();
    lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(
        move |event: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>| handler(publisher, event.payload),
    ))
    .await
}
