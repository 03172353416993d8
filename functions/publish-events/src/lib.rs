//! The table's stream (an event source mapping with filter criteria): puts the
//! events of docs/events.md on the bus and reports the first record it could not publish.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use shared::events::StreamBatch;
use shared::publish::Publisher;

/// A malformed batch is a function error (the mapping retries, bisects, then sends it to the on-failure destination).
pub async fn handle(
    publisher: &Publisher,
    event: serde_json::Value,
) -> Result<serde_json::Value, shared::lambda_http::Error> {
    let batch: StreamBatch = serde_json::from_value(event)?;
    let response = publisher.publish_batch(&batch).await?;
    Ok(serde_json::to_value(response)?)
}
