//! Test-only failure points inside the long operations. With the `failpoints`
//! feature off (every production build) `check` is an empty inline function.

#[derive(Debug, thiserror::Error)]
#[error("interrupted at failure point {0}")]
pub struct Interrupted(pub &'static str);

#[derive(Debug, Clone, Default)]
pub struct FailPoints {
    #[cfg(feature = "failpoints")]
    armed: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>,
    #[cfg(feature = "failpoints")]
    held: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Hold>>>,
}

/// The operation's side of a held point: it says it arrived, then waits to be let go.
#[cfg(feature = "failpoints")]
#[derive(Debug)]
struct Hold {
    arrived: tokio::sync::oneshot::Sender<()>,
    go: tokio::sync::oneshot::Receiver<()>,
}

/// The test's side of a held point.
#[cfg(feature = "failpoints")]
#[derive(Debug)]
pub struct Held {
    arrived: tokio::sync::oneshot::Receiver<()>,
    go: tokio::sync::oneshot::Sender<()>,
}

#[cfg(feature = "failpoints")]
impl Held {
    /// Waits until the operation stands at the point.
    pub async fn arrived(&mut self) {
        let _ = (&mut self.arrived).await;
    }

    /// Lets the operation go on.
    pub fn release(self) {
        let _ = self.go.send(());
    }
}

impl FailPoints {
    /// Fails the `nth` (1-based) pass through the point `name`, once.
    #[cfg(feature = "failpoints")]
    pub fn arm(&self, name: &str, nth: u32) {
        if let Ok(mut armed) = self.armed.lock() {
            armed.insert(name.to_string(), nth.max(1));
        }
    }

    /// Holds the next operation that passes the point `name` there until the test releases it,
    /// so a test can act in the window the point marks (say, between a read and the commit).
    #[cfg(feature = "failpoints")]
    pub fn hold(&self, name: &str) -> Held {
        let (arrived_tx, arrived_rx) = tokio::sync::oneshot::channel();
        let (go_tx, go_rx) = tokio::sync::oneshot::channel();
        if let Ok(mut held) = self.held.lock() {
            held.insert(name.to_string(), Hold { arrived: arrived_tx, go: go_rx });
        }
        Held { arrived: arrived_rx, go: go_tx }
    }

    /// Where a test may hold the operation ([`FailPoints::hold`]); nothing in production.
    #[inline]
    pub async fn pause(&self, name: &'static str) {
        #[cfg(feature = "failpoints")]
        {
            let hold = self.held.lock().ok().and_then(|mut held| held.remove(name));
            if let Some(hold) = hold {
                let _ = hold.arrived.send(());
                let _ = hold.go.await;
            }
        }
        let _ = name;
    }

    #[inline]
    pub fn check(&self, name: &'static str) -> Result<(), Interrupted> {
        #[cfg(feature = "failpoints")]
        if let Ok(mut armed) = self.armed.lock() {
            if let Some(left) = armed.get_mut(name) {
                *left -= 1;
                if *left == 0 {
                    armed.remove(name);
                    return Err(Interrupted(name));
                }
            }
        }
        let _ = name;
        Ok(())
    }
}
