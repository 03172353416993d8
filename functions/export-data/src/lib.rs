//! `POST /v1/account/data-export` and `GET /v1/account/data-export/{export_id}`: a copy of
//! the caller's data, as one JSON document behind a download link (docs/data-export.md).

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use serde::Deserialize;
use shared::http::{self, Problem};
use shared::lambda_http::http::StatusCode;
use shared::lambda_http::request::RequestContext;
use shared::lambda_http::{Body, Request, RequestExt, Response};
use shared::locale::problems::Message;
use shared::tokens::TokenString;
use shared::App;

/// What this function builds at start: it spends a token, writes the archive and mails its link.
pub const USES: shared::Uses = shared::Uses { keys: true, mail: true, exports: shared::Uses::EXPORTS, pool: false };

/// The two routes infra/template.yaml gives this function, as API Gateway names them in `routeKey`.
const REQUEST: &str = "POST /v1/account/data-export";
const STATUS: &str = "GET /v1/account/data-export/{export_id}";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestExport {
    verification_token: String,
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    // The route key, unlike the path, carries no stage or custom-domain mapping prefix.
    let route_key = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.as_deref(),
        _ => None,
    };
    let result = match route_key {
        Some(REQUEST) => export(app, &request).await,
        Some(STATUS) => status(app, &request).await,
        other => Err(Problem::invalid_request(Message::Invalid(format!(
            "export-data serves the route keys {REQUEST} and {STATUS}, not {}",
            other.unwrap_or("an event without one")
        )))),
    };
    http::respond(app, &request, result).await
}

async fn export(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let caller = http::caller(request, app.clock.now())?;
    let body: RequestExport = http::json_body(request)?;
    let token = TokenString::parse(&body.verification_token)?;
    let export = app.request_export(&caller, &token).await?;
    let status = if export.ready() { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok(http::json(status, &export))
}

async fn status(app: &App, request: &Request) -> Result<Response<Body>, Problem> {
    let caller = http::caller(request, app.clock.now())?;
    let params = request.path_parameters();
    // Any id the bundle did not make is answered as an unknown one.
    let export_id = params.first("export_id").unwrap_or_default();
    let export = app.export_status(&caller, export_id).await?;
    Ok(http::json(StatusCode::OK, &export))
}
