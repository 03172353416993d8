//! An EventBridge rule on the bus: records a downstream system's erasure report
//! (`Account Erasure Reported`, source `erasure.<system>`) in the ledger.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use serde_json::{json, Value};
use shared::ledger::ReportError;
use shared::App;

/// A report that can never be recorded (malformed, unknown system, no such
/// deletion, a different report already) is answered, not failed: a retry
/// would not change it. Only a failure of the table is an error, which Lambda retries.
pub async fn handle(app: &App, event: Value) -> Result<Value, shared::lambda_http::Error> {
    match app.record_erasure(&event).await {
        Ok(outcome) => Ok(json!({ "outcome": outcome })),
        Err(ReportError::Store(error)) => Err(error.into()),
        Err(refused) => {
            tracing::warn!(error = %refused, source = %event["source"], "erasure report refused");
            Ok(json!({ "refused": refused.to_string() }))
        }
    }
}
