//! Handover (docs/seeds.md#handover) in the table: what a start reads, the
//! pending handover on the target's profile, and the transactions that carry a
//! handover out, whole or page by page. Each transaction names the part whose
//! condition failed as a [`HandoverConflict`], never as an error string.

use super::error::StoreError;
use super::items::profile::{handover as profile, schema::view_from_profile};
use super::items::{claim, credential, handover as record, job, token, Item, ItemExt};
use super::keys;
use super::op::Op;
use super::table::{Store, TxOutcome};
use crate::model::account::Account;
use crate::model::code::TokenRecord;
use crate::model::handover::authority::Authority;
use crate::model::handover::credentials::Revocations;
use crate::model::handover::pending::PendingHandover;
use crate::model::handover::record::HandoverRecord;
use crate::model::handover::view::{ClaimState, HandoverChange, HandoverView, Rebinding};
use crate::model::ids::{AccountId, Identifier};
use crate::model::job::{HandoverProgress, Job};
use crate::model::purpose::Purpose;
use crate::model::session::Session;

/// Which part of a handover transaction did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoverConflict {
    /// The account is not active, changed since it was read, or has no such pending handover.
    Profile,
    /// The caller no longer has the rights it was read with.
    Caller,
    /// The verification token is spent, expired or not the caller's.
    Token,
    /// The claim on this identifier: a live account (or a quarantine) holds it.
    Claim(Identifier),
    /// A credential changed since it was read.
    Credentials,
    /// The job: one for the account exists already.
    Job,
    /// The job's lease went to another worker.
    Lease,
    /// Something else: a conflict that outlasted the retries.
    Other(String),
}

/// What each operation of a transaction stands for, in the order failures are reported.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Profile,
    Caller,
    Token,
    Take(Identifier),
    Release,
    Credential,
    /// Never refused: a token the rebinding unlists.
    EndedToken,
    Record,
    Job,
    Progress,
}

impl Part {
    fn rank(&self) -> u8 {
        match self {
            Part::Profile => 0,
            Part::Caller => 1,
            Part::Token => 2,
            Part::Take(_) => 3,
            Part::Credential => 4,
            Part::Job => 5,
            Part::Progress => 6,
            Part::Release | Part::EndedToken | Part::Record => 7,
        }
    }
}

/// Runs the transaction; a refusal is reported by the first of its failed parts in `Part`'s order.
async fn run_parts(store: &Store, parts: Vec<(Part, Op)>) -> Result<Result<(), HandoverConflict>, StoreError> {
    let outcome = store.transact(parts).await?;
    if let TxOutcome::Committed = outcome {
        return Ok(Ok(()));
    }
    let failed = outcome.refused_parts().iter().min_by_key(|part| part.rank()).cloned();
    Ok(Err(match failed {
        Some(Part::Profile) => HandoverConflict::Profile,
        Some(Part::Caller) => HandoverConflict::Caller,
        Some(Part::Token) => HandoverConflict::Token,
        Some(Part::Take(id)) => HandoverConflict::Claim(id),
        Some(Part::Credential) => HandoverConflict::Credentials,
        Some(Part::Job) => HandoverConflict::Job,
        Some(Part::Progress) => HandoverConflict::Lease,
        _ => HandoverConflict::Other(format!("{outcome:?}")),
    }))
}

/// Deletes of the tokens a rebinding unlists (a token deleted already is no failure), but the one `spent` elsewhere in the transaction.
fn ended_tokens(r: &Rebinding, spent: Option<&str>) -> Vec<(Part, Op)> {
    r.ended_tokens.iter().filter(|h| Some(h.as_str()) != spent).map(|h| (Part::EndedToken, token::removal(h))).collect()
}

/// A verification token as read before it is spent, so a start that cannot
/// mail its code can put it back exactly as it was.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub record: TokenRecord,
    item: Item,
}

/// What starting a handover reads, in one BatchGetItem.
#[derive(Debug)]
pub struct StartRead {
    pub caller: Option<Account>,
    /// The account to hand over (the caller's own view when it is the caller).
    pub target: Option<HandoverView>,
    /// The claims that exist on the wanted identifiers.
    pub claims: Vec<ClaimState>,
    /// The tokens found under the hashes asked for, of whatever purpose.
    pub tokens: Vec<StoredToken>,
}

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

/// A handover, as the operations ask the table for it: what a start reads and stores, and the
/// transactions that carry it out.
pub(crate) trait HandoverStore {
    /// Pattern "read for a handover start": one BatchGetItem of the caller's and
    /// the target's profiles, the claims on the wanted identifiers and the token.
    async fn handover_start_read(
        &self,
        caller: &AccountId,
        target: &AccountId,
        wanted: &[Identifier],
        token_hashes: &[String],
    ) -> Result<StartRead, StoreError>;

    /// Pattern "store a pending handover": one transaction spends the requester's
    /// (`pending.requested_by`) token, checks their rights and session and that no
    /// live account holds the new identifiers, and replaces the pending handover seen (`seen`) with `pending`.
    // Each argument is one named condition of the one transaction; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    async fn store_pending_handover(
        &self,
        target: &AccountId,
        authority: &Authority,
        token_hash: &str,
        pending: &PendingHandover,
        seen: Option<&str>,
        wanted: &[Identifier],
        session: Session,
        now: i64,
    ) -> Result<Result<(), HandoverConflict>, StoreError>;

    /// Pattern "take back a pending handover" after its code could not be sent:
    /// puts back the one it replaced, unless another has replaced it since.
    async fn restore_pending_handover(
        &self,
        target: &AccountId,
        mine: &str,
        previous: Option<&PendingHandover>,
    ) -> Result<(), StoreError>;

    /// Pattern "put a spent token back", exactly as it was read.
    async fn restore_token(&self, stored: &StoredToken) -> Result<(), StoreError>;

    /// Pattern "hand an account over at once", for an account whose credentials
    /// fit one transaction: spends the confirmation token, rebinds the contacts,
    /// swaps the claims, revokes the credentials, writes the record and creates
    /// the job that mails both parties, all or nothing; only if no credential was
    /// linked and no contact set since the profile was read at `links_version`.
    async fn commit_handover(
        &self,
        change: &HandoverChange<'_>,
        links_version: u64,
        rebinding: &Rebinding,
        revocations: &Revocations,
        handover: &HandoverRecord,
        job: &Job,
    ) -> Result<Result<(), HandoverConflict>, StoreError>;

    /// Pattern "accept a handover too large for one transaction": spends the
    /// confirmation token, marks the profile as under handover, takes the new
    /// identifiers (so nobody can take them meanwhile) and creates the job.
    async fn accept_handover(
        &self,
        change: &HandoverChange<'_>,
        job: &Job,
    ) -> Result<Result<(), HandoverConflict>, StoreError>;

    /// Pattern "revoke a page of credentials": the revocations and the job's
    /// progress in one transaction, only while the account is active and under this handover.
    async fn revoke_credentials_page(
        &self,
        target: &AccountId,
        handover_id: &str,
        revocations: &Revocations,
        progress: &HandoverProgress<'_>,
    ) -> Result<Result<(), HandoverConflict>, StoreError>;

    /// Pattern "finish a large handover": rebinds the contacts, releases the old
    /// identifiers, writes the record and moves the job on, in one transaction.
    async fn finish_handover(
        &self,
        target: &AccountId,
        handover_id: &str,
        rebinding: &Rebinding,
        release: &[Identifier],
        handover: &HandoverRecord,
        progress: &HandoverProgress<'_>,
    ) -> Result<Result<(), HandoverConflict>, StoreError>;

    /// Pattern "give up a handover overtaken by a deletion": releases the
    /// identifiers it had taken and ends the job, in one transaction.
    async fn abandon_handover(
        &self,
        target: &AccountId,
        reserved: &[Identifier],
        job: &Job,
        owner: &str,
    ) -> Result<Result<(), HandoverConflict>, StoreError>;
}

impl HandoverStore for Store {
    async fn handover_start_read(
        &self,
        caller: &AccountId,
        target: &AccountId,
        wanted: &[Identifier],
        token_hashes: &[String],
    ) -> Result<StartRead, StoreError> {
        let mut wanted_keys = vec![keys::profile(caller)];
        if target != caller {
            wanted_keys.push(keys::profile(target));
        }
        wanted_keys.extend(wanted.iter().map(keys::claim));
        wanted_keys.extend(token_hashes.iter().map(|h| keys::token(h)));
        let items = self.get_many(wanted_keys).await?;
        let mut read = StartRead { caller: None, target: None, claims: Vec::new(), tokens: Vec::new() };
        let (caller_pk, target_pk) = (keys::account_partition(caller), keys::account_partition(target));
        for item in &items {
            let pk = item.str("pk").unwrap_or_default();
            if pk == caller_pk || pk == target_pk {
                let view = view_from_profile(item)?;
                if pk == caller_pk {
                    read.caller = Some(view.account.clone());
                }
                if pk == target_pk {
                    read.target = Some(view);
                }
            } else if let Some(hash) = keys::token_hash(pk) {
                // The hash it was found under: the key it was issued with.
                if let Some(record) = token::record_from_item(hash, item)? {
                    read.tokens.push(StoredToken { record, item: item.clone() });
                }
            } else if let Some(id) = wanted.iter().find(|id| pk == keys::claim_partition(id)) {
                read.claims.push(claim::state_from_item(id, item));
            }
        }
        Ok(read)
    }

    // Each argument is one named condition of the one transaction; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    async fn store_pending_handover(
        &self,
        target: &AccountId,
        authority: &Authority,
        token_hash: &str,
        pending: &PendingHandover,
        seen: Option<&str>,
        wanted: &[Identifier],
        session: Session,
        now: i64,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let caller = &pending.requested_by;
        let (profile, caller_check) = profile::pending_storing(target, authority, pending, seen, token_hash, session);
        let mut parts = vec![
            (Part::Token, token::consumption(token_hash, caller, Purpose::HandoverAccount, now)),
            (Part::Profile, profile),
        ];
        parts.extend(caller_check.map(|check| (Part::Caller, check)));
        parts.extend(wanted.iter().map(|id| (Part::Take(id.clone()), claim::free_for(id, target, now))));
        run_parts(self, parts).await
    }

    async fn restore_pending_handover(
        &self,
        target: &AccountId,
        mine: &str,
        previous: Option<&PendingHandover>,
    ) -> Result<(), StoreError> {
        self.write(profile::pending_restoring(target, mine, previous), true).await.map(|_| ())
    }

    async fn restore_token(&self, stored: &StoredToken) -> Result<(), StoreError> {
        self.write(token::restoring(stored.item.clone()), false).await.map(|_| ())
    }
    async fn commit_handover(
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
        // The confirmation token is spent above: one transaction may not touch an item twice.
        parts.extend(ended_tokens(rebinding, Some(change.token_hash)));
        parts.push((Part::Record, record::creation(change.target, handover)));
        parts.push((Part::Job, job::creation(job)));
        run_parts(self, parts).await
    }

    async fn accept_handover(
        &self,
        change: &HandoverChange<'_>,
        job: &Job,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let mut parts = confirmation_parts(change, profile::accepting(change));
        parts.extend(
            change.take.iter().map(|id| (Part::Take(id.clone()), claim::taking(id, change.target, change.now))),
        );
        parts.push((Part::Job, job::creation(job)));
        run_parts(self, parts).await
    }

    async fn revoke_credentials_page(
        &self,
        target: &AccountId,
        handover_id: &str,
        revocations: &Revocations,
        progress: &HandoverProgress<'_>,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let mut parts = vec![(Part::Profile, profile::under_handover(target, handover_id))];
        parts.extend(revocation_parts(target, revocations, progress.now));
        parts.push((Part::Progress, job::advanced(progress)));
        run_parts(self, parts).await
    }

    async fn finish_handover(
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
        parts.extend(ended_tokens(rebinding, None));
        parts.push((Part::Record, record::creation(target, handover)));
        parts.push((Part::Progress, job::advanced(progress)));
        run_parts(self, parts).await
    }

    async fn abandon_handover(
        &self,
        target: &AccountId,
        reserved: &[Identifier],
        job: &Job,
        owner: &str,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let mut parts: Vec<(Part, Op)> =
            reserved.iter().map(|id| (Part::Release, claim::release(id, target, None))).collect();
        parts.push((Part::Progress, job::deletion(job, owner)));
        run_parts(self, parts).await
    }
}
