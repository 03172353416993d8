//! `POST /v1/verification-codes`: mails a code for a purpose to the caller's bound address.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use serde::Deserialize;
use shared::http::{self, Problem};
use shared::lambda_http::http::StatusCode;
use shared::lambda_http::{Body, Request, Response};
use shared::model::purpose::Purpose;
use shared::App;

/// What this function builds at start: it hashes its codes and mails them.
pub const USES: shared::Uses = shared::Uses { keys: true, mail: true, exports: None, pool: false };

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendCode {
    purpose: String,
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(app, &request, send(app, &request).await).await
}

async fn send(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let caller = http::caller(request, app.clock.now())?;
    let body: SendCode = http::json_body(request)?;
    let purpose = Purpose::from_client(&body.purpose)?;
    let sent = app.send_code(&caller, purpose).await?;
    Ok(http::json(StatusCode::ACCEPTED, &sent))
}
