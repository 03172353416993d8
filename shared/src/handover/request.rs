//! A start request, parsed.

use super::error::HandoverError;
use crate::model::handover::pending::{IamUsers, NewOwner};
use crate::model::ids::{AccountId, EmailAddress, PhoneNumber};
use crate::tokens::TokenString;

const NAME_MAX_CHARS: usize = 128;

/// A start request, parsed: nothing malformed gets past here.
#[derive(Debug)]
pub struct HandoverRequest {
    pub token: TokenString,
    pub owner: NewOwner,
    pub iam_users: IamUsers,
    /// The account to hand over; `None`: the caller's own.
    pub account: Option<AccountId>,
}

impl HandoverRequest {
    pub fn parse(
        token: &str,
        new_email: &str,
        new_phone: Option<&str>,
        new_name: Option<&str>,
        iam_users: IamUsers,
        account_id: Option<&str>,
    ) -> Result<Self, HandoverError> {
        let invalid = |e: &dyn std::fmt::Display| HandoverError::Invalid(e.to_string());
        let token = TokenString::parse(token).map_err(|e| invalid(&e))?;
        let email = EmailAddress::parse(new_email).map_err(|e| HandoverError::Invalid(format!("new_email: {e}")))?;
        let phone = new_phone
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(|e| HandoverError::Invalid(format!("new_phone: {e}")))?;
        let name = new_name.map(str::trim).map(String::from);
        if name
            .as_deref()
            .is_some_and(|n| n.is_empty() || n.chars().count() > NAME_MAX_CHARS || n.chars().any(char::is_control))
        {
            return Err(HandoverError::Invalid(format!(
                "new_name must be 1 to {NAME_MAX_CHARS} characters without control characters"
            )));
        }
        Ok(Self {
            token,
            owner: NewOwner { email, phone, name },
            iam_users,
            account: account_id.map(parse_account_id).transpose()?,
        })
    }
}

/// An `account_id` from a body: malformed is the client's error, never a 500.
pub fn parse_account_id(s: &str) -> Result<AccountId, HandoverError> {
    AccountId::parse(s)
        .ok_or_else(|| HandoverError::Invalid("account_id must be 1 to 128 printable ASCII characters".into()))
}
