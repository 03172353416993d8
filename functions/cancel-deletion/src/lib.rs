//! `POST /v1/account/deletion/cancellation`: cancels the caller's deletion in its grace period.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use serde::Deserialize;
use shared::http::{self, Problem};
use shared::lambda_http::http::StatusCode;
use shared::lambda_http::{Body, Request, Response};
use shared::tokens::TokenString;
use shared::App;

/// What this function builds at start: it spends a token; mails the notice; never calls the pool (a cancellation keeps the sign-in).
pub const USES: shared::Uses = shared::Uses { keys: true, mail: true, exports: None, pool: false };

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelDeletion {
    verification_token: String,
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(app, &request, cancel(app, &request).await).await
}

async fn cancel(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let caller = http::caller(request, app.clock.now())?;
    let body: CancelDeletion = http::json_body(request)?;
    let token = TokenString::parse(&body.verification_token)?;
    let cancelled = app.cancel_deletion(&caller, &token).await?;
    Ok(http::json(StatusCode::OK, &cancelled))
}
