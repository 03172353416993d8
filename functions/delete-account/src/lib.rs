//! `POST /v1/account/deletion`: deletes the caller's account for good.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use serde::Deserialize;
use shared::http::{self, Problem};
use shared::lambda_http::http::StatusCode;
use shared::lambda_http::{Body, Request, Response};
use shared::tokens::TokenString;
use shared::App;

/// What this function builds at start: it spends a token; mails the notice; signs the pool user out and deletes it.
pub const USES: shared::Uses = shared::Uses::EVERYTHING;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteAccount {
    verification_token: String,
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(app, &request, delete(app, &request).await).await
}

async fn delete(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let caller = http::caller(request, app.clock.now())?;
    let body: DeleteAccount = http::json_body(request)?;
    let token = TokenString::parse(&body.verification_token)?;
    let receipt = app.delete_account(&caller, &token).await?;
    let status = if receipt.finished() { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok(http::json(status, &receipt))
}
