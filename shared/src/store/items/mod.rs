//! The items of the table, one module per kind: each owns its attribute names,
//! how it is read into the model and written from it, and every write on it
//! (`docs/key-design.md` lists them). Their keys are formatted in `keys.rs`.

pub mod cancellation;
pub mod claim;
pub mod credential;
pub mod enterprise;
pub mod export;
pub mod handover;
pub mod hold;
pub mod job;
pub mod ledger;
pub mod member;
pub mod profile;
pub mod receipt;
pub mod token;

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// An item, or a key, as the SDK holds it.
pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Reading typed attributes out of an item.
pub trait ItemExt {
    fn str(&self, name: &str) -> Option<&str>;
    fn num(&self, name: &str) -> Option<i64>;
    fn map(&self, name: &str) -> Option<&Item>;
}

impl ItemExt for Item {
    fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
    }
    fn num(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
    }
    fn map(&self, name: &str) -> Option<&Item> {
        self.get(name).and_then(|v| v.as_m().ok())
    }
}
