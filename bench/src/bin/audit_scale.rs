//! How long the audit (docs/audit.md) takes over a large table: fills a fresh table in
//! DynamoDB Local with a mix of items as the bundle writes them (profiles, claims, holds,
//! memberships, other services' data, tokens, receipts and ledgers of deleted accounts),
//! BatchWriteItem in parallel, then audits it at each segment count asked for. Every
//! item is consistent, so the audit must find nothing; the figures are printed, not
//! checked (not a timed test).
//!
//!   audit_scale [--items N] [--segments 1,4] [--writers W] [--keep]
//!
//! Needs the local services (`scripts/dev services`) and their environment
//! (`source scripts/lib/common.sh; stack_env 1`). docs/audit.md has the command and the figures.

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use journeys::localstack;
use shared::audit::audit_table;
use shared::store::scan::ScanPace;
use shared::store::Store;
use std::collections::HashMap;
use std::time::Instant;

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn item(pairs: Vec<(&str, AttributeValue)>) -> Item {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Of every 100 live accounts: 10 in an enterprise (one its default administrator), 10 with a hold, 20 with a token;
/// one account deleted (receipt and two ledger entries) per 5 live ones.
struct Mix {
    live: usize,
    data_per_account: usize,
    data_extra: usize,
}

const ENTERPRISE_EVERY: usize = 10;
const DELETED_EVERY: usize = 5;

impl Mix {
    /// Items an account brings besides its data: profile, three claims, and its share of the rest.
    const FIXED_PER_100: usize = 100 * 4 + 10 + 1 + 10 + 20 + 20 * 3;

    fn for_items(total: usize) -> Self {
        // About 20 items an account: 5 fixed, 15 of other services' data.
        let live = (total / 20).max(100);
        let fixed = live * Self::FIXED_PER_100 / 100;
        let data = total.saturating_sub(fixed);
        Self { live, data_per_account: data / live, data_extra: data % live }
    }

    fn account(&self, i: usize, now: i64) -> Vec<Item> {
        let id = format!("acct-{i:07}");
        let pk = format!("ACCOUNT#{id}");
        let group = i / ENTERPRISE_EVERY;
        let in_enterprise = i % 100 < ENTERPRISE_EVERY;
        let enterprise = format!("ent-{group:06}");
        let role = match (in_enterprise, i % ENTERPRISE_EVERY) {
            (false, _) => "individual",
            (true, 0) => "default_admin",
            (true, _) => "member",
        };
        let holds = usize::from(i % 100 >= 10 && i % 100 < 20);
        let mut profile = item(vec![
            ("pk", s(&pk)),
            ("sk", s("PROFILE")),
            ("account_id", s(&id)),
            ("role", s(role)),
            ("status", s("active")),
            ("hold_count", n(holds as i64)),
            ("created_at", n(now - 86_400)),
            ("locale", s("en")),
            ("username", s(format!("user{i}"))),
            ("email", s(format!("user{i}@example.com"))),
            ("phone", s(format!("+4915{i:09}"))),
            ("name", s(format!("Person {i}"))),
        ]);
        let mut items = Vec::new();
        if in_enterprise {
            profile.insert("enterprise_id".into(), s(&enterprise));
            items.push(item(vec![
                ("pk", s(format!("ENTERPRISE#{enterprise}"))),
                ("sk", s(format!("MEMBER#{id}"))),
                ("account_id", s(&id)),
                ("role", s(role)),
            ]));
            if role == "default_admin" {
                items.push(item(vec![
                    ("pk", s(format!("ENTERPRISE#{enterprise}"))),
                    ("sk", s("META")),
                    ("enterprise_id", s(&enterprise)),
                    ("name", s(format!("Enterprise {group}"))),
                    ("status", s("active")),
                    ("default_admin", s(&id)),
                ]));
            }
        }
        items.push(profile);
        for (kind, value) in [
            ("USERNAME", format!("user{i}")),
            ("EMAIL", format!("user{i}@example.com")),
            ("PHONE", format!("+4915{i:09}")),
        ] {
            items.push(item(vec![
                ("pk", s(format!("CLAIM#{kind}#{value}"))),
                ("sk", s("CLAIM")),
                ("owner", s(&id)),
                ("claimed_at", n(now - 86_400)),
            ]));
        }
        if holds == 1 {
            items.push(item(vec![
                ("pk", s(&pk)),
                ("sk", s(format!("PROFILE#HOLD#account_balance#ref{i}"))),
                ("kind", s("account_balance")),
                ("reference", s(format!("ref{i}"))),
                ("detail", s("12.30 CNY left")),
                ("registered_at", n(now - 3600)),
            ]));
        }
        if i % 100 < 20 {
            let expires = now + 600;
            items.push(item(vec![
                ("pk", s(format!("TOKEN#{:064x}", i))),
                ("sk", s("TOKEN")),
                ("account_id", s(&id)),
                ("purpose", s("delete_account")),
                ("expires_at", n(expires)),
                ("ttl", n(expires)),
                ("due_bucket", s("token")),
                ("due_at", n(expires)),
            ]));
        }
        let data = self.data_per_account + usize::from(i < self.data_extra);
        for d in 0..data {
            items.push(item(vec![("pk", s(&pk)), ("sk", s(format!("DATA#{d:06}"))), ("payload", s("x".repeat(64)))]));
        }
        if i.is_multiple_of(DELETED_EVERY) {
            items.extend(deleted_account(i, now));
        }
        items
    }
}

/// What a finished deletion keeps: the receipt and one ledger entry per downstream system.
fn deleted_account(i: usize, now: i64) -> Vec<Item> {
    let id = format!("gone-{i:07}");
    let receipt = format!("rcpt_{i:024x}");
    let mut items = vec![item(vec![
        ("pk", s(format!("RECEIPT#{id}"))),
        ("sk", s("RECEIPT")),
        ("kind", s("account_deletion")),
        ("receipt_id", s(&receipt)),
        ("account_id", s(&id)),
        ("requested_at", n(now - 7200)),
        ("deleted_at", n(now - 7000)),
        ("items_removed", n(17)),
        ("identifiers_released", n(3)),
        ("memberships_removed", n(0)),
    ])];
    for system in ["billing", "analytics"] {
        items.push(item(vec![
            ("pk", s(format!("LEDGER#{id}"))),
            ("sk", s(format!("SYSTEM#{system}"))),
            ("kind", s("erasure")),
            ("account_id", s(&id)),
            ("receipt_id", s(&receipt)),
            ("system", s(system)),
            ("status", s("erased")),
            ("deleted_at", n(now - 7000)),
            ("deadline_at", n(now + 86_400 * 30)),
            ("announced_at", n(now - 7000)),
            ("announcements", n(1)),
            ("reported_at", n(now - 6000)),
        ]));
    }
    items
}

async fn write_all(client: &aws_sdk_dynamodb::Client, table: &str, items: Vec<Item>) -> Result<(), localstack::Error> {
    for chunk in items.chunks(25) {
        let mut pending: Vec<WriteRequest> = chunk
            .iter()
            .map(|i| {
                Ok(WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(i.clone())).build()?)
                    .build())
            })
            .collect::<Result<_, aws_sdk_dynamodb::error::BuildError>>()?;
        while !pending.is_empty() {
            let out = client.batch_write_item().request_items(table, pending).send().await?;
            pending = out.unprocessed_items.and_then(|mut m| m.remove(table)).unwrap_or_default();
        }
    }
    Ok(())
}

/// The size of each kind of item written, by DynamoDB's rules, for docs/audit.md's cost table.
fn print_sizes(mix: &Mix, now: i64) {
    let mut sizes: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for i in 0..100 {
        for item in mix.account(i, now) {
            let (pk, sk) =
                (item["pk"].as_s().cloned().unwrap_or_default(), item["sk"].as_s().cloned().unwrap_or_default());
            let kind = match (pk.split('#').next().unwrap_or(""), sk.split('#').next().unwrap_or("")) {
                ("ACCOUNT", "PROFILE") if sk.contains("#HOLD#") => "hold".to_string(),
                ("ACCOUNT", sk) | ("ENTERPRISE", sk) => sk.to_lowercase(),
                (pk, _) => pk.to_lowercase(),
            };
            let entry = sizes.entry(kind).or_default();
            entry.0 += shared::store::scan::item_size(&item);
            entry.1 += 1;
        }
    }
    let line: Vec<String> = sizes.iter().map(|(kind, (bytes, count))| format!("{kind} {} B", bytes / count)).collect();
    println!("item sizes: {}", line.join(", "));
}

struct Options {
    items: usize,
    segments: Vec<u32>,
    writers: usize,
    keep: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options { items: 1_000_000, segments: vec![1, 4], writers: 8, keep: false };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args = args.iter().map(String::as_str);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg {
            "--items" => o.items = value()?.parse().map_err(|e| format!("--items: {e}"))?,
            "--writers" => o.writers = value()?.parse().map_err(|e| format!("--writers: {e}"))?,
            "--segments" => {
                o.segments = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--segments: {e}"))?
            }
            "--keep" => o.keep = true,
            other => {
                return Err(format!(
                    "unknown argument {other}: audit_scale [--items N] [--segments 1,4] [--writers W] [--keep]"
                ))
            }
        }
    }
    Ok(o)
}

#[tokio::main]
async fn main() -> Result<(), localstack::Error> {
    let o = options()?;
    let sdk = localstack::sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = format!("audit-scale-{}", o.items);
    localstack::create_table(&client, &table, localstack::Stream::Off).await?;
    let now = shared::clock::Clock::default().now();
    let mix = Mix::for_items(o.items);
    let existing =
        client.describe_table().table_name(&table).send().await?.table.and_then(|t| t.item_count).unwrap_or(0);
    if existing == 0 {
        let started = Instant::now();
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..o.writers {
            let (client, table, writers_count, live) = (client.clone(), table.clone(), o.writers, mix.live);
            let mix = Mix { live: mix.live, data_per_account: mix.data_per_account, data_extra: mix.data_extra };
            writers.spawn(async move {
                let mut written = 0usize;
                for i in (w..live).step_by(writers_count) {
                    let items = mix.account(i, now);
                    written += items.len();
                    write_all(&client, &table, items).await?;
                }
                Ok::<usize, localstack::Error>(written)
            });
        }
        let mut written = 0;
        while let Some(done) = writers.join_next().await {
            written += done??;
        }
        let took = started.elapsed();
        eprintln!(
            "audit_scale: wrote {written} items ({} live accounts) into {table} in {:.0} s ({:.0} items/s, {} writers)",
            mix.live,
            took.as_secs_f64(),
            written as f64 / took.as_secs_f64(),
            o.writers
        );
    } else {
        eprintln!("audit_scale: {table} holds about {existing} items already; auditing it as it is");
    }
    print_sizes(&mix, now);
    let store = Store::new(client.clone(), table.clone());
    for segments in &o.segments {
        let pace = ScanPace { segments: *segments, max_read_units_per_second: None };
        let report = audit_table(&store, &pace, now).await?;
        let cost = &report.cost;
        println!(
            "audit of {} items, {segments} segments: {:.1} s ({:.0} items/s), {:.0} read units ({:.1} per 1,000 items), {:.0} bytes an item, {} violations",
            report.items_checked,
            cost.elapsed.as_secs_f64(),
            report.items_checked as f64 / cost.elapsed.as_secs_f64(),
            cost.scan.read_units,
            cost.scan.read_units * 1000.0 / report.items_checked.max(1) as f64,
            cost.scan.bytes as f64 / report.items_checked.max(1) as f64,
            report.violations.len()
        );
        for v in report.violations.iter().take(5) {
            println!("  {} {} {}", v.invariant, v.key, v.detail);
        }
    }
    if !o.keep {
        client.delete_table().table_name(&table).send().await?;
    }
    Ok(())
}
