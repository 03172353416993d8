//! Lambda's DynamoDB event source mapping, on the local stack: reads the table's
//! stream from DynamoDB Local, drops what the template's filter criteria do not
//! match, hands batches to publish-events and acts on its answer as Lambda does
//! (a reported failure is retried from there, a function error bisects the
//! batch, a batch out of retries goes to the on-failure destination). The
//! filters, batch size and retries are read from `infra/template.yaml`, never listed here.

use crate::localstack::{sdk_config, template_path, Error};
use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The template's mapping of the table's stream to publish-events.
#[derive(Debug, Clone)]
pub struct EventSourceMapping {
    pub filters: Vec<Value>,
    pub batch_size: usize,
    pub max_retries: u32,
    pub bisect: bool,
}

impl EventSourceMapping {
    pub fn from_template() -> Result<Self, Error> {
        let text = std::fs::read_to_string(template_path())?;
        let template: serde_norway::Value = serde_norway::from_str(&text)?;
        let properties = template["Resources"]["PublishEventsFunction"]["Properties"]["Events"]["Stream"]["Properties"]
            .as_mapping()
            .ok_or("the template has no Stream event on PublishEventsFunction")?;
        let get = |name: &str| properties.get(serde_norway::Value::from(name));
        let filters = get("FilterCriteria")
            .and_then(|f| f["Filters"].as_sequence())
            .ok_or("the Stream event has no FilterCriteria.Filters")?
            .iter()
            .map(|f| Ok(serde_json::from_str(f["Pattern"].as_str().ok_or("a filter without Pattern")?)?))
            .collect::<Result<Vec<Value>, Error>>()?;
        for filter in &filters {
            matches(filter, &json!({}))?; // an operator this emulation lacks fails here, not silently later
        }
        Ok(Self {
            filters,
            batch_size: get("BatchSize").and_then(|v| v.as_u64()).unwrap_or(100) as usize,
            max_retries: get("MaximumRetryAttempts").and_then(|v| v.as_u64()).unwrap_or(10) as u32,
            bisect: get("BisectBatchOnFunctionError").and_then(|v| v.as_bool()).unwrap_or(false),
        })
    }

    pub fn selects(&self, record: &Value) -> bool {
        self.filters.iter().any(|f| matches(f, record).unwrap_or(false))
    }

    /// Delivers `records` (already filtered) in batches to `invoke`; what fails
    /// for good is returned (the on-failure destination's share).
    pub async fn deliver(
        &self,
        records: Vec<Value>,
        invoke: &mut impl AsyncFnMut(Value) -> Result<Value, String>,
    ) -> Vec<Value> {
        let mut dead = Vec::new();
        for batch in records.chunks(self.batch_size.max(1)) {
            self.deliver_batch(batch.to_vec(), invoke, &mut dead).await;
        }
        dead
    }

    async fn deliver_batch(
        &self,
        mut batch: Vec<Value>,
        invoke: &mut impl AsyncFnMut(Value) -> Result<Value, String>,
        dead: &mut Vec<Value>,
    ) {
        let mut attempts = 0;
        // Bisected halves are worked as a stack, first half first, so the order holds.
        let mut halves: Vec<(Vec<Value>, u32)> = Vec::new();
        loop {
            if batch.is_empty() {
                match halves.pop() {
                    Some((next, tries)) => (batch, attempts) = (next, tries),
                    None => return,
                }
            }
            match invoke(json!({ "Records": batch })).await {
                Ok(answer) => {
                    let failed = answer["batchItemFailures"].as_array().cloned().unwrap_or_default();
                    let first = failed
                        .iter()
                        .filter_map(|f| f["itemIdentifier"].as_str())
                        .filter_map(|id| batch.iter().position(|r| r["dynamodb"]["SequenceNumber"] == id))
                        .min();
                    match first {
                        None => batch.clear(),
                        Some(at) => {
                            batch.drain(..at);
                            attempts += 1;
                        }
                    }
                }
                Err(error) => {
                    eprintln!("esm: publish-events failed: {error}");
                    attempts += 1;
                    if self.bisect && batch.len() > 1 && attempts <= self.max_retries {
                        let second = batch.split_off(batch.len() / 2);
                        halves.push((second, attempts));
                        continue;
                    }
                }
            }
            if !batch.is_empty() && attempts > self.max_retries {
                dead.push(json!({
                    "reason": "retries exhausted",
                    "first_sequence_number": batch[0]["dynamodb"]["SequenceNumber"],
                    "last_sequence_number": batch[batch.len() - 1]["dynamodb"]["SequenceNumber"],
                    "records": batch.len(),
                }));
                batch.clear();
            }
        }
    }
}

/// An EventBridge content filter: the subset the template uses (exact values,
/// `prefix`, `exists`, `anything-but`); any other operator is an error.
pub fn matches(pattern: &Value, event: &Value) -> Result<bool, Error> {
    let Some(fields) = pattern.as_object() else {
        return Err(format!("a pattern must be an object: {pattern}").into());
    };
    for (name, want) in fields {
        let got = event.get(name);
        let ok = match want {
            Value::Array(rules) => {
                let mut any = false;
                for rule in rules {
                    any |= rule_matches(rule, got)?;
                }
                any
            }
            Value::Object(_) => match got {
                Some(inner) => matches(want, inner)?,
                // Checked all the same, so an unsupported operator is an error whatever the record.
                None => {
                    matches(want, &json!({}))?;
                    false
                }
            },
            other => return Err(format!("a pattern's leaf must be an array: {other}").into()),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn rule_matches(rule: &Value, got: Option<&Value>) -> Result<bool, Error> {
    let Value::Object(op) = rule else { return Ok(got == Some(rule)) };
    match op.iter().next() {
        Some((name, arg)) if op.len() == 1 => match (name.as_str(), arg) {
            ("prefix", Value::String(p)) => Ok(got.and_then(Value::as_str).is_some_and(|s| s.starts_with(p.as_str()))),
            ("exists", Value::Bool(b)) => Ok(got.is_some() == *b),
            ("anything-but", Value::Array(no)) => Ok(got.is_some_and(|g| !no.contains(g))),
            ("anything-but", v) => Ok(got.is_some_and(|g| g != v)),
            _ => Err(format!("filter operator {name} is not supported by the local event source mapping").into()),
        },
        _ => Err(format!("a filter rule must have one operator: {rule}").into()),
    }
}

/// Where the mapping has read each shard of a stream up to.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct StreamPosition {
    /// shard id → the last sequence number read.
    pub shards: HashMap<String, String>,
}

/// The records of `table`'s stream after `position`, as Lambda hands them to a
/// function (typed attribute values), oldest first; `position` moves past them.
pub async fn read_new_records(table: &str, position: &mut StreamPosition) -> Result<Vec<Value>, Error> {
    let sdk = sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
    let description = dynamo.describe_table().table_name(table).send().await?;
    let arn = description.table().and_then(|t| t.latest_stream_arn()).ok_or("the table has no stream")?.to_string();
    let stream = streams.describe_stream().stream_arn(&arn).send().await?;
    let shards = stream.stream_description().map(|d| d.shards().to_vec()).unwrap_or_default();
    let mut records = Vec::new();
    for shard in shards {
        let Some(shard_id) = shard.shard_id() else { continue };
        let request = streams.get_shard_iterator().stream_arn(&arn).shard_id(shard_id);
        let request = match position.shards.get(shard_id) {
            Some(seq) => request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).sequence_number(seq),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let mut iterator = request.send().await?.shard_iterator;
        while let Some(it) = iterator {
            let page = streams.get_records().shard_iterator(it).send().await?;
            for record in page.records() {
                let Some(data) = record.dynamodb() else { continue };
                let seq = data.sequence_number().unwrap_or_default().to_string();
                let mut dynamodb = Map::new();
                dynamodb.insert("Keys".into(), image(data.keys()));
                if let Some(new_image) = data.new_image() {
                    dynamodb.insert("NewImage".into(), image(Some(new_image)));
                }
                dynamodb.insert("SequenceNumber".into(), json!(seq));
                dynamodb.insert("StreamViewType".into(), json!(data.stream_view_type().map(|v| v.as_str())));
                records.push(json!({
                    "eventID": record.event_id(),
                    "eventName": record.event_name().map(|e| e.as_str()),
                    "eventSource": "aws:dynamodb",
                    "eventVersion": "1.1",
                    "awsRegion": "us-east-1",
                    "eventSourceARN": arn,
                    "dynamodb": dynamodb,
                }));
                position.shards.insert(shard_id.to_string(), seq);
            }
            // An open shard hands out a next iterator for ever: an empty page is the end of what was written.
            iterator = if page.records().is_empty() { None } else { page.next_shard_iterator };
        }
    }
    Ok(records)
}

fn image(item: Option<&HashMap<String, AttributeValue>>) -> Value {
    Value::Object(item.into_iter().flatten().map(|(k, v)| (k.clone(), typed(v))).collect())
}

/// An attribute value in DynamoDB's JSON form (`{"S": "..."}`, `{"N": "1"}`, ...).
fn typed(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::L(v) => json!({ "L": v.iter().map(typed).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": m.iter().map(|(k, v)| (k.clone(), typed(v))).collect::<Map<_, _>>() }),
        // The table holds no binary attributes; one would show as its length.
        other => json!({ "B": format!("{} bytes", other.as_b().map(|b| b.as_ref().len()).unwrap_or(0)) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_filters_pick_the_facts_and_nothing_else() {
        let esm = EventSourceMapping::from_template().unwrap();
        let record = |event: &str, pk: &str, sk: &str, image: Value| json!({"eventName": event, "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": sk}}, "NewImage": image}});
        let receipt = json!({"kind": {"S": "account_deletion"}});
        assert!(esm.selects(&record("INSERT", "RECEIPT#bob", "RECEIPT", receipt.clone())));
        assert!(!esm.selects(&record("MODIFY", "RECEIPT#bob", "RECEIPT", receipt)));
        assert!(!esm.selects(&record("INSERT", "ACCOUNT#bob", "PROFILE", json!({"email": {"S": "b@x"}}))));
        assert!(!esm.selects(&record("INSERT", "JOB#deletion#bob", "JOB", json!({}))));
        assert!(esm.selects(&record("INSERT", "JOB#deletion#bob", "JOB", json!({"purge_at": {"N": "1"}}))));
        assert!(esm.selects(&record("INSERT", "ACCOUNT#bob", "HANDOVER#h1", json!({}))));
        assert!(!esm.selects(&record("INSERT", "JOB#handover#bob", "JOB", json!({"payload": {"S": "{}"}}))));
        let dismissed = json!({"status": {"S": "dismissed"}});
        assert!(esm.selects(&record("INSERT", "ACCOUNT#bob", "CANCELLATION#rcpt_1", json!({}))));
        let pending = json!({"status": {"S": "pending"}});
        assert!(esm.selects(&record("MODIFY", "LEDGER#bob", "SYSTEM#billing", pending.clone())));
        assert!(!esm.selects(&record("INSERT", "LEDGER#bob", "SYSTEM#billing", pending)));
        assert!(!esm.selects(&record("MODIFY", "LEDGER#bob", "SYSTEM#billing", json!({"status": {"S": "erased"}}))));
        assert!(esm.selects(&record("MODIFY", "ENTERPRISE#e", "META", dismissed.clone())));
        assert!(!esm.selects(&record("MODIFY", "ENTERPRISE#e", "MEMBER#bob", dismissed)));
        let ready = json!({"status": {"S": "ready"}});
        assert!(esm.selects(&record("MODIFY", "ACCOUNT#bob", "EXPORT#exp_1", ready.clone())));
        assert!(!esm.selects(&record("INSERT", "ACCOUNT#bob", "EXPORT#exp_1", json!({"status": {"S": "preparing"}}))));
        assert!(!esm.selects(&record("MODIFY", "ACCOUNT#bob", "PROFILE", ready)));
        assert!(matches(&json!({"a": [{"suffix": "x"}]}), &json!({"a": "x"})).is_err());
    }
}
