//! Jobs (`JOB#<kind>#<subject>` / `JOB`): a deletion, dismissal or handover in
//! progress, with its step, counters and lease. A job is in the due index
//! (bucket `job`) at `due_at`: the end of its lease, or the end of a grace
//! period, so `cleanup` finds the ones whose worker died or whose time came.

use super::{key, keys, n, s, Item, ItemExt, Op, Store, StoreError, Written};

/// How long a worker owns a job before another may take it over.
pub const LEASE_SECONDS: i64 = 120;
pub const JOB_BUCKET: &str = "job";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Deletion,
    Dismissal,
    Handover,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deletion => "deletion",
            Self::Dismissal => "dismissal",
            Self::Handover => "handover",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "deletion" => Self::Deletion,
            "dismissal" => Self::Dismissal,
            "handover" => Self::Handover,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub kind: JobKind,
    /// The account or enterprise the job is about.
    pub subject: String,
    pub step: String,
    /// Units of work done and recorded (items removed, members released).
    pub done: u64,
    /// The last sort key counted, so a page re-read after a crash is not counted twice.
    pub cursor: Option<String>,
    pub requested_by: String,
    pub requested_at: i64,
    pub due_at: i64,
    pub lease_owner: Option<String>,
    /// Deletion: the receipt id promised to the caller. Handover: the record id.
    pub reference: String,
    /// Free-form, job-specific state (handover: the requested change as JSON).
    pub payload: Option<String>,
    /// A deletion in its grace period: when the purge is due. The stream carries it to
    /// publish-events as `Account Deletion Scheduled` (docs/events.md).
    pub purge_at: Option<i64>,
}

impl Job {
    pub(super) fn from_item(item: &Item) -> Result<Self, StoreError> {
        let kind = item.str("kind").and_then(JobKind::parse).ok_or_else(|| StoreError::Malformed("job kind".into()))?;
        Ok(Self {
            kind,
            subject: item.str("subject").unwrap_or_default().to_string(),
            step: item.str("step").unwrap_or_default().to_string(),
            done: item.num("done").unwrap_or(0).max(0) as u64,
            cursor: item.str("cursor").map(String::from),
            requested_by: item.str("requested_by").unwrap_or_default().to_string(),
            requested_at: item.num("requested_at").unwrap_or(0),
            due_at: item.num("due_at").unwrap_or(0),
            lease_owner: item.str("lease_owner").map(String::from),
            reference: item.str("reference").unwrap_or_default().to_string(),
            payload: item.str("payload").map(String::from),
            purge_at: item.num("purge_at"),
        })
    }

    fn key(&self) -> Item {
        job_key(self.kind, &self.subject)
    }
}

pub(crate) fn job_key_of(job: &Job) -> Item {
    job.key()
}

fn job_key(kind: JobKind, subject: &str) -> Item {
    key(keys::job(kind.as_str(), subject), keys::JOB)
}

impl Store {
    /// Pattern "create a job", for the transaction that accepts the work.
    pub(crate) fn job_creation(&self, job: &Job) -> Op {
        let mut item = job.key();
        item.extend([
            ("kind".to_string(), s(job.kind.as_str())),
            ("subject".to_string(), s(&job.subject)),
            ("step".to_string(), s(&job.step)),
            ("done".to_string(), n(job.done)),
            ("requested_by".to_string(), s(&job.requested_by)),
            ("requested_at".to_string(), n(job.requested_at)),
            ("reference".to_string(), s(&job.reference)),
            ("due_bucket".to_string(), s(JOB_BUCKET)),
            ("due_at".to_string(), n(job.due_at)),
        ]);
        if let Some(owner) = &job.lease_owner {
            item.insert("lease_owner".to_string(), s(owner));
        }
        if let Some(payload) = &job.payload {
            item.insert("payload".to_string(), s(payload));
        }
        if let Some(at) = job.purge_at {
            item.insert("purge_at".to_string(), n(at));
        }
        Op::put(item).when("attribute_not_exists(pk)")
    }

    /// Pattern "read a job".
    pub async fn get_job(&self, kind: JobKind, subject: &str) -> Result<Option<Job>, StoreError> {
        self.get(job_key(kind, subject)).await?.map(|i| Job::from_item(&i)).transpose()
    }

    /// Pattern "take a job": a conditional UpdateItem that gives `owner` the
    /// lease if the job is due (its lease lapsed, or its time came) or already `owner`'s.
    pub async fn take_job(
        &self,
        kind: JobKind,
        subject: &str,
        owner: &str,
        now: i64,
    ) -> Result<Option<Job>, StoreError> {
        let lease_until = now + LEASE_SECONDS;
        let op = Op::update(job_key(kind, subject), "SET lease_owner = :me, due_at = :lu")
            .when("attribute_exists(pk) AND (due_at <= :now OR lease_owner = :me)")
            .value(":me", s(owner))
            .value(":lu", n(lease_until))
            .value(":now", n(now));
        match self.write(op, true).await? {
            Written::Done(Some(item)) => Ok(Some(Job::from_item(&item)?)),
            _ => Ok(None),
        }
    }

    /// Pattern "record progress", for a transaction or alone: applies `sets`
    /// (a comma-separated SET list) and renews the lease, only while `owner` holds it.
    pub(crate) fn job_progress(&self, job: &Job, owner: &str, now: i64, sets: &str) -> Op {
        let sets = if sets.is_empty() { String::new() } else { format!(", {sets}") };
        Op::update(job.key(), format!("SET due_at = :lu{sets}"))
            .when("lease_owner = :me")
            .value(":me", s(owner))
            .value(":lu", n(now + LEASE_SECONDS))
    }

    /// Runs a progress write alone. `false`: the lease was lost to another worker.
    pub(crate) async fn save_progress(&self, op: Op) -> Result<bool, StoreError> {
        Ok(matches!(self.write(op, true).await?, Written::Done(_)))
    }

    /// Pattern "count a page": adds `fresh` to `done` and moves the cursor to
    /// `last`, renewing the lease. `false`: the lease was lost to another worker.
    pub async fn count_page(
        &self,
        job: &Job,
        owner: &str,
        now: i64,
        fresh: usize,
        last: &str,
    ) -> Result<bool, StoreError> {
        let op = self
            .job_progress(job, owner, now, "done = done + :fresh, #cursor = :last")
            .name("#cursor", "cursor")
            .value(":fresh", n(fresh))
            .value(":last", s(last));
        self.save_progress(op).await
    }

    /// Pattern "hand a job back": the lease ends and the job is due at `due_at`
    /// (now: the next cleanup run carries on with it).
    pub async fn release_job(&self, job: &Job, owner: &str, due_at: i64) -> Result<(), StoreError> {
        let op = Op::update(job.key(), "SET due_at = :due REMOVE lease_owner")
            .when("lease_owner = :me")
            .value(":me", s(owner))
            .value(":due", n(due_at));
        self.write(op, true).await.map(|_| ())
    }

    /// Pattern "end a job", for a transaction or alone.
    pub(crate) fn job_deletion(&self, job: &Job, owner: &str) -> Op {
        Op::delete(job.key()).when("lease_owner = :me").value(":me", s(owner))
    }
}
