//! Who is asking, from the JWT authorizer's claims (never from the body).

use crate::accounts::AccountId;
use crate::config::Config;

#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountId,
    /// The OAuth client the token was issued to: `client_id`, else `azp`, else `aud`.
    pub client_id: Option<String>,
}

impl Caller {
    pub fn new(account: AccountId) -> Self {
        Self { account, client_id: None }
    }

    /// Seed 000: the mobile app may not be used by a default administrator to dismiss or delete.
    pub fn on_mobile_app(&self, config: &Config) -> bool {
        self.client_id.as_ref().is_some_and(|c| config.mobile_client_ids.contains(c))
    }
}
