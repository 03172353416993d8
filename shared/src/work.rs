//! What a long operation may spend in one run, and how a run ended.

use std::time::Instant;

/// The work one run may do before it hands the rest to a later run.
#[derive(Debug, Clone)]
pub struct Budget {
    items_left: usize,
    deadline: Option<Instant>,
}

impl Budget {
    pub fn items(n: usize) -> Self {
        Self { items_left: n, deadline: None }
    }

    pub fn until(deadline: Instant) -> Self {
        Self { items_left: usize::MAX, deadline: Some(deadline) }
    }

    pub fn spend(&mut self, items: usize) {
        self.items_left = self.items_left.saturating_sub(items);
    }

    pub fn exhausted(&self) -> bool {
        self.items_left == 0 || self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// How a run of a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Finished,
    /// Out of budget, or a dependency failed: a later run carries on.
    Paused,
    /// Another worker holds the job now, or it ended without this run.
    LeaseLost,
    /// Handed back until its next time (a scheduled deletion after its reminder, or after its sign-out).
    Waiting,
}

/// A short random id for a worker's lease or a receipt.
pub(crate) fn random_id(prefix: &str) -> Result<String, crate::crypto::RandomError> {
    Ok(format!("{prefix}_{}", crate::crypto::hex(&crate::crypto::random_bytes::<12>()?)))
}
