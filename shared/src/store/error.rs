//! How a DynamoDB request failed, as the operations hear it: busy (try again
//! later), or a failure of ours.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB request failed: {0}")]
    Unavailable(String),
    #[error("stored item {0} is malformed")]
    Malformed(String),
    /// A concurrent change, throttling or an outage outlasted the retries.
    #[error("DynamoDB is busy or unreachable: {0}")]
    Busy(String),
}

/// Error codes that mean "another change got there first or the table is throttled": try again later.
const BUSY_CODES: [&str; 8] = [
    "TransactionConflict",
    "TransactionConflictException",
    "TransactionInProgressException",
    "ThrottlingError",
    "ThrottlingException",
    "ProvisionedThroughputExceeded",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
];

pub(super) fn is_busy(code: &str) -> bool {
    BUSY_CODES.contains(&code)
}

impl StoreError {
    /// A failure the SDK's retries did not outlast is `Busy` when trying again later can succeed
    /// (no connection, no answer in time, a 5xx, throttling); anything else is a bug of ours.
    pub(super) fn sdk<E>(err: SdkError<E, HttpResponse>) -> Self
    where
        E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
    {
        let busy = match &err {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(e) => e.raw().status().is_server_error() || e.err().code().is_some_and(is_busy),
            _ => false,
        };
        let text = DisplayErrorContext(err).to_string();
        if busy {
            Self::Busy(text)
        } else {
            Self::Unavailable(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_codes_of_single_requests_are_busy() {
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
            "RequestLimitExceeded",
            "TransactionConflictException",
        ] {
            assert!(is_busy(code), "{code}");
        }
        for code in ["ConditionalCheckFailedException", "ValidationException", "ResourceNotFoundException"] {
            assert!(!is_busy(code), "{code}");
        }
    }
}
