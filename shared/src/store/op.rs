//! One write, as the single-item calls and TransactWriteItems both take it.

use super::error::StoreError;
use super::items::Item;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use std::collections::HashMap;

/// One write, usable alone or inside a transaction. Placeholders follow the
/// DynamoDB convention: `#name` for attribute names, `:value` for values.
#[derive(Debug, Clone)]
pub struct Op {
    pub(super) kind: OpKind,
    pub(super) condition: Option<String>,
    names: HashMap<String, String>,
    values: Item,
}

#[derive(Debug, Clone)]
pub(super) enum OpKind {
    Put(Item),
    Update(Item, String),
    Delete(Item),
    Check(Item),
}

impl Op {
    pub fn put(item: Item) -> Self {
        Self::of(OpKind::Put(item))
    }
    pub fn update(key: Item, expression: impl Into<String>) -> Self {
        Self::of(OpKind::Update(key, expression.into()))
    }
    pub fn delete(key: Item) -> Self {
        Self::of(OpKind::Delete(key))
    }
    pub fn check(key: Item, condition: impl Into<String>) -> Self {
        Self::of(OpKind::Check(key)).when(condition)
    }
    fn of(kind: OpKind) -> Self {
        Self { kind, condition: None, names: HashMap::new(), values: HashMap::new() }
    }
    pub fn when(mut self, condition: impl Into<String>) -> Self {
        self.condition = Some(condition.into());
        self
    }
    /// Adds a condition to the one already set: both must hold.
    pub fn and_when(mut self, condition: impl AsRef<str>) -> Self {
        let more = condition.as_ref();
        self.condition = Some(match self.condition.take() {
            Some(c) => format!("({c}) AND ({more})"),
            None => more.to_string(),
        });
        self
    }
    pub fn name(mut self, placeholder: &str, attribute: impl Into<String>) -> Self {
        self.names.insert(placeholder.to_string(), attribute.into());
        self
    }
    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_string(), value);
        self
    }

    pub(super) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }
    pub(super) fn values(&self) -> Option<Item> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    pub(super) fn into_transact(self, table: &str) -> Result<TransactWriteItem, StoreError> {
        use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure as Rv, Update};
        let bad = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Malformed(e.to_string());
        let (names, values) = (self.names(), self.values());
        let item = match self.kind {
            OpKind::Put(item) => TransactWriteItem::builder().put(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(item))
                    .set_condition_expression(self.condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(bad)?,
            ),
            OpKind::Update(key, expression) => TransactWriteItem::builder().update(
                Update::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .update_expression(expression)
                    .set_condition_expression(self.condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(Rv::AllOld)
                    .build()
                    .map_err(bad)?,
            ),
            OpKind::Delete(key) => TransactWriteItem::builder().delete(
                Delete::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .set_condition_expression(self.condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(bad)?,
            ),
            OpKind::Check(key) => TransactWriteItem::builder().condition_check(
                ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .condition_expression(self.condition.unwrap_or_default())
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(bad)?,
            ),
        };
        Ok(item.build())
    }
}
