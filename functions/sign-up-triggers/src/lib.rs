//! The user pool's pre sign-up and post confirmation triggers (contract §9): a sign-up goes
//! through the bundle's rules, and a confirmed pool user becomes an account keyed by its `sub`.
//! A refusal is the Lambda error whose message Cognito shows the person
//! ("PreSignUp failed with error This user name is already in use.").

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use aws_lambda_events::event::cognito::{
    CognitoEventUserPoolsPostConfirmation, CognitoEventUserPoolsPostConfirmationTriggerSource,
    CognitoEventUserPoolsPreSignup,
};
use serde_json::Value;
use shared::signup::{ConfirmedUser, SignUpAttempt, SignUpError};
use shared::App;

/// What this function builds at start: it reads and writes the table only; it never calls the pool.
pub const USES: shared::Uses = shared::Uses::TABLE;

/// Which trigger an event is, by its `triggerSource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    PreSignUp,
    PostConfirmation,
    /// A trigger this function is not wired to: answered unchanged.
    Other,
}

fn trigger(event: &Value) -> Trigger {
    match event["triggerSource"].as_str().unwrap_or_default() {
        source if source.starts_with("PreSignUp_") => Trigger::PreSignUp,
        source if source.starts_with("PostConfirmation_") => Trigger::PostConfirmation,
        _ => Trigger::Other,
    }
}

pub async fn handle(app: &App, event: Value) -> Result<Value, shared::lambda_http::Error> {
    match trigger(&event) {
        Trigger::PreSignUp => pre_sign_up(app, event).await,
        Trigger::PostConfirmation => post_confirmation(app, event).await,
        Trigger::Other => Ok(event),
    }
}

/// The answer Cognito reads is the event itself; an error refuses the sign-up with its message.
async fn pre_sign_up(app: &App, event: Value) -> Result<Value, shared::lambda_http::Error> {
    let parsed: CognitoEventUserPoolsPreSignup = serde_json::from_value(event.clone())?;
    let attributes = &parsed.request.user_attributes;
    let attempt = SignUpAttempt {
        username: parsed.cognito_event_user_pools_header.user_name.as_deref().unwrap_or_default(),
        email: attributes.get("email").map(String::as_str),
        phone: attributes.get("phone_number").map(String::as_str),
    };
    app.check_sign_up(&attempt).await.map_err(refusal)?;
    Ok(event)
}

/// Only a confirmed sign-up registers; a confirmed password reset changes nothing here.
async fn post_confirmation(app: &App, event: Value) -> Result<Value, shared::lambda_http::Error> {
    let parsed: CognitoEventUserPoolsPostConfirmation = serde_json::from_value(event.clone())?;
    let source = parsed.cognito_event_user_pools_header.trigger_source.clone();
    if source != Some(CognitoEventUserPoolsPostConfirmationTriggerSource::ConfirmSignUp) {
        return Ok(event);
    }
    let attributes = &parsed.request.user_attributes;
    let attribute = |name: &str| attributes.get(name).map(String::as_str);
    let user = ConfirmedUser {
        sub: attribute("sub").unwrap_or_default(),
        username: parsed.cognito_event_user_pools_header.user_name.as_deref().unwrap_or_default(),
        email: attribute("email"),
        phone: attribute("phone_number"),
        name: attribute("name"),
        locale: attribute("locale"),
    };
    app.register_confirmed_user(&user).await.map_err(refusal)?;
    tracing::info!(account = %user.sub, "pool user registered");
    Ok(event)
}

/// The person reads a refusal as it is; a failure of the table only as a retryable error, never its details.
fn refusal(error: SignUpError) -> shared::lambda_http::Error {
    match error {
        SignUpError::Refused(refused) => refused.to_string().into(),
        other => {
            tracing::error!(error = %other, "sign-up trigger failed");
            "The sign-up could not be completed; try again.".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn triggers_are_told_apart_by_their_source() {
        assert_eq!(trigger(&json!({"triggerSource": "PreSignUp_SignUp"})), Trigger::PreSignUp);
        assert_eq!(trigger(&json!({"triggerSource": "PreSignUp_AdminCreateUser"})), Trigger::PreSignUp);
        assert_eq!(trigger(&json!({"triggerSource": "PostConfirmation_ConfirmSignUp"})), Trigger::PostConfirmation);
        assert_eq!(trigger(&json!({"triggerSource": "CustomMessage_SignUp"})), Trigger::Other);
        assert_eq!(trigger(&json!({})), Trigger::Other);
    }
}
