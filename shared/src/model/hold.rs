//! Holds: what another service registered on an account that blocks its
//! deletion (docs/seeds.md#prerequisites: cloud products, balance funds, account groups,
//! agencies, partnerships, unfulfilled contracts or arrears).

/// The kinds docs/api.md#check-prerequisites names; any other well-formed kind is reported as itself.
pub const KNOWN_KINDS: [&str; 7] = [
    "active_resources",
    "account_balance",
    "arrears",
    "unfulfilled_contract",
    "account_group",
    "agency",
    "partnership",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub kind: String,
    /// The registering service's own id for the thing held, so one account can carry several of a kind.
    pub reference: String,
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
#[error("hold kind must be 1 to 64 lower-case letters, digits or underscores")]
pub struct InvalidHold;

impl Hold {
    pub fn new(kind: &str, reference: &str, detail: &str) -> Result<Self, InvalidHold> {
        let valid = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if !valid(kind) || reference.is_empty() || reference.len() > 256 || reference.contains('#') {
            return Err(InvalidHold);
        }
        Ok(Self { kind: kind.to_string(), reference: reference.to_string(), detail: detail.to_string() })
    }

    /// What the user must do to clear it.
    pub fn action(&self) -> String {
        match self.kind.as_str() {
            "active_resources" => "Release or delete every cloud product and resource on the account.".into(),
            "account_balance" => "Withdraw or use up the balance left on the account.".into(),
            "arrears" => "Pay the outstanding arrears.".into(),
            "unfulfilled_contract" => "Fulfil or terminate the open contract.".into(),
            "account_group" => "Leave or dissolve the account group.".into(),
            "agency" => "Remove the agency relationships of the account.".into(),
            "partnership" => "End the partnership attached to the account.".into(),
            other => format!("Resolve the {other} registered on the account with the service that registered it."),
        }
    }
}
