//! The credentials the leaving employee may have held under the account, and
//! what a handover does to each.

use super::pending::IamUsers;
use serde::{Deserialize, Serialize};

/// The kinds of credential the leaving employee may have held under the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Mfa,
    ThirdPartyLogin,
    AccessKey,
    IamUser,
}

/// Why a credential cannot be linked: the part named is malformed.
#[derive(Debug, thiserror::Error)]
#[error("{0} must be 1 to 256 characters, without control characters or '#'")]
pub struct InvalidCredential(pub &'static str);

/// A credential as linked by the service that owns it (or the fixtures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Mfa { id: String, label: Option<String> },
    ThirdPartyLogin { provider: String, subject: String },
    AccessKey { id: String, active: bool },
    IamUser { name: String },
}

impl Credential {
    pub fn validate(&self) -> Result<(), InvalidCredential> {
        // `#` separates the parts of a sort key; only a login's subject comes last and may hold one.
        let part = |what: &'static str, v: &str, tail: bool| {
            let ok = !v.is_empty() && v.len() <= 256 && !v.chars().any(char::is_control) && (tail || !v.contains('#'));
            if ok {
                Ok(())
            } else {
                Err(InvalidCredential(what))
            }
        };
        match self {
            Self::Mfa { id, .. } => part("MFA device id", id, false),
            Self::ThirdPartyLogin { provider, subject } => {
                part("login provider", provider, false).and(part("login subject", subject, true))
            }
            Self::AccessKey { id, .. } => part("access key id", id, false),
            Self::IamUser { name } => part("IAM user name", name, false),
        }
    }
}

/// A credential as read back: its sort key, and for an access key whether it is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRef {
    pub kind: CredentialKind,
    pub sort_key: String,
    pub active: bool,
}

/// What one transaction does to credentials, by sort key.
#[derive(Debug, Default, Clone)]
pub struct Revocations {
    pub delete: Vec<String>,
    pub deactivate: Vec<String>,
    pub reset_password: Vec<String>,
}

impl Revocations {
    pub fn len(&self) -> usize {
        self.delete.len() + self.deactivate.len() + self.reset_password.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the handover touched, counted as it goes (kept on the job between runs).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Counts {
    pub identifiers_taken: u64,
    pub identifiers_released: u64,
    pub contacts_changed: u64,
    pub mfa_unlinked: u64,
    pub logins_unlinked: u64,
    pub keys_deactivated: u64,
    pub keys_already_inactive: u64,
    pub iam_users: u64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.identifiers_taken += other.identifiers_taken;
        self.identifiers_released += other.identifiers_released;
        self.contacts_changed += other.contacts_changed;
        self.mfa_unlinked += other.mfa_unlinked;
        self.logins_unlinked += other.logins_unlinked;
        self.keys_deactivated += other.keys_deactivated;
        self.keys_already_inactive += other.keys_already_inactive;
        self.iam_users += other.iam_users;
    }
}

/// What to do to each credential read, and the counts it adds.
pub fn revocations(credentials: &[CredentialRef], iam_users: IamUsers) -> (Revocations, Counts) {
    let mut r = Revocations::default();
    let mut c = Counts::default();
    for credential in credentials {
        let sk = credential.sort_key.clone();
        match credential.kind {
            CredentialKind::Mfa => {
                r.delete.push(sk);
                c.mfa_unlinked += 1;
            }
            CredentialKind::ThirdPartyLogin => {
                r.delete.push(sk);
                c.logins_unlinked += 1;
            }
            CredentialKind::AccessKey if credential.active => {
                r.deactivate.push(sk);
                c.keys_deactivated += 1;
            }
            CredentialKind::AccessKey => c.keys_already_inactive += 1,
            CredentialKind::IamUser => {
                match iam_users {
                    IamUsers::Delete => r.delete.push(sk),
                    IamUsers::ResetPassword => r.reset_password.push(sk),
                }
                c.iam_users += 1;
            }
        }
    }
    (r, c)
}
