//! The record of a finished handover, with its checklist: who, when and what was done; no secrets.

use super::pending::IamUsers;
use serde::Serialize;

/// One step of docs/seeds.md#handover, with what was done and how many things it touched.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChecklistItem {
    pub step: u8,
    pub item: &'static str,
    pub done: String,
    pub count: u64,
}

/// The record of a finished handover: who, when and the checklist; no secrets.
#[derive(Debug, Clone)]
pub struct HandoverRecord {
    pub id: String,
    pub requested_by: String,
    pub confirmed_by: String,
    pub requested_at: i64,
    pub handed_over_at: i64,
    pub iam_users: IamUsers,
    /// The new email, masked.
    pub destination: String,
    pub checklist: Vec<ChecklistItem>,
}
