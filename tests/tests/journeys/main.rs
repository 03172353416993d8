//! Every journey against the local stack, in one test binary: the AWS SDK is
//! linked once instead of once per file. Each module is one journey.

mod bad_input;
mod codes;
mod deletion;
mod handover;
mod infra;
mod logs;
mod resumable;
