//! Every journey ends with an audit of its table (docs/audit.md): `stack.finish().await`,
//! or `stack.finish_expecting(...)` where a test breaks the table on purpose. A stack
//! dropped without either fails its test, so a journey cannot forget it silently.

use crate::harness::TestStack;
use shared::audit::{audit_table, AuditReport};
use shared::store::scan::ScanPace;
use shared::store::Store;
use std::sync::atomic::{AtomicBool, Ordering};

/// Fails the test that drops it before [`AuditDue::done`]: a stack's table must be audited.
#[derive(Debug)]
pub struct AuditDue {
    table: String,
    done: AtomicBool,
}

impl AuditDue {
    pub fn new(table: &str) -> Self {
        Self { table: table.to_string(), done: AtomicBool::new(false) }
    }

    pub fn done(&self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

impl Drop for AuditDue {
    fn drop(&mut self) {
        // A test that failed already says why; a second panic while unwinding would abort the run.
        if !self.done.load(Ordering::Relaxed) && !std::thread::panicking() {
            panic!(
                "the journey on table {} ended without its audit: end it with `stack.finish().await` (tests/src/audit.rs)",
                self.table
            );
        }
    }
}

impl TestStack {
    /// The audit of this stack's table now, by the stack's clock, straight to DynamoDB Local
    /// (not through a fault proxy the stack's functions may use).
    pub async fn audit(&self) -> AuditReport {
        let store = Store::new(self.dynamo.clone(), self.table.clone());
        let pace = ScanPace { segments: 2, max_read_units_per_second: None };
        audit_table(&store, &pace, self.app.clock.now()).await.expect("the audit reads the table")
    }

    /// Ends a journey: the audit of its table finds no violation.
    pub async fn finish(&self) {
        self.finish_expecting(&[]).await;
    }

    /// Ends a journey that leaves its table broken on purpose: the audit finds exactly these
    /// violations, as `(invariant, key)`.
    pub async fn finish_expecting(&self, expected: &[(&str, &str)]) {
        let report = self.audit().await;
        self.audited.done();
        let found: Vec<(&str, &str)> =
            report.violations.iter().map(|v| (v.invariant.as_str(), v.key.as_str())).collect();
        let mut expected = expected.to_vec();
        expected.sort();
        assert_eq!(
            found,
            expected,
            "the audit of table {}: {}",
            self.table,
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::AuditDue;

    #[test]
    #[should_panic(expected = "ended without its audit")]
    fn a_stack_dropped_without_its_audit_fails_the_test() {
        let _due = AuditDue::new("journeys-forgotten");
    }

    #[test]
    fn an_audited_stack_drops_quietly() {
        let due = AuditDue::new("journeys-audited");
        due.done();
        drop(due);
    }
}
