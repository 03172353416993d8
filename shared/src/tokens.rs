//! Verification tokens: what a verified code buys, spent by exactly one action.

use crate::config::CodeSecret;
use crate::crypto;
use crate::internal::{internal_from, Internal};
use crate::model::ids::AccountId;
use crate::model::purpose::Purpose;
use crate::secrets::KeysNotRead;
use crate::store::CodeStore;
use crate::App;
use serde::Serialize;

/// 256 random bits as 64 hex digits; only its keyed hash is stored.
pub struct TokenString(String);

#[derive(Debug, thiserror::Error)]
#[error("verification_token must be 64 hexadecimal digits")]
pub struct MalformedToken;

impl TokenString {
    pub fn parse(s: &str) -> Result<Self, MalformedToken> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            Ok(Self(s.to_string()))
        } else {
            Err(MalformedToken)
        }
    }

    pub(crate) fn hash(&self, app: &App) -> Result<String, KeysNotRead> {
        Ok(stored_hash(&app.secrets.current()?.signing, &self.0))
    }

    /// The hash under every key still checking, the signing key's first: a token issued before a rotation stays good.
    pub(crate) fn hashes(&self, app: &App) -> Result<Vec<String>, KeysNotRead> {
        Ok(app.secrets.current()?.checking.iter().map(|key| stored_hash(key, &self.0)).collect())
    }
}

/// The keyed hash a token is stored under.
fn stored_hash(key: &CodeSecret, token: &str) -> String {
    crypto::keyed_hash(key, &["token", token])
}

impl std::fmt::Debug for TokenString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenString(..)")
    }
}

/// The answer to verify-code (docs/api.md#verify-code).
#[derive(Serialize)]
pub struct VerificationToken {
    pub verification_token: String,
    pub purpose: &'static str,
    pub expires_in_seconds: i64,
}

impl std::fmt::Debug for VerificationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerificationToken({}, ..)", self.purpose)
    }
}

impl VerificationToken {
    /// A fresh token and the hash under which it is stored.
    pub(crate) fn generate(app: &App) -> Result<(Self, String), Internal> {
        let token = TokenString(crypto::hex(&crypto::random_bytes::<32>()?));
        let hash = token.hash(app)?;
        Ok((Self { verification_token: token.0, purpose: "", expires_in_seconds: 0 }, hash))
    }

    /// The hash it is stored under, under the signing key.
    pub(crate) fn hash(&self, app: &App) -> Result<String, KeysNotRead> {
        Ok(stored_hash(&app.secrets.current()?.signing, &self.verification_token))
    }

    pub(crate) fn with_lifetime(mut self, purpose: Purpose, seconds: i64) -> Self {
        self.purpose = purpose.as_str();
        self.expires_in_seconds = seconds;
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the verification token is missing, unknown, expired, used, or for another purpose or account")]
    Invalid,
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(TokenError);

impl App {
    /// Spends a token on its own: one conditional delete, so exactly one of
    /// racing consumers succeeds. Actions that must spend the token together
    /// with their own change use the store's transaction patterns instead.
    pub async fn consume_token(
        &self,
        token: &TokenString,
        account: &AccountId,
        purpose: Purpose,
    ) -> Result<(), TokenError> {
        if self.store.consume_token(&token.hash(self)?, account, purpose, self.clock.now()).await? {
            Ok(())
        } else {
            Err(TokenError::Invalid)
        }
    }
}
