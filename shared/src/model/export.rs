//! A copy of an account's data (docs/data-export.md): the export as recorded, where it
//! stands, and where its job is in writing the archive.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An export's id: `exp_` and 24 lowercase hex digits, as the GET route's path carries it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExportId(String);

impl ExportId {
    pub const PREFIX: &'static str = "exp_";

    /// `None` for anything that is not an id this bundle makes (the route answers it like an unknown one).
    pub fn parse(s: &str) -> Option<Self> {
        let hex = s.strip_prefix(Self::PREFIX)?;
        let ok = hex.len() == 24 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Self(s.to_string()))
    }

    /// A new id from 96 random bits.
    pub fn from_random(bytes: [u8; 12]) -> Self {
        Self(bytes.iter().fold(Self::PREFIX.to_string(), |mut id, b| {
            id.push_str(&format!("{b:02x}"));
            id
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an export stands as stored: its archive is being written, or it is in the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportState {
    Preparing,
    Ready,
}

impl ExportState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preparing => "preparing",
            Self::Ready => "ready",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "preparing" => Some(Self::Preparing),
            "ready" => Some(Self::Ready),
            _ => None,
        }
    }
}

/// Where an export stands as the caller sees it: a ready one whose link has lapsed is expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    Preparing,
    Ready,
    Expired,
}

/// An export as recorded in the account's partition (no personal data: ids and times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRecord {
    pub id: ExportId,
    pub account_id: String,
    pub state: ExportState,
    pub requested_at: i64,
    /// When the archive was complete.
    pub ready_at: Option<i64>,
    /// When its link stops working (and the bucket's lifecycle removes it).
    pub expires_at: Option<i64>,
}

impl ExportRecord {
    pub fn status(&self, now: i64) -> ExportStatus {
        match (self.state, self.expires_at) {
            (ExportState::Preparing, _) => ExportStatus::Preparing,
            (ExportState::Ready, Some(at)) if now >= at => ExportStatus::Expired,
            (ExportState::Ready, _) => ExportStatus::Ready,
        }
    }
}

/// The archive's members that list entries, in the order the archive holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Holds,
    Credentials,
    Data,
}

impl Section {
    pub const ALL: [Section; 3] = [Self::Holds, Self::Credentials, Self::Data];

    /// The member's name in the archive.
    pub fn member(self) -> &'static str {
        match self {
            Self::Holds => "holds",
            Self::Credentials => "credentials",
            Self::Data => "data",
        }
    }

    pub fn next(self) -> Option<Self> {
        match self {
            Self::Holds => Some(Self::Credentials),
            Self::Credentials => Some(Self::Data),
            Self::Data => None,
        }
    }
}

/// One uploaded part of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedPart {
    pub number: i32,
    pub etag: String,
}

/// How far the archive is written, as the export job keeps it (its `payload`, JSON): exactly what
/// the uploaded parts hold, so a run that died resumes from the last part, never from a half one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveProgress {
    /// The multipart upload, once begun.
    pub upload_id: Option<String>,
    pub parts: Vec<UploadedPart>,
    /// The member being written; `None` before the header (account, contacts) is.
    pub section: Option<Section>,
    /// The last sort key written into the parts.
    pub cursor: Option<String>,
    /// Entries written in the current member (a comma goes before every one but the first).
    pub entries_in_section: u64,
    /// Entries written in all (the job's `done`).
    pub entries: u64,
    /// Every member is written and the archive closed: only the upload's completion is left.
    pub closed: bool,
}

/// A credential as the archive shows it: ids, labels and states, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchivedCredential {
    /// `mfa_device`, `third_party_login`, `access_key`, `iam_user`.
    pub kind: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_at: Option<i64>,
}

/// The account itself, as the archive's `account` member shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchivedAccount {
    pub id: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub locale: String,
    pub role: String,
    pub enterprise_id: Option<String>,
    pub status: String,
    pub created_at: Option<i64>,
}

/// A contact the profile keeps apart from the account's own email and phone (`security_email`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchivedContact {
    /// `login`, `security`, `service`, `admin`.
    pub role: String,
    /// `email` or `phone`.
    pub channel: String,
    pub value: String,
}

/// The profile as the archive's header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedProfile {
    pub account: ArchivedAccount,
    pub contacts: Vec<ArchivedContact>,
    /// Whether the account may still export (`active`).
    pub active: bool,
}

/// A hold another service registered on the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchivedHold {
    pub kind: String,
    pub reference: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<i64>,
}

/// Any other item the account owns: its sort key and its attributes as plain JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArchivedItem {
    pub key: String,
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// One entry of an archive's member, as a page of the account's partition yields it.
#[derive(Debug, Clone, PartialEq)]
pub enum ArchiveEntry {
    Hold(ArchivedHold),
    Credential(ArchivedCredential),
    Item(ArchivedItem),
    /// Read but not of this member (the `data` range passes over the profile, holds, credentials and exports).
    Skipped,
}

/// A page of one member's entries, with the sort key of each.
#[derive(Debug, Clone, Default)]
pub struct ArchivePage {
    pub entries: Vec<(String, ArchiveEntry)>,
    /// More entries follow the last one.
    pub more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_id_is_what_the_bundle_makes_and_nothing_else() {
        assert!(ExportId::parse("exp_0123456789abcdef01234567").is_some());
        let made = ExportId::from_random([0xab; 12]);
        assert_eq!(ExportId::parse(made.as_str()), Some(made));
        for bad in ["", "exp_", "exp_0123456789ABCDEF01234567", "exp_0123", "rcpt_0123456789abcdef01234567", "exp_../x"]
        {
            assert!(ExportId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_ready_export_expires_with_its_link() {
        let id = ExportId::parse("exp_0123456789abcdef01234567").unwrap();
        let mut r = ExportRecord {
            id,
            account_id: "a".into(),
            state: ExportState::Preparing,
            requested_at: 10,
            ready_at: None,
            expires_at: None,
        };
        assert_eq!(r.status(100), ExportStatus::Preparing);
        r.state = ExportState::Ready;
        r.expires_at = Some(50);
        assert_eq!(r.status(49), ExportStatus::Ready);
        assert_eq!(r.status(50), ExportStatus::Expired);
    }
}
