//! The HTTP edge: the caller from the authorizer's claims, the body parsed
//! strictly, and the one place where every error becomes problem+json (RFC 9457).

use crate::accounts::AccountError;
use crate::caller::Caller;
use crate::cancellation::CancellationError;
use crate::codes::{CodeError, MalformedCode};
use crate::deletion::DeletionError;
use crate::enterprises::DismissalError;
use crate::internal::Internal;
use crate::locale::problems::Message;
use crate::model::ids::AccountId;
use crate::model::locale::Locale;
use crate::model::purpose::UnsupportedPurpose;
use crate::model::session::Session;
use crate::prerequisites::Blocker;
use crate::store::StoreError;
use crate::tokens::{MalformedToken, TokenError};
use crate::App;
use lambda_http::http::{header, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Largest body a function reads (docs/api.md#requests-and-responses).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An error as the client sees it; its `title` and `detail` are written in
/// the caller's language when it is answered (`locale::problems`).
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Message,
    pub retry_after: Option<i64>,
    pub extra: Map<String, Value>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, message: Message) -> Self {
        Self { status, code, message, retry_after: None, extra: Map::new() }
    }

    fn retry_after(mut self, seconds: i64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    fn with(mut self, member: &str, value: Value) -> Self {
        self.extra.insert(member.to_string(), value);
        self
    }

    pub fn invalid_request(message: Message) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", Message::Internal)
    }

    pub fn into_response(self, locale: Locale) -> Response<Body> {
        let mut body = json!({
            "type": "about:blank",
            "title": self.message.title(locale),
            "status": self.status.as_u16(),
            "code": self.code,
            "detail": self.message.detail(locale),
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

/// The caller, from `requestContext.authorizer.jwt.claims`. No `sub`, or a sign-in time that is
/// not one or lies after `now` (what API Gateway's authorizer refuses too): 401.
pub fn caller(request: &Request, now: i64) -> Result<Caller, Problem> {
    let claims = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).map(|jwt| &jwt.claims)
        }
        _ => None,
    };
    let unauthenticated = || Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", Message::Unauthenticated);
    let claims = claims.ok_or_else(unauthenticated)?;
    let account = claims.get("sub").and_then(|s| AccountId::parse(s)).ok_or_else(unauthenticated)?;
    // API Gateway flattens a list-valued `aud` to "[a b]"; the first entry names the client.
    let client_id = ["client_id", "azp", "aud"]
        .iter()
        .find_map(|c| claims.get(*c))
        .map(|v| v.trim_matches(|c| c == '[' || c == ']').split_whitespace().next().unwrap_or_default().to_string())
        .filter(|v| !v.is_empty());
    let times = |claim: &str| claims.get(claim).map(String::as_str);
    let session = Session::from_claims(times("iat"), times("auth_time"), now)
        .map_err(|_| Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", Message::SessionTimeInvalid))?;
    Ok(Caller { account, client_id, session, language: asked_language(request) })
}

/// The language the request asks for in `Accept-Language`, if this bundle writes it.
pub fn asked_language(request: &Request) -> Option<Locale> {
    request.headers().get(header::ACCEPT_LANGUAGE)?.to_str().ok().and_then(Locale::from_accept_language)
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
    arn.ok_or_else(|| Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", Message::IamSignatureRequired))
}

/// The body as `T`: a JSON object, no unknown fields, at most 64 KiB.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, Problem> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => b"",
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Problem::invalid_request(Message::BodyTooLarge(MAX_BODY_BYTES / 1024)));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::invalid_request(Message::BodyMissing));
    }
    // An object first: serde's derived struct visitor would also take `["delete_account"]`, field by field.
    let object: Map<String, Value> = serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => Problem::invalid_request(Message::BodyNotJson),
            Category::Data => Problem::invalid_request(Message::BodyNotObject),
        }
    })?;
    serde_json::from_value(Value::Object(object))
        // serde's words name the field at fault; the position adds nothing for a one-line body.
        .map_err(|e| Problem::invalid_request(Message::BodyMismatch(strip_position(&e.to_string()).into())))
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
        Err(_) => Problem::internal().into_response(Locale::default()),
    }
}

/// The response for a handler's result; every problem is logged by code, never
/// with what the client sent, and answered in the language the request asks
/// for, else the caller's account's `locale` (one read, on this path only).
pub async fn respond(app: &App, request: &Request, result: Result<Response<Body>, Problem>) -> Response<Body> {
    match result {
        Ok(response) => response,
        Err(problem) => {
            if problem.status.is_server_error() {
                tracing::error!(code = problem.code, status = problem.status.as_u16(), "request failed");
            } else {
                tracing::info!(code = problem.code, status = problem.status.as_u16(), "request refused");
            }
            let locale = match asked_language(request) {
                Some(locale) => locale,
                None => match caller(request, app.clock.now()) {
                    Ok(caller) => app.account_locale(&caller.account).await,
                    Err(_) => Locale::default(),
                },
            };
            problem.into_response(locale)
        }
    }
}

/// Logs an internal failure (the detail stays in the log) and hides it from the client.
fn internal(error: &dyn std::fmt::Display) -> Problem {
    tracing::error!(%error, "internal error");
    Problem::internal()
}

fn blockers_problem(blockers: Vec<Blocker>) -> Problem {
    let kinds = blockers.iter().map(|b| b.kind.as_str().to_string()).collect();
    Problem::new(StatusCode::CONFLICT, "prerequisites_unmet", Message::PrerequisitesUnmet(kinds))
        .with("blockers", serde_json::to_value(&blockers).unwrap_or(Value::Null))
}

/// Nothing was done; the same request may simply be sent again.
fn busy() -> Problem {
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", Message::Busy).retry_after(BUSY_RETRY_AFTER_SECONDS)
}

/// Long enough for the concurrent transaction to have finished.
const BUSY_RETRY_AFTER_SECONDS: i64 = 1;

fn token_invalid() -> Problem {
    Problem::new(StatusCode::FORBIDDEN, "token_invalid", Message::TokenInvalid)
}

impl From<UnsupportedPurpose> for Problem {
    fn from(e: UnsupportedPurpose) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "unsupported_purpose", Message::UnsupportedPurpose(e.to_string()))
    }
}

impl From<MalformedCode> for Problem {
    fn from(e: MalformedCode) -> Self {
        Problem::invalid_request(Message::Invalid(e.to_string()))
    }
}

impl From<MalformedToken> for Problem {
    fn from(e: MalformedToken) -> Self {
        Problem::invalid_request(Message::Invalid(e.to_string()))
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
            Internal::Random(_) | Internal::Interrupted(_) | Internal::Keys(_) => internal(&e),
        }
    }
}

impl From<AccountError> for Problem {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::NotFound => {
                Problem::new(StatusCode::NOT_FOUND, "account_not_found", Message::AccountNotFound)
            }
            AccountError::Deleted => Problem::new(StatusCode::GONE, "account_deleted", Message::AccountDeleted),
            AccountError::EmailNotBound => {
                Problem::new(StatusCode::CONFLICT, "email_not_bound", Message::EmailNotBound)
            }
            AccountError::IdentifierTaken { kind, .. } => {
                Problem::new(StatusCode::CONFLICT, "identifier_taken", Message::IdentifierTaken(kind.to_string()))
            }
            AccountError::SessionRevoked => {
                Problem::new(StatusCode::UNAUTHORIZED, "session_revoked", Message::SessionRevoked)
            }
            AccountError::HandoverPending => {
                Problem::new(StatusCode::CONFLICT, "handover_pending", Message::HandoverPending)
            }
            AccountError::DeletionNotScheduled => {
                Problem::new(StatusCode::CONFLICT, "deletion_not_scheduled", Message::DeletionNotScheduled)
            }
            AccountError::Internal(e) => e.into(),
            AccountError::AlreadyExists(_) => internal(&e),
        }
    }
}

impl From<CodeError> for Problem {
    fn from(e: CodeError) -> Self {
        match e {
            CodeError::Account(a) => a.into(),
            CodeError::ResendTooSoon { retry_after } => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "resend_too_soon", Message::ResendTooSoon { retry_after })
                    .retry_after(retry_after)
            }
            CodeError::DailyLimitReached { retry_after } => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "daily_limit_reached", Message::DailyLimitReached)
                    .retry_after(retry_after)
            }
            CodeError::MailUnavailable => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "mail_unavailable", Message::MailUnavailable)
            }
            CodeError::Incorrect { attempts_left } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "code_incorrect",
                Message::CodeIncorrect { attempts_left },
            )
            .with("attempts_left", json!(attempts_left)),
            CodeError::Expired => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "code_expired", Message::CodeExpired),
            CodeError::Locked { retry_after } => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "verification_locked", Message::VerificationLocked)
                    .retry_after(retry_after)
            }
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

impl From<crate::exports::ExportError> for Problem {
    fn from(e: crate::exports::ExportError) -> Self {
        use crate::exports::ExportError;
        match e {
            ExportError::Account(a) => a.into(),
            ExportError::TokenInvalid => token_invalid(),
            ExportError::NotFound => Problem::new(StatusCode::NOT_FOUND, "export_not_found", Message::ExportNotFound),
            ExportError::Bucket(_) => internal(&e),
            ExportError::Internal(e) => e.into(),
        }
    }
}

impl From<DismissalError> for Problem {
    fn from(e: DismissalError) -> Self {
        match e {
            DismissalError::Account(a) => a.into(),
            DismissalError::NotDefaultAdmin => {
                Problem::new(StatusCode::FORBIDDEN, "not_default_admin", Message::NotDefaultAdmin)
            }
            DismissalError::NotActive => {
                Problem::new(StatusCode::CONFLICT, "enterprise_not_active", Message::EnterpriseNotActive)
            }
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
            HandoverError::Invalid(detail) => Problem::invalid_request(Message::Invalid(detail.to_string())),
            HandoverError::Account(a) => a.into(),
            HandoverError::Code(c) => c.into(),
            HandoverError::TokenInvalid => token_invalid(),
            HandoverError::NotAuthorized => {
                Problem::new(StatusCode::FORBIDDEN, "not_authorized", Message::NotAuthorized)
            }
            HandoverError::InProgress => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "resend_too_soon", Message::HandoverInProgress)
                    .retry_after(crate::model::job::LEASE_SECONDS)
            }
            HandoverError::Contended => busy(),
            HandoverError::Job(e) => internal(&e),
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
            crate::exports::ExportError::from(busy()).into(),
            crate::handover::HandoverError::from(busy()).into(),
            crate::handover::HandoverError::Contended.into(),
        ];
        for p in problems {
            assert_eq!((p.status, p.code), (StatusCode::SERVICE_UNAVAILABLE, "busy"));
            let response = p.into_response(Locale::En);
            assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        }
        let p: Problem = StoreError::Unavailable("boom".into()).into();
        assert_eq!(p.code, "internal");
    }
}
