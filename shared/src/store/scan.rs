//! Reading the whole table, for the audit alone (docs/audit.md): a parallel Scan by
//! segments, eventually consistent, paced to a read-capacity rate, each item decoded
//! into its kind of `docs/key-design.md` with the ids and attributes the audit's
//! checks need. No function scans (`cleanup` reads the due index); the keys are read
//! back by `keys::Partition` and the sort keys' constants of `keys.rs`, where they are written.

use super::error::StoreError;
use super::items::profile::schema::{account_from_item, slot_attr, token_attr, IN_PROGRESS};
use super::items::{enterprise, hold, job, ledger, s, Item, ItemExt};
use super::keys::{self, MEMBER_PREFIX, PROFILE, SYSTEM_PREFIX};
use super::table::Store;
use crate::model::account::Account;
use crate::model::due::DueBucket;
use crate::model::enterprise::Enterprise;
use crate::model::job::Job;
use crate::model::ledger::LedgerEntry;
use crate::model::purpose::Purpose;
use aws_sdk_dynamodb::types::AttributeValue;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use super::keys::{Partition, IDENTIFIER_KINDS};

/// An item's key: its partition, read into what it is of, and its sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    pub partition: Partition,
    sk: String,
}

impl std::fmt::Display for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.partition.pk(), self.sk)
    }
}

impl ItemKey {
    /// `pk/sk`, a claim's value replaced by `mask(kind, value)`: the key of a claim is an email, phone or username.
    pub fn shown(&self, mask: impl Fn(&'static str, &str) -> String) -> String {
        match &self.partition {
            Partition::Claim { kind, value } => {
                format!("{}/{}", Partition::Claim { kind, value: mask(kind, value) }.pk(), self.sk)
            }
            _ => self.to_string(),
        }
    }

    /// The sort key, for ordering the items of one partition.
    pub fn sort_key(&self) -> &str {
        &self.sk
    }

    pub fn profile(account: &str) -> Self {
        Self { partition: Partition::Account(account.to_string()), sk: PROFILE.to_string() }
    }

    pub fn member(enterprise: &str, account: &str) -> Self {
        Self { partition: Partition::Enterprise(enterprise.to_string()), sk: format!("{MEMBER_PREFIX}{account}") }
    }
}

/// Whether an item is in the due index (`due_bucket`, `due_at`), as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueMark {
    pub bucket: Option<String>,
    pub at: Option<i64>,
}

impl DueMark {
    fn of(item: &Item) -> Self {
        Self { bucket: item.str("due_bucket").map(String::from), at: item.num("due_at") }
    }

    /// In `bucket` of the due index, at some time.
    pub fn is_in(&self, bucket: DueBucket) -> bool {
        self.bucket.as_deref() == Some(bucket.as_str()) && self.at.is_some()
    }
}

/// One scanned item, decoded into its kind of the key design.
#[derive(Debug, Clone)]
pub struct ScannedItem {
    pub key: ItemKey,
    pub kind: ItemKind,
}

#[derive(Debug, Clone)]
pub enum ItemKind {
    /// `ACCOUNT#<id>` / `PROFILE`.
    Profile(Box<ProfileItem>),
    /// `ACCOUNT#<id>` / `PROFILE#HOLD#<kind>#<reference>`.
    Hold { account: String },
    /// `ACCOUNT#<id>` / `CANCELLATION#<receipt id>`: kept with the live account, without personal data.
    Cancellation { account: String, attributes: Vec<String> },
    /// Anything else under `ACCOUNT#<id>`: credentials, handover records, other services' data.
    AccountData { account: String },
    /// `CLAIM#<KIND>#<value>` / `CLAIM`.
    Claim(ClaimItem),
    /// `TOKEN#<hash>` / `TOKEN`.
    Token(TokenItem),
    /// `ENTERPRISE#<id>` / `META`.
    Enterprise(Enterprise),
    /// `ENTERPRISE#<id>` / `MEMBER#<account>`.
    Membership(MembershipItem),
    /// `JOB#<kind>#<subject>` / `JOB`.
    Job(Box<JobItem>),
    /// `RECEIPT#<account>` / `RECEIPT`.
    Receipt(ReceiptItem),
    /// `LEDGER#<account>` / `SYSTEM#<system>`.
    Ledger(Box<LedgerItem>),
    /// A key of the design whose attributes do not decode: what is wrong, without any value.
    Malformed { kind: &'static str, reason: String },
    /// A key no kind of the design has.
    Unknown,
}

#[derive(Debug, Clone)]
pub struct ProfileItem {
    pub account: Account,
    /// As stored (the domain's `Account::hold_count` clamps a negative count to 0).
    pub hold_count: i64,
    /// The id of a handover too large for one transaction that is under way.
    pub handover_in_progress: Option<String>,
    /// What the profile stores of its codes and tokens (each code's `hash`, each `token_<purpose>`),
    /// by attribute, for the audit to see they are keyed hashes; never shown.
    pub stored_secrets: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct ClaimItem {
    /// One of [`IDENTIFIER_KINDS`].
    pub kind: &'static str,
    pub value: String,
    /// `None`: in quarantine.
    pub owner: Option<String>,
    pub free_at: Option<i64>,
    pub due: DueMark,
}

#[derive(Debug, Clone)]
pub struct TokenItem {
    /// The key's part after `TOKEN#`: the keyed hash of the token.
    pub hash: String,
    pub account: String,
    pub expires_at: i64,
    pub due: DueMark,
}

#[derive(Debug, Clone)]
pub struct MembershipItem {
    pub enterprise: String,
    pub account: String,
    /// Released by a dismissal; removed once the notice is sent.
    pub notice_pending: bool,
}

#[derive(Debug, Clone)]
pub struct JobItem {
    pub job: Job,
    pub due: DueMark,
}

#[derive(Debug, Clone)]
pub struct ReceiptItem {
    pub account: String,
    pub receipt_id: Option<String>,
    pub kind: Option<String>,
    pub attributes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct LedgerItem {
    pub entry: LedgerEntry,
    pub due: DueMark,
    pub attributes: Vec<String>,
}

fn names(item: &Item) -> Vec<String> {
    let mut names: Vec<String> = item.keys().cloned().collect();
    names.sort();
    names
}

/// Reads one item as its kind of the key design. Never fails: what does not decode is `Malformed` or `Unknown`.
pub fn decode(item: &Item) -> ScannedItem {
    let key = ItemKey {
        partition: Partition::parse(item.str("pk").unwrap_or_default()),
        sk: item.str("sk").unwrap_or_default().to_string(),
    };
    let kind = match kind_of(&key, item) {
        Ok(kind) => kind,
        Err((kind, reason)) => ItemKind::Malformed { kind, reason },
    };
    ScannedItem { key, kind }
}

type Decoded = Result<ItemKind, (&'static str, String)>;

fn kind_of(key: &ItemKey, item: &Item) -> Decoded {
    let sk = key.sk.as_str();
    match &key.partition {
        Partition::Account(account) => account_item(account, sk, item),
        Partition::Claim { kind, value } if sk == keys::CLAIM => {
            let owner = item.str("owner").map(String::from);
            let free_at = item.num("free_at");
            if owner.is_none() && free_at.is_none() {
                return Err(("claim", "neither an owner nor a quarantine's free_at".into()));
            }
            Ok(ItemKind::Claim(ClaimItem { kind, value: value.clone(), owner, free_at, due: DueMark::of(item) }))
        }
        Partition::Token(hash) if sk == keys::TOKEN => {
            let (Some(account), Some(expires_at)) = (item.str("account_id"), item.num("expires_at")) else {
                return Err(("token", "no account_id or expires_at".into()));
            };
            let (hash, account, due) = (hash.clone(), account.to_string(), DueMark::of(item));
            Ok(ItemKind::Token(TokenItem { hash, account, expires_at, due }))
        }
        Partition::Enterprise(id) if sk == keys::META => {
            let decoded = enterprise::from_item(item).map_err(|e| ("enterprise", e.to_string()))?;
            if decoded.id != *id {
                return Err(("enterprise", "enterprise_id differs from its key".into()));
            }
            Ok(ItemKind::Enterprise(decoded))
        }
        Partition::Enterprise(id) => {
            let Some(account) = sk.strip_prefix(MEMBER_PREFIX) else { return Ok(ItemKind::Unknown) };
            if item.str("account_id") != Some(account) {
                return Err(("membership", "account_id differs from its key".into()));
            }
            Ok(ItemKind::Membership(MembershipItem {
                enterprise: id.clone(),
                account: account.to_string(),
                notice_pending: item.str("notice").is_some(),
            }))
        }
        Partition::Job(kind, subject) if sk == keys::JOB => {
            let job = job::from_item(item).map_err(|e| ("job", e.to_string()))?;
            if job.kind != *kind || job.subject != *subject {
                return Err(("job", "kind or subject differs from its key".into()));
            }
            Ok(ItemKind::Job(Box::new(JobItem { job, due: DueMark::of(item) })))
        }
        Partition::Receipt(account) if sk == keys::RECEIPT => {
            if item.str("account_id").is_some_and(|a| a != account) {
                return Err(("receipt", "account_id differs from its key".into()));
            }
            Ok(ItemKind::Receipt(ReceiptItem {
                account: account.clone(),
                receipt_id: item.str("receipt_id").map(String::from),
                kind: item.str("kind").map(String::from),
                attributes: names(item),
            }))
        }
        Partition::Ledger(account) => {
            let entry = ledger::from_item(item).map_err(|e| ("ledger entry", e.to_string()))?;
            if entry.account_id != *account || sk.strip_prefix(SYSTEM_PREFIX) != Some(entry.system.as_str()) {
                return Err(("ledger entry", "account_id or system differs from its key".into()));
            }
            Ok(ItemKind::Ledger(Box::new(LedgerItem { entry, due: DueMark::of(item), attributes: names(item) })))
        }
        _ => Ok(ItemKind::Unknown),
    }
}

/// What a cancellation record says it is (`kind`), so its key's prefix is spelled only where it is written.
const CANCELLATION_KIND: &str = "deletion_cancellation";

fn account_item(account: &str, sk: &str, item: &Item) -> Decoded {
    let account = account.to_string();
    if sk == PROFILE {
        let decoded = account_from_item(item).map_err(|e| ("profile", e.to_string()))?;
        if decoded.id.as_str() != account {
            return Err(("profile", "account_id differs from its key".into()));
        }
        let hold_count = match item.get("hold_count") {
            None => 0,
            Some(_) => item.num("hold_count").ok_or(("profile", "hold_count is not a number".to_string()))?,
        };
        let mut stored_secrets = Vec::new();
        for purpose in Purpose::ALL {
            let slot = slot_attr(purpose);
            if let Some(hash) = item.map(&slot).and_then(|m| m.str("hash")) {
                stored_secrets.push((format!("{slot}.hash"), hash.to_string()));
            }
            let token = token_attr(purpose);
            if let Some(hash) = item.str(&token) {
                stored_secrets.push((token, hash.to_string()));
            }
        }
        return Ok(ItemKind::Profile(Box::new(ProfileItem {
            account: decoded,
            hold_count,
            handover_in_progress: item.str(IN_PROGRESS).map(String::from),
            stored_secrets,
        })));
    }
    // Every other key starting with PROFILE is a hold: the profile's Query reads them so.
    if sk.starts_with(PROFILE) {
        let hold = hold::from_item(item);
        if keys::hold_sort_key(&hold.kind, &hold.reference) != sk {
            return Err(("hold", "kind or reference differs from its key".into()));
        }
        return Ok(ItemKind::Hold { account });
    }
    if item.str("kind") == Some(CANCELLATION_KIND) {
        return Ok(ItemKind::Cancellation { account, attributes: names(item) });
    }
    Ok(ItemKind::AccountData { account })
}

/// How hard the audit may read the table.
#[derive(Debug, Clone)]
pub struct ScanPace {
    /// Parallel Scan segments (`TotalSegments`).
    pub segments: u32,
    /// Read capacity units per second the scan may consume, over all segments (`None`: as fast as it goes).
    pub max_read_units_per_second: Option<f64>,
}

impl Default for ScanPace {
    fn default() -> Self {
        Self { segments: 4, max_read_units_per_second: None }
    }
}

/// What a scan read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanTotals {
    pub items: u64,
    /// Read capacity units consumed, as DynamoDB reported them (or estimated from the items' sizes).
    pub read_units: f64,
    /// The items' sizes by DynamoDB's rules, summed.
    pub bytes: u64,
    pub pages: u64,
}

/// Spends read units at a rate: each page is paid for before the next one is asked for.
#[derive(Debug)]
pub struct Pacer {
    units_per_second: Option<f64>,
    /// When the units spent so far are paid off.
    paid_until: Mutex<Instant>,
}

impl Pacer {
    pub fn new(units_per_second: Option<f64>) -> Self {
        Self { units_per_second: units_per_second.filter(|r| *r > 0.0), paid_until: Mutex::new(Instant::now()) }
    }

    /// How long to wait, from `now`, before reading again after spending `units`.
    fn wait_after(&self, units: f64, now: Instant) -> Duration {
        let Some(rate) = self.units_per_second else { return Duration::ZERO };
        let mut paid = self.paid_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *paid = (*paid).max(now) + Duration::from_secs_f64(units.max(0.0) / rate);
        paid.saturating_duration_since(now)
    }

    async fn spend(&self, units: f64) {
        let wait = self.wait_after(units, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// An item's size by DynamoDB's rules (names and values; numbers about one byte per two digits).
pub fn item_size(item: &Item) -> u64 {
    fn value(v: &AttributeValue) -> u64 {
        match v {
            AttributeValue::S(s) => s.len() as u64,
            AttributeValue::N(n) => (n.len() as u64).div_ceil(2) + 1,
            AttributeValue::B(b) => b.as_ref().len() as u64,
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::M(m) => 3 + m.iter().map(|(k, v)| k.len() as u64 + value(v) + 1).sum::<u64>(),
            AttributeValue::L(l) => 3 + l.iter().map(|v| value(v) + 1).sum::<u64>(),
            AttributeValue::Ss(s) => s.iter().map(|s| s.len() as u64).sum(),
            AttributeValue::Ns(n) => n.iter().map(|n| (n.len() as u64).div_ceil(2) + 1).sum(),
            AttributeValue::Bs(b) => b.iter().map(|b| b.as_ref().len() as u64).sum(),
            _ => 1,
        }
    }
    item.iter().map(|(k, v)| k.len() as u64 + value(v)).sum()
}

/// Eventually consistent reads cost half a unit per 4 KB, rounded up per request.
fn estimated_units(bytes: u64, consistent: bool) -> f64 {
    let blocks = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        blocks
    } else {
        blocks / 2.0
    }
}

/// Tries a read again while DynamoDB is busy or throttling, backing off, before giving up.
async fn patiently<T, F: std::future::Future<Output = Result<T, StoreError>>>(
    mut read: impl FnMut() -> F,
) -> Result<T, StoreError> {
    let mut backoff = Duration::from_millis(100);
    loop {
        match read().await {
            Err(StoreError::Busy(_)) if backoff < Duration::from_secs(10) => {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            other => return other,
        }
    }
}

/// One page of a segment: its items decoded, what it cost, and where the next starts.
struct Page {
    items: Vec<ScannedItem>,
    totals: ScanTotals,
}

/// The audit's reads of the table (docs/audit.md): the whole of it, and one partition again.
pub(crate) trait ScanStore {
    /// Pattern "read the whole table" (the audit alone): `pace.segments` parallel Scans,
    /// eventually consistent, each page paid for at `pace`'s rate before the next is asked.
    /// `visit` gets every page's items, decoded, on the caller's task.
    async fn scan_table(
        &self,
        pace: &ScanPace,
        pacer: &Arc<Pacer>,
        visit: impl FnMut(Vec<ScannedItem>),
    ) -> Result<ScanTotals, StoreError>;

    /// Pattern "read one partition again" (the audit's confirmation): a consistent Query
    /// of every item under `partition`, paid for through `pacer`.
    async fn partition_items(&self, partition: &Partition, pacer: &Pacer) -> Result<Vec<ScannedItem>, StoreError>;
}

impl ScanStore for Store {
    async fn scan_table(
        &self,
        pace: &ScanPace,
        pacer: &Arc<Pacer>,
        mut visit: impl FnMut(Vec<ScannedItem>),
    ) -> Result<ScanTotals, StoreError> {
        let segments = pace.segments.max(1);
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Page, StoreError>>(segments as usize * 2);
        let mut tasks = tokio::task::JoinSet::new();
        for segment in 0..segments {
            let (store, pacer, tx) = (self.clone(), pacer.clone(), tx.clone());
            tasks.spawn(async move {
                let mut start = None;
                loop {
                    let page = patiently(|| scan_page(&store, segment, segments, start.clone())).await;
                    let (page, next) = match page {
                        Ok(read) => read,
                        Err(e) => {
                            let _ = tx.send(Err(e)).await;
                            return;
                        }
                    };
                    pacer.spend(page.totals.read_units).await;
                    if tx.send(Ok(page)).await.is_err() {
                        return;
                    }
                    match next {
                        Some(key) => start = Some(key),
                        None => return,
                    }
                }
            });
        }
        drop(tx);
        let mut totals = ScanTotals::default();
        while let Some(page) = rx.recv().await {
            // Dropping `tasks` on an error aborts the other segments.
            let page = page?;
            totals.items += page.totals.items;
            totals.read_units += page.totals.read_units;
            totals.bytes += page.totals.bytes;
            totals.pages += 1;
            visit(page.items);
        }
        Ok(totals)
    }

    async fn partition_items(&self, partition: &Partition, pacer: &Pacer) -> Result<Vec<ScannedItem>, StoreError> {
        let pk = partition.pk();
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = patiently(|| async {
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", s(pk.as_str()))
                    .consistent_read(true)
                    .set_exclusive_start_key(start.clone())
                    .send()
                    .await
                    .map_err(StoreError::sdk)
            })
            .await?;
            let bytes: u64 = out.items().iter().map(item_size).sum();
            pacer.spend(estimated_units(bytes, true)).await;
            items.extend(out.items().iter().map(decode));
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }
}

/// One page of segment `segment` of `segments`, from `start`.
async fn scan_page(
    store: &Store,
    segment: u32,
    segments: u32,
    start: Option<Item>,
) -> Result<(Page, Option<Item>), StoreError> {
    let out = store
        .client
        .scan()
        .table_name(&store.table)
        .segment(segment as i32)
        .total_segments(segments as i32)
        .set_exclusive_start_key(start)
        .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
        .send()
        .await
        .map_err(StoreError::sdk)?;
    let bytes: u64 = out.items().iter().map(item_size).sum();
    let read_units =
        out.consumed_capacity().and_then(|c| c.capacity_units()).unwrap_or_else(|| estimated_units(bytes, false));
    let items: Vec<ScannedItem> = out.items().iter().map(decode).collect();
    let totals = ScanTotals { items: items.len() as u64, read_units, bytes, pages: 1 };
    Ok((Page { items, totals }, out.last_evaluated_key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn item(pairs: &[(&str, &str)]) -> Item {
        pairs.iter().map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string()))).collect::<HashMap<_, _>>()
    }

    #[test]
    fn keys_decode_into_their_kinds() {
        let claim = decode(&item(&[("pk", "CLAIM#EMAIL#a@example.com"), ("sk", "CLAIM"), ("owner", "alice")]));
        assert!(matches!(&claim.kind, ItemKind::Claim(c) if c.kind == "email" && c.value == "a@example.com"));
        let member = decode(&item(&[("pk", "ENTERPRISE#acme"), ("sk", "MEMBER#bob"), ("account_id", "bob")]));
        assert!(matches!(&member.kind, ItemKind::Membership(m) if m.enterprise == "acme" && m.account == "bob"));
        let data = decode(&item(&[("pk", "ACCOUNT#bob"), ("sk", "DATA#000001")]));
        assert!(matches!(&data.kind, ItemKind::AccountData { account } if account == "bob"));
        let stray = decode(&item(&[("pk", "SOMETHING#else"), ("sk", "X")]));
        assert!(matches!(stray.kind, ItemKind::Unknown));
        let hold = decode(&item(&[
            ("pk", "ACCOUNT#bob"),
            ("sk", "PROFILE#HOLD#arrears#inv-1"),
            ("kind", "arrears"),
            ("reference", "inv-2"),
        ]));
        assert!(matches!(hold.kind, ItemKind::Malformed { kind: "hold", .. }), "{hold:?}");
        let renamed = decode(&item(&[("pk", "ENTERPRISE#acme"), ("sk", "MEMBER#bob"), ("account_id", "eve")]));
        assert!(matches!(renamed.kind, ItemKind::Malformed { kind: "membership", .. }));
    }

    #[test]
    fn the_pacer_spreads_units_over_time() {
        let pacer = Pacer::new(Some(100.0));
        let now = Instant::now();
        // 50 units at 100 a second: the next read waits half a second, the one after a whole one.
        assert_eq!(pacer.wait_after(50.0, now), Duration::from_millis(500));
        assert_eq!(pacer.wait_after(50.0, now), Duration::from_secs(1));
        // After a pause longer than the debt, nothing is owed from before.
        let later = now + Duration::from_secs(5);
        assert_eq!(pacer.wait_after(10.0, later), Duration::from_millis(100));
        assert_eq!(Pacer::new(None).wait_after(1e9, now), Duration::ZERO);
    }

    #[test]
    fn read_units_are_half_a_unit_per_4_kb_eventually_consistent() {
        assert_eq!(estimated_units(1, false), 0.5);
        assert_eq!(estimated_units(4096, false), 0.5);
        assert_eq!(estimated_units(4097, false), 1.0);
        assert_eq!(estimated_units(1_000_000, true), 245.0);
    }
}
