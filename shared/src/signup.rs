//! Sign-up through the bundle's rules (contract §9): the user pool's pre sign-up trigger asks
//! whether a user name, email and phone may be taken, and its post confirmation trigger
//! registers the account, keyed by the pool user's `sub`, by the same path as the fixtures
//! (`App::register_account`: profile and claims in one transaction).

use crate::accounts::AccountError;
use crate::clock::rfc3339;
use crate::internal::{internal_from, Internal};
use crate::model::account::{NewAccount, Role};
use crate::model::ids::{AccountId, EmailAddress, Identifier, InvalidIdentifier, PhoneNumber, Username};
use crate::model::locale::Locale;
use crate::store::AccountStore;
use crate::App;

/// What a person asks the pool for, as the trigger hands it over.
#[derive(Debug, Clone, Default)]
pub struct SignUpAttempt<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
}

/// A confirmed pool user, as the post confirmation trigger hands it over.
#[derive(Debug, Clone, Default)]
pub struct ConfirmedUser<'a> {
    pub sub: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub name: Option<&'a str>,
    pub locale: Option<&'a str>,
}

/// Why a sign-up is refused; its `Display` is the message Cognito shows the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignUpRefusal {
    #[error("The {0} is not valid: {1}.")]
    Malformed(&'static str, &'static str),
    #[error("This {0} is already in use.")]
    Taken(&'static str),
    #[error("This {0} belonged to a deleted account and can be used again from {1}.")]
    Quarantined(&'static str, String),
}

#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    #[error(transparent)]
    Refused(#[from] SignUpRefusal),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(SignUpError);

/// The words a person reads for a kind of identifier (`Identifier::kind`, `InvalidIdentifier::field`).
fn noun(kind: &str) -> &'static str {
    match kind {
        "username" => "user name",
        "email" => "email address",
        _ => "phone number",
    }
}

fn malformed(e: InvalidIdentifier) -> SignUpRefusal {
    SignUpRefusal::Malformed(noun(e.field), e.reason)
}

/// The identifiers a sign-up asks for, compared as the claims are (NFKC, case folding, E.164).
fn identifiers(username: &str, email: Option<&str>, phone: Option<&str>) -> Result<Vec<Identifier>, SignUpRefusal> {
    let mut ids = vec![Identifier::Username(Username::parse(username).map_err(malformed)?)];
    if let Some(email) = email.filter(|e| !e.is_empty()) {
        ids.push(Identifier::Email(EmailAddress::parse(email).map_err(malformed)?));
    }
    if let Some(phone) = phone.filter(|p| !p.is_empty()) {
        ids.push(Identifier::Phone(PhoneNumber::parse(phone).map_err(malformed)?));
    }
    Ok(ids)
}

impl App {
    /// The pre sign-up rule: refused when a live account holds the user name, email or phone, or a
    /// deletion's quarantine still keeps it (`IDENTIFIER_QUARANTINE_SECONDS`).
    pub async fn check_sign_up(&self, attempt: &SignUpAttempt<'_>) -> Result<(), SignUpError> {
        let now = self.clock.now();
        for id in identifiers(attempt.username, attempt.email, attempt.phone)? {
            let Some(claim) = self.store.claim(&id).await? else { continue };
            match (claim.owner, claim.free_at) {
                (Some(_), _) => return Err(SignUpRefusal::Taken(noun(id.kind())).into()),
                (None, Some(free_at)) if free_at > now => {
                    return Err(SignUpRefusal::Quarantined(noun(id.kind()), rfc3339(free_at)).into())
                }
                (None, _) => {}
            }
        }
        Ok(())
    }

    /// The post confirmation step: the account is registered as sign-up registers every account. A
    /// repeated confirmation (Cognito retries a trigger that timed out) finds it there and is done.
    pub async fn register_confirmed_user(&self, user: &ConfirmedUser<'_>) -> Result<(), SignUpError> {
        let id = AccountId::parse(user.sub).ok_or(SignUpRefusal::Malformed("user", "no sub"))?;
        let ids = identifiers(user.username, user.email, user.phone)?;
        let mut account = NewAccount {
            id,
            username: None,
            email: None,
            phone: None,
            name: user.name.filter(|n| !n.trim().is_empty()).map(String::from),
            enterprise_id: None,
            role: Role::Individual,
            locale: user.locale.and_then(Locale::parse).unwrap_or_default(),
        };
        for id in ids {
            match id {
                Identifier::Username(u) => account.username = Some(u),
                Identifier::Email(e) => account.email = Some(e),
                Identifier::Phone(p) => account.phone = Some(p),
            }
        }
        match self.register_account(&account).await {
            Ok(()) | Err(AccountError::AlreadyExists(_)) => Ok(()),
            Err(AccountError::IdentifierTaken { kind, .. }) => Err(SignUpRefusal::Taken(noun(kind)).into()),
            Err(other) => Err(other.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_compared_as_claims_are() {
        let ids = identifiers("Alice", Some("Alice@Example.com"), Some("+8613800000001")).unwrap();
        assert_eq!(
            ids.iter().map(Identifier::value).collect::<Vec<_>>(),
            ["alice", "alice@example.com", "+8613800000001"]
        );
        assert_eq!(
            identifiers("bob", Some("Bob <bob@example.com>"), None).unwrap_err().to_string().split(':').next(),
            Some("The email address is not valid")
        );
        assert_eq!(SignUpRefusal::Taken("user name").to_string(), "This user name is already in use.");
    }
}
