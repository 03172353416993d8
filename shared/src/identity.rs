//! The platform's sign-in (contract §9): with `IDENTITY_PROVIDER=cognito` the user pool
//! `USER_POOL_ID` follows the account. This is the port: one call per thing the pool is
//! told, each answering whether it was done or the user was already gone (which counts as
//! done: a repeated step after a crash finds the user deleted). Only the `Admin…`
//! operations the functions' IAM grants are used (infra/template.yaml).

use crate::model::ids::{EmailAddress, PhoneNumber};
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, ProviderUserIdentifierType, SmsMfaSettingsType, SoftwareTokenMfaSettingsType,
};
use aws_sdk_cognitoidentityprovider::Client;

/// Which sign-in the bundle keeps in step (`IDENTITY_PROVIDER`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IdentityProvider {
    /// The platform's sign-in is not told.
    #[default]
    None,
    /// The Cognito user pool of that id: the account id is the pool user's `sub`.
    Cognito { user_pool_id: String },
}

impl IdentityProvider {
    pub fn is_cognito(&self) -> bool {
        matches!(self, Self::Cognito { .. })
    }
}

/// The pool user's name: the account's `username` (the pool signs in by it, §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUsername(String);

impl PoolUsername {
    /// The account's pool user: its `username`, else its id (the `sub`, which Cognito also takes).
    pub fn of(account: &crate::model::account::Account) -> Self {
        Self(account.username.as_ref().map_or_else(|| account.id.as_str(), |u| u.as_str()).to_string())
    }

    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a call to the pool ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolOutcome {
    Done,
    /// The pool has no such user: nothing is left to do there.
    UserGone,
}

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Only the service's error code is kept: its message may quote a user name or address.
    #[error("the user pool did not answer {operation} ({code})")]
    Unavailable { operation: &'static str, code: String },
    /// A wrong `crate::Uses`: a bug, never the service's.
    #[error("this function builds no Cognito client (its Uses say it never calls the pool)")]
    NoClient,
}

/// The designated person's details the pool user takes at a handover.
#[derive(Debug, Clone)]
pub struct PoolContacts<'a> {
    pub email: &'a EmailAddress,
    pub phone: Option<&'a PhoneNumber>,
    pub name: Option<&'a str>,
    /// No new phone, and the account had one: the pool user's is removed.
    pub remove_phone: bool,
}

/// The user pool, or nothing to call (no client where `crate::Uses::pool` is false).
#[derive(Debug, Clone, Default)]
pub struct UserPool {
    client: Option<(Client, String)>,
}

fn outcome<T, E: ProvideErrorMetadata, R>(
    operation: &'static str,
    result: Result<T, SdkError<E, R>>,
) -> Result<PoolOutcome, PoolError> {
    match result {
        Ok(_) => Ok(PoolOutcome::Done),
        Err(error) => match error.code() {
            Some("UserNotFoundException") => Ok(PoolOutcome::UserGone),
            code => {
                Err(PoolError::Unavailable { operation, code: code.map_or_else(|| sdk_failure(&error), String::from) })
            }
        },
    }
}

/// An error without a service code: the kind of transport failure, never its text.
fn sdk_failure<E, R>(error: &SdkError<E, R>) -> String {
    match error {
        SdkError::TimeoutError(_) => "timeout".into(),
        SdkError::DispatchFailure(_) => "dispatch failure".into(),
        SdkError::ResponseError(_) => "unreadable response".into(),
        SdkError::ConstructionFailure(_) => "request not built".into(),
        _ => "service error".into(),
    }
}

fn attribute(name: &str, value: &str) -> Result<AttributeType, PoolError> {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .map_err(|_| PoolError::Unavailable { operation: "AdminUpdateUserAttributes", code: "attribute".into() })
}

impl UserPool {
    pub fn new(client: Client, user_pool_id: impl Into<String>) -> Self {
        Self { client: Some((client, user_pool_id.into())) }
    }

    /// For a function that never calls the pool: no client is built.
    pub fn none() -> Self {
        Self { client: None }
    }

    fn client(&self) -> Result<(&Client, &str), PoolError> {
        self.client.as_ref().map(|(c, p)| (c, p.as_str())).ok_or(PoolError::NoClient)
    }

    /// AdminUserGlobalSignOut: every refresh token revoked; the person may sign in again with their password.
    pub async fn sign_out_everywhere(&self, user: &PoolUsername) -> Result<PoolOutcome, PoolError> {
        let (client, pool) = self.client()?;
        let sent = client.admin_user_global_sign_out().user_pool_id(pool).username(user.as_str()).send().await;
        outcome("AdminUserGlobalSignOut", sent)
    }

    /// AdminDeleteUser: the user name, email and phone may sign up again in the pool.
    pub async fn delete_user(&self, user: &PoolUsername) -> Result<PoolOutcome, PoolError> {
        let (client, pool) = self.client()?;
        let sent = client.admin_delete_user().user_pool_id(pool).username(user.as_str()).send().await;
        outcome("AdminDeleteUser", sent)
    }

    /// AdminUpdateUserAttributes (and AdminDeleteUserAttributes for a phone no longer given): the email
    /// marked verified, since the handover's code proved it; the phone unverified, since nothing did.
    pub async fn rebind_contacts(&self, user: &PoolUsername, to: &PoolContacts<'_>) -> Result<PoolOutcome, PoolError> {
        let (client, pool) = self.client()?;
        let mut attributes = vec![attribute("email", to.email.as_str())?, attribute("email_verified", "true")?];
        if let Some(phone) = to.phone {
            attributes.push(attribute("phone_number", phone.as_str())?);
            attributes.push(attribute("phone_number_verified", "false")?);
        }
        if let Some(name) = to.name {
            attributes.push(attribute("name", name)?);
        }
        let sent = client
            .admin_update_user_attributes()
            .user_pool_id(pool)
            .username(user.as_str())
            .set_user_attributes(Some(attributes))
            .send()
            .await;
        let done = outcome("AdminUpdateUserAttributes", sent)?;
        if !to.remove_phone || done == PoolOutcome::UserGone {
            return Ok(done);
        }
        let sent = client
            .admin_delete_user_attributes()
            .user_pool_id(pool)
            .username(user.as_str())
            .user_attribute_names("phone_number")
            .send()
            .await;
        match sent {
            // The pool user had no phone (signed up without one): nothing to remove.
            Err(error) if error.code() == Some("InvalidParameterException") => Ok(PoolOutcome::Done),
            sent => outcome("AdminDeleteUserAttributes", sent),
        }
    }

    /// AdminSetUserPassword with a random password nobody is told: the leaving employee's stops working at once.
    pub async fn replace_password(&self, user: &PoolUsername, unknown: &str) -> Result<PoolOutcome, PoolError> {
        let (client, pool) = self.client()?;
        let sent = client
            .admin_set_user_password()
            .user_pool_id(pool)
            .username(user.as_str())
            .password(unknown)
            .permanent(true)
            .send()
            .await;
        outcome("AdminSetUserPassword", sent)
    }

    /// AdminResetUserPassword: the next sign-in must set a new password, by a code sent to the (new) email.
    pub async fn require_password_reset(&self, user: &PoolUsername) -> Result<PoolOutcome, PoolError> {
        let (client, pool) = self.client()?;
        let sent = client.admin_reset_user_password().user_pool_id(pool).username(user.as_str()).send().await;
        outcome("AdminResetUserPassword", sent)
    }

    /// AdminSetUserMFAPreference: SMS and authenticator-app MFA off; the designated person sets up their own.
    pub async fn turn_mfa_off(&self, user: &PoolUsername) -> Result<PoolOutcome, PoolError> {
        let (client, pool) = self.client()?;
        let sent = client
            .admin_set_user_mfa_preference()
            .user_pool_id(pool)
            .username(user.as_str())
            .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(false).preferred_mfa(false).build())
            .software_token_mfa_settings(
                SoftwareTokenMfaSettingsType::builder().enabled(false).preferred_mfa(false).build(),
            )
            .send()
            .await;
        outcome("AdminSetUserMFAPreference", sent)
    }

    /// AdminGetUser's `identities` attribute, then AdminDisableProviderForUser for each linked
    /// third-party identity. How many were unlinked (none for a user already gone).
    pub async fn unlink_identities(&self, user: &PoolUsername) -> Result<u64, PoolError> {
        let (client, pool) = self.client()?;
        let read = client.admin_get_user().user_pool_id(pool).username(user.as_str()).send().await;
        let read = match read {
            Ok(read) => read,
            // A user already gone has nothing linked; any other failure is the step's.
            Err(error) => return outcome("AdminGetUser", Err::<(), _>(error)).map(|_| 0),
        };
        let linked = read
            .user_attributes()
            .iter()
            .find(|a| a.name() == "identities")
            .and_then(|a| a.value())
            .map(linked_identities)
            .unwrap_or_default();
        for (provider, user_id) in &linked {
            let identity = ProviderUserIdentifierType::builder()
                .provider_name(provider)
                .provider_attribute_name("Cognito_Subject")
                .provider_attribute_value(user_id)
                .build();
            let sent = client.admin_disable_provider_for_user().user_pool_id(pool).user(identity).send().await;
            outcome("AdminDisableProviderForUser", sent)?;
        }
        Ok(linked.len() as u64)
    }
}

/// The `identities` attribute as Cognito writes it: a JSON array of `{"providerName", "userId", ...}`.
fn linked_identities(value: &str) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(value) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| Some((i.get("providerName")?.as_str()?.to_string(), i.get("userId")?.as_str()?.to_string())))
        .collect()
}

/// A password nobody knows that meets any pool's policy (upper, lower, digit, symbol; 40 characters).
pub fn unknown_password() -> Result<String, crate::crypto::RandomError> {
    Ok(format!("Aa1!{}", crate::crypto::hex(&crate::crypto::random_bytes::<18>()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linked_identities_are_read_from_cognitos_attribute() {
        let value = r#"[{"userId":"1093","providerName":"Google","providerType":"Google","primary":false}]"#;
        assert_eq!(linked_identities(value), [("Google".to_string(), "1093".to_string())]);
        assert!(linked_identities("not json").is_empty());
        assert!(unknown_password().unwrap().len() >= 40);
    }
}
