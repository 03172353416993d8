//! The table as the audit holds it in memory: every item the cross-item checks
//! need, by partition key, so a partition read again replaces what the scan saw.
//! An account's other items are only counted: a million data items cost a counter each partition.

use super::checks::{self, Found};
use crate::enterprises::Enterprise;
use crate::store::scan::{
    ClaimItem, ItemKey, ItemKind, JobItem, LedgerItem, MembershipItem, ProfileItem, ReceiptItem, ScannedItem, TokenItem,
};
use std::collections::HashMap;

/// What lies under an `ACCOUNT#` partition besides the profile.
#[derive(Debug, Default)]
pub(super) struct AccountItems {
    pub holds: u64,
    /// Every item but the profile, holds included.
    pub items: u64,
    /// The smallest sort key among them, to point an operator at.
    pub first: Option<String>,
}

#[derive(Debug, Default)]
pub(super) struct Table {
    /// By partition key (`ACCOUNT#<id>`), as every map below.
    pub profiles: HashMap<String, ProfileItem>,
    pub account_items: HashMap<String, AccountItems>,
    pub claims: HashMap<String, ClaimItem>,
    pub tokens: HashMap<String, TokenItem>,
    pub enterprises: HashMap<String, Enterprise>,
    pub memberships: HashMap<String, Vec<MembershipItem>>,
    pub jobs: HashMap<String, JobItem>,
    pub receipts: HashMap<String, ReceiptItem>,
    pub ledgers: HashMap<String, Vec<(ItemKey, LedgerItem)>>,
    /// What an item breaks on its own, found as it was read.
    pub item_findings: HashMap<String, Vec<Found>>,
}

impl Table {
    pub fn ingest(&mut self, item: ScannedItem, now: i64) {
        let found = checks::item_findings(&item, now);
        if !found.is_empty() {
            self.item_findings.entry(item.key.pk.clone()).or_default().extend(found);
        }
        let ScannedItem { key, kind } = item;
        match kind {
            ItemKind::Profile(profile) => {
                self.profiles.insert(key.pk, *profile);
            }
            ItemKind::Hold { .. } | ItemKind::Cancellation { .. } | ItemKind::AccountData { .. } => {
                let counted = self.account_items.entry(key.pk).or_default();
                counted.items += 1;
                counted.holds += u64::from(matches!(kind, ItemKind::Hold { .. }));
                if counted.first.as_ref().is_none_or(|first| key.sk < *first) {
                    counted.first = Some(key.sk);
                }
            }
            ItemKind::Claim(claim) => {
                self.claims.insert(key.pk, claim);
            }
            ItemKind::Token(token) => {
                self.tokens.insert(key.pk, token);
            }
            ItemKind::Enterprise(enterprise) => {
                self.enterprises.insert(key.pk, enterprise);
            }
            ItemKind::Membership(membership) => self.memberships.entry(key.pk).or_default().push(membership),
            ItemKind::Job(job) => {
                self.jobs.insert(key.pk, *job);
            }
            ItemKind::Receipt(receipt) => {
                self.receipts.insert(key.pk, receipt);
            }
            ItemKind::Ledger(entry) => self.ledgers.entry(key.pk.clone()).or_default().push((key, *entry)),
            // Reported by `item_findings`; nothing else checks them.
            ItemKind::Malformed { .. } | ItemKind::Unknown => {}
        }
    }

    /// Drops everything read from partition `pk`, before it is read again.
    pub fn forget(&mut self, pk: &str) {
        self.profiles.remove(pk);
        self.account_items.remove(pk);
        self.claims.remove(pk);
        self.tokens.remove(pk);
        self.enterprises.remove(pk);
        self.memberships.remove(pk);
        self.jobs.remove(pk);
        self.receipts.remove(pk);
        self.ledgers.remove(pk);
        self.item_findings.remove(pk);
    }
}
