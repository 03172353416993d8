//! The scheduled cleanup: finishes what is due and stops before its own timeout.

// A panic kills the function process: nothing outside tests unwraps.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use shared::cleanup::CleanupSummary;
use shared::App;
use std::time::{Duration, Instant, SystemTime};

/// What this function builds at start: it finishes jobs (exports too), mails their notices and tells the user pool; hashes nothing.
pub const USES: shared::Uses = shared::Uses { keys: false, mail: true, exports: shared::Uses::EXPORTS, pool: true };

/// Time kept back from the Lambda deadline to save progress and answer.
const SAFETY_MARGIN: Duration = Duration::from_secs(10);

/// The run's deadline: the invocation's own, less the margin.
pub fn deadline(lambda_deadline_ms: u64) -> Instant {
    let until = SystemTime::UNIX_EPOCH + Duration::from_millis(lambda_deadline_ms);
    let left = until.duration_since(SystemTime::now()).unwrap_or_default();
    Instant::now() + left.saturating_sub(SAFETY_MARGIN)
}

pub async fn handle(app: &App, lambda_deadline_ms: u64) -> CleanupSummary {
    app.run_cleanup(deadline(lambda_deadline_ms)).await
}
