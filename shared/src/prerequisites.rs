//! What still blocks an account's deletion: all of it at once, each with the
//! action that clears it (docs/seeds.md#prerequisites: "display tasks for you to complete").

use crate::accounts::{admit, AccountError};
pub use crate::blockers::{desktop_client_required, handover_pending, Blocker, HANDOVER_PENDING};
use crate::caller::Caller;
use crate::model::account::{Account, AccountStatus};
use crate::model::enterprise::Enterprise;
use crate::model::hold::Hold;
use crate::store::{AccountStore, EnterpriseStore};
use crate::App;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Prerequisites {
    pub account_id: String,
    pub deletable: bool,
    pub blockers: Vec<Blocker>,
}

/// The rules of docs/seeds.md#deletion and #prerequisites, on what one read of the account returned.
pub fn blockers(
    account: &Account,
    holds: &[Hold],
    enterprise: Option<&Enterprise>,
    on_mobile_app: bool,
) -> Vec<Blocker> {
    let mut found = Vec::new();
    if account.is_default_admin() {
        let name = match enterprise {
            Some(e) => format!("{} ({})", e.name, e.id),
            None => account.enterprise_id.clone().unwrap_or_default(),
        };
        found.push(Blocker {
            kind: "enterprise_not_dismissed".into(),
            detail: format!("You are the default administrator of the enterprise {name}."),
            action: "Dismiss the enterprise first (POST /v1/enterprise/dismissal with a dismiss_enterprise verification token).".into(),
        });
        if on_mobile_app {
            found.push(desktop_client_required());
        }
    }
    if account.email.is_none() {
        found.push(Blocker {
            kind: "email_not_bound".into(),
            detail: "No email address is bound to the account, so no verification code can be sent.".into(),
            action: "Bind an email address on the management platform, then delete the account.".into(),
        });
    }
    found.extend(holds.iter().map(|h| Blocker { kind: h.kind.clone(), detail: h.detail.clone(), action: h.action() }));
    found
}

impl App {
    /// One Query on the account's profile and holds; one GetItem more only for a default administrator.
    pub async fn deletion_prerequisites(&self, caller: &Caller) -> Result<Prerequisites, AccountError> {
        let blockers = self.current_blockers(caller).await?;
        Ok(Prerequisites { account_id: caller.account.to_string(), deletable: blockers.is_empty(), blockers })
    }

    pub(crate) async fn current_blockers(&self, caller: &Caller) -> Result<Vec<Blocker>, AccountError> {
        let Some((account, holds)) = self.store.account_with_holds(&caller.account).await? else {
            return Err(self.missing_account(&caller.account).await);
        };
        admit(&account, caller.session)?;
        if account.status != AccountStatus::Active {
            return Err(AccountError::Deleted);
        }
        let enterprise = match (&account.enterprise_id, account.is_default_admin()) {
            (Some(id), true) => self.store.get_enterprise(id).await?,
            _ => None,
        };
        let mut found = blockers(&account, &holds, enterprise.as_ref(), caller.on_mobile_app(&self.config));
        if account.awaits_administrators_handover(self.clock.now()) {
            found.push(handover_pending());
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::account::Role;
    use crate::model::ids::{AccountId, EmailAddress};

    fn account(role: Role, enterprise: Option<&str>, email: Option<&str>) -> Account {
        Account {
            id: AccountId::parse("x").unwrap(),
            username: None,
            email: email.map(|e| EmailAddress::parse(e).unwrap()),
            phone: None,
            name: None,
            enterprise_id: enterprise.map(String::from),
            role,
            status: AccountStatus::Active,
            locale: Default::default(),
            hold_count: 0,
            sessions_revoked_at: None,
            live_tokens: Vec::new(),
            pending_handover: None,
            handover_running_as: None,
            reserved: Vec::new(),
        }
    }

    #[test]
    fn a_default_admin_must_dismiss_first_and_not_from_the_mobile_app() {
        let alice = account(Role::DefaultAdmin, Some("ent-acme"), Some("alice@example.com"));
        let kinds = |b: Vec<Blocker>| b.into_iter().map(|b| b.kind).collect::<Vec<_>>();
        assert_eq!(kinds(blockers(&alice, &[], None, false)), ["enterprise_not_dismissed"]);
        assert_eq!(kinds(blockers(&alice, &[], None, true)), ["enterprise_not_dismissed", "desktop_client_required"]);
        let bob = account(Role::Member, Some("ent-acme"), Some("bob@example.com"));
        assert!(blockers(&bob, &[], None, true).is_empty());
    }

    #[test]
    fn every_hold_and_a_missing_email_are_reported_together() {
        let carol = account(Role::Individual, None, None);
        let holds = [
            Hold::new("account_balance", "wallet", "12.30 CNY left").unwrap(),
            Hold::new("quota_review", "q1", "under review").unwrap(),
        ];
        let found = blockers(&carol, &holds, None, false);
        assert_eq!(
            found.iter().map(|b| b.kind.as_str()).collect::<Vec<_>>(),
            ["email_not_bound", "account_balance", "quota_review"]
        );
        assert_eq!(found[1].detail, "12.30 CNY left");
        assert!(found.iter().all(|b| !b.action.is_empty()));
    }
}
