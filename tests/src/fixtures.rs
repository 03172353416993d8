//! Fixtures (`scripts/dev seed FILE`; the format is in
//! `docs/fixtures.md`), loaded the way sign-up and other services would:
//! accounts through registration (identifier claims included), holds through
//! the hold registration every service uses, contacts and credentials (MFA
//! devices, third-party logins, access keys, IAM users) through the linking
//! the services that own them use.

use serde::Deserialize;
use shared::model::account::{NewAccount, Role};
use shared::model::handover::contacts::ContactSlot;
use shared::model::handover::credentials::Credential;
use shared::model::hold::Hold;
use shared::model::ids::{AccountId, EmailAddress, PhoneNumber, Username};
use shared::model::locale::Locale;
use shared::App;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    #[serde(default)]
    pub enterprises: Vec<EnterpriseFixture>,
    #[serde(default)]
    pub accounts: Vec<AccountFixture>,
    #[serde(default)]
    pub holds: Vec<HoldFixture>,
    #[serde(default)]
    pub mfa_devices: Vec<MfaDeviceFixture>,
    #[serde(default)]
    pub third_party_logins: Vec<ThirdPartyLoginFixture>,
    #[serde(default)]
    pub access_keys: Vec<AccessKeyFixture>,
    #[serde(default)]
    pub iam_users: Vec<IamUserFixture>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseFixture {
    pub id: String,
    pub name: Option<String>,
    pub default_admin: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountFixture {
    pub id: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub enterprise_id: Option<String>,
    pub role: Option<String>,
    /// `en` (the default) or `zh-CN`: the language of the account's mail.
    pub locale: Option<String>,
    /// With a user pool, the pool user's password (`scripts/dev seed` signs it up with it); unused without one.
    pub password: Option<String>,
    /// Contacts kept apart from `email` and `phone`, e.g. `{"security_email": "..."}`.
    #[serde(default)]
    pub contacts: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldFixture {
    pub account_id: String,
    pub kind: String,
    pub detail: Option<String>,
    pub reference: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaDeviceFixture {
    pub account_id: String,
    pub id: String,
    pub label: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThirdPartyLoginFixture {
    pub account_id: String,
    pub provider: String,
    pub subject: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKeyFixture {
    pub account_id: String,
    pub id: String,
    /// `Active` (the default) or `Inactive`.
    pub state: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamUserFixture {
    pub account_id: String,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("fixtures: {0}")]
    Invalid(String),
    #[error("account {account}: {source}")]
    Account { account: String, source: shared::accounts::AccountError },
    #[error("enterprise {0}: {1}")]
    Enterprise(String, shared::enterprises::EnterpriseError),
    #[error("hold {kind} on {account}: {source}")]
    Hold { account: String, kind: String, source: shared::holds::HoldError },
    #[error("{what} on {account}: {source}")]
    Link { account: String, what: String, source: shared::handover::LinkError },
}

fn id(s: &str) -> Result<AccountId, FixtureError> {
    AccountId::parse(s).ok_or_else(|| FixtureError::Invalid(format!("{s:?} is not an account id")))
}

fn invalid(e: impl std::fmt::Display) -> FixtureError {
    FixtureError::Invalid(e.to_string())
}

impl AccountFixture {
    pub fn to_new_account(&self) -> Result<NewAccount, FixtureError> {
        let role = match self.role.as_deref() {
            Some(r) => Role::parse(r)
                .ok_or_else(|| FixtureError::Invalid(format!("account {}: unknown role {r:?}", self.id)))?,
            None if self.enterprise_id.is_some() => Role::Member,
            None => Role::Individual,
        };
        if (role == Role::Individual) != self.enterprise_id.is_none() {
            return Err(FixtureError::Invalid(format!(
                "account {}: role {} does not fit enterprise_id",
                self.id,
                role.as_str()
            )));
        }
        Ok(NewAccount {
            id: id(&self.id)?,
            username: self.username.as_deref().map(Username::parse).transpose().map_err(invalid)?,
            email: self.email.as_deref().map(EmailAddress::parse).transpose().map_err(invalid)?,
            phone: self.phone.as_deref().map(PhoneNumber::parse).transpose().map_err(invalid)?,
            name: self.name.clone(),
            enterprise_id: self.enterprise_id.clone(),
            role,
            locale: match self.locale.as_deref() {
                None => Locale::default(),
                Some(tag) => Locale::parse(tag).ok_or_else(|| {
                    FixtureError::Invalid(format!("account {}: locale {tag:?} is not en or zh-CN", self.id))
                })?,
            },
        })
    }
}

impl Fixtures {
    pub fn parse(json: &str) -> Result<Self, FixtureError> {
        serde_json::from_str(json).map_err(invalid)
    }

    /// Loads everything; stops at the first refusal and names it.
    pub async fn load(&self, app: &App) -> Result<(), FixtureError> {
        for e in &self.enterprises {
            let admin = e.default_admin.as_deref().map(id).transpose()?;
            app.register_enterprise(&e.id, e.name.as_deref().unwrap_or(&e.id), admin.as_ref())
                .await
                .map_err(|err| FixtureError::Enterprise(e.id.clone(), err))?;
        }
        for a in &self.accounts {
            let account = a.to_new_account()?;
            let contacts = a.contacts()?;
            app.register_account(&account)
                .await
                .map_err(|source| FixtureError::Account { account: a.id.clone(), source })?;
            app.set_contacts(&account.id, &contacts).await.map_err(|source| FixtureError::Link {
                account: a.id.clone(),
                what: "contacts".into(),
                source,
            })?;
        }
        for h in &self.holds {
            let reference = h.reference.clone().unwrap_or_else(|| "default".into());
            let hold = Hold::new(&h.kind, &reference, h.detail.as_deref().unwrap_or_default()).map_err(invalid)?;
            app.register_hold(&id(&h.account_id)?, &hold).await.map_err(|source| FixtureError::Hold {
                account: h.account_id.clone(),
                kind: h.kind.clone(),
                source,
            })?;
        }
        for (account, credential) in self.credentials()? {
            app.link_credential(&id(&account)?, &credential).await.map_err(|source| FixtureError::Link {
                account: account.clone(),
                what: format!("{credential:?}"),
                source,
            })?;
        }
        Ok(())
    }

    /// Every credential of the four lists, with the account it belongs to.
    fn credentials(&self) -> Result<Vec<(String, Credential)>, FixtureError> {
        let mut all = Vec::new();
        for m in &self.mfa_devices {
            all.push((m.account_id.clone(), Credential::Mfa { id: m.id.clone(), label: m.label.clone() }));
        }
        for l in &self.third_party_logins {
            all.push((
                l.account_id.clone(),
                Credential::ThirdPartyLogin { provider: l.provider.clone(), subject: l.subject.clone() },
            ));
        }
        for k in &self.access_keys {
            let active = match k.state.as_deref() {
                None => true,
                Some(s) if s.eq_ignore_ascii_case("active") => true,
                Some(s) if s.eq_ignore_ascii_case("inactive") => false,
                Some(other) => {
                    return Err(FixtureError::Invalid(format!(
                        "access key {}: state {other:?} is not Active or Inactive",
                        k.id
                    )))
                }
            };
            all.push((k.account_id.clone(), Credential::AccessKey { id: k.id.clone(), active }));
        }
        for u in &self.iam_users {
            all.push((u.account_id.clone(), Credential::IamUser { name: u.name.clone() }));
        }
        Ok(all)
    }
}

impl AccountFixture {
    /// The separately kept contacts, by the names the profile stores them under.
    pub fn contacts(&self) -> Result<Vec<(ContactSlot, String)>, FixtureError> {
        self.contacts
            .iter()
            .map(|(name, value)| {
                let slot = ContactSlot::parse(name).ok_or_else(|| {
                    FixtureError::Invalid(format!(
                        "account {}: unknown contact {name:?} (login, security, service or admin, _email or _phone)",
                        self.id
                    ))
                })?;
                Ok((slot, value.clone()))
            })
            .collect()
    }
}
