//! The identities the table keys: who an account is, and the identifiers only one
//! live account may hold, each in the comparable form of [`canonical`].

use super::canonical;
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

/// An email address, trimmed and in the comparable form of [`canonical::canonical`], so one mailbox is one claim.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, InvalidIdentifier> {
        let bad = |reason| InvalidIdentifier { field: "email", reason };
        let s = canonical::canonical(s.trim()).map_err(|_| bad("contains an invisible character"))?;
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

/// A sign-in name, in the comparable form of [`canonical::canonical`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, InvalidIdentifier> {
        let s = canonical::canonical(s.trim())
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
