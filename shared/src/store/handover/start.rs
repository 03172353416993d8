//! Starting a handover: what it reads, the pending handover it stores, and
//! what it puts back when the code cannot be mailed.

use super::conflict::{HandoverConflict, Part};
use crate::model::account::Account;
use crate::model::code::TokenRecord;
use crate::model::handover::authority::Authority;
use crate::model::handover::pending::PendingHandover;
use crate::model::handover::view::{ClaimState, HandoverView};
use crate::model::ids::{AccountId, Identifier};
use crate::model::purpose::Purpose;
use crate::model::session::Session;
use crate::store::error::StoreError;
use crate::store::items::profile::{handover as profile, schema::view_from_profile};
use crate::store::items::{claim, token, Item, ItemExt};
use crate::store::keys;
use crate::store::table::Store;

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

impl Store {
    /// Pattern "read for a handover start": one BatchGetItem of the caller's and
    /// the target's profiles, the claims on the wanted identifiers and the token.
    pub async fn handover_start_read(
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

    /// Pattern "store a pending handover": one transaction spends the requester's
    /// (`pending.requested_by`) token, checks their rights and session and that no
    /// live account holds the new identifiers, and replaces the pending handover seen (`seen`) with `pending`.
    // Each argument is one named condition of the one transaction; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub async fn store_pending_handover(
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
        self.run_parts(parts).await
    }

    /// Pattern "take back a pending handover" after its code could not be sent:
    /// puts back the one it replaced, unless another has replaced it since.
    pub async fn restore_pending_handover(
        &self,
        target: &AccountId,
        mine: &str,
        previous: Option<&PendingHandover>,
    ) -> Result<(), StoreError> {
        self.write(profile::pending_restoring(target, mine, previous), true).await.map(|_| ())
    }

    /// Pattern "put a spent token back", exactly as it was read.
    pub async fn restore_token(&self, stored: &StoredToken) -> Result<(), StoreError> {
        self.write(token::restoring(stored.item.clone()), false).await.map(|_| ())
    }
}
