//! Data exports in the table: accepting one (token, profile, job and record in one
//! transaction), reading its record, paging through what the archive holds member by
//! member, recording the archive's progress and its readiness, and ending an account's
//! export job when the account is deleted.

use super::error::StoreError;
use super::items::profile::account as profile;
use super::items::{credential, export, hold, job, s, Item, ItemExt};
use super::keys;
use super::table::{Store, TxOutcome, Written};
use crate::model::export::{
    ArchiveEntry, ArchivePage, ArchiveProgress, ArchivedAccount, ArchivedContact, ArchivedCredential, ArchivedHold,
    ArchivedItem, ArchivedProfile, ExportId, ExportRecord, Section,
};
use crate::model::handover::contacts::{Channel, ContactSlot};
use crate::model::handover::credentials::CredentialKind;
use crate::model::ids::AccountId;
use crate::model::job::{ExportStep, Job, JobKind, JobStep};
use crate::model::purpose::Purpose;
use crate::model::session::Session;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value};

/// The parts of accepting an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptExportPart {
    /// Spent, expired, or not this account's.
    Token,
    /// Not active, not in this session, or no longer listing the token.
    Profile,
    /// An export of the account is being prepared already.
    Job,
    /// Never refused: the export id is new.
    Record,
}

/// The parts of recording that an archive is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportReadyPart {
    /// Not preparing any more (an earlier run recorded it).
    Record,
    /// The job's lease went to another worker, or the job was ended (a deletion).
    Job,
}

/// The credentials' sort-key ranges, in key order (`ACCESS_KEY#` < `IAM_USER#` < `LOGIN#` < `MFA#`).
const CREDENTIAL_KINDS: [CredentialKind; 4] =
    [CredentialKind::AccessKey, CredentialKind::IamUser, CredentialKind::ThirdPartyLogin, CredentialKind::Mfa];

/// Attributes of the account's own records that name the other party of a handover: never archived.
const NOT_ARCHIVED: [&str; 3] = ["pk", "sk", "destination"];

/// Data exports, as the operations ask the table for them.
pub(crate) trait ExportStore {
    /// Pattern "accept an export": one transaction spends the token, checks the profile is
    /// active in this session, creates the export job (none may be preparing) and the record.
    async fn accept_export(
        &self,
        account: &AccountId,
        session: Session,
        token_hash: &str,
        job: &Job,
        record: &ExportRecord,
    ) -> Result<TxOutcome<AcceptExportPart>, StoreError>;

    /// Pattern "read an export": GetItem on the record in the caller's own partition.
    async fn get_export(&self, account: &AccountId, export: &ExportId) -> Result<Option<ExportRecord>, StoreError>;

    /// Pattern "an account's exports": Query of the `EXPORT#` range (a deletion removes their objects).
    async fn exports_of(&self, account: &AccountId) -> Result<Vec<ExportRecord>, StoreError>;

    /// Pattern "the archive's header": GetItem on the profile, as the archive shows it.
    async fn archived_profile(&self, account: &AccountId) -> Result<Option<ArchivedProfile>, StoreError>;

    /// Pattern "a page of the archive": a consistent Query of the member's sort-key range(s)
    /// after `after`, at most `limit` entries, in key order.
    async fn archive_page(
        &self,
        account: &AccountId,
        section: Section,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ArchivePage, StoreError>;

    /// Pattern "record the archive's progress": the job's step, `done`, cursor and payload,
    /// renewing the lease. `false`: the lease was lost (or the job ended).
    async fn archive_progress(
        &self,
        job: &Job,
        owner: &str,
        now: i64,
        step: ExportStep,
        progress: &ArchiveProgress,
    ) -> Result<bool, StoreError>;

    /// Pattern "an export is ready": one transaction makes the record `ready` until `expires_at`
    /// and moves the job to its last step.
    async fn export_ready(
        &self,
        job: &Job,
        owner: &str,
        export: &ExportId,
        ready_at: i64,
        expires_at: i64,
    ) -> Result<TxOutcome<ExportReadyPart>, StoreError>;

    /// Pattern "end an account's export job", whoever holds it (the account is being deleted).
    async fn drop_export_job(&self, account: &AccountId) -> Result<(), StoreError>;

    /// Pattern "count a deletion's exports": the deletion job's payload records how many it
    /// removed (for the receipt), renewing the lease. `false`: the lease was lost.
    async fn exports_counted(&self, job: &Job, owner: &str, now: i64, payload: &str) -> Result<bool, StoreError>;
}

impl ExportStore for Store {
    async fn accept_export(
        &self,
        account: &AccountId,
        session: Session,
        token_hash: &str,
        job: &Job,
        record: &ExportRecord,
    ) -> Result<TxOutcome<AcceptExportPart>, StoreError> {
        use super::items::token;
        self.transact(vec![
            (
                AcceptExportPart::Token,
                token::consumption(token_hash, account, Purpose::ExportData, record.requested_at),
            ),
            (AcceptExportPart::Profile, profile::export_check(account, session, token_hash)),
            (AcceptExportPart::Job, job::creation(job)),
            (AcceptExportPart::Record, export::creation(account, record)),
        ])
        .await
    }

    async fn get_export(&self, account: &AccountId, export: &ExportId) -> Result<Option<ExportRecord>, StoreError> {
        self.get(keys::export(account, export)).await?.map(|i| export::from_item(&i)).transpose()
    }

    async fn exports_of(&self, account: &AccountId) -> Result<Vec<ExportRecord>, StoreError> {
        let (from, to) = keys::export_range();
        let mut records = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let (items, more) = self.range(account, Some((from, to)), after.as_deref(), 100).await?;
            after = items.last().and_then(|i| i.str("sk")).map(String::from);
            for item in &items {
                records.push(export::from_item(item)?);
            }
            if !more || after.is_none() {
                return Ok(records);
            }
        }
    }

    async fn archived_profile(&self, account: &AccountId) -> Result<Option<ArchivedProfile>, StoreError> {
        let Some(item) = self.get(keys::profile(account)).await? else { return Ok(None) };
        let text = |name: &str| item.str(name).map(String::from);
        let contacts = ContactSlot::ALL
            .iter()
            .filter_map(|slot| {
                Some(ArchivedContact {
                    role: slot.role.as_str().to_string(),
                    channel: match slot.channel {
                        Channel::Email => "email".into(),
                        Channel::Phone => "phone".into(),
                    },
                    value: item.str(&slot.name())?.to_string(),
                })
            })
            .collect();
        let status = text("status").ok_or_else(|| StoreError::Malformed("profile status".into()))?;
        Ok(Some(ArchivedProfile {
            active: status == "active",
            account: ArchivedAccount {
                id: text("account_id").unwrap_or_else(|| account.to_string()),
                username: text("username"),
                email: text("email"),
                phone: text("phone"),
                name: text("name"),
                locale: text("locale").unwrap_or_else(|| "en".into()),
                role: text("role").unwrap_or_default(),
                enterprise_id: text("enterprise_id"),
                status,
                created_at: item.num("created_at"),
            },
            contacts,
        }))
    }

    async fn archive_page(
        &self,
        account: &AccountId,
        section: Section,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ArchivePage, StoreError> {
        let mut page = ArchivePage::default();
        match section {
            Section::Holds => {
                let (from, to) = keys::hold_range();
                let (items, more) = self.range(account, Some((&from, &to)), after, limit).await?;
                page.more = more;
                for item in items {
                    let h = hold::from_item(&item);
                    let entry = ArchivedHold {
                        kind: h.kind,
                        reference: h.reference,
                        detail: h.detail,
                        registered_at: item.num("registered_at"),
                    };
                    page.entries.push((sort_key(&item)?, ArchiveEntry::Hold(entry)));
                }
            }
            Section::Credentials => {
                for kind in CREDENTIAL_KINDS {
                    let (from, to) = keys::credential_range(kind);
                    if after.is_some_and(|a| a >= to.as_str()) {
                        continue;
                    }
                    let left = limit - page.entries.len();
                    let after = after.filter(|a| *a >= from);
                    let (items, more) = self.range(account, Some((from, &to)), after, left).await?;
                    for item in items {
                        let entry = archived_credential(kind, &item);
                        page.entries.push((sort_key(&item)?, ArchiveEntry::Credential(entry)));
                    }
                    if more || page.entries.len() >= limit {
                        page.more = true;
                        break;
                    }
                }
            }
            Section::Data => {
                let (items, more) = self.range(account, None, after, limit).await?;
                page.more = more;
                for item in items {
                    let sk = sort_key(&item)?;
                    if !is_other_data(&sk) {
                        // Still counted as read: the cursor moves past it.
                        page.entries.push((sk, ArchiveEntry::Skipped));
                        continue;
                    }
                    let attributes = item
                        .iter()
                        .filter(|(k, _)| !NOT_ARCHIVED.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), plain(v)));
                    let entry = ArchivedItem { key: sk.clone(), attributes: attributes.collect() };
                    page.entries.push((sk, ArchiveEntry::Item(entry)));
                }
            }
        }
        Ok(page)
    }

    async fn archive_progress(
        &self,
        job: &Job,
        owner: &str,
        now: i64,
        step: ExportStep,
        progress: &ArchiveProgress,
    ) -> Result<bool, StoreError> {
        let payload = serde_json::to_string(progress).map_err(|e| StoreError::Malformed(e.to_string()))?;
        let op = job::export_progress(job, owner, now, JobStep::Export(step), progress, &payload);
        Ok(matches!(self.write(op, false).await?, Written::Done(_)))
    }

    async fn export_ready(
        &self,
        job: &Job,
        owner: &str,
        export: &ExportId,
        ready_at: i64,
        expires_at: i64,
    ) -> Result<TxOutcome<ExportReadyPart>, StoreError> {
        let account =
            AccountId::parse(&job.subject).ok_or_else(|| StoreError::Malformed("export job subject".into()))?;
        self.transact(vec![
            (ExportReadyPart::Record, export::readiness(&account, export, ready_at, expires_at)),
            (
                ExportReadyPart::Job,
                job::progress(job, owner, ready_at, "#step = :step")
                    .name("#step", "step")
                    .value(":step", s(JobStep::Export(ExportStep::Notify).as_str())),
            ),
        ])
        .await
    }

    async fn drop_export_job(&self, account: &AccountId) -> Result<(), StoreError> {
        self.write(job::removal(JobKind::Export, account.as_str()), false).await.map(|_| ())
    }

    async fn exports_counted(&self, job: &Job, owner: &str, now: i64, payload: &str) -> Result<bool, StoreError> {
        let op = job::progress(job, owner, now, "#payload = :payload")
            .name("#payload", "payload")
            .value(":payload", s(payload));
        Ok(matches!(self.write(op, false).await?, Written::Done(_)))
    }
}

impl Store {
    /// One consistent Query of the account's partition: sort keys in `[from, to)` (all of them
    /// without a range) after `after`, which DynamoDB takes as the start key whether or not it exists.
    async fn range(
        &self,
        account: &AccountId,
        range: Option<(&str, &str)>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Item>, bool), StoreError> {
        let pk = keys::account_partition(account);
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .limit(limit.max(1) as i32)
            .expression_attribute_values(":pk", s(&pk));
        query = match range {
            Some((from, to)) => query
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(to)),
            None => query.key_condition_expression("pk = :pk"),
        };
        if let Some(after) = after {
            query = query.exclusive_start_key("pk", s(&pk)).exclusive_start_key("sk", s(after));
        }
        let out = query.send().await.map_err(StoreError::sdk)?;
        let more = out.last_evaluated_key.is_some();
        // BETWEEN includes its end, which belongs to the next range.
        let end = range.map(|(_, to)| to);
        let items = out.items.unwrap_or_default().into_iter().filter(|i| i.str("sk") != end).collect();
        Ok((items, more))
    }
}

fn sort_key(item: &Item) -> Result<String, StoreError> {
    item.str("sk").map(String::from).ok_or_else(|| StoreError::Malformed("item without sk".into()))
}

/// An item of the `data` member: neither the profile, a hold, a credential nor an export record.
fn is_other_data(sk: &str) -> bool {
    let credential = CREDENTIAL_KINDS.iter().any(|k| sk.starts_with(keys::credential_range(*k).0));
    !(sk.starts_with(keys::PROFILE) || credential || sk.starts_with(keys::EXPORT_PREFIX))
}

fn archived_credential(kind: CredentialKind, item: &Item) -> ArchivedCredential {
    let text = |name: &str| item.str(name).map(String::from);
    let (kind_name, id, provider, state) = match kind {
        CredentialKind::Mfa => ("mfa_device", text("device_id"), None, None),
        CredentialKind::ThirdPartyLogin => ("third_party_login", text("subject"), text("provider"), None),
        CredentialKind::AccessKey => ("access_key", text("key_id"), None, text(credential::STATE)),
        CredentialKind::IamUser => {
            let reset = item.get("password_reset_required").and_then(|v| v.as_bool().ok()).copied();
            ("iam_user", text("name"), None, reset.map(|r| if r { "password_reset_required" } else { "active" }.into()))
        }
    };
    ArchivedCredential {
        kind: kind_name.to_string(),
        id: id.unwrap_or_default(),
        label: text("label"),
        provider,
        state,
        linked_at: item.num("linked_at"),
    }
}

/// An attribute as plain JSON: strings, numbers, booleans, lists and objects; binary as base64.
fn plain(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(l) => Value::Array(l.iter().map(plain).collect()),
        AttributeValue::M(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), plain(v))).collect::<Map<_, _>>()),
        AttributeValue::Ss(ss) => Value::Array(ss.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(ns) => Value::Array(ns.iter().map(|n| number(n)).collect()),
        AttributeValue::B(b) => Value::String(base64(b.as_ref())),
        AttributeValue::Bs(bs) => Value::Array(bs.iter().map(|b| Value::String(base64(b.as_ref()))).collect()),
        _ => Value::Null,
    }
}

/// A DynamoDB number as a JSON number where it fits one exactly, else as its text.
fn number(n: &str) -> Value {
    if let Ok(i) = n.parse::<i64>() {
        return Value::from(i);
    }
    match n.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
        Some(f) if f.to_string() == n => Value::Number(f),
        _ => Value::String(n.to_string()),
    }
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_read_as_plain_json() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(number("42"), Value::from(42));
        assert_eq!(number("1.5"), serde_json::json!(1.5));
        assert_eq!(number("1e400"), Value::String("1e400".into()));
        assert!(is_other_data("DATA#1") && is_other_data("HANDOVER#h1"));
        assert!(!is_other_data("PROFILE") && !is_other_data("MFA#t") && !is_other_data("EXPORT#exp_1"));
    }
}
