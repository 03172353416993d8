//! The test harness, the fixtures loader and the dev tool's pieces: they talk
//! to the same local services the functions use, through the AWS SDK.

pub mod audit;
pub mod bus;
pub mod cognito;
pub mod esm;
pub mod event;
pub mod faults;
pub mod fixtures;
pub mod harness;
pub mod iam;
pub mod localstack;
pub mod pool;
pub mod schema;
pub mod tap;
