//! The one builder of the events the functions take, for the tests, the bench
//! and the scripts (`devtool event` prints them): API Gateway HTTP API
//! (payload 2.0) events as a JWT authorizer hands them on, and the
//! EventBridge schedule's event. The format is in docs/api.md#events.

use serde_json::{json, Value};

/// The HTTP functions of docs/api.md#functions, one per route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    SendCode,
    VerifyCode,
    CheckPrerequisites,
    DismissEnterprise,
    DeleteAccount,
    HandoverAccount,
    /// The handover function's second route.
    ConfirmHandover,
    CancelDeletion,
    /// `POST /v1/account/data-export`.
    ExportData,
    /// The export function's second route: `GET /v1/account/data-export/{export_id}`.
    ExportStatus,
}

impl Function {
    pub const ALL: [Function; 10] = [
        Self::SendCode,
        Self::VerifyCode,
        Self::CheckPrerequisites,
        Self::DismissEnterprise,
        Self::DeleteAccount,
        Self::HandoverAccount,
        Self::ConfirmHandover,
        Self::CancelDeletion,
        Self::ExportData,
        Self::ExportStatus,
    ];

    pub fn route(self) -> (&'static str, &'static str) {
        match self {
            Self::SendCode => ("POST", "/v1/verification-codes"),
            Self::VerifyCode => ("POST", "/v1/verification-codes/verify"),
            Self::CheckPrerequisites => ("GET", "/v1/account/deletion-prerequisites"),
            Self::DismissEnterprise => ("POST", "/v1/enterprise/dismissal"),
            Self::DeleteAccount => ("POST", "/v1/account/deletion"),
            Self::HandoverAccount => ("POST", "/v1/account/handover"),
            Self::ConfirmHandover => ("POST", "/v1/account/handover/confirm"),
            Self::CancelDeletion => ("POST", "/v1/account/deletion/cancellation"),
            Self::ExportData => ("POST", "/v1/account/data-export"),
            Self::ExportStatus => ("GET", "/v1/account/data-export/{export_id}"),
        }
    }

    /// The Lambda function (binary) that serves the route.
    pub fn name(self) -> &'static str {
        match self {
            Self::SendCode => "send-code",
            Self::VerifyCode => "verify-code",
            Self::CheckPrerequisites => "check-prerequisites",
            Self::DismissEnterprise => "dismiss-enterprise",
            Self::DeleteAccount => "delete-account",
            Self::HandoverAccount | Self::ConfirmHandover => "handover-account",
            Self::CancelDeletion => "cancel-deletion",
            Self::ExportData | Self::ExportStatus => "export-data",
        }
    }

    /// The first route the function of this name serves.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// An event for this route; see [`http`].
    pub fn event(self, sub: Option<&str>, client_id: Option<&str>, iat: Option<&str>, body: Option<&str>) -> Value {
        let (method, path) = self.route();
        http(method, path, sub, client_id, iat, body)
    }

    /// The event with the route's `{name}` path parameter(s) filled in, as API Gateway hands them over.
    pub fn with_path_parameters(mut event: Value, parameters: &[(&str, &str)]) -> Value {
        let mut path = event["rawPath"].as_str().unwrap_or_default().to_string();
        for (name, value) in parameters {
            path = path.replace(&format!("{{{name}}}"), value);
            event["pathParameters"][*name] = json!(value);
        }
        event["rawPath"] = json!(path);
        event["requestContext"]["http"]["path"] = json!(path);
        event
    }
}

/// An API Gateway HTTP API (payload 2.0) event. `sub` is the caller's account,
/// `client_id` the OAuth client and `iat` when the JWT was issued (seconds), as
/// JWT claims; with no `sub` and no `client_id` there is no authorizer in the
/// event (a route API Gateway would not have let through).
pub fn http(
    method: &str,
    path: &str,
    sub: Option<&str>,
    client_id: Option<&str>,
    iat: Option<&str>,
    body: Option<&str>,
) -> Value {
    let route = format!("{method} {path}");
    let mut context = json!({
        "accountId": "123456789012", "apiId": "local", "domainName": "localhost", "domainPrefix": "localhost",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "journeys"},
        "requestId": "journeys", "routeKey": route, "stage": "$default",
        "time": "23/Nov/2026:01:00:00 +0000", "timeEpoch": 0,
    });
    if sub.is_some() || client_id.is_some() {
        // API Gateway hands every claim over as a string.
        let mut claims = json!({"iss": "https://issuer.example.com", "token_use": "access"});
        if let Some(sub) = sub {
            claims["sub"] = json!(sub);
        }
        if let Some(client_id) = client_id {
            claims["client_id"] = json!(client_id);
        }
        if let Some(iat) = iat {
            claims["iat"] = json!(iat);
        }
        context["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "user-agent": "journeys", "host": "localhost"},
        "requestContext": context,
        "body": body,
        "isBase64Encoded": false
    })
}

/// The event an EventBridge schedule rule sends (`cleanup` reads none of it).
pub fn scheduled() -> Value {
    json!({
        "version": "0", "id": "journeys", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-23T01:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/cleanup"], "detail": {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_http_event_is_one_lambda_http_reads_with_its_caller() {
        for function in Function::ALL {
            let event = function.event(Some("alice"), Some("web-console"), Some("1764547200"), Some("{}"));
            let event = Function::with_path_parameters(event, &[("export_id", "exp_1")]);
            let request = lambda_http::request::from_str(&event.to_string()).expect("a valid event");
            assert_eq!(request.uri().path(), function.route().1.replace("{export_id}", "exp_1"));
        }
        let anonymous = http("GET", "/", None, None, None, None);
        assert!(anonymous["requestContext"].get("authorizer").is_none());
    }
}
