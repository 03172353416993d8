//! Accounts, their contacts and the identifiers they claim.

use crate::identifiers;
use crate::internal::{internal_from, Internal};
use crate::locale::Locale;
use std::fmt;

/// The `sub` claim of the caller's JWT: who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountId(String);

impl AccountId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty() && s.len() <= Self::MAX_LEN && s.chars().all(|c| c.is_ascii_graphic());
        ok.then(|| Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{field} is malformed: {reason}")]
pub struct InvalidIdentifier {
    pub field: &'static str,
    pub reason: &'static str,
}

/// An email address, trimmed and in the comparable form of [`identifiers::canonical`], so one mailbox is one claim.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, InvalidIdentifier> {
        let bad = |reason| InvalidIdentifier { field: "email", reason };
        let s = identifiers::canonical(s.trim()).map_err(|_| bad("contains an invisible character"))?;
        if s.len() > 254 {
            return Err(bad("longer than 254 characters"));
        }
        let (local, domain) = s.split_once('@').ok_or(bad("no @"))?;
        // A plain `local@domain` only: a display name, comment, quoted part or route may reach
        // the same mailbox as the bare address while the claims would count it as another.
        if !is_dot_atom(local, |c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || is_utf8_text(c)) {
            return Err(bad("not a plain name@domain address"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || is_utf8_text(c))
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(bad("not a plain name@domain address"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `a***e@example.com`: enough for a person to recognise, not enough to harvest.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let chars: Vec<char> = local.chars().collect();
        // Two characters or fewer: only the first, so the mask never shows a whole local part.
        let shown = match chars.as_slice() {
            [] => String::new(),
            [first] | [first, _] => format!("{first}***"),
            [first, .., last] => format!("{first}***{last}"),
        };
        format!("{shown}@{domain}")
    }
}

// Debug shows the masked form so an address never lands in a log by accident.
impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.masked())
    }
}

/// RFC 5322's dot-atom (with RFC 6531's non-ASCII letters): atoms of `atext` joined by single dots.
fn is_dot_atom(s: &str, atext: impl Fn(char) -> bool) -> bool {
    s.split('.').all(|atom| !atom.is_empty() && atom.chars().all(&atext))
}

/// A non-ASCII character that may stand in an internationalised address (RFC 6531's UTF8-non-ascii).
fn is_utf8_text(c: char) -> bool {
    !c.is_ascii() && !c.is_whitespace() && !c.is_control()
}

/// A phone number in E.164 form, `+` and 8 to 15 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<Self, InvalidIdentifier> {
        let s: String = s.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
        let digits = s.strip_prefix('+').unwrap_or("");
        if (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(s))
        } else {
            Err(InvalidIdentifier { field: "phone", reason: "expected E.164, e.g. +8613800000001" })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A sign-in name, in the comparable form of [`identifiers::canonical`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, InvalidIdentifier> {
        let s = identifiers::canonical(s.trim())
            .map_err(|_| InvalidIdentifier { field: "username", reason: "contains an invisible character" })?;
        if s.is_empty() || s.chars().count() > 64 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidIdentifier { field: "username", reason: "1 to 64 characters, no spaces" });
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Something only one live account may hold at a time (docs/seeds.md#identifiers-after-deletion: free again after deletion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    Username(Username),
    Email(EmailAddress),
    Phone(PhoneNumber),
}

impl Identifier {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Username(_) => "username",
            Self::Email(_) => "email",
            Self::Phone(_) => "phone",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Self::Username(u) => u.as_str(),
            Self::Email(e) => e.as_str(),
            Self::Phone(p) => p.as_str(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    DefaultAdmin,
    Admin,
    Member,
    Individual,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "default_admin" => Self::DefaultAdmin,
            "admin" => Self::Admin,
            "member" => Self::Member,
            "individual" => Self::Individual,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DefaultAdmin => "default_admin",
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Individual => "individual",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    /// Accepted for deletion; the purge is under way.
    Deleting,
    /// Locked; purged once the grace period has passed.
    DeletionScheduled,
}

impl AccountStatus {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "deleting" => Self::Deleting,
            "deletion_scheduled" => Self::DeletionScheduled,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Deleting => "deleting",
            Self::DeletionScheduled => "deletion_scheduled",
        }
    }

    /// Still an account its holder can come back to: active, or in a grace period it may cancel.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Active | Self::DeletionScheduled)
    }
}

/// An account as the domain sees it (its profile).
#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    pub username: Option<Username>,
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
    pub name: Option<String>,
    pub enterprise_id: Option<String>,
    pub role: Role,
    pub status: AccountStatus,
    /// The language of the account's mail, and of its answers when a request asks for none.
    pub locale: Locale,
    pub hold_count: u32,
    /// When the account was last handed over: sessions signed in before it are refused.
    pub sessions_revoked_at: Option<i64>,
    /// Hashes of the verification tokens the account's current holder may still spend.
    pub live_tokens: Vec<String>,
    /// A handover of the account waiting for its confirmation code, if any.
    pub pending_handover: Option<PendingBy>,
    /// The role of the administrator carrying out a handover of the account that is under way, if one is.
    pub handover_running_as: Option<Role>,
    /// The new email and phone a running handover has claimed for the account (released by a deletion that overtakes it).
    pub reserved: Vec<Identifier>,
}

/// Who asked for a pending handover, with what authority, and until when it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBy {
    /// The pending handover's id: its confirmation code is bound to it.
    pub id: String,
    pub requested_by: AccountId,
    /// The requester's role when an administrator asked; `None` when the holder did.
    pub requested_as: Option<Role>,
    pub expires_at: i64,
}

impl PendingBy {
    /// An administrator outranks the holder, the default administrator an administrator.
    pub fn rank(&self) -> u8 {
        authority_rank(self.requested_as)
    }
}

/// The holder 0, an administrator 1, the default administrator 2.
pub fn authority_rank(role: Option<Role>) -> u8 {
    match role {
        None | Some(Role::Member | Role::Individual) => 0,
        Some(Role::Admin) => 1,
        Some(Role::DefaultAdmin) => 2,
    }
}

impl Account {
    /// Why a code or token of `purpose` is refused to this account when its status is not the purpose's:
    /// no deletion to cancel for an active account; for every other case, the account is gone.
    pub fn refusal_for(&self, purpose: crate::purpose::Purpose) -> AccountError {
        if purpose == crate::purpose::Purpose::CancelDeletion && self.status == AccountStatus::Active {
            AccountError::DeletionNotScheduled
        } else {
            AccountError::Deleted
        }
    }

    /// An administrator's handover of this account waits for its code or is under way: the holder may not act on the account.
    pub fn awaits_administrators_handover(&self, now: i64) -> bool {
        self.handover_running_as.is_some()
            || self.pending_handover.as_ref().is_some_and(|p| p.requested_as.is_some() && p.expires_at > now)
    }

    pub fn identifiers(&self) -> Vec<Identifier> {
        let mut ids = Vec::new();
        ids.extend(self.username.clone().map(Identifier::Username));
        ids.extend(self.email.clone().map(Identifier::Email));
        ids.extend(self.phone.clone().map(Identifier::Phone));
        ids
    }

    pub fn is_default_admin(&self) -> bool {
        self.role == Role::DefaultAdmin && self.enterprise_id.is_some()
    }
}

/// A new account as sign-up (or the fixtures loader) registers it.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: AccountId,
    pub username: Option<Username>,
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
    pub name: Option<String>,
    pub enterprise_id: Option<String>,
    pub role: Role,
    pub locale: Locale,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("no such account")]
    NotFound,
    #[error("the account was deleted")]
    Deleted,
    #[error("the account has no bound email")]
    EmailNotBound,
    #[error("the session began before the account was handed over")]
    SessionRevoked,
    #[error("an administrator's handover of the account is pending")]
    HandoverPending,
    #[error("the account's deletion is not in its grace period")]
    DeletionNotScheduled,
    #[error("{kind} {value:?} is held by a live account")]
    IdentifierTaken { kind: &'static str, value: String },
    #[error("account {0} already exists")]
    AlreadyExists(String),
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(AccountError);

impl crate::App {
    /// Registers an account the way sign-up does: its username, email and phone
    /// are claimed in the same transaction, so a live account's identifier is refused.
    pub async fn register_account(&self, account: &NewAccount) -> Result<(), AccountError> {
        self.store.register_account(account, self.clock.now()).await
    }

    /// The caller's account, or the API's error for an unknown or deleted one (docs/api.md#errors).
    pub async fn live_account(&self, id: &AccountId) -> Result<Account, AccountError> {
        match self.store.get_account(id).await? {
            Some(a) if a.status == AccountStatus::Active => Ok(a),
            Some(_) => Err(AccountError::Deleted),
            None => Err(self.missing_account(id).await),
        }
    }

    /// The account's `locale`; the default when it is gone or cannot be read
    /// (a problem is answered whatever the store does).
    pub async fn account_locale(&self, id: &AccountId) -> Locale {
        match self.store.get_account(id).await {
            Ok(Some(account)) => account.locale,
            _ => Locale::default(),
        }
    }

    /// Why an account is not there: deleted (a receipt stays) or never known.
    pub async fn missing_account(&self, id: &AccountId) -> AccountError {
        match self.store.receipt_exists(id).await {
            Ok(true) => AccountError::Deleted,
            Ok(false) => AccountError::NotFound,
            Err(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_masked() {
        let e = EmailAddress::parse("  Alice@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "alice@example.com");
        assert_eq!(e.masked(), "a***e@example.com");
        assert_eq!(EmailAddress::parse("a@example.com").unwrap().masked(), "a***@example.com");
        assert_eq!(EmailAddress::parse("ab@example.com").unwrap().masked(), "a***@example.com");
        assert_eq!(EmailAddress::parse("abc@example.com").unwrap().masked(), "a***c@example.com");
        assert_eq!(
            EmailAddress::parse("ZOE\u{0308}@Example.com").unwrap(),
            EmailAddress::parse("zo\u{00EB}@example.com").unwrap()
        );
        assert!(EmailAddress::parse("zo\u{200B}e@example.com").is_err());
        assert_eq!(Username::parse("Stra\u{00DF}e").unwrap(), Username::parse("STRASSE").unwrap());
        assert!(Username::parse("ali\u{200D}ce").is_err());
        assert!(!format!("{e:?}").contains("alice@"));
        for bad in ["", "alice", "@example.com", "alice@", "alice@com", "a b@example.com", "a@b@example.com"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn only_a_plain_local_at_domain_is_an_address() {
        for odd in [
            "x<frank@example.com>",
            "frank@example.com(c)",
            "Frank <frank@example.com>",
            "\"frank\"@example.com",
            "frank(c)@example.com",
            "@relay.example:frank@example.com",
            "frank@[192.0.2.1]",
            "frank,eve@example.com",
            "frank;@example.com",
            "frank\\@example.com",
            "frank..f@example.com",
            ".frank@example.com",
            "frank.@example.com",
            "frank@example..com",
            "frank@-example.com",
            "frank@example.com.",
            "frank@example.com\u{FF1E}",
        ] {
            assert!(EmailAddress::parse(odd).is_err(), "{odd} accepted");
        }
        for plain in [
            "frank@example.com",
            "f.r+tag@mail.example.co",
            "o'brien@example.com",
            "用户@例子.中国",
            "jos\u{00E9}@b\u{00FC}cher.de",
        ] {
            assert!(EmailAddress::parse(plain).is_ok(), "{plain} refused");
        }
    }

    #[test]
    fn phones_are_e164() {
        assert_eq!(PhoneNumber::parse("+86 138-0000-0001").unwrap().as_str(), "+8613800000001");
        for bad in ["13800000001", "+12", "+86abc0000000", ""] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
