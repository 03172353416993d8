//! Every key of the table, written once (docs/key-design.md): the partition key
//! `pk` and sort key `sk` of each kind of item. Nothing else in the store or
//! the operations formats or parses a key (`events.rs` recognises the stream's
//! records by theirs, for publish-events). [`Partition`] reads a partition key
//! back into what it is of, and the sort keys' constants below are the ones
//! written, so the audit's scan (`scan.rs`) parses with the same spelling.

use super::items::{s, Item};
use crate::model::due::{DueBucket, DueEntry};
use crate::model::export::ExportId;
use crate::model::handover::credentials::{Credential, CredentialKind};
use crate::model::ids::{AccountId, EmailAddress, Identifier, PhoneNumber, Username};
use crate::model::job::JobKind;
use std::collections::HashMap;

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

/// An item nobody writes: the warm-up read opens the connection on it.
pub fn warm_up() -> Item {
    key("WARMUP".into(), "WARMUP")
}

const ACCOUNT_PREFIX: &str = "ACCOUNT#";
const CLAIM_PREFIX: &str = "CLAIM#";
const ENTERPRISE_PREFIX: &str = "ENTERPRISE#";
const JOB_PREFIX: &str = "JOB#";
const RECEIPT_PREFIX: &str = "RECEIPT#";
const LEDGER_PREFIX: &str = "LEDGER#";
/// The prefix of a ledger entry's sort key (`SYSTEM#<system>`).
pub const SYSTEM_PREFIX: &str = "SYSTEM#";
pub const CLAIM: &str = "CLAIM";
pub const TOKEN: &str = "TOKEN";
pub const META: &str = "META";
pub const JOB: &str = "JOB";
pub const RECEIPT: &str = "RECEIPT";

/// The kinds of identifier a claim is for, as `Identifier::kind` names them.
pub const IDENTIFIER_KINDS: [&str; 3] = ["username", "email", "phone"];

/// The partition of an account: its profile, holds, credentials, records and other services' data.
pub fn account_partition(account: &AccountId) -> String {
    Partition::Account(account.as_str().to_string()).pk()
}

/// A partition of the table by what it is of, read back from its key or built to be read
/// (the audit's scan and its re-reads). Ids are as the key spells them, checked or not.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Partition {
    /// `ACCOUNT#<id>`.
    Account(String),
    /// `CLAIM#<KIND>#<value>`; `kind` is one of [`IDENTIFIER_KINDS`].
    Claim { kind: &'static str, value: String },
    /// `TOKEN#<hash>`.
    Token(String),
    /// `ENTERPRISE#<id>`.
    Enterprise(String),
    /// `JOB#<kind>#<subject>`.
    Job(JobKind, String),
    /// `RECEIPT#<account>`.
    Receipt(String),
    /// `LEDGER#<account>`.
    Ledger(String),
    /// A partition key no kind of item has, as it is.
    Other(String),
}

impl Partition {
    /// The claim's partition for an identifier.
    pub fn claim(id: &Identifier) -> Self {
        Self::Claim { kind: id.kind(), value: id.value().to_string() }
    }

    /// The partition key.
    pub fn pk(&self) -> String {
        match self {
            Self::Account(id) => format!("{ACCOUNT_PREFIX}{id}"),
            Self::Claim { kind, value } => format!("{CLAIM_PREFIX}{}#{value}", kind.to_ascii_uppercase()),
            Self::Token(hash) => format!("{TOKEN_PREFIX}{hash}"),
            Self::Enterprise(id) => format!("{ENTERPRISE_PREFIX}{id}"),
            Self::Job(kind, subject) => format!("{JOB_PREFIX}{}#{subject}", kind.as_str()),
            Self::Receipt(account) => format!("{RECEIPT_PREFIX}{account}"),
            Self::Ledger(account) => format!("{LEDGER_PREFIX}{account}"),
            Self::Other(pk) => pk.clone(),
        }
    }

    /// What a partition key is of; a key of none of the design's kinds is `Other`.
    pub fn parse(pk: &str) -> Self {
        let other = || Self::Other(pk.to_string());
        if let Some(id) = pk.strip_prefix(ACCOUNT_PREFIX) {
            return Self::Account(id.to_string());
        }
        if let Some(rest) = pk.strip_prefix(CLAIM_PREFIX) {
            let Some((kind, value)) = rest.split_once('#') else { return other() };
            return match IDENTIFIER_KINDS.iter().find(|k| k.to_ascii_uppercase() == kind) {
                Some(kind) => Self::Claim { kind, value: value.to_string() },
                None => other(),
            };
        }
        if let Some(hash) = token_hash(pk) {
            return Self::Token(hash.to_string());
        }
        if let Some(id) = pk.strip_prefix(ENTERPRISE_PREFIX) {
            return Self::Enterprise(id.to_string());
        }
        if let Some(rest) = pk.strip_prefix(JOB_PREFIX) {
            return match rest.split_once('#').and_then(|(kind, subject)| Some((JobKind::parse(kind)?, subject))) {
                Some((kind, subject)) => Self::Job(kind, subject.to_string()),
                None => other(),
            };
        }
        if let Some(account) = pk.strip_prefix(RECEIPT_PREFIX) {
            return Self::Receipt(account.to_string());
        }
        if let Some(account) = pk.strip_prefix(LEDGER_PREFIX) {
            return Self::Ledger(account.to_string());
        }
        other()
    }
}

/// The profile's sort key, and the prefix of the profile and its holds' (one Query reads both).
pub const PROFILE: &str = "PROFILE";

pub fn profile(account: &AccountId) -> Item {
    key(account_partition(account), PROFILE)
}

/// Any item of the account's partition, by its sort key.
pub fn account_item(account: &AccountId, sort_key: &str) -> Item {
    key(account_partition(account), sort_key)
}

/// A hold's sort key: every other sort key starting with [`PROFILE`] is a hold's.
pub fn hold_sort_key(kind: &str, reference: &str) -> String {
    format!("{PROFILE}#HOLD#{kind}#{reference}")
}

pub fn hold(account: &AccountId, kind: &str, reference: &str) -> Item {
    account_item(account, &hold_sort_key(kind, reference))
}

pub fn cancellation(account: &AccountId, receipt_id: &str) -> Item {
    account_item(account, &format!("CANCELLATION#{receipt_id}"))
}

pub fn handover_record(account: &AccountId, handover_id: &str) -> Item {
    account_item(account, &format!("HANDOVER#{handover_id}"))
}

/// The prefix of an export record's sort key (`EXPORT#<export id>`).
pub const EXPORT_PREFIX: &str = "EXPORT#";

/// The sort keys of export records lie from the first to the second (exclusive).
pub fn export_range() -> (&'static str, &'static str) {
    (EXPORT_PREFIX, "EXPORT$")
}

pub fn export(account: &AccountId, export: &ExportId) -> Item {
    account_item(account, &format!("{EXPORT_PREFIX}{export}"))
}

/// The sort keys of the account's holds lie from the first to the second (exclusive).
pub fn hold_range() -> (String, String) {
    (format!("{PROFILE}#HOLD#"), format!("{PROFILE}#HOLD$"))
}

fn credential_prefix(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Mfa => "MFA#",
        CredentialKind::ThirdPartyLogin => "LOGIN#",
        CredentialKind::AccessKey => "ACCESS_KEY#",
        CredentialKind::IamUser => "IAM_USER#",
    }
}

/// The sort keys of one kind of credential lie from the first to the second (exclusive): `#` is followed by `$`.
pub fn credential_range(kind: CredentialKind) -> (&'static str, String) {
    let prefix = credential_prefix(kind);
    (prefix, format!("{}$", prefix.trim_end_matches('#')))
}

pub fn credential(account: &AccountId, credential: &Credential) -> Item {
    let sort_key = match credential {
        Credential::Mfa { id, .. } => format!("MFA#{id}"),
        Credential::ThirdPartyLogin { provider, subject } => format!("LOGIN#{provider}#{subject}"),
        Credential::AccessKey { id, .. } => format!("ACCESS_KEY#{id}"),
        Credential::IamUser { name } => format!("IAM_USER#{name}"),
    };
    account_item(account, &sort_key)
}

const TOKEN_PREFIX: &str = "TOKEN#";

pub fn token(hash: &str) -> Item {
    key(format!("{TOKEN_PREFIX}{hash}"), TOKEN)
}

/// The hash a token item's partition key names; `None` for any other item.
pub fn token_hash(pk: &str) -> Option<&str> {
    pk.strip_prefix(TOKEN_PREFIX)
}

pub fn claim_partition(id: &Identifier) -> String {
    Partition::claim(id).pk()
}

pub fn claim(id: &Identifier) -> Item {
    key(claim_partition(id), CLAIM)
}

pub fn enterprise_partition(enterprise: &str) -> String {
    Partition::Enterprise(enterprise.to_string()).pk()
}

pub fn enterprise(enterprise: &str) -> Item {
    key(enterprise_partition(enterprise), META)
}

/// The prefix of every membership's sort key under its enterprise.
pub const MEMBER_PREFIX: &str = "MEMBER#";

pub fn member(enterprise: &str, account: &AccountId) -> Item {
    key(enterprise_partition(enterprise), &format!("{MEMBER_PREFIX}{account}"))
}

pub fn job(kind: JobKind, subject: &str) -> Item {
    key(Partition::Job(kind, subject.to_string()).pk(), JOB)
}

pub fn receipt(account: &AccountId) -> Item {
    key(Partition::Receipt(account.as_str().to_string()).pk(), RECEIPT)
}

pub fn ledger_partition(account: &str) -> String {
    Partition::Ledger(account.to_string()).pk()
}

pub fn ledger_entry(account: &str, system: &str) -> Item {
    key(ledger_partition(account), &format!("{SYSTEM_PREFIX}{system}"))
}

/// What the item keyed `pk`, `sk` in the due index's `bucket` is; `None` for a key no due item has.
pub fn due_entry(bucket: DueBucket, pk: &str, sk: &str) -> Option<DueEntry> {
    match (bucket, sk) {
        (DueBucket::Job, JOB) => {
            let (kind, subject) = pk.strip_prefix(JOB_PREFIX)?.split_once('#')?;
            Some(DueEntry::Job { kind: JobKind::parse(kind)?, subject: subject.to_string() })
        }
        (DueBucket::Claim, CLAIM) => {
            let (kind, value) = pk.strip_prefix(CLAIM_PREFIX)?.split_once('#')?;
            let id = match kind {
                "USERNAME" => Identifier::Username(Username::parse(value).ok()?),
                "EMAIL" => Identifier::Email(EmailAddress::parse(value).ok()?),
                "PHONE" => Identifier::Phone(PhoneNumber::parse(value).ok()?),
                _ => return None,
            };
            // Acted on by its key again: only if that key is this one.
            (claim_partition(&id) == pk).then_some(DueEntry::Claim(id))
        }
        (DueBucket::Token, TOKEN) => Some(DueEntry::Token { hash: token_hash(pk)?.to_string() }),
        (DueBucket::Ledger, _) => Some(DueEntry::Ledger {
            account: pk.strip_prefix(LEDGER_PREFIX)?.to_string(),
            system: sk.strip_prefix(SYSTEM_PREFIX)?.to_string(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_due_entry_is_read_back_from_the_key_it_was_written_under() {
        let alice = AccountId::parse("alice#1").unwrap();
        let due = |bucket, key: Item| {
            let part = |name: &str| key[name].as_s().unwrap().clone();
            due_entry(bucket, &part("pk"), &part("sk"))
        };
        assert_eq!(
            due(DueBucket::Job, job(JobKind::Deletion, alice.as_str())),
            Some(DueEntry::Job { kind: JobKind::Deletion, subject: "alice#1".into() })
        );
        let email = Identifier::Email(EmailAddress::parse("zo\u{00EB}@example.com").unwrap());
        assert_eq!(due(DueBucket::Claim, claim(&email)), Some(DueEntry::Claim(email)));
        assert_eq!(due(DueBucket::Token, token("ab12")), Some(DueEntry::Token { hash: "ab12".into() }));
        assert_eq!(
            due(DueBucket::Ledger, ledger_entry("alice#1", "billing")),
            Some(DueEntry::Ledger { account: "alice#1".into(), system: "billing".into() })
        );
        assert_eq!(due_entry(DueBucket::Job, "JOB#sweep#x", "JOB"), None);
        assert_eq!(due_entry(DueBucket::Claim, "CLAIM#EMAIL#Alice@Example.com", "CLAIM"), None, "not the key it names");
        assert_eq!(due_entry(DueBucket::Token, "TOKEN#ab12", "CLAIM"), None);
    }

    #[test]
    fn a_partition_is_read_back_from_the_key_it_formats() {
        let email = Identifier::Email(EmailAddress::parse("zo\u{00EB}@example.com").unwrap());
        let partitions = [
            Partition::Account("alice#1".into()),
            Partition::claim(&email),
            Partition::Token("ab12".into()),
            Partition::Enterprise("acme".into()),
            Partition::Job(JobKind::Handover, "alice#1".into()),
            Partition::Receipt("alice#1".into()),
            Partition::Ledger("alice#1".into()),
        ];
        for p in partitions {
            assert_eq!(Partition::parse(&p.pk()), p);
        }
        assert_eq!(Partition::claim(&email).pk(), claim_partition(&email));
        assert_eq!(Partition::parse("JOB#sweep#x"), Partition::Other("JOB#sweep#x".into()));
        assert_eq!(Partition::parse("CLAIM#FAX#1"), Partition::Other("CLAIM#FAX#1".into()));
        assert_eq!(Partition::parse("STRAY#1"), Partition::Other("STRAY#1".into()));
    }
}
