//! Who is asking, from the JWT authorizer's claims (never from the body).

use crate::accounts::{admit, AccountError};
use crate::config::Config;
use crate::model::account::Account;
use crate::model::ids::AccountId;
use crate::model::locale::Locale;
use crate::model::session::Session;
use crate::App;

#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountId,
    /// The OAuth client the token was issued to: `client_id`, else `azp`, else `aud`.
    pub client_id: Option<String>,
    pub session: Session,
    /// The language the request asked for (`Accept-Language`), if one this bundle writes.
    pub language: Option<Locale>,
}

impl App {
    /// The caller's own live account, refused to a session from before its last handover.
    pub async fn live_caller(&self, caller: &Caller) -> Result<Account, AccountError> {
        let account = self.live_account(&caller.account).await?;
        admit(&account, caller.session)?;
        Ok(account)
    }
}

impl Caller {
    pub fn new(account: AccountId) -> Self {
        Self { account, client_id: None, session: Session::default(), language: None }
    }

    /// Seed 000: the mobile app may not be used by a default administrator to dismiss or delete.
    pub fn on_mobile_app(&self, config: &Config) -> bool {
        self.client_id.as_ref().is_some_and(|c| config.mobile_client_ids.contains(c))
    }
}
