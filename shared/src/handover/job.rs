//! The handover job: revokes credentials page by page, rebinds the contacts,
//! mails both parties, and rolls back a handover a deletion overtook.

use super::error::{HandoverError, MalformedJob, MAX_RACES};
use crate::identity::{unknown_password, PoolContacts, PoolUsername};
use crate::locale::{checklist, mails};
use crate::model::account::{Account, AccountStatus};
use crate::model::handover::credentials::{revocations, Counts};
use crate::model::handover::pending::{IamUsers, NewOwner, PendingHandover};
use crate::model::handover::record::{ChecklistEntry, ChecklistLine, HandoverRecord};
use crate::model::handover::view::rebinding;
use crate::model::ids::{AccountId, EmailAddress, Identifier, PhoneNumber};
use crate::model::job::{HandoverProgress, HandoverStep, Job, JobStep, PoolStep};
use crate::model::locale::Locale;
use crate::store::{AccountStore, CredentialStore, HandoverConflict, HandoverStore, JobStore};
use crate::work::{Budget, Progress};
use crate::App;
use serde::{Deserialize, Serialize};

/// Credentials revoked per transaction in a large handover (plus the profile check and the progress).
const PAGE: usize = 90;

/// The handover as the job carries it between runs (its payload, JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct JobState {
    new_email: String,
    new_phone: Option<String>,
    new_name: Option<String>,
    iam_users: IamUsers,
    requested_by: String,
    confirmed_by: String,
    requested_at: i64,
    old_email: Option<String>,
    old_phone: Option<String>,
    /// The account's `locale`, for the mails that end the handover.
    #[serde(default)]
    locale: Option<String>,
    pub(super) counts: Counts,
    /// With a user pool: what the pool has taken so far (contract §9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pool: Option<PoolProgress>,
}

/// The user pool's part of a handover, as it goes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub(super) struct PoolProgress {
    /// Every pool step ran.
    finished: bool,
    identities_unlinked: u64,
}

impl JobState {
    pub(super) fn new(pending: &PendingHandover, account: &Account, confirmed_by: &AccountId) -> Self {
        Self {
            new_email: pending.owner.email.as_str().to_string(),
            new_phone: pending.owner.phone.as_ref().map(|p| p.as_str().to_string()),
            new_name: pending.owner.name.clone(),
            iam_users: pending.iam_users,
            requested_by: pending.requested_by.to_string(),
            confirmed_by: confirmed_by.to_string(),
            requested_at: pending.requested_at,
            old_email: account.email.as_ref().map(|e| e.as_str().to_string()),
            old_phone: account.phone.as_ref().map(|p| p.as_str().to_string()),
            locale: Some(account.locale.as_str().to_string()),
            counts: Counts::default(),
            pool: None,
        }
    }

    /// With a user pool, the handover tells it; the checklist then has its line.
    pub(super) fn with_user_pool(mut self, user_pool: bool) -> Self {
        self.pool = user_pool.then(PoolProgress::default);
        self
    }

    pub(super) fn owner(&self) -> Result<NewOwner, MalformedJob> {
        let bad = |_| MalformedJob("payload");
        Ok(NewOwner {
            email: EmailAddress::parse(&self.new_email).map_err(bad)?,
            phone: self.new_phone.as_deref().map(PhoneNumber::parse).transpose().map_err(bad)?,
            name: self.new_name.clone(),
        })
    }

    pub(super) fn locale(&self) -> Locale {
        self.locale.as_deref().and_then(Locale::parse).unwrap_or_default()
    }

    pub(super) fn old_email(&self) -> Option<EmailAddress> {
        self.old_email.as_deref().and_then(|e| EmailAddress::parse(e).ok())
    }

    /// The identifiers the account takes (the new ones it does not hold yet) and releases (the old ones it gives up).
    pub(super) fn identifier_changes(&self) -> Result<(Vec<Identifier>, Vec<Identifier>), MalformedJob> {
        let owner = self.owner()?;
        let old_email = self.old_email();
        let old_phone = self.old_phone.as_deref().and_then(|p| PhoneNumber::parse(p).ok());
        let mut take = Vec::new();
        let mut release = Vec::new();
        if old_email.as_ref() != Some(&owner.email) {
            take.push(Identifier::Email(owner.email.clone()));
            release.extend(old_email.map(Identifier::Email));
        }
        if old_phone != owner.phone {
            take.extend(owner.phone.map(Identifier::Phone));
            release.extend(old_phone.map(Identifier::Phone));
        }
        Ok((take, release))
    }

    pub(super) fn payload(&self) -> Result<String, MalformedJob> {
        serde_json::to_string(self).map_err(|_| MalformedJob("payload"))
    }

    pub(super) fn from_job(job: &Job) -> Result<Self, MalformedJob> {
        serde_json::from_str(job.payload.as_deref().unwrap_or_default()).map_err(|_| MalformedJob("payload"))
    }

    /// What the handover did, step by step.
    pub(super) fn checklist(&self) -> Vec<ChecklistLine> {
        let c = &self.counts;
        let line = |entry, count| ChecklistLine { entry, count };
        vec![
            line(ChecklistEntry::Contacts { new_phone: self.new_phone.is_some() }, c.identifiers_taken),
            line(ChecklistEntry::Disassociate, c.identifiers_released),
            line(ChecklistEntry::AccountInformation, c.contacts_changed),
            line(ChecklistEntry::Password, 1),
        ]
        .into_iter()
        .chain(self.pool.as_ref().map(|p| {
            let entry = ChecklistEntry::UserPool { finished: p.finished, identities_unlinked: p.identities_unlinked };
            line(entry, u64::from(p.finished))
        }))
        .chain([
            line(ChecklistEntry::Authenticators, c.mfa_unlinked),
            line(ChecklistEntry::ThirdPartyAccounts, c.logins_unlinked),
            line(ChecklistEntry::IamUsers(self.iam_users), c.iam_users),
            line(ChecklistEntry::AccessKeys { already_inactive: c.keys_already_inactive }, c.keys_deactivated),
            line(ChecklistEntry::OtherCredentials, 0),
        ])
        .collect()
    }

    pub(super) fn record(&self, id: &str, now: i64) -> Result<HandoverRecord, MalformedJob> {
        Ok(HandoverRecord {
            id: id.to_string(),
            requested_by: self.requested_by.clone(),
            confirmed_by: self.confirmed_by.clone(),
            requested_at: self.requested_at,
            handed_over_at: now,
            iam_users: self.iam_users,
            destination: self.owner()?.email.masked(),
            // The record keeps the checklist in English whatever the account's language, as the API answers it.
            checklist: checklist::items(Locale::En, &self.checklist()),
        })
    }
}

/// How a run of the handover job ended.
#[derive(Debug)]
pub(super) struct Run {
    pub(super) progress: Progress,
    pub(super) state: JobState,
    /// The contacts are rebound (the handover is done, whatever mail is left).
    pub(super) handed_over: bool,
    /// A deletion overtook it: what it had taken was released and the job ended.
    pub(super) abandoned: bool,
}

impl App {
    /// Carries a handover on from wherever it stopped; one overtaken by a deletion is rolled back and ended.
    pub async fn resume_handover(&self, job: &Job, owner: &str, budget: Budget) -> Result<Progress, HandoverError> {
        // Boxed so that cleanup's future does not carry the whole job run inline.
        Ok(Box::pin(self.run_handover(job, owner, budget)).await?.progress)
    }

    pub(super) async fn run_handover(&self, job: &Job, owner: &str, mut budget: Budget) -> Result<Run, HandoverError> {
        let target = AccountId::parse(&job.subject).ok_or(MalformedJob("subject"))?;
        let mut job = job.clone();
        let mut state = JobState::from_job(&job)?;
        let mut races = 0;
        loop {
            let JobStep::Handover(step) = job.step else {
                return Err(MalformedJob("step").into());
            };
            let handed_over =
                matches!(step, HandoverStep::UserPool(_) | HandoverStep::NotifyOld | HandoverStep::NotifyNew);
            let end = |progress, state: JobState| Ok(Run { progress, state, handed_over, abandoned: false });
            let now = self.clock.now();
            match step {
                HandoverStep::Revoke(kind) => {
                    let cursor = job.cursor.clone().filter(|c| !c.is_empty());
                    let (page, more) = self.store.credentials_page(&target, kind, cursor.as_deref(), PAGE).await?;
                    let (next_step, next_cursor) = match page.last() {
                        Some(last) if more => (step, last.sort_key.clone()),
                        _ => (step.next(), String::new()),
                    };
                    let (revocations, counts) = revocations(&page, state.iam_users);
                    let mut next = state.clone();
                    next.counts.add(&counts);
                    let payload = next.payload()?;
                    let progress = HandoverProgress {
                        job: &job,
                        owner,
                        now,
                        step: next_step,
                        cursor: &next_cursor,
                        payload: &payload,
                    };
                    let outcome = if revocations.is_empty() {
                        if self.store.advance_handover(&progress).await? {
                            Ok(())
                        } else {
                            Err(HandoverConflict::Lease)
                        }
                    } else {
                        self.store.revoke_credentials_page(&target, &job.reference, &revocations, &progress).await?
                    };
                    match outcome {
                        Ok(()) => {
                            state = next;
                            job.step = JobStep::Handover(next_step);
                            job.cursor = Some(next_cursor);
                        }
                        Err(HandoverConflict::Lease) => return end(Progress::LeaseLost, state),
                        Err(HandoverConflict::Profile) => {
                            return self.abandon_if_overtaken(&target, &job, owner, state).await
                        }
                        Err(_) if races < MAX_RACES => {
                            races += 1;
                            continue;
                        }
                        Err(_) => return end(Progress::Paused, state),
                    }
                    self.failpoints.check("handover.page_revoked")?;
                    budget.spend(page.len().max(1));
                    if budget.exhausted() {
                        return end(Progress::Paused, state);
                    }
                }
                HandoverStep::Rebind => {
                    let Some(view) = self.store.handover_view(&target, 0).await? else {
                        return self.abandon_if_overtaken(&target, &job, owner, state).await;
                    };
                    let (rebinding, contacts_changed) = rebinding(&view, &state.owner()?);
                    let (_, release) = state.identifier_changes()?;
                    let mut next = state.clone();
                    next.counts.contacts_changed = contacts_changed;
                    next.counts.identifiers_released = release.len() as u64;
                    let record = next.record(&job.reference, now)?;
                    let payload = next.payload()?;
                    let after = HandoverStep::after_rebind(state.pool.is_some());
                    let progress =
                        HandoverProgress { job: &job, owner, now, step: after, cursor: "", payload: &payload };
                    match self
                        .store
                        .finish_handover(&target, &job.reference, &rebinding, &release, &record, &progress)
                        .await?
                    {
                        Ok(()) => {
                            tracing::info!(account = %target, handover = %job.reference, "handover rebound");
                            state = next;
                            job.step = JobStep::Handover(after);
                        }
                        Err(HandoverConflict::Lease) => return end(Progress::LeaseLost, state),
                        Err(HandoverConflict::Profile) => {
                            return self.abandon_if_overtaken(&target, &job, owner, state).await
                        }
                        Err(_) if races < MAX_RACES => {
                            races += 1;
                            continue;
                        }
                        Err(_) => return end(Progress::Paused, state),
                    }
                    self.failpoints.check("handover.rebound")?;
                }
                HandoverStep::UserPool(pool_step) => {
                    let Some(next) = self.tell_user_pool(&target, pool_step, &state).await? else {
                        return end(Progress::Paused, state);
                    };
                    // Told, not yet recorded: a crash here has the step told again.
                    self.failpoints.check("handover.pool_told")?;
                    let payload = next.payload()?;
                    let progress =
                        HandoverProgress { job: &job, owner, now, step: step.next(), cursor: "", payload: &payload };
                    if !self.store.advance_handover(&progress).await? {
                        return end(Progress::LeaseLost, state);
                    }
                    state = next;
                    job.step = JobStep::Handover(step.next());
                }
                HandoverStep::NotifyOld => {
                    let new = state.owner()?.email;
                    if let Some(old) = state.old_email().filter(|old| *old != new) {
                        if let Err(error) = self.mail_old_holder(&old, state.locale(), &target, &new).await {
                            tracing::warn!(account = %target, %error, "handover notice to the old address failed; a later run retries it");
                            return end(Progress::Paused, state);
                        }
                    }
                    let payload = state.payload()?;
                    let progress = HandoverProgress {
                        job: &job,
                        owner,
                        now,
                        step: HandoverStep::NotifyNew,
                        cursor: "",
                        payload: &payload,
                    };
                    if !self.store.advance_handover(&progress).await? {
                        return end(Progress::LeaseLost, state);
                    }
                    job.step = JobStep::Handover(HandoverStep::NotifyNew);
                    self.failpoints.check("handover.old_notified")?;
                }
                HandoverStep::NotifyNew => {
                    let new = state.owner()?.email;
                    if let Err(error) = self.mail_new_holder(&new, state.locale(), &target, &state.checklist()).await {
                        tracing::warn!(account = %target, %error, "handover notice to the new address failed; a later run retries it");
                        return end(Progress::Paused, state);
                    }
                    self.failpoints.check("handover.new_notified")?;
                    if !self.store.end_job(&job, owner).await? {
                        return end(Progress::LeaseLost, state);
                    }
                    tracing::info!(account = %target, handover = %job.reference, "handover finished");
                    return end(Progress::Finished, state);
                }
            }
        }
    }

    /// One call to the user pool; the state it leaves, or `None` when the pool failed (a later run repeats it).
    /// A user already gone counts as done, and so does an account deleted since: its deletion deletes the user.
    async fn tell_user_pool(
        &self,
        target: &AccountId,
        step: PoolStep,
        state: &JobState,
    ) -> Result<Option<JobState>, HandoverError> {
        let mut next = state.clone();
        let Some(account) = self.store.get_account(target).await? else { return Ok(Some(next)) };
        let user = PoolUsername::of(&account);
        let owner = state.owner()?;
        let contacts = PoolContacts {
            email: &owner.email,
            phone: owner.phone.as_ref(),
            name: owner.name.as_deref(),
            remove_phone: owner.phone.is_none() && state.old_phone.is_some(),
        };
        let told = match step {
            PoolStep::Contacts => self.pool.rebind_contacts(&user, &contacts).await.map(|_| 0),
            PoolStep::Password => self.pool.replace_password(&user, &unknown_password()?).await.map(|_| 0),
            PoolStep::ResetRequired => self.pool.require_password_reset(&user).await.map(|_| 0),
            PoolStep::SignOut => self.pool.sign_out_everywhere(&user).await.map(|_| 0),
            PoolStep::Mfa => self.pool.turn_mfa_off(&user).await.map(|_| 0),
            PoolStep::Identities => self.pool.unlink_identities(&user).await,
        };
        match told {
            Ok(unlinked) => {
                let pool = next.pool.get_or_insert_with(PoolProgress::default);
                pool.identities_unlinked += unlinked;
                pool.finished = step == PoolStep::Identities;
                Ok(Some(next))
            }
            Err(error) => {
                tracing::warn!(account = %target, %error, ?step, "the user pool did not take the handover's change; a later run retries it");
                Ok(None)
            }
        }
    }

    /// A large handover's transaction found the profile changed: if the account
    /// is gone or being deleted, release what the handover took and end it.
    async fn abandon_if_overtaken(
        &self,
        target: &AccountId,
        job: &Job,
        owner: &str,
        state: JobState,
    ) -> Result<Run, HandoverError> {
        let view = self.store.handover_view(target, 0).await?;
        let overtaken = view.as_ref().is_none_or(|v| {
            v.account.status != AccountStatus::Active || v.in_progress.as_deref() != Some(job.reference.as_str())
        });
        if !overtaken {
            return Ok(Run { progress: Progress::Paused, state, handed_over: false, abandoned: false });
        }
        let (reserved, _) = state.identifier_changes()?;
        match self.store.abandon_handover(target, &reserved, job, owner).await? {
            Ok(()) => {
                tracing::info!(account = %target, handover = %job.reference, "handover overtaken by a deletion: rolled back");
                Ok(Run { progress: Progress::Finished, state, handed_over: false, abandoned: true })
            }
            Err(_) => Ok(Run { progress: Progress::LeaseLost, state, handed_over: false, abandoned: false }),
        }
    }

    async fn mail_old_holder(
        &self,
        to: &EmailAddress,
        locale: Locale,
        account: &AccountId,
        new: &EmailAddress,
    ) -> Result<(), crate::mail::MailError> {
        let letter = mails::handed_over_old(locale, account.as_str(), &new.masked());
        self.mailer.send_letter(to, locale, letter).await
    }

    async fn mail_new_holder(
        &self,
        to: &EmailAddress,
        locale: Locale,
        account: &AccountId,
        checklist: &[ChecklistLine],
    ) -> Result<(), crate::mail::MailError> {
        self.mailer.send_letter(to, locale, mails::handed_over_new(locale, account.as_str(), checklist)).await
    }
}
