//! Who is asking, from the JWT authorizer's claims (never from the body).

use crate::accounts::{Account, AccountError, AccountId};
use crate::config::Config;
use crate::App;

#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountId,
    /// The OAuth client the token was issued to: `client_id`, else `azp`, else `aud`.
    pub client_id: Option<String>,
    pub session: Session,
    /// The language the request asked for (`Accept-Language`), if one this bundle writes.
    pub language: Option<crate::locale::Locale>,
}

/// The caller's sign-in, as far as this bundle can judge it: when its JWT was issued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Session {
    /// The `iat` claim in Unix seconds; `None` when the JWT has none (or an unreadable one).
    pub issued_at: Option<i64>,
}

impl Session {
    /// Signed in before the account's last handover (or unknowably when): no longer the holder's session.
    /// `iat` has whole seconds only, so a JWT of the handover's own second may predate it and is refused too.
    pub fn revoked_by(self, sessions_revoked_at: Option<i64>) -> bool {
        match (sessions_revoked_at, self.issued_at) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(revoked), Some(issued)) => issued <= revoked,
        }
    }

    /// API Gateway hands every claim over as a string (`"1764547200"`); a JSON number may also be written with a fraction.
    pub fn from_iat_claim(claim: Option<&str>) -> Self {
        let issued_at = claim.map(str::trim).and_then(|v| {
            v.parse::<i64>().ok().or_else(|| v.parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| f.floor() as i64))
        });
        Self { issued_at }
    }
}

// Here rather than in accounts.rs: sessions are the caller's, and accounts.rs stays free of them.
impl Account {
    /// The caller's own account, refused to a session from before its last handover.
    pub fn admit(&self, session: Session) -> Result<(), AccountError> {
        if session.revoked_by(self.sessions_revoked_at) {
            Err(AccountError::SessionRevoked)
        } else {
            Ok(())
        }
    }
}

impl App {
    /// The caller's own live account, refused to a session from before its last handover.
    pub async fn live_caller(&self, caller: &Caller) -> Result<Account, AccountError> {
        let account = self.live_account(&caller.account).await?;
        account.admit(caller.session)?;
        Ok(account)
    }
}

impl Caller {
    pub fn new(account: AccountId) -> Self {
        Self { account, client_id: None, session: Session::default(), language: None }
    }

    /// Seed 000: the mobile app may not be used by a default administrator to dismiss or delete.
    pub fn on_mobile_app(&self, config: &Config) -> bool {
        self.client_id.as_ref().is_some_and(|c| config.mobile_client_ids.contains(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_from_before_the_last_handover_or_without_iat_is_revoked() {
        let at = |s: &str| Session::from_iat_claim(Some(s));
        assert_eq!(at("1764547200").issued_at, Some(1_764_547_200));
        assert_eq!(at("1764547200.9").issued_at, Some(1_764_547_200));
        assert_eq!(at("soon").issued_at, None);
        assert!(!at("100").revoked_by(None));
        assert!(!Session::default().revoked_by(None));
        assert!(at("99").revoked_by(Some(100)));
        assert!(at("100").revoked_by(Some(100)));
        assert!(!at("101").revoked_by(Some(100)));
        assert!(Session::default().revoked_by(Some(100)));
    }
}
