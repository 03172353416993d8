//! The credentials and contacts of an account, as a handover reads them and
//! as the owning services (and the fixtures) link them.

use super::{
    credential_sort_key, prefix, prefix_end, profile_key, view_from_profile, IN_PROGRESS, LINKS_VERSION, PENDING,
};
use crate::model::account::AccountStatus;
use crate::model::handover::contacts::ContactSlot;
use crate::model::handover::credentials::{Credential, CredentialKind, CredentialRef};
use crate::model::handover::view::HandoverView;
use crate::model::ids::AccountId;
use crate::store::{key, keys, n, s, ItemExt, Op, Store, StoreError, TxOutcome, Written};
use aws_sdk_dynamodb::types::AttributeValue;

/// The parts of linking a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkCredentialPart {
    /// Not active, or a handover is under way.
    Profile,
    /// The same credential is linked already.
    Credential,
}

impl Store {
    /// Pattern "page through an account's credentials of one kind": a consistent
    /// Query of keys (and access-key state) past `after`, in key order.
    pub async fn credentials_page(
        &self,
        account: &AccountId,
        kind: CredentialKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<CredentialRef>, bool), StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .projection_expression("sk, #state")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pk", s(keys::account(account.as_str())))
            .expression_attribute_values(":from", s(after.unwrap_or(prefix(kind))))
            .expression_attribute_values(":to", s(prefix_end(kind)))
            .consistent_read(true)
            .limit(limit as i32 + 1)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let mut more = out.last_evaluated_key.is_some();
        let mut page: Vec<CredentialRef> = out
            .items()
            .iter()
            .filter_map(|i| Some((i.str("sk")?, i.str("state"))))
            .filter(|(sk, _)| Some(*sk) != after)
            .map(|(sk, state)| CredentialRef { kind, sort_key: sk.to_string(), active: state != Some("Inactive") })
            .collect();
        if page.len() > limit {
            page.truncate(limit);
            more = true;
        }
        Ok((page, more))
    }

    /// Pattern "read an account for a handover": one GetItem on the profile and,
    /// with `limit` > 0, a Query per kind of credential, all at once.
    pub async fn handover_view(&self, account: &AccountId, limit: usize) -> Result<Option<HandoverView>, StoreError> {
        if limit == 0 {
            return self.get(profile_key(account)).await?.map(|i| view_from_profile(&i)).transpose();
        }
        // Boxed: five SDK futures side by side would make every caller's future huge.
        let page = |kind| Box::pin(self.credentials_page(account, kind, None, limit));
        let (profile, mfa, logins, keys, iam) = tokio::join!(
            Box::pin(self.get(profile_key(account))),
            page(CredentialKind::Mfa),
            page(CredentialKind::ThirdPartyLogin),
            page(CredentialKind::AccessKey),
            page(CredentialKind::IamUser),
        );
        let Some(profile) = profile? else { return Ok(None) };
        let mut view = view_from_profile(&profile)?;
        for page in [mfa?, logins?, keys?, iam?] {
            view.complete &= !page.1;
            view.credentials.extend(page.0);
        }
        Ok(Some(view))
    }

    /// Pattern "link a credential" (other services, the fixtures): the item,
    /// only while the account is active and the same credential is not linked.
    pub async fn link_credential(
        &self,
        account: &AccountId,
        credential: &Credential,
        now: i64,
    ) -> Result<TxOutcome<LinkCredentialPart>, StoreError> {
        // Not while a handover runs: its pages were read already, so a credential linked now would survive it.
        // The version tells a pending handover that read the profile before this link to read it again.
        let profile = Op::update(profile_key(account), "ADD #lv :one")
            .when("#status = :active AND attribute_not_exists(#hip)")
            .name("#status", "status")
            .name("#hip", IN_PROGRESS)
            .name("#lv", LINKS_VERSION)
            .value(":active", s(AccountStatus::Active.as_str()))
            .value(":one", n(1));
        let mut item = key(keys::account(account.as_str()), &credential_sort_key(credential));
        match credential {
            Credential::Mfa { id, label } => {
                item.extend([("kind".to_string(), s("mfa_device")), ("device_id".to_string(), s(id))]);
                if let Some(label) = label {
                    item.insert("label".to_string(), s(label));
                }
            }
            Credential::ThirdPartyLogin { provider, subject } => {
                item.extend([
                    ("kind".to_string(), s("third_party_login")),
                    ("provider".to_string(), s(provider)),
                    ("subject".to_string(), s(subject)),
                ]);
            }
            Credential::AccessKey { id, active } => {
                item.extend([
                    ("kind".to_string(), s("access_key")),
                    ("key_id".to_string(), s(id)),
                    ("state".to_string(), s(if *active { "Active" } else { "Inactive" })),
                ]);
            }
            Credential::IamUser { name } => {
                item.extend([
                    ("kind".to_string(), s("iam_user")),
                    ("name".to_string(), s(name)),
                    ("password_reset_required".to_string(), AttributeValue::Bool(false)),
                ]);
            }
        }
        item.insert("linked_at".to_string(), n(now));
        self.transact(vec![
            (LinkCredentialPart::Profile, profile),
            (LinkCredentialPart::Credential, Op::put(item).when("attribute_not_exists(pk)")),
        ])
        .await
    }

    /// Pattern "keep contacts apart": sets login, security, service or admin
    /// contacts on an active profile with no handover pending or running, and
    /// bumps its links version. `false`: no such account.
    pub async fn set_contacts(
        &self,
        account: &AccountId,
        contacts: &[(ContactSlot, String)],
    ) -> Result<bool, StoreError> {
        if contacts.is_empty() {
            return Ok(true);
        }
        let sets: Vec<String> = (0..contacts.len()).map(|i| format!("#c{i} = :c{i}")).collect();
        // A contact set now would be the previous holder's way back in through password recovery.
        let op = Op::update(profile_key(account), format!("SET {} ADD #lv :one", sets.join(", ")))
            .when("#status = :active AND attribute_not_exists(#hp) AND attribute_not_exists(#hip)")
            .name("#status", "status")
            .name("#hp", PENDING)
            .name("#hip", IN_PROGRESS)
            .name("#lv", LINKS_VERSION)
            .value(":active", s(AccountStatus::Active.as_str()))
            .value(":one", n(1));
        let op = contacts.iter().enumerate().fold(op, |op, (i, (slot, value))| {
            op.name(&format!("#c{i}"), slot.name()).value(&format!(":c{i}"), s(value))
        });
        Ok(matches!(self.write(op, true).await?, Written::Done(_)))
    }
}
