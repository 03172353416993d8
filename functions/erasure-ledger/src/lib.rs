//! The erasure ledger's function (docs/erasure-ledger.md): records a downstream
//! system's report put on the bus (`Account Erasure Reported`, source
//! `erasure.<system>`, routed here by a rule), and answers operators'
//! `GET /v1/erasure-ledger/{account_id}` (IAM-authorised) with a deletion's ledger.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use serde_json::{json, Value};
use shared::http::{self, Problem};
use shared::lambda_http::http::StatusCode;
use shared::lambda_http::{Body, Request, RequestExt, Response};
use shared::ledger::ReportError;
use shared::locale::problems::Message;
use shared::model::ids::AccountId;
use shared::App;

/// What this function builds at start: it records reports and answers operators from the table only.
pub const USES: shared::Uses = shared::Uses::TABLE;

pub async fn handle(app: &App, event: Value) -> Result<Value, shared::lambda_http::Error> {
    if event.get("requestContext").is_some() {
        let request = shared::lambda_http::request::from_str(&event.to_string())?;
        return Ok(payload_v2(http::respond(app, &request, read(app, &request).await).await));
    }
    record(app, event).await
}

/// A report that can never be recorded (malformed, unknown system, no such
/// deletion, a different report already) is answered, not failed: a retry
/// would not change it. Only a failure of the table is an error, which Lambda retries.
async fn record(app: &App, event: Value) -> Result<Value, shared::lambda_http::Error> {
    match app.record_erasure(&event).await {
        Ok(outcome) => Ok(json!({ "outcome": outcome })),
        Err(ReportError::Store(error)) => Err(error.into()),
        Err(refused) => {
            tracing::warn!(error = %refused, source = %event["source"], "erasure report refused");
            Ok(json!({ "refused": refused.to_string() }))
        }
    }
}

async fn read(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let operator = http::iam_caller(request)?;
    let params = request.path_parameters();
    let account = params
        .first("account_id")
        .and_then(AccountId::parse)
        .ok_or_else(|| Problem::invalid_request(Message::Invalid("account_id must be an account id".into())))?;
    let ledger = app.ledger(account.as_str()).await?;
    tracing::info!(%operator, account = %account, "erasure ledger read");
    Ok(http::json(StatusCode::OK, &ledger))
}

/// The API Gateway HTTP API (payload 2.0) answer of a response.
fn payload_v2(response: Response<Body>) -> Value {
    let headers: serde_json::Map<String, Value> =
        response.headers().iter().map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default()))).collect();
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    };
    json!({"statusCode": response.status().as_u16(), "headers": headers, "body": body, "isBase64Encoded": false})
}
