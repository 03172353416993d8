//! Configuration from the environment (docs/api.md#configuration), validated once at start-up.

use std::collections::HashSet;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required but not set")]
    Missing(&'static str),
    #[error("{name} is malformed: {reason}")]
    Malformed { name: &'static str, reason: String },
}

/// The key for hashing codes and tokens. Never printed, not even by `Debug`.
#[derive(Clone)]
pub struct CodeSecret(Vec<u8>);

impl CodeSecret {
    pub const MIN_LEN: usize = 32;

    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let bytes = bytes.into();
        if bytes.len() < Self::MIN_LEN {
            return Err(ConfigError::Malformed {
                name: "CODE_SECRET",
                reason: format!("must be at least {} bytes", Self::MIN_LEN),
            });
        }
        Ok(Self(bytes))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for CodeSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeSecret(..)")
    }
}

/// The keys in use: one signs, every one checks (the signing one first).
#[derive(Debug, Clone)]
pub struct CodeSecrets {
    pub signing: CodeSecret,
    pub checking: Vec<CodeSecret>,
}

impl CodeSecrets {
    /// From the environment (`CODE_SECRET`, and `CODE_SECRET_PREVIOUS` while rotating by hand).
    pub fn fixed(current: CodeSecret, previous: Option<CodeSecret>) -> Self {
        Self { checking: std::iter::once(current.clone()).chain(previous).collect(), signing: current }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub sender_email: String,
    /// The keys as configured: from `CODE_SECRET` (and `CODE_SECRET_PREVIOUS`), or as read from
    /// `CODE_SECRET_ID`; `None` when only the secret's id is set and this function does not read it.
    pub code_secrets: Option<CodeSecrets>,
    /// The Secrets Manager secret the keys were read from, if any (never its value).
    pub code_secret_id: Option<String>,
    pub code_ttl_seconds: i64,
    pub code_max_attempts: u32,
    pub resend_cooldown_seconds: i64,
    pub daily_code_limit: u32,
    pub token_ttl_seconds: i64,
    pub max_consecutive_failures: u32,
    pub deletion_grace_seconds: i64,
    /// How long before a scheduled purge the reminder is mailed (0: none; none either if the grace is shorter).
    pub deletion_reminder_seconds: i64,
    pub mobile_client_ids: HashSet<String>,
    pub identifier_quarantine_seconds: i64,
    /// The sign-in kept in step with the accounts (`IDENTITY_PROVIDER`, `USER_POOL_ID`; contract §9).
    pub identity: crate::identity::IdentityProvider,
    /// Items a request works through itself before it hands the rest of a
    /// deletion or dismissal to `cleanup` and answers 202.
    pub inline_work_items: usize,
    /// The downstream systems that must report each deletion's erasure (docs/erasure-ledger.md).
    pub downstream_systems: Vec<String>,
    /// How often `cleanup` announces a deletion again to a system that has not reported.
    pub erasure_reannounce_seconds: i64,
    /// After this long a system that has not reported is overdue.
    pub erasure_deadline_seconds: i64,
    /// The S3 bucket of data exports (`EXPORT_BUCKET`); required where `crate::Uses::exports` is set.
    pub export_bucket: Option<String>,
    /// How long an export's download link works (`EXPORT_LINK_TTL_SECONDS`): at most 7 days, SigV4's limit.
    pub export_link_ttl_seconds: i64,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every setting through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::resolved(lookup, None)
    }

    /// As `from_lookup`, with the keys already read from Secrets Manager (then `CODE_SECRET` is not
    /// needed). Without them, `CODE_SECRET` or else `CODE_SECRET_ID` must be set; with only the id
    /// the keys are left unread, for a function that hashes no code or token.
    pub fn resolved(lookup: impl Fn(&str) -> Option<String>, read: Option<CodeSecrets>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| -> Result<String, ConfigError> {
            match lookup(name) {
                Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
                _ => Err(ConfigError::Missing(name)),
            }
        };
        let number = |name: &'static str, default: i64, min: i64| -> Result<i64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(v) if v.trim().is_empty() => Ok(default),
                Some(v) => match v.trim().parse::<i64>() {
                    Ok(n) if n >= min => Ok(n),
                    _ => Err(ConfigError::Malformed {
                        name,
                        reason: format!("expected a whole number of at least {min}"),
                    }),
                },
            }
        };
        let sender_email = required("SENDER_EMAIL")?;
        if crate::model::ids::EmailAddress::parse(&sender_email).is_err() {
            return Err(ConfigError::Malformed { name: "SENDER_EMAIL", reason: "not an email address".into() });
        }
        let secret_id = lookup("CODE_SECRET_ID").filter(|v| !v.trim().is_empty());
        let code_secrets = match read {
            Some(secrets) => Some(secrets),
            None if secret_id.is_some() && lookup("CODE_SECRET").is_none_or(|v| v.trim().is_empty()) => None,
            None => {
                let current = CodeSecret::new(required("CODE_SECRET")?.into_bytes())?;
                let previous = lookup("CODE_SECRET_PREVIOUS")
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| CodeSecret::new(v.trim().as_bytes().to_vec()))
                    .transpose()
                    .map_err(|_| ConfigError::Malformed {
                        name: "CODE_SECRET_PREVIOUS",
                        reason: format!("must be at least {} bytes", CodeSecret::MIN_LEN),
                    })?;
                Some(CodeSecrets::fixed(current, previous))
            }
        };
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            sender_email,
            code_secrets,
            code_secret_id: secret_id,
            code_ttl_seconds: number("CODE_TTL_SECONDS", 600, 1)?,
            code_max_attempts: number("CODE_MAX_ATTEMPTS", 5, 1)? as u32,
            resend_cooldown_seconds: number("RESEND_COOLDOWN_SECONDS", 60, 0)?,
            daily_code_limit: number("DAILY_CODE_LIMIT", 10, 1)? as u32,
            token_ttl_seconds: number("TOKEN_TTL_SECONDS", 600, 1)?,
            max_consecutive_failures: number("MAX_CONSECUTIVE_FAILURES", 20, 1)? as u32,
            deletion_grace_seconds: number("DELETION_GRACE_SECONDS", 0, 0)?,
            deletion_reminder_seconds: number("DELETION_REMINDER_SECONDS", 86_400, 0)?,
            mobile_client_ids: lookup("MOBILE_CLIENT_IDS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            identifier_quarantine_seconds: number("IDENTIFIER_QUARANTINE_SECONDS", 0, 0)?,
            identity: identity_provider(&lookup)?,
            inline_work_items: number("INLINE_WORK_ITEMS", 1000, 1)? as usize,
            downstream_systems: downstream_systems(lookup("DOWNSTREAM_SYSTEMS").unwrap_or_default())?,
            erasure_reannounce_seconds: number("ERASURE_REANNOUNCE_SECONDS", 86_400, 60)?,
            erasure_deadline_seconds: number("ERASURE_DEADLINE_SECONDS", 15 * 86_400, 60)?,
            export_bucket: lookup("EXPORT_BUCKET").map(|v| v.trim().to_string()).filter(|v| !v.is_empty()),
            export_link_ttl_seconds: match number("EXPORT_LINK_TTL_SECONDS", EXPORT_LINK_MAX_SECONDS, 60)? {
                n if n <= EXPORT_LINK_MAX_SECONDS => n,
                _ => {
                    return Err(ConfigError::Malformed {
                        name: "EXPORT_LINK_TTL_SECONDS",
                        reason: format!("at most {EXPORT_LINK_MAX_SECONDS} (7 days: a presigned URL's limit)"),
                    })
                }
            },
        })
    }
}

/// A SigV4 presigned URL lives at most 7 days, the default link's life.
pub const EXPORT_LINK_MAX_SECONDS: i64 = 604_800;
/// `IDENTITY_PROVIDER` (`none`, the default, or `cognito`), and with `cognito` the `USER_POOL_ID` it needs.
fn identity_provider(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<crate::identity::IdentityProvider, ConfigError> {
    use crate::identity::IdentityProvider;
    let value = |name| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    match value("IDENTITY_PROVIDER").as_deref() {
        None | Some("none") => Ok(IdentityProvider::None),
        Some("cognito") => {
            let user_pool_id = value("USER_POOL_ID").ok_or(ConfigError::Missing("USER_POOL_ID"))?;
            // A pool id is `<region>_<id>`: a value without one is a wrong setting, not a pool.
            let well_formed = user_pool_id.split_once('_').is_some_and(|(region, id)| {
                !region.is_empty()
                    && !id.is_empty()
                    && user_pool_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
            if !well_formed {
                return Err(ConfigError::Malformed { name: "USER_POOL_ID", reason: "expected <region>_<id>".into() });
            }
            Ok(IdentityProvider::Cognito { user_pool_id })
        }
        Some(_) => Err(ConfigError::Malformed { name: "IDENTITY_PROVIDER", reason: "expected none or cognito".into() }),
    }
}

/// Lowercase names of letters, digits and `-` (at most 64), comma-separated, each once; at most 25 so a
/// deletion's final transaction stays well inside DynamoDB's 100 items.
fn downstream_systems(value: String) -> Result<Vec<String>, ConfigError> {
    let malformed = |reason: String| ConfigError::Malformed { name: "DOWNSTREAM_SYSTEMS", reason };
    let mut systems: Vec<String> = Vec::new();
    for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let valid = name.len() <= 64 && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(malformed(format!("{name:?}: names are lowercase letters, digits and -")));
        }
        if systems.iter().any(|s| s == name) {
            return Err(malformed(format!("{name:?} is listed twice")));
        }
        systems.push(name.to_string());
    }
    if systems.len() > 25 {
        return Err(malformed("at most 25 systems".into()));
    }
    Ok(systems)
}

/// publish-events' one setting, `EVENT_BUS_NAME`: the bus the events of docs/events.md go on
/// (the account's `default` bus if unset). It needs nothing else: no table, no key.
pub fn event_bus_name(lookup: impl Fn(&str) -> Option<String>) -> String {
    lookup("EVENT_BUS_NAME").map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).unwrap_or_else(|| "default".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const BASE: [(&str, &str); 3] = [
        ("TABLE_NAME", "t"),
        ("SENDER_EMAIL", "no-reply@example.com"),
        ("CODE_SECRET", "0123456789abcdef0123456789abcdef"),
    ];

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::from_lookup(env(&BASE)).unwrap();
        assert_eq!((c.code_ttl_seconds, c.code_max_attempts, c.resend_cooldown_seconds), (600, 5, 60));
        assert_eq!((c.daily_code_limit, c.token_ttl_seconds, c.max_consecutive_failures), (10, 600, 20));
        assert_eq!((c.deletion_grace_seconds, c.identifier_quarantine_seconds), (0, 0));
        assert!(c.mobile_client_ids.is_empty());
        assert!(c.downstream_systems.is_empty());
        assert_eq!(c.identity, crate::identity::IdentityProvider::None);
        assert_eq!((c.erasure_reannounce_seconds, c.erasure_deadline_seconds), (86_400, 1_296_000));
        assert_eq!((c.export_bucket.as_deref(), c.export_link_ttl_seconds), (None, 604_800));
        let mut long = BASE.to_vec();
        long.push(("EXPORT_LINK_TTL_SECONDS", "604801"));
        assert!(Config::from_lookup(env(&long)).unwrap_err().to_string().starts_with("EXPORT_LINK_TTL_SECONDS"));
        let mut systems = BASE.to_vec();
        systems.push(("DOWNSTREAM_SYSTEMS", " billing, object-storage ,"));
        assert_eq!(Config::from_lookup(env(&systems)).unwrap().downstream_systems, ["billing", "object-storage"]);
        systems.push(("DOWNSTREAM_SYSTEMS", "Billing"));
        assert!(Config::from_lookup(env(&systems))
            .unwrap_err()
            .to_string()
            .starts_with("DOWNSTREAM_SYSTEMS is malformed"));
    }

    #[test]
    fn a_missing_or_malformed_setting_is_named() {
        let err = Config::from_lookup(env(&BASE[..2])).unwrap_err();
        assert_eq!(err.to_string(), "CODE_SECRET is required but not set");
        // Only the secret's id: the keys are the Secrets Manager read's, or unread.
        let mut by_id = BASE[..2].to_vec();
        by_id.push(("CODE_SECRET_ID", "account-deletion/code-secret"));
        assert!(Config::from_lookup(env(&by_id)).unwrap().code_secrets.is_none());
        let mut short = BASE.to_vec();
        short[2] = ("CODE_SECRET", "short");
        assert!(Config::from_lookup(env(&short)).unwrap_err().to_string().starts_with("CODE_SECRET is malformed"));
        let mut bad = BASE.to_vec();
        bad.push(("CODE_TTL_SECONDS", "ten"));
        assert!(Config::from_lookup(env(&bad)).unwrap_err().to_string().starts_with("CODE_TTL_SECONDS is malformed"));
        let mut ids = BASE.to_vec();
        ids.push(("MOBILE_CLIENT_IDS", " ios-app, android-app ,"));
        let c = Config::from_lookup(env(&ids)).unwrap();
        assert!(c.mobile_client_ids.contains("ios-app") && c.mobile_client_ids.contains("android-app"));
        assert_eq!(c.mobile_client_ids.len(), 2);
    }

    #[test]
    fn cognito_needs_its_pool() {
        let mut cognito = BASE.to_vec();
        cognito.push(("IDENTITY_PROVIDER", "cognito"));
        assert_eq!(Config::from_lookup(env(&cognito)).unwrap_err().to_string(), "USER_POOL_ID is required but not set");
        cognito.push(("USER_POOL_ID", "pool"));
        assert!(Config::from_lookup(env(&cognito)).unwrap_err().to_string().starts_with("USER_POOL_ID is malformed"));
        cognito.push(("USER_POOL_ID", "us-east-1_Ab12"));
        let c = Config::from_lookup(env(&cognito)).unwrap();
        assert_eq!(c.identity, crate::identity::IdentityProvider::Cognito { user_pool_id: "us-east-1_Ab12".into() });
        let mut other = BASE.to_vec();
        other.push(("IDENTITY_PROVIDER", "okta"));
        assert!(Config::from_lookup(env(&other))
            .unwrap_err()
            .to_string()
            .starts_with("IDENTITY_PROVIDER is malformed"));
    }
}
