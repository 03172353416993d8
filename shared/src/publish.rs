//! publish-events: puts the events of a batch of stream records on the bus, in
//! the stream's order, at least once. A record that fails stops the batch there
//! and is reported (with the ones after it) as the batch's first failure, so the
//! event source mapping retries from it; what was put before goes again only
//! after a crash, with the same `event_id`.

use crate::events::{Event, StreamBatch, SOURCE};
use crate::failpoints::FailPoints;
use crate::failpoints::Interrupted;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde::Serialize;

/// PutEvents takes at most ten entries.
const ENTRIES_PER_PUT: usize = 10;

/// The EventBridge bus the events go on.
#[derive(Debug, Clone)]
pub struct Bus {
    client: aws_sdk_eventbridge::Client,
    name: String,
}

/// The answer to the event source mapping (`ReportBatchItemFailures`).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

impl Bus {
    pub fn new(client: aws_sdk_eventbridge::Client, name: impl Into<String>) -> Self {
        Self { client, name: name.into() }
    }

    /// Puts `events`; the index of the first one the bus did not take, if any.
    async fn put(&self, events: &[&Event]) -> Option<usize> {
        let entries = events.iter().map(|e| {
            PutEventsRequestEntry::builder()
                .event_bus_name(&self.name)
                .source(SOURCE)
                .detail_type(e.detail_type.as_str())
                .detail(e.detail.to_string())
                .build()
        });
        match self.client.put_events().set_entries(Some(entries.collect())).send().await {
            Ok(out) if out.failed_entry_count() == 0 => None,
            Ok(out) => {
                let first = out.entries().iter().position(|e| e.error_code().is_some()).unwrap_or(0);
                let code = out.entries().get(first).and_then(|e| e.error_code()).unwrap_or("unknown");
                tracing::warn!(code, failed = out.failed_entry_count(), "the bus refused events; retried from there");
                Some(first)
            }
            Err(error) => {
                let error = aws_sdk_eventbridge::error::DisplayErrorContext(error);
                tracing::warn!(error = %error, "PutEvents failed; retried from the first event of the put");
                Some(0)
            }
        }
    }
}

/// What publish-events needs: the bus, and nothing of the table or the code secret.
#[derive(Debug, Clone)]
pub struct Publisher {
    pub bus: Bus,
    pub failpoints: FailPoints,
}

impl Publisher {
    pub fn new(sdk: &aws_config::SdkConfig, bus_name: impl Into<String>) -> Self {
        let bus = Bus::new(aws_sdk_eventbridge::Client::new(sdk), bus_name);
        Self { bus, failpoints: FailPoints::default() }
    }

    /// From the SDK's standard settings and `EVENT_BUS_NAME` (docs/api.md#configuration).
    pub async fn from_env() -> Self {
        let sdk = crate::load_sdk_config().await;
        Self::new(&sdk, crate::config::event_bus_name(|name| std::env::var(name).ok()))
    }

    /// Publishes the batch's events. `Err` only for an injected crash (tests): the
    /// whole batch is then delivered again, as after a function error.
    pub async fn publish_batch(&self, batch: &StreamBatch) -> Result<BatchResponse, Interrupted> {
        let mut pending: Vec<(&str, Event)> = Vec::new();
        let mut failed_at = None;
        for record in &batch.records {
            match record.event() {
                Ok(Some(event)) => pending.push((&record.dynamodb.sequence_number, event)),
                Ok(None) => {}
                Err(error) => {
                    // Retried, then handed to the on-failure destination: never dropped here.
                    tracing::error!(%error, "a stream record of a fact lacks what its event needs");
                    failed_at = Some(record.dynamodb.sequence_number.as_str());
                    break;
                }
            }
        }
        for chunk in pending.chunks(ENTRIES_PER_PUT) {
            let events: Vec<&Event> = chunk.iter().map(|(_, e)| e).collect();
            if let Some(first) = self.bus.put(&events).await {
                failed_at = Some(chunk[first].0);
                break;
            }
            tracing::info!(events = chunk.len(), "events published");
            self.failpoints.check("events.put")?;
        }
        Ok(BatchResponse {
            batch_item_failures: failed_at
                .map(|seq| ItemFailure { item_identifier: seq.to_string() })
                .into_iter()
                .collect(),
        })
    }
}
