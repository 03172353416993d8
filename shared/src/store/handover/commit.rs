//! The transactions that carry a handover out, whole or page by page.

use super::conflict::{HandoverConflict, Part};
use crate::model::handover::credentials::Revocations;
use crate::model::handover::record::HandoverRecord;
use crate::model::handover::view::{HandoverChange, Rebinding};
use crate::model::ids::{AccountId, Identifier};
use crate::model::job::{HandoverProgress, Job};
use crate::model::purpose::Purpose;
use crate::store::error::StoreError;
use crate::store::items::profile::handover as profile;
use crate::store::items::{claim, credential, handover as record, job, token};
use crate::store::op::Op;
use crate::store::table::Store;

/// The token spent, the profile's change and the administrator's check, in the order a handover's transaction names them.
fn confirmation_parts(change: &HandoverChange<'_>, (profile, caller_check): (Op, Option<Op>)) -> Vec<(Part, Op)> {
    let mut parts = vec![
        (Part::Token, token::consumption(change.token_hash, change.target, Purpose::ConfirmHandover, change.now)),
        (Part::Profile, profile),
    ];
    parts.extend(caller_check.map(|check| (Part::Caller, check)));
    parts
}

fn revocation_parts(target: &AccountId, revocations: &Revocations, now: i64) -> impl Iterator<Item = (Part, Op)> {
    credential::revocations(target, revocations, now).into_iter().map(|op| (Part::Credential, op))
}

impl Store {
    /// Pattern "hand an account over at once", for an account whose credentials
    /// fit one transaction: spends the confirmation token, rebinds the contacts,
    /// swaps the claims, revokes the credentials, writes the record and creates
    /// the job that mails both parties, all or nothing; only if no credential was
    /// linked and no contact set since the profile was read at `links_version`.
    pub async fn commit_handover(
        &self,
        change: &HandoverChange<'_>,
        links_version: u64,
        rebinding: &Rebinding,
        revocations: &Revocations,
        handover: &HandoverRecord,
        job: &Job,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let mut parts = confirmation_parts(change, profile::committing(change, links_version, rebinding));
        parts.extend(change.release.iter().map(|id| (Part::Release, claim::release(id, change.target, None))));
        parts.extend(
            change.take.iter().map(|id| (Part::Take(id.clone()), claim::taking(id, change.target, change.now))),
        );
        parts.extend(revocation_parts(change.target, revocations, change.now));
        parts.push((Part::Record, record::creation(change.target, handover)));
        parts.push((Part::Job, job::creation(job)));
        self.run_parts(parts).await
    }

    /// Pattern "accept a handover too large for one transaction": spends the
    /// confirmation token, marks the profile as under handover, takes the new
    /// identifiers (so nobody can take them meanwhile) and creates the job.
    pub async fn accept_handover(
        &self,
        change: &HandoverChange<'_>,
        job: &Job,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let mut parts = confirmation_parts(change, profile::accepting(change));
        parts.extend(
            change.take.iter().map(|id| (Part::Take(id.clone()), claim::taking(id, change.target, change.now))),
        );
        parts.push((Part::Job, job::creation(job)));
        self.run_parts(parts).await
    }

    /// Pattern "revoke a page of credentials": the revocations and the job's
    /// progress in one transaction, only while the account is active and under this handover.
    pub async fn revoke_credentials_page(
        &self,
        target: &AccountId,
        handover_id: &str,
        revocations: &Revocations,
        progress: &HandoverProgress<'_>,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let mut parts = vec![(Part::Profile, profile::under_handover(target, handover_id))];
        parts.extend(revocation_parts(target, revocations, progress.now));
        parts.push((Part::Progress, job::advanced(progress)));
        self.run_parts(parts).await
    }

    /// Pattern "finish a large handover": rebinds the contacts, releases the old
    /// identifiers, writes the record and moves the job on, in one transaction.
    pub async fn finish_handover(
        &self,
        target: &AccountId,
        handover_id: &str,
        rebinding: &Rebinding,
        release: &[Identifier],
        handover: &HandoverRecord,
        progress: &HandoverProgress<'_>,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let mut parts = vec![(Part::Profile, profile::finishing(target, handover_id, rebinding, progress.now))];
        parts.extend(release.iter().map(|id| (Part::Release, claim::release(id, target, None))));
        parts.push((Part::Record, record::creation(target, handover)));
        parts.push((Part::Progress, job::advanced(progress)));
        self.run_parts(parts).await
    }

    /// Pattern "give up a handover overtaken by a deletion": releases the
    /// identifiers it had taken and ends the job, in one transaction.
    pub async fn abandon_handover(
        &self,
        target: &AccountId,
        reserved: &[Identifier],
        job: &Job,
        owner: &str,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let mut parts: Vec<(Part, Op)> =
            reserved.iter().map(|id| (Part::Release, claim::release(id, target, None))).collect();
        parts.push((Part::Progress, job::deletion(job, owner)));
        self.run_parts(parts).await
    }
}
