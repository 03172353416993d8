//! The key that hashes codes and tokens. Locally and in tests it is `CODE_SECRET`;
//! on AWS the function configuration holds only `CODE_SECRET_ID`, and the value is
//! read from Secrets Manager at start-up and again every few minutes, so a rotation
//! needs no redeploy. Both the current and the previous version check codes and
//! tokens; a new version signs only once every instance has had time to read it,
//! so a rotation loses no live code.

use crate::config::{CodeSecret, CodeSecrets, ConfigError};
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_secretsmanager::Client;
use std::sync::{Arc, RwLock};

/// How often a running instance reads the secret again.
pub const REFRESH_SECONDS: i64 = 300;
/// How long a new version only checks before it signs: every instance has read it by then.
pub const SETTLE_SECONDS: i64 = 2 * REFRESH_SECONDS;

/// Where the secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    Environment,
    SecretsManager {
        client: Client,
        secret_id: String,
    },
    /// Not read: the function hashes no code or token (`crate::Uses::keys`).
    Unread,
}

/// A hash was asked of a function that reads no key: a wrong `crate::Uses`, a bug.
#[derive(Debug, thiserror::Error)]
#[error("this function reads no code secret (its Uses say it hashes no code or token)")]
pub struct KeysNotRead;

/// The secret as the running instance holds it, with when it was last read.
#[derive(Debug)]
pub struct SecretRing {
    source: SecretSource,
    held: RwLock<Option<(Arc<CodeSecrets>, i64)>>,
}

impl SecretRing {
    pub fn new(source: SecretSource, secrets: CodeSecrets, read_at: i64) -> Self {
        Self { source, held: RwLock::new(Some((Arc::new(secrets), read_at))) }
    }

    /// For a function that hashes no code or token: no key, no read, no refresh.
    pub fn unread() -> Self {
        Self { source: SecretSource::Unread, held: RwLock::new(None) }
    }

    /// From the environment's keys, if the configuration holds them.
    pub fn from_config(secrets: Option<&CodeSecrets>) -> Self {
        match secrets {
            Some(secrets) => Self::new(SecretSource::Environment, secrets.clone(), 0),
            None => Self::unread(),
        }
    }

    pub fn current(&self) -> Result<Arc<CodeSecrets>, KeysNotRead> {
        let held = match self.held.read() {
            Ok(held) => held.as_ref().map(|h| h.0.clone()),
            Err(poisoned) => poisoned.into_inner().as_ref().map(|h| h.0.clone()),
        };
        held.ok_or(KeysNotRead)
    }

    /// Reads the secret again if the last read is older than [`REFRESH_SECONDS`]; a failed
    /// read keeps the keys held (they were good a moment ago) and is logged.
    pub async fn refresh_if_stale(&self, now: i64) {
        let SecretSource::SecretsManager { client, secret_id } = &self.source else { return };
        let read_at = match self.held.read() {
            Ok(held) => held.as_ref().map_or(0, |h| h.1),
            Err(poisoned) => poisoned.into_inner().as_ref().map_or(0, |h| h.1),
        };
        if now < read_at + REFRESH_SECONDS {
            return;
        }
        match fetch(client, secret_id, now).await {
            Ok(secrets) => {
                if let Ok(mut held) = self.held.write() {
                    *held = Some((Arc::new(secrets), now));
                }
            }
            Err(error) => tracing::warn!(%error, "code secret not refreshed; keeping the keys held"),
        }
    }
}

/// Reads `AWSCURRENT` and `AWSPREVIOUS` of the secret: two requests, at start-up and on refresh.
pub async fn fetch(client: &Client, secret_id: &str, now: i64) -> Result<CodeSecrets, ConfigError> {
    let bad = |reason: String| ConfigError::Malformed { name: "CODE_SECRET_ID", reason };
    let (current, previous) = tokio::join!(
        client.get_secret_value().secret_id(secret_id).version_stage("AWSCURRENT").send(),
        client.get_secret_value().secret_id(secret_id).version_stage("AWSPREVIOUS").send(),
    );
    let current = current.map_err(|e| bad(format!("the secret could not be read: {}", DisplayErrorContext(e))))?;
    let created = current.created_date().map(|d| d.secs()).unwrap_or(0);
    let current = key(current.secret_string(), current.secret_binary().map(|b| b.as_ref()))?;
    let previous = match previous {
        Ok(out) => Some(key(out.secret_string(), out.secret_binary().map(|b| b.as_ref()))?),
        // A secret never rotated has no previous version.
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("ResourceNotFoundException") => None,
        Err(e) => return Err(bad(format!("the previous version could not be read: {}", DisplayErrorContext(e)))),
    };
    Ok(choose(current, created, previous, now))
}

/// A version younger than [`SETTLE_SECONDS`] checks but does not sign yet.
fn choose(current: CodeSecret, created: i64, previous: Option<CodeSecret>, now: i64) -> CodeSecrets {
    let checking: Vec<CodeSecret> = std::iter::once(current.clone()).chain(previous.clone()).collect();
    let signing = match previous {
        Some(previous) if now < created + SETTLE_SECONDS => previous,
        _ => current,
    };
    let mut checking = checking;
    checking.sort_by_key(|k| k.expose() != signing.expose());
    CodeSecrets { signing, checking }
}

fn key(string: Option<&str>, binary: Option<&[u8]>) -> Result<CodeSecret, ConfigError> {
    match (string, binary) {
        (Some(s), _) => CodeSecret::new(s.trim().as_bytes().to_vec()),
        (None, Some(b)) => CodeSecret::new(b.to_vec()),
        (None, None) => {
            Err(ConfigError::Malformed { name: "CODE_SECRET_ID", reason: "the secret has no value".into() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(byte: u8) -> CodeSecret {
        CodeSecret::new(vec![byte; 32]).unwrap()
    }

    #[test]
    fn a_new_version_checks_at_once_and_signs_once_settled() {
        let fresh = choose(k(2), 1000, Some(k(1)), 1000 + SETTLE_SECONDS - 1);
        assert_eq!(fresh.signing.expose(), k(1).expose());
        assert_eq!(fresh.checking.iter().map(|c| c.expose()[0]).collect::<Vec<_>>(), [1, 2]);
        let settled = choose(k(2), 1000, Some(k(1)), 1000 + SETTLE_SECONDS);
        assert_eq!(settled.signing.expose(), k(2).expose());
        assert_eq!(settled.checking.iter().map(|c| c.expose()[0]).collect::<Vec<_>>(), [2, 1]);
        let first = choose(k(2), 1000, None, 1000);
        assert_eq!((first.signing.expose()[0], first.checking.len()), (2, 1));
    }
}
