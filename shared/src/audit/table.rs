//! The table as the audit holds it in memory: every item the cross-item checks
//! need, by partition, so a partition read again replaces what the scan saw.
//! An account's other items are only counted: a million data items cost a counter each partition.

use super::checks::{self, Found};
use crate::model::enterprise::Enterprise;
use crate::store::scan::{
    ClaimItem, ItemKey, ItemKind, JobItem, LedgerItem, MembershipItem, Partition, ProfileItem, ReceiptItem,
    ScannedItem, TokenItem,
};
use std::collections::HashMap;
use std::ops::Deref;

/// A record with the key it was read under, to report.
#[derive(Debug, Clone)]
pub(super) struct Keyed<T> {
    pub key: ItemKey,
    pub item: T,
}

impl<T> Deref for Keyed<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.item
    }
}

/// What lies under an `ACCOUNT#` partition besides the profile.
#[derive(Debug, Default)]
pub(super) struct AccountItems {
    pub holds: u64,
    /// Every item but the profile, holds included.
    pub items: u64,
    /// The item with the smallest sort key among them, to point an operator at.
    pub first: Option<ItemKey>,
}

#[derive(Debug, Default)]
pub(super) struct Table {
    /// By partition (`Partition::Account`), as every map below by its own.
    pub profiles: HashMap<Partition, Keyed<ProfileItem>>,
    pub account_items: HashMap<Partition, AccountItems>,
    pub claims: HashMap<Partition, Keyed<ClaimItem>>,
    pub tokens: HashMap<Partition, Keyed<TokenItem>>,
    pub enterprises: HashMap<Partition, Keyed<Enterprise>>,
    pub memberships: HashMap<Partition, Vec<Keyed<MembershipItem>>>,
    pub jobs: HashMap<Partition, Keyed<JobItem>>,
    pub receipts: HashMap<Partition, Keyed<ReceiptItem>>,
    pub ledgers: HashMap<Partition, Vec<Keyed<LedgerItem>>>,
    /// What an item breaks on its own, found as it was read.
    pub item_findings: HashMap<Partition, Vec<Found>>,
}

impl Table {
    pub fn ingest(&mut self, item: ScannedItem, now: i64) {
        let found = checks::item_findings(&item, now);
        if !found.is_empty() {
            self.item_findings.entry(item.key.partition.clone()).or_default().extend(found);
        }
        let ScannedItem { key, kind } = item;
        let pk = key.partition.clone();
        match kind {
            ItemKind::Profile(profile) => {
                self.profiles.insert(pk, Keyed { key, item: *profile });
            }
            ItemKind::Hold { .. } | ItemKind::Cancellation { .. } | ItemKind::AccountData { .. } => {
                let counted = self.account_items.entry(pk).or_default();
                counted.items += 1;
                counted.holds += u64::from(matches!(kind, ItemKind::Hold { .. }));
                if counted.first.as_ref().is_none_or(|first| key.sort_key() < first.sort_key()) {
                    counted.first = Some(key);
                }
            }
            ItemKind::Claim(claim) => {
                self.claims.insert(pk, Keyed { key, item: claim });
            }
            ItemKind::Token(token) => {
                self.tokens.insert(pk, Keyed { key, item: token });
            }
            ItemKind::Enterprise(enterprise) => {
                self.enterprises.insert(pk, Keyed { key, item: enterprise });
            }
            ItemKind::Membership(membership) => {
                self.memberships.entry(pk).or_default().push(Keyed { key, item: membership })
            }
            ItemKind::Job(job) => {
                self.jobs.insert(pk, Keyed { key, item: *job });
            }
            ItemKind::Receipt(receipt) => {
                self.receipts.insert(pk, Keyed { key, item: receipt });
            }
            ItemKind::Ledger(entry) => self.ledgers.entry(pk).or_default().push(Keyed { key, item: *entry }),
            // Reported by `item_findings`; nothing else checks them.
            ItemKind::Malformed { .. } | ItemKind::Unknown => {}
        }
    }

    /// Drops everything read from `partition`, before it is read again.
    pub fn forget(&mut self, partition: &Partition) {
        self.profiles.remove(partition);
        self.account_items.remove(partition);
        self.claims.remove(partition);
        self.tokens.remove(partition);
        self.enterprises.remove(partition);
        self.memberships.remove(partition);
        self.jobs.remove(partition);
        self.receipts.remove(partition);
        self.ledgers.remove(partition);
        self.item_findings.remove(partition);
    }
}
