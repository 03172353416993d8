//! The account itself: its profile, its holds, registering it with its
//! identifier claims, and whether a deleted one left a receipt.

use super::error::StoreError;
use super::items::profile::{account as profile, schema::account_from_item};
use super::items::{claim, hold, member, s, ItemExt};
use super::keys;
use super::table::{Store, TxOutcome};
use crate::model::account::{Account, NewAccount};
use crate::model::handover::view::ClaimState;
use crate::model::hold::Hold;
use crate::model::ids::{AccountId, Identifier};

/// The parts of registering an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationPart {
    /// The profile exists already.
    Profile,
    /// Another account (or a quarantine) holds this identifier.
    Claim(Identifier),
    Membership,
}

/// The parts of registering or releasing a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldPart {
    /// Registering: the account is not active. Releasing: no such account.
    Profile,
    /// Registering: the same hold exists. Releasing: no such hold.
    Hold,
}

/// The account itself, as the operations ask the table for it.
pub(crate) trait AccountStore {
    /// Pattern "read a profile": one consistent GetItem.
    async fn get_account(&self, account: &AccountId) -> Result<Option<Account>, StoreError>;

    /// Pattern "read many profiles": BatchGetItem.
    async fn get_accounts(&self, ids: &[AccountId]) -> Result<Vec<Account>, StoreError>;

    /// Pattern "profile and holds": one Query on `begins_with(sk, "PROFILE")`,
    /// which holds the profile and every hold and nothing else of the account.
    async fn account_with_holds(&self, account: &AccountId) -> Result<Option<(Account, Vec<Hold>)>, StoreError>;

    /// Pattern "register an account": the profile, its identifier claims and
    /// its enterprise membership in one transaction. A claim is taken if it is
    /// free or its quarantine has passed.
    async fn register_account(&self, account: &NewAccount, now: i64)
        -> Result<TxOutcome<RegistrationPart>, StoreError>;

    /// Pattern "was this account deleted": one GetItem on its receipt.
    async fn receipt_exists(&self, account: &AccountId) -> Result<bool, StoreError>;

    /// Pattern "who holds an identifier": one consistent GetItem on its claim (none: free).
    async fn claim(&self, id: &Identifier) -> Result<Option<ClaimState>, StoreError>;

    /// Pattern "register a hold": the hold and the profile's hold count in one
    /// transaction, only while the account is active, so a deletion that has
    /// been accepted can never be overtaken by a hold.
    async fn register_hold(
        &self,
        account: &AccountId,
        hold: &Hold,
        now: i64,
    ) -> Result<TxOutcome<HoldPart>, StoreError>;

    /// Pattern "release a hold": the hold and the count together. `false`: no such hold.
    async fn release_hold(&self, account: &AccountId, kind: &str, reference: &str) -> Result<bool, StoreError>;
}

impl AccountStore for Store {
    async fn claim(&self, id: &Identifier) -> Result<Option<ClaimState>, StoreError> {
        Ok(self.get(keys::claim(id)).await?.map(|item| claim::state_from_item(id, &item)))
    }

    async fn get_account(&self, account: &AccountId) -> Result<Option<Account>, StoreError> {
        self.get(keys::profile(account)).await?.map(|i| account_from_item(&i)).transpose()
    }

    async fn get_accounts(&self, ids: &[AccountId]) -> Result<Vec<Account>, StoreError> {
        let keys = ids.iter().map(keys::profile).collect();
        self.get_many(keys).await?.iter().map(account_from_item).collect()
    }

    async fn account_with_holds(&self, account: &AccountId) -> Result<Option<(Account, Vec<Hold>)>, StoreError> {
        let mut profile = None;
        let mut holds = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :profile)")
                .expression_attribute_values(":pk", s(keys::account_partition(account)))
                .expression_attribute_values(":profile", s(keys::PROFILE))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(StoreError::sdk)?;
            for item in out.items() {
                match item.str("sk") {
                    Some(keys::PROFILE) => profile = Some(account_from_item(item)?),
                    _ => holds.push(hold::from_item(item)),
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(profile.map(|p| (p, holds)))
    }

    async fn register_account(
        &self,
        account: &NewAccount,
        now: i64,
    ) -> Result<TxOutcome<RegistrationPart>, StoreError> {
        let mut ops = vec![(RegistrationPart::Profile, profile::registration(account, now))];
        let identifiers = [
            account.username.clone().map(Identifier::Username),
            account.email.clone().map(Identifier::Email),
            account.phone.clone().map(Identifier::Phone),
        ];
        for id in identifiers.into_iter().flatten() {
            let take = claim::taking(&id, &account.id, now);
            ops.push((RegistrationPart::Claim(id), take));
        }
        if let Some(enterprise) = &account.enterprise_id {
            ops.push((RegistrationPart::Membership, member::creation(enterprise, account)));
        }
        self.transact(ops).await
    }

    async fn receipt_exists(&self, account: &AccountId) -> Result<bool, StoreError> {
        Ok(self.get(keys::receipt(account)).await?.is_some())
    }

    async fn register_hold(
        &self,
        account: &AccountId,
        hold: &Hold,
        now: i64,
    ) -> Result<TxOutcome<HoldPart>, StoreError> {
        self.transact(vec![
            (HoldPart::Profile, profile::hold_added(account)),
            (HoldPart::Hold, hold::creation(account, hold, now)),
        ])
        .await
    }

    async fn release_hold(&self, account: &AccountId, kind: &str, reference: &str) -> Result<bool, StoreError> {
        let parts = vec![
            (HoldPart::Profile, profile::hold_removed(account)),
            (HoldPart::Hold, hold::removal(account, kind, reference)),
        ];
        Ok(matches!(self.transact(parts).await?, TxOutcome::Committed))
    }
}
