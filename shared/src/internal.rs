//! The failures no caller can act on, shared by every operation's error: the
//! store, the random source, an injected failure point, a key the function never read. `http.rs` maps them
//! (`StoreError::Busy` to 503 busy, the rest to 500 internal).

use crate::crypto::RandomError;
use crate::failpoints::Interrupted;
use crate::secrets::KeysNotRead;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Internal {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
    #[error(transparent)]
    Keys(#[from] KeysNotRead),
}

/// Lets `?` turn each internal failure into an operation's error with an `Internal(Internal)` variant.
macro_rules! internal_from {
    ($error:ty) => {
        impl From<$crate::store::StoreError> for $error {
            fn from(e: $crate::store::StoreError) -> Self {
                Self::Internal(e.into())
            }
        }
        impl From<$crate::crypto::RandomError> for $error {
            fn from(e: $crate::crypto::RandomError) -> Self {
                Self::Internal(e.into())
            }
        }
        impl From<$crate::failpoints::Interrupted> for $error {
            fn from(e: $crate::failpoints::Interrupted) -> Self {
                Self::Internal(e.into())
            }
        }
        impl From<$crate::secrets::KeysNotRead> for $error {
            fn from(e: $crate::secrets::KeysNotRead) -> Self {
                Self::Internal(e.into())
            }
        }
    };
}
pub(crate) use internal_from;
