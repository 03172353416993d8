//! The one table, and the requests every access pattern is made of: a consistent
//! read, a conditional write, a transaction whose refused parts are named, and
//! batches that retry what DynamoDB left unprocessed.

use super::error::{is_busy, StoreError};
use super::items::Item;
use super::keys;
use super::op::{Op, OpKind};
use aws_sdk_dynamodb::Client;

/// A cancelled transaction: a conflict or throttling on any part means nothing was decided, so the
/// caller hears `Busy` rather than a failed condition it would misread as the item's state.
/// Otherwise the parts whose condition failed, named by the transaction's own enum.
fn cancellation<P>(parts: Vec<P>, reasons: Vec<Option<String>>) -> Result<TxOutcome<P>, StoreError> {
    match reasons.iter().flatten().find(|r| is_busy(r)) {
        Some(code) => Err(StoreError::Busy(format!("transaction cancelled: {code}"))),
        None => Ok(TxOutcome::Cancelled(
            parts.into_iter().zip(reasons).filter_map(|(part, reason)| reason.map(|_| part)).collect(),
        )),
    }
}

/// The one table, and how to reach it.
#[derive(Debug, Clone)]
pub struct Store {
    pub(super) client: Client,
    pub(super) table: String,
}

/// How a transaction ended. `P` names its parts: each transaction has its own enum,
/// so a caller asks "did the token fail", never "did operation 0 fail".
#[derive(Debug)]
pub enum TxOutcome<P> {
    Committed,
    /// The parts whose condition failed, in the order they were written.
    Cancelled(Vec<P>),
}

impl<P: PartialEq> TxOutcome<P> {
    /// This part's condition failed.
    pub fn refused(&self, part: &P) -> bool {
        matches!(self, Self::Cancelled(parts) if parts.contains(part))
    }

    /// The parts whose condition failed (none when committed).
    pub fn refused_parts(&self) -> &[P] {
        match self {
            Self::Committed => &[],
            Self::Cancelled(parts) => parts,
        }
    }
}

/// What a single conditional write saw.
#[derive(Debug)]
pub(super) enum Written {
    /// The write happened; the item as `ReturnValues` asked (old or new), if any.
    Done(Option<Item>),
    /// The condition failed; the item as it was, if it existed.
    Refused(Option<Item>),
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Opens the connection during init, so the first request does not pay for the TLS handshake.
    pub async fn warm_up(&self) {
        let _ = self.client.get_item().table_name(&self.table).set_key(Some(keys::warm_up())).send().await;
    }

    pub(super) async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(out.item)
    }

    /// A conditional single-item write. `new_image` asks for the item after an
    /// update (else the item before it); a failed condition returns the item as it was.
    pub(super) async fn write(&self, op: Op, new_image: bool) -> Result<Written, StoreError> {
        use aws_sdk_dynamodb::operation::{
            delete_item::DeleteItemError, put_item::PutItemError, update_item::UpdateItemError,
        };
        use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure as Rv};
        let (names, values) = (op.names(), op.values());
        match op.kind {
            OpKind::Update(key, expression) => {
                let result = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key))
                    .update_expression(expression)
                    .set_condition_expression(op.condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values(if new_image { ReturnValue::AllNew } else { ReturnValue::AllOld })
                    .return_values_on_condition_check_failure(Rv::AllOld)
                    .send()
                    .await;
                match result {
                    Ok(out) => Ok(Written::Done(out.attributes)),
                    Err(e) => match e.as_service_error() {
                        Some(UpdateItemError::ConditionalCheckFailedException(c)) => {
                            Ok(Written::Refused(c.item().cloned()))
                        }
                        _ => Err(StoreError::sdk(e)),
                    },
                }
            }
            OpKind::Put(item) => {
                let result = self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .set_condition_expression(op.condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(Rv::AllOld)
                    .send()
                    .await;
                match result {
                    Ok(_) => Ok(Written::Done(None)),
                    Err(e) => match e.as_service_error() {
                        Some(PutItemError::ConditionalCheckFailedException(c)) => {
                            Ok(Written::Refused(c.item().cloned()))
                        }
                        _ => Err(StoreError::sdk(e)),
                    },
                }
            }
            OpKind::Delete(key) => {
                let result = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key))
                    .set_condition_expression(op.condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values(ReturnValue::AllOld)
                    .return_values_on_condition_check_failure(Rv::AllOld)
                    .send()
                    .await;
                match result {
                    Ok(out) => Ok(Written::Done(out.attributes)),
                    Err(e) => match e.as_service_error() {
                        Some(DeleteItemError::ConditionalCheckFailedException(c)) => {
                            Ok(Written::Refused(c.item().cloned()))
                        }
                        _ => Err(StoreError::sdk(e)),
                    },
                }
            }
            OpKind::Check(_) => Err(StoreError::Malformed("a condition check runs only inside a transaction".into())),
        }
    }

    /// All-or-nothing write of up to 100 operations, each tagged with the part it
    /// stands for. A conflict with another transaction on the same items is retried;
    /// a failed condition is reported by the part it belongs to.
    pub(super) async fn transact<P>(&self, parts: Vec<(P, Op)>) -> Result<TxOutcome<P>, StoreError> {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        let (parts, ops): (Vec<P>, Vec<Op>) = parts.into_iter().unzip();
        let items = ops.into_iter().map(|op| op.into_transact(&self.table)).collect::<Result<Vec<_>, _>>()?;
        let mut backoff_ms = 10;
        loop {
            let result = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let err = match result {
                Ok(_) => return Ok(TxOutcome::Committed),
                Err(e) => e,
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(c)) = err.as_service_error() {
                let reasons: Vec<Option<String>> = c
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().filter(|code| *code != "None").map(String::from))
                    .collect();
                let conflict = reasons.iter().flatten().any(|r| r == "TransactionConflict");
                if conflict && backoff_ms < 1000 {
                    tokio::time::sleep(std::time::Duration::from_millis(backoff_ms)).await;
                    backoff_ms *= 2;
                    continue;
                }
                return cancellation(parts, reasons);
            }
            if let Some(TransactWriteItemsError::TransactionInProgressException(_)) = err.as_service_error() {
                if backoff_ms < 1000 {
                    tokio::time::sleep(std::time::Duration::from_millis(backoff_ms)).await;
                    backoff_ms *= 2;
                    continue;
                }
            }
            return Err(StoreError::sdk(err));
        }
    }

    /// Deletes the given keys, 25 to a request, retrying what DynamoDB left unprocessed.
    pub(super) async fn delete_keys(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        for chunk in keys.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|k| {
                    DeleteRequest::builder()
                        .set_key(Some(k.clone()))
                        .build()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                        .map_err(|e| StoreError::Malformed(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut backoff_ms = 10;
            while !requests.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(StoreError::sdk)?;
                requests = out.unprocessed_items.and_then(|mut m| m.remove(&self.table)).unwrap_or_default();
                if !requests.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(backoff_ms)).await;
                    backoff_ms = (backoff_ms * 2).min(1000);
                }
            }
        }
        Ok(())
    }

    /// Reads the given keys, 100 to a request, retrying what DynamoDB left unprocessed.
    pub(super) async fn get_many(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Malformed(e.to_string()))?,
            );
            while let Some(request) = pending.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(StoreError::sdk)?;
                found.extend(out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
                pending = out.unprocessed_keys.and_then(|mut m| m.remove(&self.table)).filter(|k| !k.keys().is_empty());
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_or_throttling_after_the_retries_is_busy_not_a_failed_condition() {
        for code in ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"] {
            let reasons = vec![None, Some("ConditionalCheckFailed".to_string()), Some(code.to_string())];
            assert!(matches!(cancellation(vec![0, 1, 2], reasons), Err(StoreError::Busy(_))), "{code}");
        }
        let failed = cancellation(vec![0, 1], vec![None, Some("ConditionalCheckFailed".to_string())]);
        assert!(matches!(&failed, Ok(o) if o.refused(&1) && !o.refused(&0)));
    }
}
