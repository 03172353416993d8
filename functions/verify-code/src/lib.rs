//! `POST /v1/verification-codes/verify`: trades a code for a verification token.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use serde::Deserialize;
use shared::codes::VerificationCode;
use shared::http::{self, Problem};
use shared::lambda_http::http::StatusCode;
use shared::lambda_http::{Body, Request, Response};
use shared::model::purpose::Purpose;
use shared::App;

/// What this function builds at start: it hashes codes and tokens; mails nothing.
pub const USES: shared::Uses = shared::Uses { keys: true, mail: false, exports: None, pool: false };

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyCode {
    purpose: String,
    code: String,
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(app, &request, verify(app, &request).await).await
}

async fn verify(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let caller = http::caller(request, app.clock.now())?;
    let body: VerifyCode = http::json_body(request)?;
    let purpose = Purpose::from_client(&body.purpose)?;
    let code = VerificationCode::parse(&body.code)?;
    let token = app.verify_code(&caller, purpose, &code).await?;
    Ok(http::json(StatusCode::OK, &token))
}
