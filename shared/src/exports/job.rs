//! The export job: collect (page through the account's items into the archive's parts),
//! seal (complete the upload: the archive appears whole), notify (the link by mail). Its
//! state is saved at every part boundary, so a run that dies resumes from the last part.

use super::archive::ArchiveWriter;
use super::ExportError;
use crate::bucket::{BucketError, ExportBucket};
use crate::clock::rfc3339;
use crate::model::export::{ArchiveProgress, ExportId, Section, UploadedPart};
use crate::model::ids::AccountId;
use crate::model::job::{ExportStep, Job, JobKind, JobStep};
use crate::model::locale::Locale;
use crate::store::{AccountStore, ExportReadyPart, ExportStore, JobStore, StoreError, TxOutcome};
use crate::work::{Budget, Progress};
use crate::App;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Entries read per Query of the account's partition.
const PAGE: usize = 500;

/// The state a deletion job keeps about the exports it removed (its `payload`).
#[derive(Debug, Serialize, Deserialize)]
struct DeletionExports {
    exports_removed: u64,
}

/// How many exports a deletion job recorded it removed; `None` before it removed them.
pub(crate) fn removed_exports(job: &Job) -> Option<u64> {
    let payload = job.payload.as_deref()?;
    serde_json::from_str::<DeletionExports>(payload).ok().map(|d| d.exports_removed)
}

/// A deletion job's payload once its exports are removed.
pub(crate) fn removed_exports_payload(n: u64) -> String {
    serde_json::json!({ "exports_removed": n }).to_string()
}

/// The upload an export job began, if any.
pub(crate) fn upload_of(job: &Job) -> Option<String> {
    progress_of(job).ok()?.upload_id
}

fn progress_of(job: &Job) -> Result<ArchiveProgress, StoreError> {
    match job.payload.as_deref() {
        None | Some("") => Ok(ArchiveProgress::default()),
        Some(text) => serde_json::from_str(text).map_err(|_| StoreError::Malformed("export job payload".into())),
    }
}

impl App {
    /// `language`: what the request that runs it inline asked for; else the account's `locale`.
    pub(super) async fn run_export(
        &self,
        job: &Job,
        owner: &str,
        mut budget: Budget,
        language: Option<Locale>,
    ) -> Result<Progress, ExportError> {
        let account =
            AccountId::parse(&job.subject).ok_or_else(|| StoreError::Malformed("export job subject".into()))?;
        let export =
            ExportId::parse(&job.reference).ok_or_else(|| StoreError::Malformed("export job reference".into()))?;
        let key = ExportBucket::object_key(&account, &export);
        let mut step = match job.step {
            JobStep::Export(step) => step,
            _ => return Err(StoreError::Malformed("export job step".into()).into()),
        };
        let mut progress = progress_of(job)?;
        loop {
            match step {
                ExportStep::Collect => {
                    match self.collect(job, owner, &account, &export, &key, progress, &mut budget).await? {
                        Collected::Closed(done) => (step, progress) = (ExportStep::Seal, done),
                        Collected::Stopped(p) => return Ok(p),
                    }
                }
                ExportStep::Seal => {
                    let upload = progress.upload_id.clone().unwrap_or_default();
                    match self.exports.complete(&key, &upload, &progress.parts).await {
                        Ok(()) => {}
                        // Completed by a run that died before recording it, if the object is there.
                        Err(BucketError::NoSuchUpload) if self.exports.exists(&key).await? => {}
                        Err(BucketError::NoSuchUpload) => {
                            tracing::warn!(account = %account, export = %export, "the upload is gone; the archive is written again");
                            progress = ArchiveProgress::default();
                            step = ExportStep::Collect;
                            continue;
                        }
                        Err(other) => return Err(other.into()),
                    }
                    self.failpoints.check("export.sealed")?;
                    let now = self.clock.now();
                    let expires_at = now + self.config.export_link_ttl_seconds;
                    let outcome = self.store.export_ready(job, owner, &export, now, expires_at).await?;
                    if let TxOutcome::Cancelled(_) = outcome {
                        if outcome.refused(&ExportReadyPart::Job) {
                            self.withdrawn(&account, &export, &key, None).await?;
                        }
                        return Ok(Progress::LeaseLost);
                    }
                    tracing::info!(account = %account, export = %export, entries = progress.entries, "export ready");
                    self.failpoints.check("export.ready")?;
                    step = ExportStep::Notify;
                }
                ExportStep::Notify => return self.notify(job, owner, &account, &export, &key, language).await,
            }
        }
    }

    /// Writes the archive's parts from where `progress` stands until it is closed, the budget
    /// runs out or the job is lost.
    #[allow(clippy::too_many_arguments)]
    async fn collect(
        &self,
        job: &Job,
        owner: &str,
        account: &AccountId,
        export: &ExportId,
        key: &str,
        progress: ArchiveProgress,
        budget: &mut Budget,
    ) -> Result<Collected, ExportError> {
        let Some(profile) = self.store.archived_profile(account).await? else {
            // The deletion's final step ran: nothing of the account is left to export.
            self.withdrawn(account, export, key, progress.upload_id.as_deref()).await?;
            return Ok(Collected::Stopped(Progress::LeaseLost));
        };
        let mut writer = ArchiveWriter::resume(progress);
        if writer.progress.upload_id.is_none() {
            writer.progress.upload_id = Some(self.exports.begin(key, export).await?);
            if !self.save(job, owner, ExportStep::Collect, &writer.progress).await? {
                return Ok(Collected::Stopped(self.lost(account, export, key, &writer.progress).await?));
            }
            self.failpoints.check("export.upload_begun")?;
        }
        if writer.progress.section.is_none() {
            writer.header(export.as_str(), job.requested_at, self.clock.now(), &profile);
        }
        while !writer.progress.closed {
            let section = writer.progress.section.unwrap_or(Section::Holds);
            let page = self.store.archive_page(account, section, writer.progress.cursor.as_deref(), PAGE).await?;
            let read = page.entries.len();
            for (sk, entry) in page.entries {
                writer.entry(sk, &entry).map_err(|e| StoreError::Malformed(e.to_string()))?;
                if writer.part_full() && !self.flush(job, owner, key, &mut writer, ExportStep::Collect).await? {
                    return Ok(Collected::Stopped(self.lost(account, export, key, &writer.progress).await?));
                }
            }
            if !page.more {
                writer.next_section();
            }
            budget.spend(read.max(1));
            if !writer.progress.closed && budget.exhausted() {
                // What was read since the last part is read again by the next run.
                return Ok(Collected::Stopped(Progress::Paused));
            }
        }
        if !self.flush(job, owner, key, &mut writer, ExportStep::Seal).await? {
            return Ok(Collected::Stopped(self.lost(account, export, key, &writer.progress).await?));
        }
        Ok(Collected::Closed(writer.progress))
    }

    /// Uploads what is buffered as the next part and saves the state that matches it.
    async fn flush(
        &self,
        job: &Job,
        owner: &str,
        key: &str,
        writer: &mut ArchiveWriter,
        step: ExportStep,
    ) -> Result<bool, ExportError> {
        let upload = writer.progress.upload_id.clone().unwrap_or_default();
        let number = writer.progress.parts.len() as i32 + 1;
        let bytes = std::mem::take(&mut writer.buffer);
        let etag = self.exports.upload_part(key, &upload, number, bytes).await?;
        self.failpoints.check("export.part_uploaded")?;
        writer.progress.parts.push(UploadedPart { number, etag });
        let saved = self.save(job, owner, step, &writer.progress).await?;
        self.failpoints.check("export.part_saved")?;
        Ok(saved)
    }

    async fn save(&self, job: &Job, owner: &str, step: ExportStep, p: &ArchiveProgress) -> Result<bool, ExportError> {
        Ok(self.store.archive_progress(job, owner, self.clock.now(), step, p).await?)
    }

    /// The job was not this run's to save: another worker has it, or it was ended.
    async fn lost(
        &self,
        account: &AccountId,
        export: &ExportId,
        key: &str,
        p: &ArchiveProgress,
    ) -> Result<Progress, ExportError> {
        self.withdrawn(account, export, key, p.upload_id.as_deref()).await?;
        Ok(Progress::LeaseLost)
    }

    /// If the export's job is gone (the account is being deleted), nothing this run wrote may stay.
    async fn withdrawn(
        &self,
        account: &AccountId,
        export: &ExportId,
        key: &str,
        upload: Option<&str>,
    ) -> Result<(), ExportError> {
        let running = self.store.get_job(JobKind::Export, account.as_str()).await?;
        if running.is_some_and(|j| j.reference == export.as_str()) {
            return Ok(()); // another worker carries it on
        }
        if let Some(upload) = upload {
            self.exports.abort(key, upload).await?;
        }
        self.exports.remove(key).await?;
        Ok(())
    }

    /// Mails the link, then ends the job; a mail that fails is tried again by a later run.
    async fn notify(
        &self,
        job: &Job,
        owner: &str,
        account: &AccountId,
        export: &ExportId,
        key: &str,
        language: Option<Locale>,
    ) -> Result<Progress, ExportError> {
        let record = self.store.get_export(account, export).await?;
        let profile = self.store.get_account(account).await?;
        if let (Some(record), Some(profile)) = (record, profile) {
            let now = self.clock.now();
            let expires_at = record.expires_at.unwrap_or(now);
            if let (Some(email), true) = (&profile.email, expires_at > now) {
                let link = self.exports.link(key, Duration::from_secs((expires_at - now) as u64)).await?;
                let locale = language.unwrap_or(profile.locale);
                let letter = crate::locale::mails::export_ready(locale, export.as_str(), &link, &rfc3339(expires_at));
                if let Err(error) = self.mailer.send_letter(email, locale, letter).await {
                    tracing::warn!(account = %account, %error, "export mail failed; a later run retries it");
                    return Ok(Progress::Paused);
                }
            }
        }
        Ok(if self.store.end_job(job, owner).await? { Progress::Finished } else { Progress::LeaseLost })
    }
}

/// How collecting ended.
enum Collected {
    /// Every member is written and uploaded: the state to seal.
    Closed(ArchiveProgress),
    Stopped(Progress),
}
