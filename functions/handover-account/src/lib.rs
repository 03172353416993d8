//! `POST /v1/account/handover` and `POST /v1/account/handover/confirm`: hands
//! an account over to a designated person (docs/seeds.md#handover), confirmed by a code sent
//! to the designated person's email.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use serde::Deserialize;
use shared::codes::VerificationCode;
use shared::handover::{parse_account_id, HandoverRequest};
use shared::http::{self, Problem};
use shared::lambda_http::http::StatusCode;
use shared::lambda_http::{Body, Request, Response};
use shared::model::handover::pending::IamUsers;
use shared::App;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartHandover {
    verification_token: String,
    new_email: String,
    new_phone: Option<String>,
    new_name: Option<String>,
    #[serde(default)]
    iam_users: IamUsers,
    account_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmHandover {
    code: String,
    account_id: Option<String>,
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    // One function serves both routes; the stage prefix, if any, stays in front of the path.
    if request.uri().path().trim_end_matches('/').ends_with("/confirm") {
        http::respond(app, &request, confirm(app, &request).await).await
    } else {
        http::respond(app, &request, start(app, &request).await).await
    }
}

async fn start(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let caller = http::caller(request, app.clock.now())?;
    let body: StartHandover = http::json_body(request)?;
    let handover = HandoverRequest::parse(
        &body.verification_token,
        &body.new_email,
        body.new_phone.as_deref(),
        body.new_name.as_deref(),
        body.iam_users,
        body.account_id.as_deref(),
    )?;
    let started = app.start_handover(&caller, &handover).await?;
    Ok(http::json(StatusCode::ACCEPTED, &started))
}

async fn confirm(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let caller = http::caller(request, app.clock.now())?;
    let body: ConfirmHandover = http::json_body(request)?;
    let code = VerificationCode::parse(&body.code)?;
    let account = body.account_id.as_deref().map(parse_account_id).transpose()?;
    let outcome = app.confirm_handover(&caller, account.as_ref(), &code).await?;
    let status = if outcome.finished() { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok(http::json(status, &outcome))
}
