//! Data export (docs/data-export.md): a copy of everything the account owns, as one JSON
//! document in the export bucket, for the person leaving (GDPR Art. 15 and 20). Asking for it
//! is one transaction that spends the token and records the export with its job; the job
//! then writes the archive in parts ([`archive`]) and completes it whole, so a crash never
//! leaves half an archive behind a link. `cleanup` finishes one that outgrew its request.

mod archive;
mod job;

use crate::accounts::AccountError;
use crate::bucket::{BucketError, ExportBucket};
use crate::caller::Caller;
use crate::clock::rfc3339;
use crate::internal::{internal_from, Internal};
use crate::model::export::{ExportId, ExportRecord, ExportState, ExportStatus};
use crate::model::ids::AccountId;
use crate::model::job::{ExportStep, Job, JobKind, JobStep, LEASE_SECONDS};
use crate::store::{AcceptExportPart, ExportStore, JobStore, TxOutcome};
use crate::tokens::TokenString;
use crate::work::{random_id, Budget, Progress};
use crate::App;
use serde::Serialize;
use std::time::Duration;

pub(crate) use job::{removed_exports, removed_exports_payload};

/// An export as the routes answer it (docs/api.md#export-data).
#[derive(Debug, Serialize)]
pub struct ExportView {
    pub export_id: String,
    pub status: ExportStatus,
    pub requested_at: String,
    /// When the link stops working; `null` while preparing.
    pub expires_at: Option<String>,
    /// Only while `ready`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
}

impl ExportView {
    pub fn ready(&self) -> bool {
        self.status == ExportStatus::Ready
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("the verification token is invalid")]
    TokenInvalid,
    /// No export with that id for the caller's account (another account's is the same answer).
    #[error("no such export")]
    NotFound,
    #[error(transparent)]
    Bucket(#[from] BucketError),
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(ExportError);

impl App {
    /// Accepts an export and writes its archive until done or out of budget (then `cleanup`
    /// finishes it). While one is being prepared, asking again answers that one and spends nothing.
    pub async fn request_export(&self, caller: &Caller, token: &TokenString) -> Result<ExportView, ExportError> {
        for _ in 0..3 {
            let now = self.clock.now();
            let owner = random_id("worker")?;
            let record = ExportRecord {
                id: new_export_id()?,
                account_id: caller.account.to_string(),
                state: ExportState::Preparing,
                requested_at: now,
                ready_at: None,
                expires_at: None,
            };
            let job = Job {
                kind: JobKind::Export,
                subject: caller.account.to_string(),
                step: JobStep::Export(ExportStep::Collect),
                done: 0,
                cursor: None,
                requested_by: caller.account.to_string(),
                requested_at: now,
                due_at: now + LEASE_SECONDS,
                lease_owner: Some(owner.clone()),
                reference: record.id.to_string(),
                payload: None,
                purge_at: None,
            };
            let mut outcome = TxOutcome::Cancelled(Vec::new());
            for hash in token.hashes(self)? {
                outcome = self.store.accept_export(&caller.account, caller.session, &hash, &job, &record).await?;
                // Under the next key only if no token was found under this one (issued before a rotation).
                if !outcome.refused(&AcceptExportPart::Token) {
                    break;
                }
            }
            if let TxOutcome::Cancelled(_) = outcome {
                if outcome.refused(&AcceptExportPart::Profile) || outcome.refused(&AcceptExportPart::Token) {
                    // The account (and session) first: a deleted account hears 410, a revoked session 401.
                    self.live_caller(caller).await?;
                    return Err(ExportError::TokenInvalid);
                }
                // One is being prepared: answer it. Gone meanwhile (finished): ask again.
                if let Some(running) = self.store.get_job(JobKind::Export, caller.account.as_str()).await? {
                    return self.export_status(caller, &running.reference).await;
                }
                continue;
            }
            tracing::info!(account = %caller.account, export = %record.id, "export accepted");
            self.failpoints.check("export.accepted")?;
            let budget = Budget::items(self.config.inline_work_items);
            match self.run_export(&job, &owner, budget, caller.language).await {
                Ok(Progress::Paused) => self.store.release_job(&job, &owner, self.clock.now()).await?,
                Ok(_) => {}
                // Accepted already: once the lease lapses cleanup carries it on.
                Err(ExportError::Bucket(error)) => {
                    tracing::warn!(account = %caller.account, %error, "export paused: the bucket failed; cleanup carries it on");
                }
                Err(ExportError::Internal(Internal::Store(error))) => {
                    tracing::warn!(account = %caller.account, %error, "export paused; cleanup carries it on");
                }
                Err(other) => return Err(other),
            }
            return self.export_status(caller, record.id.as_str()).await;
        }
        Err(crate::store::StoreError::Busy("the export job kept changing".into()).into())
    }

    /// Where the caller's export stands, with its link while it is ready.
    pub async fn export_status(&self, caller: &Caller, export_id: &str) -> Result<ExportView, ExportError> {
        self.live_caller(caller).await?;
        let id = ExportId::parse(export_id).ok_or(ExportError::NotFound)?;
        let record = self.store.get_export(&caller.account, &id).await?.ok_or(ExportError::NotFound)?;
        let now = self.clock.now();
        let status = record.status(now);
        let download_url = match (status, record.expires_at) {
            (ExportStatus::Ready, Some(expires_at)) => {
                let key = ExportBucket::object_key(&caller.account, &record.id);
                let valid_for = Duration::from_secs((expires_at - now).max(1) as u64);
                Some(self.exports.link(&key, valid_for).await?)
            }
            _ => None,
        };
        Ok(ExportView {
            export_id: record.id.to_string(),
            status,
            requested_at: rfc3339(record.requested_at),
            expires_at: record.expires_at.map(rfc3339),
            download_url,
        })
    }

    /// Carries an export on from wherever it stopped.
    pub async fn resume_export(&self, job: &Job, owner: &str, budget: Budget) -> Result<Progress, ExportError> {
        self.run_export(job, owner, budget, None).await
    }

    /// Removes the account's exports from the bucket as its deletion begins its purge: the
    /// running export's job and upload, and every export's object (the records go with the
    /// account's other items). The number of exports.
    pub(crate) async fn remove_exports(&self, account: &AccountId) -> Result<u64, ExportError> {
        if let Some(running) = self.store.get_job(JobKind::Export, account.as_str()).await? {
            self.store.drop_export_job(account).await?;
            if let (Some(id), Some(upload)) = (ExportId::parse(&running.reference), job::upload_of(&running)) {
                self.exports.abort(&ExportBucket::object_key(account, &id), &upload).await?;
            }
        }
        let records = self.store.exports_of(account).await?;
        for record in &records {
            self.exports.remove(&ExportBucket::object_key(account, &record.id)).await?;
        }
        Ok(records.len() as u64)
    }
}

fn new_export_id() -> Result<ExportId, crate::crypto::RandomError> {
    Ok(ExportId::from_random(crate::crypto::random_bytes::<12>()?))
}
