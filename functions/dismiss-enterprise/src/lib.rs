//! `POST /v1/enterprise/dismissal`: the default administrator dismisses the enterprise.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use serde::Deserialize;
use shared::http::{self, Problem};
use shared::lambda_http::http::StatusCode;
use shared::lambda_http::{Body, Request, Response};
use shared::tokens::TokenString;
use shared::App;

/// What this function builds at start: it spends a token; mails the members; never calls the pool.
pub const USES: shared::Uses = shared::Uses { keys: true, mail: true, exports: None, pool: false };

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DismissEnterprise {
    verification_token: String,
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(app, &request, dismiss(app, &request).await).await
}

async fn dismiss(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let caller = http::caller(request, app.clock.now())?;
    let body: DismissEnterprise = http::json_body(request)?;
    let token = TokenString::parse(&body.verification_token)?;
    let dismissal = app.dismiss_enterprise(&caller, &token).await?;
    let status = if dismissal.finished() { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok(http::json(status, &dismissal))
}
