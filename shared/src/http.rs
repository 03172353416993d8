//! The HTTP edge: the caller from the authorizer's claims, the body parsed
//! strictly, and the one place where every error becomes problem+json (RFC 9457).

use crate::accounts::{AccountError, AccountId};
use crate::caller::Caller;
use crate::cancellation::CancellationError;
use crate::codes::{CodeError, MalformedCode};
use crate::deletion::DeletionError;
use crate::enterprises::DismissalError;
use crate::internal::Internal;
use crate::prerequisites::Blocker;
use crate::purpose::UnsupportedPurpose;
use crate::store::StoreError;
use crate::tokens::{MalformedToken, TokenError};
use lambda_http::http::{header, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Largest body a function reads (docs/api.md#requests-and-responses).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An error as the client sees it.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub retry_after: Option<i64>,
    pub extra: Map<String, Value>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, title, detail: detail.into(), retry_after: None, extra: Map::new() }
    }

    fn retry_after(mut self, seconds: i64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    fn with(mut self, member: &str, value: Value) -> Self {
        self.extra.insert(member.to_string(), value);
        self
    }

    pub fn invalid_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", "The request is invalid", detail)
    }

    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "Something went wrong on our side; nothing you sent caused it.",
        )
    }

    pub fn into_response(self) -> Response<Body> {
        let mut body = json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "code": self.code,
            "detail": self.detail,
        });
        if let Value::Object(members) = &mut body {
            members.extend(self.extra);
        }
        let mut response =
            Response::builder().status(self.status).header(header::CONTENT_TYPE, "application/problem+json");
        if let Some(seconds) = self.retry_after {
            response = response.header(header::RETRY_AFTER, seconds.to_string());
        }
        response.body(Body::Text(body.to_string())).unwrap_or_else(|_| Response::new(Body::Empty))
    }
}

/// The caller, from `requestContext.authorizer.jwt.claims`. No `sub`: 401.
pub fn caller(request: &Request) -> Result<Caller, Problem> {
    let claims = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).map(|jwt| &jwt.claims)
        }
        _ => None,
    };
    let unauthenticated = || {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
            "The request carries no verified identity (sub claim).",
        )
    };
    let claims = claims.ok_or_else(unauthenticated)?;
    let account = claims.get("sub").and_then(|s| AccountId::parse(s)).ok_or_else(unauthenticated)?;
    // API Gateway flattens a list-valued `aud` to "[a b]"; the first entry names the client.
    let client_id = ["client_id", "azp", "aud"]
        .iter()
        .find_map(|c| claims.get(*c))
        .map(|v| v.trim_matches(|c| c == '[' || c == ']').split_whitespace().next().unwrap_or_default().to_string())
        .filter(|v| !v.is_empty());
    let session = crate::caller::Session::from_iat_claim(claims.get("iat").map(String::as_str));
    Ok(Caller { account, client_id, session })
}

/// An operator's route (IAM authorisation): the caller's IAM ARN, from
/// `requestContext.authorizer.iam`. None (not signed, or another authorizer): 401.
pub fn iam_caller(request: &Request) -> Result<String, Problem> {
    let arn = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.authorizer.as_ref().and_then(|a| a.iam.as_ref()).and_then(|iam| iam.user_arn.clone())
        }
        _ => None,
    };
    arn.ok_or_else(|| {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
            "This route takes requests signed by an IAM principal (SigV4).",
        )
    })
}

/// The body as `T`: JSON, no unknown fields, at most 64 KiB.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, Problem> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => b"",
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Problem::invalid_request(format!("The body is larger than {} KiB.", MAX_BODY_BYTES / 1024)));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::invalid_request("A JSON body is required."));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => Problem::invalid_request("The body is not valid JSON."),
            // serde's words name the field at fault; the position adds nothing for a one-line body.
            Category::Data => Problem::invalid_request(format!(
                "The body does not match the request: {}.",
                strip_position(&e.to_string())
            )),
        }
    })
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    match serde_json::to_string(body) {
        Ok(text) => Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::Text(text))
            .unwrap_or_else(|_| Response::new(Body::Empty)),
        Err(_) => Problem::internal().into_response(),
    }
}

/// The response for a handler's result; every problem is logged by code, never with what the client sent.
pub fn respond(result: Result<Response<Body>, Problem>) -> Response<Body> {
    match result {
        Ok(response) => response,
        Err(problem) => {
            if problem.status.is_server_error() {
                tracing::error!(code = problem.code, status = problem.status.as_u16(), "request failed");
            } else {
                tracing::info!(code = problem.code, status = problem.status.as_u16(), "request refused");
            }
            problem.into_response()
        }
    }
}

/// Logs an internal failure (the detail stays in the log) and hides it from the client.
fn internal(error: &dyn std::fmt::Display) -> Problem {
    tracing::error!(%error, "internal error");
    Problem::internal()
}

fn blockers_problem(blockers: Vec<Blocker>) -> Problem {
    let kinds: Vec<&str> = blockers.iter().map(|b| b.kind.as_str()).collect();
    let detail = format!("Complete these first: {}.", kinds.join(", "));
    Problem::new(StatusCode::CONFLICT, "prerequisites_unmet", "The deletion prerequisites are not met", detail)
        .with("blockers", serde_json::to_value(&blockers).unwrap_or(Value::Null))
}

/// Nothing was done; the same request may simply be sent again.
fn busy() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "Busy: try again",
        "Another change to the same account or enterprise was under way; nothing was done. Try again shortly.",
    )
    .retry_after(BUSY_RETRY_AFTER_SECONDS)
}

/// Long enough for the concurrent transaction to have finished.
const BUSY_RETRY_AFTER_SECONDS: i64 = 1;

fn token_invalid() -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "token_invalid",
        "Verification token is invalid",
        "The verification token is unknown, expired, already used, or for another purpose or account. Verify a new code.",
    )
}

impl From<UnsupportedPurpose> for Problem {
    fn from(e: UnsupportedPurpose) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "unsupported_purpose", "Unsupported purpose", e.to_string())
    }
}

impl From<MalformedCode> for Problem {
    fn from(e: MalformedCode) -> Self {
        Problem::invalid_request(e.to_string())
    }
}

impl From<MalformedToken> for Problem {
    fn from(e: MalformedToken) -> Self {
        Problem::invalid_request(e.to_string())
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Busy(_) => {
                tracing::warn!(error = %e, "busy: a concurrent change outlasted the retries");
                busy()
            }
            StoreError::Unavailable(_) | StoreError::Malformed(_) => internal(&e),
        }
    }
}

impl From<Internal> for Problem {
    fn from(e: Internal) -> Self {
        match e {
            Internal::Store(e) => e.into(),
            Internal::Random(_) | Internal::Interrupted(_) => internal(&e),
        }
    }
}

impl From<AccountError> for Problem {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::NotFound => Problem::new(
                StatusCode::NOT_FOUND,
                "account_not_found",
                "Account not found",
                "No account is registered under this identity.",
            ),
            AccountError::Deleted => Problem::new(
                StatusCode::GONE,
                "account_deleted",
                "Account deleted",
                "This account was deleted and cannot be used or recovered.",
            ),
            AccountError::EmailNotBound => Problem::new(
                StatusCode::CONFLICT,
                "email_not_bound",
                "No email address is bound",
                "The account has no email address to send a code to: bind one first.",
            ),
            AccountError::IdentifierTaken { kind, .. } => Problem::new(
                StatusCode::CONFLICT,
                "identifier_taken",
                "Identifier already in use",
                format!("The {kind} is held by another live account."),
            ),
            AccountError::SessionRevoked => Problem::new(
                StatusCode::UNAUTHORIZED,
                "session_revoked",
                "Session revoked",
                "The account was handed over after you signed in: sign in again.",
            ),
            AccountError::HandoverPending => Problem::new(
                StatusCode::CONFLICT,
                "handover_pending",
                "A handover of this account is pending",
                "An administrator's handover of this account is pending or running; only someone with at least their authority can act on it.",
            ),
            AccountError::DeletionNotScheduled => Problem::new(
                StatusCode::CONFLICT,
                "deletion_not_scheduled",
                "No deletion to cancel",
                "This account's deletion is not in its grace period: there is nothing to cancel.",
            ),
            AccountError::Internal(e) => e.into(),
            AccountError::AlreadyExists(_) => internal(&e),
        }
    }
}

impl From<CodeError> for Problem {
    fn from(e: CodeError) -> Self {
        match e {
            CodeError::Account(a) => a.into(),
            CodeError::ResendTooSoon { retry_after } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "resend_too_soon",
                "A code was sent moments ago",
                format!("Wait {retry_after} seconds before asking for another code."),
            )
            .retry_after(retry_after),
            CodeError::DailyLimitReached { retry_after } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "daily_limit_reached",
                "Daily limit of codes reached",
                "Too many codes were sent for this purpose in 24 hours.",
            )
            .retry_after(retry_after),
            CodeError::MailUnavailable => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "mail_unavailable",
                "Mail service unavailable",
                "The code could not be mailed. Nothing was used up; try again.",
            ),
            CodeError::Incorrect { attempts_left } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "code_incorrect",
                "Verification code is incorrect",
                if attempts_left == 0 {
                    "0 attempts left: the code is now burned; ask for a new one.".to_string()
                } else {
                    format!("{attempts_left} attempts left")
                },
            )
            .with("attempts_left", json!(attempts_left)),
            CodeError::Expired => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "code_expired",
                "No live verification code",
                "The code expired, was used or burned, or none was sent. Ask for a new one.",
            ),
            CodeError::Locked { retry_after } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "verification_locked",
                "Verification locked",
                "Too many wrong codes in a row: verification is locked for 24 hours.",
            )
            .retry_after(retry_after),
            CodeError::Internal(e) => e.into(),
        }
    }
}

impl From<TokenError> for Problem {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Invalid => token_invalid(),
            TokenError::Internal(e) => e.into(),
        }
    }
}

impl From<CancellationError> for Problem {
    fn from(e: CancellationError) -> Self {
        match e {
            CancellationError::Account(a) => a.into(),
            CancellationError::TokenInvalid => token_invalid(),
            CancellationError::Internal(e) => e.into(),
        }
    }
}

impl From<DeletionError> for Problem {
    fn from(e: DeletionError) -> Self {
        match e {
            DeletionError::Account(a) => a.into(),
            DeletionError::PrerequisitesUnmet(blockers) => blockers_problem(blockers),
            DeletionError::TokenInvalid => token_invalid(),
            DeletionError::Internal(e) => e.into(),
        }
    }
}

impl From<DismissalError> for Problem {
    fn from(e: DismissalError) -> Self {
        match e {
            DismissalError::Account(a) => a.into(),
            DismissalError::NotDefaultAdmin => Problem::new(
                StatusCode::FORBIDDEN,
                "not_default_admin",
                "Only the default administrator can dismiss the enterprise",
                "You are not the default administrator of this enterprise.",
            ),
            DismissalError::NotActive => Problem::new(
                StatusCode::CONFLICT,
                "enterprise_not_active",
                "No active enterprise",
                "There is no active enterprise to dismiss: none, or it is already dismissed or being dismissed.",
            ),
            DismissalError::Blocked(blockers) => blockers_problem(blockers),
            DismissalError::TokenInvalid => token_invalid(),
            DismissalError::Internal(e) => e.into(),
        }
    }
}

impl From<crate::handover::HandoverError> for Problem {
    fn from(e: crate::handover::HandoverError) -> Self {
        use crate::handover::HandoverError;
        match e {
            HandoverError::Invalid(detail) => Problem::invalid_request(detail),
            HandoverError::Account(a) => a.into(),
            HandoverError::Code(c) => c.into(),
            HandoverError::TokenInvalid => token_invalid(),
            HandoverError::NotAuthorized => Problem::new(
                StatusCode::FORBIDDEN,
                "not_authorized",
                "Not allowed to hand over this account",
                "Only the account itself, or an administrator of its enterprise above it, can hand it over.",
            ),
            HandoverError::InProgress => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "resend_too_soon",
                "A handover of this account is under way",
                "Wait until the handover under way has finished, then try again.",
            )
            .retry_after(crate::store::jobs::LEASE_SECONDS),
            HandoverError::Contended => busy(),
            HandoverError::Internal(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_store_is_503_busy_with_retry_after_in_every_operation() {
        let busy = || StoreError::Busy("transaction cancelled: TransactionConflict".into());
        let problems: Vec<Problem> = vec![
            busy().into(),
            AccountError::from(busy()).into(),
            CodeError::from(busy()).into(),
            TokenError::from(busy()).into(),
            DeletionError::from(busy()).into(),
            DismissalError::from(busy()).into(),
            crate::handover::HandoverError::from(busy()).into(),
            crate::handover::HandoverError::Contended.into(),
        ];
        for p in problems {
            assert_eq!((p.status, p.code), (StatusCode::SERVICE_UNAVAILABLE, "busy"));
            let response = p.into_response();
            assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        }
        let p: Problem = StoreError::Unavailable("boom".into()).into();
        assert_eq!(p.code, "internal");
    }
}
