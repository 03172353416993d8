//! Confirming a handover: the code, then one transaction or the start of the job.

use super::error::{taken, HandoverError, MAX_RACES};
use super::job::JobState;
use super::start::{may_act_on, HandoverStatus};
use crate::accounts::AccountError;
use crate::caller::Caller;
use crate::codes::{CodeError, VerificationCode};
use crate::internal::Internal;
use crate::locale::checklist;
use crate::model::account::AccountStatus;
use crate::model::handover::authority::{authority_over, Authority};
use crate::model::handover::credentials::revocations;
use crate::model::handover::record::ChecklistItem;
use crate::model::handover::view::{rebinding, HandoverChange};
use crate::model::ids::AccountId;
use crate::model::job::{HandoverStep, Job, JobKind, JobStep, LEASE_SECONDS};
use crate::model::locale::Locale;
use crate::model::purpose::Purpose;
use crate::store::{AccountStore, CredentialStore, HandoverConflict, HandoverStore, JobStore, StoreError};
use crate::work::{random_id, Budget, Progress};
use crate::App;
use serde::Serialize;

/// DynamoDB's limit of operations in one TransactWriteItems.
const MAX_TRANSACTION_OPS: usize = 100;
/// Credentials read per kind when deciding whether one transaction is enough.
const VIEW_LIMIT: usize = 100;

/// The answer to a confirmation: 200 `handed_over` with the checklist, or 202
/// `handing_over` when a large account is finished in the background.
#[derive(Debug, Serialize)]
pub struct HandoverOutcome {
    pub status: HandoverStatus,
    pub account_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checklist: Vec<ChecklistItem>,
}

impl HandoverOutcome {
    pub fn finished(&self) -> bool {
        self.status == HandoverStatus::HandedOver
    }
}

impl App {
    /// Confirms a pending handover with the code sent to the new address and
    /// carries it out. Rights are checked before the code is tried, so a
    /// caller without them cannot spend the account's attempts.
    pub async fn confirm_handover(
        &self,
        caller: &Caller,
        account: Option<&AccountId>,
        code: &VerificationCode,
    ) -> Result<HandoverOutcome, HandoverError> {
        let target = account.cloned().unwrap_or_else(|| caller.account.clone());
        let mut me = None;
        // Rights (and a higher pending handover) are decided before an attempt is spent.
        let ids =
            if target == caller.account { vec![target.clone()] } else { vec![caller.account.clone(), target.clone()] };
        let accounts = self.store.get_accounts(&ids).await?;
        let find = |id: &AccountId| accounts.iter().find(|a| &a.id == id);
        let authority = self.handover_authority(caller, find(&caller.account), &target, find(&target)).await?;
        let pending = find(&target).and_then(|t| t.pending_handover.as_ref());
        may_act_on(&authority, pending, self.clock.now())?;
        // The code verifies only for the pending handover it was sent for; none pending: no live code.
        let Some(bound_to) = pending.map(|p| p.id.clone()) else { return Err(CodeError::Expired.into()) };
        if target != caller.account {
            me = find(&caller.account).cloned();
        }
        // The holder's own confirmation spends an attempt only for a session from after the last handover.
        let session = (target == caller.account).then_some(caller.session);
        let token = match Box::pin(self.verify_code_on(
            &target,
            session,
            Purpose::ConfirmHandover,
            code,
            Some(&bound_to),
        ))
        .await
        {
            Ok(token) => token,
            // A deletion accepted between the attempt and the redemption also ends in "no live code": say which.
            Err(CodeError::Expired) => {
                self.live_account(&target).await?;
                return Err(CodeError::Expired.into());
            }
            Err(e) => return Err(e.into()),
        };
        let token_hash = token.hash(self)?;
        self.failpoints.check("handover.verified")?;
        let owner = random_id("worker")?;
        let mut accepted = None;
        for _ in 0..MAX_RACES {
            let now = self.clock.now();
            let Some(view) = self.store.handover_view(&target, VIEW_LIMIT).await? else {
                return Err(self.missing_account(&target).await.into());
            };
            if view.account.status != AccountStatus::Active {
                return Err(AccountError::Deleted.into());
            }
            let authority = match &me {
                None => Authority::Own,
                Some(me) => authority_over(me, &view.account).ok_or(HandoverError::NotAuthorized)?,
            };
            let Some(pending) = view.pending.clone().filter(|p| p.expires_at > now && p.id == bound_to) else {
                return Err(CodeError::Expired.into());
            };
            if !view.account.live_tokens.contains(&token_hash) {
                return Err(CodeError::Expired.into());
            }
            let mut state = JobState::new(&pending, &view.account, &caller.account)
                .with_user_pool(self.config.identity.is_cognito());
            let (take, release) = state.identifier_changes()?;
            let (revocations, counts) = revocations(&view.credentials, pending.iam_users);
            let change = HandoverChange {
                target: &target,
                handover_id: &pending.id,
                authority: &authority,
                token_hash: &token_hash,
                old_email: view.account.email.as_ref(),
                take: &take,
                release: &release,
                now,
            };
            // Token, profile, caller, claims, ended tokens, record and job, around the revocations.
            let ended = view.account.live_tokens.len();
            let fixed = 4 + usize::from(me.is_some()) + take.len() + release.len() + ended;
            let one_transaction = view.complete && fixed + revocations.len() <= MAX_TRANSACTION_OPS;
            let mut job = Job {
                kind: JobKind::Handover,
                subject: target.to_string(),
                step: JobStep::Handover(HandoverStep::FIRST),
                done: 0,
                cursor: None,
                requested_by: caller.account.to_string(),
                requested_at: now,
                due_at: now + LEASE_SECONDS,
                lease_owner: Some(owner.clone()),
                reference: pending.id.clone(),
                payload: None,
                purge_at: None,
            };
            let outcome = if one_transaction {
                let (rebinding, contacts_changed) = rebinding(&view, &pending.owner);
                state.counts = counts;
                state.counts.identifiers_taken = take.len() as u64;
                state.counts.identifiers_released = release.len() as u64;
                state.counts.contacts_changed = contacts_changed;
                job.step = JobStep::Handover(HandoverStep::after_rebind(state.pool.is_some()));
                job.payload = Some(state.payload()?);
                let record = state.record(&pending.id, now)?;
                self.failpoints.pause("handover.read").await;
                self.store.commit_handover(&change, view.links_version, &rebinding, &revocations, &record, &job).await?
            } else {
                state.counts.identifiers_taken = take.len() as u64;
                job.payload = Some(state.payload()?);
                self.store.accept_handover(&change, &job).await?
            };
            match outcome {
                Ok(()) => {
                    tracing::info!(account = %target, caller = %caller.account, handover = %pending.id, one_transaction, "handover accepted");
                    accepted = Some(job);
                    break;
                }
                Err(HandoverConflict::Caller) => return Err(HandoverError::NotAuthorized),
                Err(HandoverConflict::Claim(id)) => return Err(taken(id)),
                Err(HandoverConflict::Token) => return Err(CodeError::Expired.into()),
                Err(HandoverConflict::Job) => return Err(HandoverError::InProgress),
                // The account changed since the read (a credential linked, a contact set, a deletion): read again.
                Err(_) => continue,
            }
        }
        let Some(job) = accepted else { return Err(HandoverError::Contended) };
        self.failpoints.check("handover.accepted")?;
        let handing_over = || HandoverOutcome {
            status: HandoverStatus::HandingOver,
            account_id: target.to_string(),
            checklist: Vec::new(),
        };
        let run = match Box::pin(self.run_handover(&job, &owner, Budget::items(self.config.inline_work_items))).await {
            Ok(run) => run,
            // Accepted already: once the lease lapses, cleanup carries the handover on.
            Err(HandoverError::Internal(Internal::Store(StoreError::Busy(error)))) => {
                tracing::warn!(account = %target, %error, "handover paused: DynamoDB is busy; cleanup carries it on");
                return Ok(handing_over());
            }
            Err(other) => return Err(other),
        };
        if run.abandoned {
            return Err(AccountError::Deleted.into());
        }
        if run.progress == Progress::Paused {
            match self.store.release_job(&job, &owner, self.clock.now()).await {
                Ok(()) => {}
                // The lease lapses by itself: cleanup takes the job then.
                Err(StoreError::Busy(_)) => return Ok(handing_over()),
                Err(other) => return Err(other.into()),
            }
        }
        Ok(HandoverOutcome {
            status: if run.handed_over { HandoverStatus::HandedOver } else { HandoverStatus::HandingOver },
            account_id: target.to_string(),
            // In English whatever the language asked for: clients read `item` as it is documented.
            checklist: if run.handed_over { checklist::items(Locale::En, &run.state.checklist()) } else { Vec::new() },
        })
    }
}
