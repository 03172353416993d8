//! A job (`JOB#<kind>#<subject>` / `JOB`): a deletion, dismissal or handover
//! in progress, with its step, counters and lease. It is in the due index at
//! `due_at`: the end of its lease, or of a grace period.

use super::{n, s, Item, ItemExt};
use crate::model::due::DueBucket;
use crate::model::job::{HandoverProgress, Job, JobKind, JobStep, LEASE_SECONDS};
use crate::store::error::StoreError;
use crate::store::keys;
use crate::store::op::Op;

pub fn from_item(item: &Item) -> Result<Job, StoreError> {
    let kind = item.str("kind").and_then(JobKind::parse).ok_or_else(|| StoreError::Malformed("job kind".into()))?;
    let step = item.str("step").and_then(JobStep::parse).ok_or_else(|| StoreError::Malformed("job step".into()))?;
    Ok(Job {
        kind,
        subject: item.str("subject").unwrap_or_default().to_string(),
        step,
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

fn key(job: &Job) -> Item {
    keys::job(job.kind, &job.subject)
}

/// The job, for the transaction that accepts the work; none of its kind may exist for the subject.
pub fn creation(job: &Job) -> Op {
    let mut item = key(job);
    item.extend([
        ("kind".to_string(), s(job.kind.as_str())),
        ("subject".to_string(), s(&job.subject)),
        ("step".to_string(), s(job.step.as_str())),
        ("done".to_string(), n(job.done)),
        ("requested_by".to_string(), s(&job.requested_by)),
        ("requested_at".to_string(), n(job.requested_at)),
        ("reference".to_string(), s(&job.reference)),
        ("due_bucket".to_string(), s(DueBucket::Job.as_str())),
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

/// Gives `owner` the lease if the job is due (its lease lapsed, or its time came) or already `owner`'s.
pub fn taking(kind: JobKind, subject: &str, owner: &str, now: i64) -> Op {
    Op::update(keys::job(kind, subject), "SET lease_owner = :me, due_at = :lu")
        .when("attribute_exists(pk) AND (due_at <= :now OR lease_owner = :me)")
        .value(":me", s(owner))
        .value(":lu", n(now + LEASE_SECONDS))
        .value(":now", n(now))
}

/// Applies `sets` (a comma-separated SET list) and renews the lease, only while `owner` holds it.
pub fn progress(job: &Job, owner: &str, now: i64, sets: &str) -> Op {
    progress_op(job, owner, now, sets)
}

fn progress_op(job: &Job, owner: &str, now: i64, sets: &str) -> Op {
    let sets = if sets.is_empty() { String::new() } else { format!(", {sets}") };
    Op::update(key(job), format!("SET due_at = :lu{sets}"))
        .when("lease_owner = :me")
        .value(":me", s(owner))
        .value(":lu", n(now + LEASE_SECONDS))
}

/// Adds `fresh` to `done` and moves the cursor to `last`.
pub fn page_counted(job: &Job, owner: &str, now: i64, fresh: usize, last: &str) -> Op {
    progress(job, owner, now, "done = done + :fresh, #cursor = :last")
        .name("#cursor", "cursor")
        .value(":fresh", n(fresh))
        .value(":last", s(last))
}

/// Adds `released` to `done`.
pub fn members_released(job: &Job, owner: &str, now: i64, released: usize) -> Op {
    progress(job, owner, now, "done = done + :released").value(":released", n(released))
}

/// An export's archive moves on: its step, entries written, last sort key and state (JSON).
pub fn export_progress(
    job: &Job,
    owner: &str,
    now: i64,
    step: JobStep,
    progress: &crate::model::export::ArchiveProgress,
    payload: &str,
) -> Op {
    progress_op(job, owner, now, "#step = :step, done = :done, #cursor = :cursor, #payload = :payload")
        .name("#step", "step")
        .name("#cursor", "cursor")
        .name("#payload", "payload")
        .value(":step", s(step.as_str()))
        .value(":done", n(progress.entries))
        .value(":cursor", s(progress.cursor.as_deref().unwrap_or_default()))
        .value(":payload", s(payload))
}

/// The job of `kind` for `subject` ends, whoever holds it (an export of an account being deleted).
pub fn removal(kind: JobKind, subject: &str) -> Op {
    Op::delete(keys::job(kind, subject))
}

/// A handover moves to its next step.
pub fn advanced(p: &HandoverProgress<'_>) -> Op {
    progress(p.job, p.owner, p.now, "#step = :step, #cursor = :cursor, #payload = :payload")
        .name("#step", "step")
        .name("#cursor", "cursor")
        .name("#payload", "payload")
        .value(":step", s(JobStep::Handover(p.step).as_str()))
        .value(":cursor", s(p.cursor))
        .value(":payload", s(p.payload))
}

/// The lease ends and the job is due at `due_at`.
pub fn release(job: &Job, owner: &str, due_at: i64) -> Op {
    Op::update(key(job), "SET due_at = :due REMOVE lease_owner")
        .when("lease_owner = :me")
        .value(":me", s(owner))
        .value(":due", n(due_at))
}

/// After a scheduled deletion's reminder: due again at the purge, its lease ended.
pub fn reminded(job: &Job, owner: &str, purge_at: i64) -> Op {
    Op::update(key(job), "SET due_at = :purge REMOVE lease_owner")
        .when("lease_owner = :me")
        .value(":me", s(owner))
        .value(":purge", n(purge_at))
}

/// A deletion's pool user is signed out: on to the purge, at once (`wake` none: the lease renewed)
/// or, in a grace period, handed back until `wake` (the reminder or the purge).
pub fn signed_out(job: &Job, owner: &str, now: i64, wake: Option<i64>) -> Op {
    let op = match wake {
        None => progress(job, owner, now, "#step = :step"),
        Some(at) => Op::update(key(job), "SET #step = :step, due_at = :due REMOVE lease_owner")
            .when("lease_owner = :me")
            .value(":me", s(owner))
            .value(":due", n(at)),
    };
    op.name("#step", "step").value(":step", s(JobStep::Purge.as_str()))
}

/// The job ends, while `owner` holds the lease.
pub fn deletion(job: &Job, owner: &str) -> Op {
    Op::delete(key(job)).when("lease_owner = :me").value(":me", s(owner))
}

/// The job ends if it is still the one read (its `reference`), whoever holds it: a cancellation.
pub fn withdrawal(job: &Job) -> Op {
    Op::delete(key(job)).when("#ref = :r").name("#ref", "reference").value(":r", s(&job.reference))
}
