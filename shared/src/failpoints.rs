//! Test-only failure points inside the long operations. With the `failpoints`
//! feature off (every production build) `check` is an empty inline function.

#[derive(Debug, thiserror::Error)]
#[error("interrupted at failure point {0}")]
pub struct Interrupted(pub &'static str);

#[derive(Debug, Clone, Default)]
pub struct FailPoints {
    #[cfg(feature = "failpoints")]
    armed: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>,
}

impl FailPoints {
    /// Fails the `nth` (1-based) pass through the point `name`, once.
    #[cfg(feature = "failpoints")]
    pub fn arm(&self, name: &str, nth: u32) {
        if let Ok(mut armed) = self.armed.lock() {
            armed.insert(name.to_string(), nth.max(1));
        }
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
