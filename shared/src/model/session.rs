//! The caller's sign-in as far as this bundle can judge it from the JWT's times,
//! and whether an account's last handover ended it.

/// How far a JWT's `iat` or `auth_time` may lie ahead of this function's clock: the identity
/// provider's clock and Lambda's drift apart by seconds, never by a minute (docs/api.md#sessions).
pub const CLOCK_SKEW_SECONDS: i64 = 60;

/// The caller's sign-in, as far as this bundle can judge it from the JWT's times.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Session {
    /// The `iat` claim in Unix seconds: when this token was issued; `None` when the JWT has none.
    pub issued_at: Option<i64>,
    /// The `auth_time` claim: when the person signed in. A refreshed token keeps it and gets a new `iat`.
    pub signed_in_at: Option<i64>,
}

/// A JWT time claim this bundle refuses, as API Gateway's authorizer would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionTimeError {
    #[error("the {0} claim is not a time")]
    Malformed(&'static str),
    #[error("the {0} claim lies in the future")]
    InTheFuture(&'static str),
}

impl Session {
    /// Signed in, or issued, at or before the account's last handover (or unknowably when): no
    /// longer the holder's session. The claims have whole seconds only, so a JWT of the handover's
    /// own second may predate it and is refused too.
    pub fn revoked_by(self, sessions_revoked_at: Option<i64>) -> bool {
        match (sessions_revoked_at, self.since()) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(revoked), Some(since)) => since <= revoked,
        }
    }

    /// The earliest of `iat` and `auth_time`: the session holds only if this is after the last
    /// handover. `None` without `iat`, which no handover lets through.
    pub fn since(self) -> Option<i64> {
        let issued = self.issued_at?;
        Some(self.signed_in_at.map_or(issued, |signed_in| signed_in.min(issued)))
    }

    /// From the `iat` and `auth_time` claims as API Gateway hands them over: strings
    /// (`"1764547200"`; a JSON number may also be written with a fraction). A claim that is
    /// present must be a time no later than `now` plus [`CLOCK_SKEW_SECONDS`].
    pub fn from_claims(iat: Option<&str>, auth_time: Option<&str>, now: i64) -> Result<Self, SessionTimeError> {
        let time = |claim: &'static str, value: Option<&str>| -> Result<Option<i64>, SessionTimeError> {
            let Some(value) = value else { return Ok(None) };
            let at = unix_seconds(value).ok_or(SessionTimeError::Malformed(claim))?;
            if at > now.saturating_add(CLOCK_SKEW_SECONDS) {
                return Err(SessionTimeError::InTheFuture(claim));
            }
            Ok(Some(at))
        };
        Ok(Self { issued_at: time("iat", iat)?, signed_in_at: time("auth_time", auth_time)? })
    }
}

/// Whole Unix seconds from a NumericDate claim (RFC 7519 §2), or `None` if it is not one.
fn unix_seconds(claim: &str) -> Option<i64> {
    let claim = claim.trim();
    claim.parse::<i64>().ok().or_else(|| {
        let f = claim.parse::<f64>().ok().filter(|f| f.is_finite() && f.abs() < 1e15)?;
        Some(f.floor() as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_from_before_the_last_handover_or_without_iat_is_revoked() {
        let now = 1_764_547_300;
        let at = |s: &str| Session::from_claims(Some(s), None, now).unwrap();
        assert_eq!(at("1764547200").issued_at, Some(1_764_547_200));
        assert_eq!(at("1764547200.9").issued_at, Some(1_764_547_200));
        assert!(!at("100").revoked_by(None));
        assert!(!Session::default().revoked_by(None));
        assert!(at("99").revoked_by(Some(100)));
        assert!(at("100").revoked_by(Some(100)));
        assert!(!at("101").revoked_by(Some(100)));
        assert!(Session::default().revoked_by(Some(100)));
    }

    #[test]
    fn a_refreshed_token_keeps_the_sign_in_of_before_the_handover() {
        let now = 1_000;
        let refreshed = Session::from_claims(Some("500"), Some("90"), now).unwrap();
        assert!(refreshed.revoked_by(Some(100)), "auth_time before the handover, iat after it");
        assert!(Session::from_claims(Some("500"), Some("100"), now).unwrap().revoked_by(Some(100)));
        assert!(!Session::from_claims(Some("500"), Some("101"), now).unwrap().revoked_by(Some(100)));
        assert!(!refreshed.revoked_by(None));
    }

    #[test]
    fn malformed_or_future_times_are_refused() {
        let now = 1_000;
        let from = |iat: Option<&str>, auth: Option<&str>| Session::from_claims(iat, auth, now);
        assert_eq!(from(Some("soon"), None), Err(SessionTimeError::Malformed("iat")));
        assert_eq!(from(Some("1000"), Some("")), Err(SessionTimeError::Malformed("auth_time")));
        assert_eq!(from(Some("NaN"), None), Err(SessionTimeError::Malformed("iat")));
        assert_eq!(from(Some("1e300"), None), Err(SessionTimeError::Malformed("iat")));
        assert_eq!(from(Some("1061"), None), Err(SessionTimeError::InTheFuture("iat")));
        assert_eq!(from(Some("1000"), Some("1061")), Err(SessionTimeError::InTheFuture("auth_time")));
        assert!(from(Some("1060"), Some("1060")).is_ok(), "within the skew");
        assert_eq!(from(None, None), Ok(Session::default()));
    }
}
