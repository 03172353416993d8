//! Jobs: reading one, taking its lease, recording its progress, handing it
//! back and ending it. A job is in the due index (bucket `job`) at `due_at`:
//! the end of its lease, or the end of a grace period, so `cleanup` finds the
//! ones whose worker died or whose time came.

use super::error::StoreError;
use super::items::job;
use super::keys;
use super::table::{Store, Written};
use crate::model::job::{HandoverProgress, Job, JobKind};

/// Jobs and their leases, as the operations ask the table for them.
pub(crate) trait JobStore {
    /// Pattern "read a job".
    async fn get_job(&self, kind: JobKind, subject: &str) -> Result<Option<Job>, StoreError>;

    /// Pattern "take a job": a conditional UpdateItem that gives `owner` the
    /// lease if the job is due (its lease lapsed, or its time came) or already `owner`'s.
    async fn take_job(&self, kind: JobKind, subject: &str, owner: &str, now: i64) -> Result<Option<Job>, StoreError>;

    /// Pattern "count a page": adds `fresh` to `done` and moves the cursor to
    /// `last`, renewing the lease. `false`: the lease was lost to another worker.
    async fn count_page(&self, job: &Job, owner: &str, now: i64, fresh: usize, last: &str) -> Result<bool, StoreError>;

    /// Pattern "move a handover on": its next step, cursor and state, renewing the
    /// lease. `false`: the lease was lost to another worker.
    async fn advance_handover(&self, progress: &HandoverProgress<'_>) -> Result<bool, StoreError>;

    /// Pattern "hand a job back": the lease ends and the job is due at `due_at`
    /// (now: the next cleanup run carries on with it).
    async fn release_job(&self, job: &Job, owner: &str, due_at: i64) -> Result<(), StoreError>;

    /// Pattern "end a job". `false`: the lease was lost.
    async fn end_job(&self, job: &Job, owner: &str) -> Result<bool, StoreError>;
}

impl JobStore for Store {
    async fn get_job(&self, kind: JobKind, subject: &str) -> Result<Option<Job>, StoreError> {
        self.get(keys::job(kind, subject)).await?.map(|i| job::from_item(&i)).transpose()
    }

    async fn take_job(&self, kind: JobKind, subject: &str, owner: &str, now: i64) -> Result<Option<Job>, StoreError> {
        match self.write(job::taking(kind, subject, owner, now), true).await? {
            Written::Done(Some(item)) => Ok(Some(job::from_item(&item)?)),
            _ => Ok(None),
        }
    }

    async fn count_page(&self, job: &Job, owner: &str, now: i64, fresh: usize, last: &str) -> Result<bool, StoreError> {
        Ok(matches!(self.write(job::page_counted(job, owner, now, fresh, last), true).await?, Written::Done(_)))
    }

    async fn advance_handover(&self, progress: &HandoverProgress<'_>) -> Result<bool, StoreError> {
        Ok(matches!(self.write(job::advanced(progress), true).await?, Written::Done(_)))
    }

    async fn release_job(&self, job: &Job, owner: &str, due_at: i64) -> Result<(), StoreError> {
        self.write(job::release(job, owner, due_at), true).await.map(|_| ())
    }

    async fn end_job(&self, job: &Job, owner: &str) -> Result<bool, StoreError> {
        Ok(matches!(self.write(job::deletion(job, owner), false).await?, Written::Done(_)))
    }
}
