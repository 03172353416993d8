//! The archive's text, written in order into parts: the header (format, ids, times, the
//! account and its contacts), then the members `holds`, `credentials` and `data`, each a JSON
//! array, then the closing brace. The writer's state is [`ArchiveProgress`], which the job
//! saves at every part boundary, so the parts always join into one valid document.

use crate::clock::rfc3339;
use crate::model::export::{ArchiveEntry, ArchiveProgress, ArchivedProfile, Section};
use serde_json::json;

/// The archive's `format` member: its shape is docs/data-export.md's and docs/data-export.schema.json's.
pub const FORMAT: &str = "account-data-export/1";

/// S3's smallest part but the last: the archive is held in memory one part at a time.
pub const PART_BYTES: usize = 5 * 1024 * 1024;

/// The text not yet uploaded, and where it stands.
pub struct ArchiveWriter {
    pub progress: ArchiveProgress,
    pub buffer: Vec<u8>,
}

impl ArchiveWriter {
    pub fn resume(progress: ArchiveProgress) -> Self {
        Self { progress, buffer: Vec::with_capacity(64 * 1024) }
    }

    /// Opens the document: everything before the first member's entries.
    pub fn header(&mut self, export_id: &str, requested_at: i64, now: i64, profile: &ArchivedProfile) {
        let header = json!({
            "format": FORMAT,
            "export_id": export_id,
            "account_id": profile.account.id,
            "requested_at": rfc3339(requested_at),
            "generated_at": rfc3339(now),
            "account": profile.account,
            "contacts": profile.contacts,
        });
        let text = header.to_string();
        // The object without its closing brace: the members follow.
        self.buffer.extend_from_slice(&text.as_bytes()[..text.len() - 1]);
        self.open(Section::Holds);
    }

    fn open(&mut self, section: Section) {
        self.buffer.extend_from_slice(format!(",\"{}\":[", section.member()).as_bytes());
        self.progress.section = Some(section);
        self.progress.cursor = None;
        self.progress.entries_in_section = 0;
    }

    /// One entry of the current member, read at sort key `sk`.
    pub fn entry(&mut self, sk: String, entry: &ArchiveEntry) -> Result<(), serde_json::Error> {
        let text = match entry {
            ArchiveEntry::Hold(h) => serde_json::to_vec(h)?,
            ArchiveEntry::Credential(c) => serde_json::to_vec(c)?,
            ArchiveEntry::Item(i) => serde_json::to_vec(i)?,
            ArchiveEntry::Skipped => Vec::new(),
        };
        if !text.is_empty() {
            if self.progress.entries_in_section > 0 {
                self.buffer.push(b',');
            }
            self.buffer.extend_from_slice(&text);
            self.progress.entries_in_section += 1;
            self.progress.entries += 1;
        }
        self.progress.cursor = Some(sk);
        Ok(())
    }

    /// Ends the current member and opens the next; after the last, closes the document.
    pub fn next_section(&mut self) {
        self.buffer.push(b']');
        match self.progress.section.and_then(Section::next) {
            Some(next) => self.open(next),
            None => {
                self.buffer.push(b'}');
                self.progress.closed = true;
            }
        }
    }

    /// A part's worth is buffered.
    pub fn part_full(&self) -> bool {
        self.buffer.len() >= PART_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::export::{ArchivedAccount, ArchivedHold, ArchivedItem};

    #[test]
    fn parts_join_into_one_document_with_every_member() {
        let profile = ArchivedProfile {
            account: ArchivedAccount {
                id: "a".into(),
                username: Some("ann".into()),
                email: None,
                phone: None,
                name: None,
                locale: "en".into(),
                role: "individual".into(),
                enterprise_id: None,
                status: "active".into(),
                created_at: Some(1),
            },
            contacts: Vec::new(),
            active: true,
        };
        let mut w = ArchiveWriter::resume(ArchiveProgress::default());
        w.header("exp_1", 1, 2, &profile);
        let hold = ArchivedHold { kind: "k".into(), reference: "r".into(), detail: "d".into(), registered_at: None };
        w.entry("PROFILE#HOLD#k#r".into(), &ArchiveEntry::Hold(hold.clone())).unwrap();
        w.entry("PROFILE#HOLD#k#s".into(), &ArchiveEntry::Hold(hold)).unwrap();
        w.next_section();
        w.next_section();
        w.entry("MFA#t".into(), &ArchiveEntry::Skipped).unwrap();
        let item = ArchivedItem { key: "DATA#1".into(), attributes: Default::default() };
        w.entry("DATA#1".into(), &ArchiveEntry::Item(item)).unwrap();
        w.next_section();
        assert!(w.progress.closed);
        let doc: serde_json::Value = serde_json::from_slice(&w.buffer).unwrap();
        assert_eq!(doc["holds"].as_array().unwrap().len(), 2);
        assert_eq!(doc["credentials"], json!([]));
        assert_eq!(doc["data"][0]["key"], "DATA#1");
        assert_eq!(doc["account"]["username"], "ann");
        assert_eq!(w.progress.entries, 3);
    }
}
