//! The credentials and contacts of an account, as a handover reads them and
//! as the owning services (and the fixtures) link them.

use super::error::StoreError;
use super::items::profile::{handover as profile, schema::view_from_profile};
use super::items::{credential, s};
use super::keys;
use super::table::{Store, TxOutcome, Written};
use crate::model::handover::contacts::ContactSlot;
use crate::model::handover::credentials::{Credential, CredentialKind, CredentialRef};
use crate::model::handover::view::HandoverView;
use crate::model::ids::AccountId;

/// The parts of linking a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkCredentialPart {
    /// Not active, or a handover is under way.
    Profile,
    /// The same credential is linked already.
    Credential,
}

/// The credentials and contacts kept apart of an account, as a handover reads them and the owning services link them.
pub(crate) trait CredentialStore {
    /// Pattern "page through an account's credentials of one kind": a consistent
    /// Query of keys (and access-key state) past `after`, in key order.
    async fn credentials_page(
        &self,
        account: &AccountId,
        kind: CredentialKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<CredentialRef>, bool), StoreError>;

    /// Pattern "read an account for a handover": one GetItem on the profile and,
    /// with `limit` > 0, a Query per kind of credential, all at once.
    async fn handover_view(&self, account: &AccountId, limit: usize) -> Result<Option<HandoverView>, StoreError>;

    /// Pattern "link a credential" (other services, the fixtures): the item,
    /// only while the account is active and the same credential is not linked.
    /// The profile's links version tells a pending handover that read it before to read it again.
    async fn link_credential(
        &self,
        account: &AccountId,
        linked: &Credential,
        now: i64,
    ) -> Result<TxOutcome<LinkCredentialPart>, StoreError>;

    /// Pattern "keep contacts apart": sets login, security, service or admin
    /// contacts on an active profile with no handover pending or running, and
    /// bumps its links version. `false`: no such account.
    async fn set_contacts(&self, account: &AccountId, contacts: &[(ContactSlot, String)]) -> Result<bool, StoreError>;
}

impl CredentialStore for Store {
    async fn credentials_page(
        &self,
        account: &AccountId,
        kind: CredentialKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<CredentialRef>, bool), StoreError> {
        let (from, to) = keys::credential_range(kind);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .projection_expression("sk, #state")
            .expression_attribute_names("#state", credential::STATE)
            .expression_attribute_values(":pk", s(keys::account_partition(account)))
            .expression_attribute_values(":from", s(after.unwrap_or(from)))
            .expression_attribute_values(":to", s(to))
            .consistent_read(true)
            .limit(limit as i32 + 1)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let mut more = out.last_evaluated_key.is_some();
        let mut page: Vec<CredentialRef> = out
            .items()
            .iter()
            .filter_map(|i| credential::ref_from_item(kind, i))
            .filter(|c| Some(c.sort_key.as_str()) != after)
            .collect();
        if page.len() > limit {
            page.truncate(limit);
            more = true;
        }
        Ok((page, more))
    }

    async fn handover_view(&self, account: &AccountId, limit: usize) -> Result<Option<HandoverView>, StoreError> {
        if limit == 0 {
            return self.get(keys::profile(account)).await?.map(|i| view_from_profile(&i)).transpose();
        }
        // Boxed: five SDK futures side by side would make every caller's future huge.
        let page = |kind| Box::pin(self.credentials_page(account, kind, None, limit));
        let (profile, mfa, logins, access_keys, iam) = tokio::join!(
            Box::pin(self.get(keys::profile(account))),
            page(CredentialKind::Mfa),
            page(CredentialKind::ThirdPartyLogin),
            page(CredentialKind::AccessKey),
            page(CredentialKind::IamUser),
        );
        let Some(profile) = profile? else { return Ok(None) };
        let mut view = view_from_profile(&profile)?;
        for page in [mfa?, logins?, access_keys?, iam?] {
            view.complete &= !page.1;
            view.credentials.extend(page.0);
        }
        Ok(Some(view))
    }

    async fn link_credential(
        &self,
        account: &AccountId,
        linked: &Credential,
        now: i64,
    ) -> Result<TxOutcome<LinkCredentialPart>, StoreError> {
        self.transact(vec![
            (LinkCredentialPart::Profile, profile::links_bumped(account)),
            (LinkCredentialPart::Credential, credential::creation(account, linked, now)),
        ])
        .await
    }

    async fn set_contacts(&self, account: &AccountId, contacts: &[(ContactSlot, String)]) -> Result<bool, StoreError> {
        if contacts.is_empty() {
            return Ok(true);
        }
        Ok(matches!(self.write(profile::contacts_setting(account, contacts), true).await?, Written::Done(_)))
    }
}
