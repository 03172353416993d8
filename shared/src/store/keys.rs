//! Every key of the table, written once (docs/key-design.md): the partition key
//! `pk` and sort key `sk` of each kind of item. Nothing else in the store or
//! the operations formats or parses a key (`events.rs` recognises the stream's
//! records by theirs, for publish-events).

use super::items::{s, Item};
use crate::model::due::{DueBucket, DueEntry};
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

/// The partition of an account: its profile, holds, credentials, records and other services' data.
pub fn account_partition(account: &AccountId) -> String {
    format!("ACCOUNT#{account}")
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

pub fn hold(account: &AccountId, kind: &str, reference: &str) -> Item {
    account_item(account, &format!("{PROFILE}#HOLD#{kind}#{reference}"))
}

pub fn cancellation(account: &AccountId, receipt_id: &str) -> Item {
    account_item(account, &format!("CANCELLATION#{receipt_id}"))
}

pub fn handover_record(account: &AccountId, handover_id: &str) -> Item {
    account_item(account, &format!("HANDOVER#{handover_id}"))
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
    key(format!("{TOKEN_PREFIX}{hash}"), "TOKEN")
}

/// The hash a token item's partition key names; `None` for any other item.
pub fn token_hash(pk: &str) -> Option<&str> {
    pk.strip_prefix(TOKEN_PREFIX)
}

pub fn claim_partition(id: &Identifier) -> String {
    format!("CLAIM#{}#{}", id.kind().to_ascii_uppercase(), id.value())
}

pub fn claim(id: &Identifier) -> Item {
    key(claim_partition(id), "CLAIM")
}

pub fn enterprise_partition(enterprise: &str) -> String {
    format!("ENTERPRISE#{enterprise}")
}

pub fn enterprise(enterprise: &str) -> Item {
    key(enterprise_partition(enterprise), "META")
}

/// The prefix of every membership's sort key under its enterprise.
pub const MEMBER_PREFIX: &str = "MEMBER#";

pub fn member(enterprise: &str, account: &AccountId) -> Item {
    key(enterprise_partition(enterprise), &format!("{MEMBER_PREFIX}{account}"))
}

pub fn job(kind: JobKind, subject: &str) -> Item {
    key(format!("JOB#{}#{subject}", kind.as_str()), "JOB")
}

pub fn receipt(account: &AccountId) -> Item {
    key(format!("RECEIPT#{account}"), "RECEIPT")
}

pub fn ledger_partition(account: &str) -> String {
    format!("LEDGER#{account}")
}

pub fn ledger_entry(account: &str, system: &str) -> Item {
    key(ledger_partition(account), &format!("SYSTEM#{system}"))
}

/// What the item keyed `pk`, `sk` in the due index's `bucket` is; `None` for a key no due item has.
pub fn due_entry(bucket: DueBucket, pk: &str, sk: &str) -> Option<DueEntry> {
    match (bucket, sk) {
        (DueBucket::Job, "JOB") => {
            let (kind, subject) = pk.strip_prefix("JOB#")?.split_once('#')?;
            Some(DueEntry::Job { kind: JobKind::parse(kind)?, subject: subject.to_string() })
        }
        (DueBucket::Claim, "CLAIM") => {
            let (kind, value) = pk.strip_prefix("CLAIM#")?.split_once('#')?;
            let id = match kind {
                "USERNAME" => Identifier::Username(Username::parse(value).ok()?),
                "EMAIL" => Identifier::Email(EmailAddress::parse(value).ok()?),
                "PHONE" => Identifier::Phone(PhoneNumber::parse(value).ok()?),
                _ => return None,
            };
            // Acted on by its key again: only if that key is this one.
            (claim_partition(&id) == pk).then_some(DueEntry::Claim(id))
        }
        (DueBucket::Token, "TOKEN") => Some(DueEntry::Token { hash: token_hash(pk)?.to_string() }),
        (DueBucket::Ledger, _) => Some(DueEntry::Ledger {
            account: pk.strip_prefix("LEDGER#")?.to_string(),
            system: sk.strip_prefix("SYSTEM#")?.to_string(),
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
}
