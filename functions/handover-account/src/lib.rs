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
use shared::lambda_http::request::RequestContext;
use shared::lambda_http::{Body, Request, RequestExt, Response};
use shared::locale::problems::Message;
use shared::model::handover::pending::IamUsers;
use shared::App;

/// What this function builds at start: it spends tokens and codes; mails both parties; hands the pool user over.
pub const USES: shared::Uses = shared::Uses { keys: true, mail: true, exports: None, pool: true };

/// The two routes infra/template.yaml gives this function, as API Gateway names them in `routeKey`.
const START: &str = "POST /v1/account/handover";
const CONFIRM: &str = "POST /v1/account/handover/confirm";

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
    // The route key, unlike the path, carries no stage or custom-domain mapping prefix.
    let route_key = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.as_deref(),
        _ => None,
    };
    let result = match route_key {
        Some(START) => start(app, &request).await,
        Some(CONFIRM) => confirm(app, &request).await,
        other => Err(no_such_route(other)),
    };
    http::respond(app, &request, result).await
}

/// API Gateway sends only the template's routes here: another one is a wiring
/// mistake or a hand-made event, answered 400 `invalid_request` naming it.
fn no_such_route(route_key: Option<&str>) -> Problem {
    Problem::invalid_request(Message::Invalid(format!(
        "handover-account serves the route keys {START} and {CONFIRM}, not {}",
        route_key.unwrap_or("an event without one")
    )))
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
