//! Every journey against the local stack, in one test binary: the AWS SDK is
//! linked once instead of once per file. Each module is one journey.

mod after_handover;
mod audit;
mod bad_input;
mod codes;
mod deletion;
mod events;
mod export;
mod faults;
mod grace;
mod handover;
mod hardening;
mod iam;
mod identifiers;
mod identity;
mod infra;
mod languages;
mod ledger;
mod logs;
mod resumable;
mod secret;
mod stream;
