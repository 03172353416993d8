//! `GET /v1/account/deletion-prerequisites`: every blocker of the caller's deletion at once.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use shared::http::{self, Problem};
use shared::lambda_http::http::StatusCode;
use shared::lambda_http::{Body, Request, Response};
use shared::App;

/// What this function builds at start: it reads the table only.
pub const USES: shared::Uses = shared::Uses::TABLE;

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(app, &request, check(app, &request).await).await
}

async fn check(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let caller = http::caller(request, app.clock.now())?;
    let prerequisites = app.deletion_prerequisites(&caller).await?;
    Ok(http::json(StatusCode::OK, &prerequisites))
}
