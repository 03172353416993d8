//! Starting a handover: the rights, the pending handover, the code to the new address.

use super::error::{taken, HandoverError, MAX_RACES};
use super::request::HandoverRequest;
use crate::accounts::{admit, AccountError};
use crate::caller::Caller;
use crate::model::account::{authority_rank, Account, AccountStatus, PendingBy, Role};
use crate::model::handover::authority::{authority_over, Authority};
use crate::model::handover::pending::PendingHandover;
use crate::model::ids::AccountId;
use crate::model::purpose::Purpose;
use crate::store::{HandoverConflict, HandoverStore};
use crate::work::random_id;
use crate::App;
use serde::Serialize;

/// Where a handover stands, as handover-account answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoverStatus {
    /// Started; the code went to the new address.
    AwaitingConfirmation,
    /// Confirmed; the job finishes a large account in the background.
    HandingOver,
    HandedOver,
}

/// The answer to a start (202).
#[derive(Debug, Serialize)]
pub struct HandoverStarted {
    pub status: HandoverStatus,
    pub account_id: String,
    /// The new email, masked.
    pub destination: String,
    pub expires_in_seconds: i64,
}

impl App {
    /// Who may hand over `target_id`, from what was read: 404/410 for a missing
    /// or deleted account, 403 for anyone but the holder or an administrator above it.
    pub(super) async fn handover_authority(
        &self,
        caller: &Caller,
        me: Option<&Account>,
        target_id: &AccountId,
        target: Option<&Account>,
    ) -> Result<Authority, HandoverError> {
        let Some(me) = me else { return Err(self.missing_account(&caller.account).await.into()) };
        admit(me, caller.session)?;
        if me.status != AccountStatus::Active {
            return Err(AccountError::Deleted.into());
        }
        let caller = &caller.account;
        if caller != target_id && !(matches!(me.role, Role::DefaultAdmin | Role::Admin) && me.enterprise_id.is_some()) {
            return Err(HandoverError::NotAuthorized);
        }
        // Another's account: missing, deleted or out of reach all answer the same, before anything is read about it.
        let target = match target {
            Some(t) => t,
            None if caller == target_id => return Err(self.missing_account(target_id).await.into()),
            None => return Err(HandoverError::NotAuthorized),
        };
        let authority = authority_over(me, target).ok_or(HandoverError::NotAuthorized)?;
        if target.status != AccountStatus::Active {
            return Err(AccountError::Deleted.into());
        }
        Ok(authority)
    }

    /// Starts a handover: one BatchGetItem, one transaction, then the code's
    /// conditional write and its mail. Nothing is spent for a caller without the
    /// right, a taken identifier, or a code that cannot be sent.
    pub async fn start_handover(
        &self,
        caller: &Caller,
        request: &HandoverRequest,
    ) -> Result<HandoverStarted, HandoverError> {
        let target = request.account.clone().unwrap_or_else(|| caller.account.clone());
        let token_hashes = request.token.hashes(self)?;
        let wanted = request.owner.identifiers();
        let mut stored = None;
        for _ in 0..MAX_RACES {
            let now = self.clock.now();
            let read = self.store.handover_start_read(&caller.account, &target, &wanted, &token_hashes).await?;
            let authority = self
                .handover_authority(caller, read.caller.as_ref(), &target, read.target.as_ref().map(|v| &v.account))
                .await?;
            let Some(view) = read.target else { return Err(AccountError::NotFound.into()) };
            if view.in_progress.is_some() {
                // An administrator's handover under way is not the holder's to overrule.
                let running = authority_rank(view.account.handover_running_as);
                return Err(if running > authority.rank() {
                    AccountError::HandoverPending.into()
                } else {
                    HandoverError::InProgress
                });
            }
            may_act_on(&authority, view.account.pending_handover.as_ref(), now)?;
            if view.account.email.is_none() {
                return Err(AccountError::EmailNotBound.into());
            }
            // A token the caller's profile no longer lists was ended by a handover of the caller's account.
            let listed = |hash: &String| read.caller.as_ref().is_some_and(|me| me.live_tokens.contains(hash));
            // A token of another purpose is as good as none here.
            let Some(token) =
                read.tokens.into_iter().rfind(|t| t.record.purpose == Purpose::HandoverAccount).filter(|t| {
                    listed(&t.record.hash) && t.record.account == caller.account && t.record.expires_at > now
                })
            else {
                return Err(HandoverError::TokenInvalid);
            };
            let token_hash = token.record.hash.clone();
            if let Some(held) =
                read.claims.iter().find(|c| c.owner.as_ref() != Some(&target) && c.free_at.is_none_or(|at| at > now))
            {
                return Err(taken(held.id.clone()));
            }
            let pending = PendingHandover {
                id: random_id("handover")?,
                owner: request.owner.clone(),
                iam_users: request.iam_users,
                requested_by: caller.account.clone(),
                requested_as: match &authority {
                    Authority::Own => None,
                    Authority::Administrator { caller_role, .. } => Some(*caller_role),
                },
                requested_at: now,
                expires_at: now + self.config.code_ttl_seconds,
            };
            let seen = view.pending.as_ref().map(|p| p.id.as_str());
            match self
                .store
                .store_pending_handover(&target, &authority, &token_hash, &pending, seen, &wanted, caller.session, now)
                .await?
            {
                Ok(()) => {
                    stored = Some((pending, token, view.pending));
                    break;
                }
                Err(HandoverConflict::Token) => return Err(HandoverError::TokenInvalid),
                Err(HandoverConflict::Claim(id)) => return Err(taken(id)),
                // The account or the caller changed since the read: read again and decide again.
                Err(_) => continue,
            }
        }
        let Some((pending, token, previous)) = stored else { return Err(HandoverError::Contended) };
        tracing::info!(account = %target, caller = %caller.account, handover = %pending.id, "handover pending confirmation");
        self.failpoints.check("handover.pending_stored")?;
        match Box::pin(self.send_code_to(
            &target,
            None,
            Purpose::ConfirmHandover,
            Some(&pending.owner.email),
            Some(&pending.id),
            caller.language,
        ))
        .await
        {
            Ok(sent) => Ok(HandoverStarted {
                status: HandoverStatus::AwaitingConfirmation,
                account_id: target.to_string(),
                destination: sent.destination,
                expires_in_seconds: sent.expires_in_seconds,
            }),
            Err(error) => {
                // No code went out: put the token and the previous pending handover back.
                let (t, p) = tokio::join!(
                    self.store.restore_token(&token),
                    self.store.restore_pending_handover(&target, &pending.id, previous.as_ref())
                );
                t?;
                p?;
                Err(error.into())
            }
        }
    }
}

/// A pending handover may be confirmed or replaced only with at least its requester's authority.
pub(super) fn may_act_on(authority: &Authority, pending: Option<&PendingBy>, now: i64) -> Result<(), HandoverError> {
    match pending {
        Some(p) if p.expires_at > now && p.rank() > authority.rank() => Err(AccountError::HandoverPending.into()),
        _ => Ok(()),
    }
}
