//! Metrics as CloudWatch Embedded Metric Format lines on stdout: Lambda sends
//! the function's output to CloudWatch Logs, which turns each such line into a
//! metric an alarm of the template watches (`ErasureOverdueAlarm`). No client, no extra request.

use std::sync::{Arc, Mutex};

/// The namespace of the bundle's own metrics.
pub const NAMESPACE: &str = "AccountDeletion";

#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// Once a test calls `capture`, the lines go here instead of stdout.
    captured: Arc<Mutex<Option<Vec<String>>>>,
}

impl Metrics {
    /// From now on keep the lines for `lines` (tests).
    pub fn capture(&self) {
        if let Ok(mut captured) = self.captured.lock() {
            captured.get_or_insert_with(Vec::new);
        }
    }

    /// The lines captured so far.
    pub fn lines(&self) -> Vec<String> {
        self.captured.lock().ok().and_then(|c| c.clone()).unwrap_or_default()
    }

    /// One downstream system missed its erasure deadline (metric `ErasureOverdue`, no dimensions; `System` a property).
    pub fn erasure_overdue(&self, system: &str) {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let line = serde_json::json!({
            "_aws": {
                "Timestamp": now_ms,
                "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [[]], "Metrics": [{"Name": "ErasureOverdue", "Unit": "Count"}]}]
            },
            "ErasureOverdue": 1,
            "System": system,
        })
        .to_string();
        match self.captured.lock().as_deref_mut() {
            Ok(Some(lines)) => lines.push(line),
            _ => println!("{line}"),
        }
    }
}
