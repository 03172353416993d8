//! Least privilege that matches the code: every DynamoDB item that each
//! function touches on the seed journeys (large ones finished by cleanup, a
//! deleted account asking again) is one a statement of its role in
//! `infra/template.yaml` grants: the action, the table or index, and the
//! `dynamodb:LeadingKeys` prefix, together. DynamoDB Local enforces no IAM, so
//! the fault proxy records what each request asks for and this test plays
//! IAM's part. And the items whose insert is an event (docs/events.md) can be
//! written only by the functions that make that event.

use crate::faults::Faulty;
use journeys::faults::{Fault, Rule};
use journeys::harness::User;
use journeys::iam::{dynamodb_grants, granting, is_write, Access, Grant};
use journeys::localstack::template_path;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Globex: gina the default admin hands over erin (more credentials than a
/// transaction holds); hank, a member, deletes his account. Initech: olga the default admin dismisses it, four
/// members. Paul, on his own, has more data than one request deletes.
fn fixtures() -> serde_json::Value {
    let member = |name: &str| json!({"id": format!("{name}-{{id}}"), "email": format!("{name}-{{id}}@example.com"), "enterprise_id": "initech-{id}", "role": "member"});
    let keys = |owner: &str, n: usize| {
        (0..n)
            .map(
                |i| json!({"account_id": format!("{owner}-{{id}}"), "id": format!("AKIA{owner}{i:04}").to_uppercase()}),
            )
            .collect::<Vec<_>>()
    };
    let mut access_keys = keys("erin", 120);
    access_keys.extend(keys("paul", 10));
    json!({
        "enterprises": [
            {"id": "globex-{id}", "name": "Globex", "default_admin": "gina-{id}"},
            {"id": "initech-{id}", "name": "Initech", "default_admin": "olga-{id}"}
        ],
        "accounts": [
            {"id": "gina-{id}", "username": "gina-{id}", "email": "gina-{id}@example.com", "enterprise_id": "globex-{id}", "role": "default_admin"},
            {"id": "erin-{id}", "username": "erin-{id}", "email": "erin-{id}@example.com", "phone": "+8613800000005", "enterprise_id": "globex-{id}", "role": "member"},
            {"id": "olga-{id}", "email": "olga-{id}@example.com", "enterprise_id": "initech-{id}", "role": "default_admin"},
            {"id": "hank-{id}", "email": "hank-{id}@example.com", "enterprise_id": "globex-{id}", "role": "member"},
            member("ivan"), member("judy"), member("kim"), member("liam"),
            {"id": "paul-{id}", "username": "paul-{id}", "email": "paul-{id}@example.com", "phone": "+8613800000077", "role": "individual"},
            {"id": "dave-{id}", "email": "dave-{id}@example.com", "role": "individual"}
        ],
        "holds": [{"account_id": "dave-{id}", "kind": "account_balance", "detail": "12.30 CNY left"}],
        "access_keys": access_keys,
        "mfa_devices": [{"account_id": "erin-{id}", "id": "totp-1", "label": "Erin's phone"}]
    })
}

/// What each function was seen to ask for (and which statement granted it), and what its role refused.
#[derive(Default)]
pub(crate) struct Audit {
    seen: BTreeMap<&'static str, BTreeSet<String>>,
    refused: Vec<String>,
}

impl Audit {
    /// Runs one request of `function` alone through the proxy and checks every access it made.
    /// Boxed: the journey's requests, held inline, would overflow a test thread's stack.
    async fn run<'a, T>(
        &mut self,
        faulty: &Faulty,
        function: &'static str,
        request: std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>,
    ) -> T {
        faulty.dynamodb.clear_log();
        let reply = request.await;
        self.check(faulty, function);
        reply
    }

    fn check(&mut self, faulty: &Faulty, function: &'static str) {
        let grants = dynamodb_grants(&template(), function);
        assert!(!grants.is_empty(), "{function} has no DynamoDB statement in the template");
        let accesses = faulty.dynamodb.accesses();
        assert!(!accesses.is_empty(), "{function}: the proxy saw no DynamoDB request");
        self.judge(function, &grants, &accesses);
    }

    /// Each access against the statements, as IAM would: one statement must grant its action, index and key.
    pub(crate) fn judge(&mut self, function: &'static str, grants: &[Grant], accesses: &[Access]) {
        for access in accesses {
            match granting(grants, access) {
                Some(grant) => {
                    self.seen.entry(function).or_default().insert(format!("{} ({})", describe(access), grant.sid));
                }
                None => {
                    let kind = if is_write(&access.action) { "a write" } else { "a read" };
                    self.refused.push(format!("{function}: {kind} no statement grants: {}", describe(access)));
                }
            }
        }
    }
}

impl Audit {
    /// The functions that ran, or what the template's roles refused.
    fn verdict(&self) -> Result<BTreeSet<&'static str>, String> {
        if self.refused.is_empty() {
            Ok(self.seen.keys().copied().collect())
        } else {
            Err(format!("refused by the template's roles:\n{}", self.refused.join("\n")))
        }
    }

    /// Prints what each function was seen to ask for, fails on anything refused; the functions that ran.
    pub(crate) fn assert_all_granted(&self) -> BTreeSet<&'static str> {
        for (function, seen) in &self.seen {
            eprintln!("{function}: {seen:?}");
        }
        self.verdict().unwrap_or_else(|refused| panic!("{refused}"))
    }
}

/// The action, the table or index, and the key without its last part (`JOB#deletion`, not the account).
fn describe(access: &Access) -> String {
    let prefix = access.leading_key.as_deref().map(|k| k.rsplit_once('#').map_or(k, |(p, _)| p));
    format!("{} on {} {}", access.action, access.index.as_deref().unwrap_or("table"), prefix.unwrap_or_default())
}

pub(crate) fn template() -> serde_norway::Value {
    serde_norway::from_str(&std::fs::read_to_string(template_path()).expect("the template")).expect("YAML")
}

async fn token(audit: &mut Audit, faulty: &Faulty, user: &User<'_>, purpose: &str) -> String {
    audit.run(faulty, "send-code", Box::pin(user.send_code(purpose))).await.expect(202, "");
    let code = user.code_from_mail().await;
    let reply = audit.run(faulty, "verify-code", Box::pin(user.verify(purpose, &code))).await;
    reply.expect(200, "");
    reply.str("verification_token").to_string()
}

/// One cleanup run through the proxy, audited.
async fn audited_cleanup(audit: &mut Audit, faulty: &Faulty) {
    faulty.dynamodb.clear_log();
    let summary = Box::pin(faulty.stack.app.run_cleanup(Instant::now() + Duration::from_secs(60))).await;
    assert_eq!(summary.failures, 0, "{summary:?}");
    audit.check(faulty, "cleanup");
}

/// Two downstream systems take part in the erasure ledger.
fn systems(c: &mut shared::config::Config) {
    c.downstream_systems = vec!["billing".into(), "storage".into()];
}

/// A downstream system's report, as the bus's rule hands it to erasure-ledger.
fn report(system: &str, account: &str, receipt: &str) -> serde_json::Value {
    json!({"version": "0", "id": "5b3c1d2e-0000-4000-8000-000000000001", "source": format!("erasure.{system}"),
           "detail-type": "Account Erasure Reported", "account": "123456789012", "time": "2026-12-02T03:00:00Z",
           "region": "us-east-1", "resources": [],
           "detail": {"account_id": account, "receipt_id": receipt, "outcome": "erased"}})
}

#[tokio::test]
async fn every_item_each_function_touches_is_one_its_role_grants() {
    let faulty = Faulty::with(|c| {
        c.inline_work_items = 3;
        systems(c);
    })
    .await;
    let stack = &faulty.stack;
    stack.seed(fixtures()).await;
    let mut audit = Audit::default();
    let (gina, erin, olga, paul, dave) =
        (stack.user("gina"), stack.user("erin"), stack.user("olga"), stack.user("paul"), stack.user("dave"));

    // Gina hands erin's account over to frank: too large for one request, finished by cleanup.
    let t = token(&mut audit, &faulty, &gina, "handover_account").await;
    let body = json!({"verification_token": t, "new_email": stack.email("frank"), "account_id": erin.id});
    audit.run(&faulty, "handover-account", Box::pin(gina.hand_over(body))).await.expect(202, "");
    let code = stack.user("frank").code_from_mail().await;
    audit
        .run(&faulty, "handover-account", Box::pin(gina.confirm_handover(Some(&erin.id), &code)))
        .await
        .expect(202, "");

    // Olga sees she must dismiss Initech first, then dismisses it: finished by cleanup too.
    audit.run(&faulty, "check-prerequisites", Box::pin(olga.check())).await.expect(200, "");
    let t = token(&mut audit, &faulty, &olga, "dismiss_enterprise").await;
    audit.run(&faulty, "dismiss-enterprise", Box::pin(olga.dismiss(&t))).await.expect(202, "");

    // Paul deletes an account with more data than one request removes, hank his membership with
    // his account; dave, with a balance left, is refused.
    let t = token(&mut audit, &faulty, &paul, "delete_account").await;
    audit.run(&faulty, "delete-account", Box::pin(paul.delete(&t))).await.expect(202, "");
    let hank = stack.user("hank");
    let t = token(&mut audit, &faulty, &hank, "delete_account").await;
    audit.run(&faulty, "delete-account", Box::pin(hank.delete(&t))).await.expect(200, "");
    let t = token(&mut audit, &faulty, &dave, "delete_account").await;
    audit.run(&faulty, "delete-account", Box::pin(dave.delete(&t))).await.expect(409, "prerequisites_unmet");
    let wrong = audit.run(&faulty, "verify-code", Box::pin(dave.verify("delete_account", "000000"))).await;
    assert!(wrong.status == 422, "{}", wrong.body);

    // Cleanup finishes all three, then sweeps dave's unused token once it expired.
    faulty.dynamodb.clear_log();
    let summary = stack.app.run_cleanup(Instant::now() + Duration::from_secs(60)).await;
    assert_eq!(summary.failures, 0, "{summary:?}");
    audit.check(&faulty, "cleanup");
    stack.app.clock.advance(3600);
    faulty.dynamodb.clear_log();
    stack.app.run_cleanup(Instant::now() + Duration::from_secs(60)).await;
    audit.check(&faulty, "cleanup");

    // Billing reports paul's data erased; an operator reads his ledger.
    let receipt = stack.app.ledger(&paul.id).await.expect("paul's ledger").receipt_id.expect("a receipt");
    let recorded = audit
        .run(
            &faulty,
            "erasure-ledger",
            Box::pin(erasure_ledger::handle(&stack.app, report("billing", &paul.id, &receipt))),
        )
        .await;
    assert!(recorded.expect("recorded").get("outcome").is_some());
    let mut read = journeys::event::http("GET", &format!("/v1/erasure-ledger/{}", paul.id), None, None, None, None);
    read["routeKey"] = json!("GET /v1/erasure-ledger/{account_id}");
    read["pathParameters"] = json!({"account_id": paul.id});
    read["requestContext"]["authorizer"] = json!({"iam": {"accountId": "123456789012", "userArn": "arn:aws:iam::123456789012:user/dpo", "userId": "AIDA"}});
    let answer = audit.run(&faulty, "erasure-ledger", Box::pin(erasure_ledger::handle(&stack.app, read))).await;
    assert_eq!(answer.expect("an answer")["statusCode"], 200);

    // Paul, deleted, asks again (the receipt answers); olga, now on her own, deletes at once.
    audit.run(&faulty, "check-prerequisites", Box::pin(paul.check())).await.expect(410, "account_deleted");
    audit.run(&faulty, "send-code", Box::pin(paul.send_code("delete_account"))).await.expect(410, "account_deleted");
    let t = token(&mut audit, &faulty, &olga, "delete_account").await;
    audit.run(&faulty, "delete-account", Box::pin(olga.delete(&t))).await.expect(200, "");

    let functions = audit.assert_all_granted();
    assert_eq!(functions.len(), 8, "every function on the table but cancel-deletion ran: {functions:?}");
    stack.finish().await;
}

#[tokio::test]
async fn a_deletion_cancelled_in_its_grace_period_and_one_purged_after_it_stay_within_their_roles() {
    let faulty = Faulty::with(|c| {
        c.deletion_grace_seconds = 3600;
        systems(c);
    })
    .await;
    let stack = &faulty.stack;
    stack.seed(fixtures()).await;
    let mut audit = Audit::default();
    let hank = stack.user("hank");

    // Hank, a member, asks for deletion, thinks again and cancels it, then asks again and is purged.
    let t = token(&mut audit, &faulty, &hank, "delete_account").await;
    audit.run(&faulty, "delete-account", Box::pin(hank.delete(&t))).await.expect(202, "");
    let t = token(&mut audit, &faulty, &hank, "cancel_deletion").await;
    audit.run(&faulty, "cancel-deletion", Box::pin(hank.cancel_deletion(&t))).await.expect(200, "");
    stack.app.clock.advance(61);
    let t = token(&mut audit, &faulty, &hank, "delete_account").await;
    audit.run(&faulty, "delete-account", Box::pin(hank.delete(&t))).await.expect(202, "");
    stack.app.clock.advance(3601);
    faulty.dynamodb.clear_log();
    let summary = stack.app.run_cleanup(Instant::now() + Duration::from_secs(60)).await;
    assert_eq!(summary.failures, 0, "{summary:?}");
    audit.check(&faulty, "cleanup");
    audit.run(&faulty, "check-prerequisites", Box::pin(hank.check())).await.expect(410, "account_deleted");

    assert!(audit.assert_all_granted().contains("cancel-deletion"));
    stack.finish().await;
}

#[tokio::test]
async fn the_paths_of_a_failed_mail_a_reminder_and_an_overdue_report_stay_within_their_roles() {
    let faulty = Faulty::with(|c| {
        (c.deletion_grace_seconds, c.deletion_reminder_seconds) = (7200, 3600);
        (c.erasure_reannounce_seconds, c.erasure_deadline_seconds) = (3600, 10800);
        systems(c);
    })
    .await;
    let stack = &faulty.stack;
    stack.seed(fixtures()).await;
    let mut audit = Audit::default();
    let (gina, hank, paul, dave) = (stack.user("gina"), stack.user("hank"), stack.user("paul"), stack.user("dave"));
    // The mail fails: send-code puts the previous code back; handover-account the token and the pending handover too.
    faulty.ses.inject(Rule::at(0, Fault::ServerError));
    audit.run(&faulty, "send-code", Box::pin(dave.send_code("delete_account"))).await.expect(503, "mail_unavailable");
    faulty.heal();
    let t = token(&mut audit, &faulty, &gina, "handover_account").await;
    let body = json!({"verification_token": t, "new_email": stack.email("frank"), "account_id": hank.id});
    faulty.ses.inject(Rule::at(0, Fault::ServerError));
    audit
        .run(&faulty, "handover-account", Box::pin(gina.hand_over(body.clone())))
        .await
        .expect(503, "mail_unavailable");
    faulty.heal();
    // Then it goes through, in one transaction: hank has few credentials.
    audit.run(&faulty, "handover-account", Box::pin(gina.hand_over(body))).await.expect(202, "");
    let code = stack.user("frank").code_from_mail().await;
    audit
        .run(&faulty, "handover-account", Box::pin(gina.confirm_handover(Some(&hank.id), &code)))
        .await
        .expect(200, "");

    // Gina, a default administrator, may not delete: her enterprise is read for the answer.
    let t = token(&mut audit, &faulty, &gina, "delete_account").await;
    audit.run(&faulty, "delete-account", Box::pin(gina.delete(&t))).await.expect(409, "prerequisites_unmet");

    // Paul schedules his deletion and is reminded, then purged; his cancellation comes too late.
    let t = token(&mut audit, &faulty, &paul, "delete_account").await;
    audit.run(&faulty, "delete-account", Box::pin(paul.delete(&t))).await.expect(202, "");
    let late = token(&mut audit, &faulty, &paul, "cancel_deletion").await;
    stack.app.clock.advance(3601);
    audited_cleanup(&mut audit, &faulty).await;
    stack.app.clock.advance(3600);
    audited_cleanup(&mut audit, &faulty).await;
    audit.run(&faulty, "cancel-deletion", Box::pin(paul.cancel_deletion(&late))).await.expect(410, "account_deleted");

    // Neither system reports: announced again, then overdue; billing's late report still counts.
    stack.app.clock.advance(3601);
    audited_cleanup(&mut audit, &faulty).await;
    stack.app.clock.advance(7200);
    audited_cleanup(&mut audit, &faulty).await;
    let receipt = stack.app.ledger(&paul.id).await.expect("paul's ledger").receipt_id.expect("a receipt");
    let report = Box::pin(erasure_ledger::handle(&stack.app, report("billing", &paul.id, &receipt)));
    assert!(audit.run(&faulty, "erasure-ledger", report).await.expect("recorded").get("outcome").is_some());

    audit.assert_all_granted();
    // The paths this journey is for were taken.
    for (function, access) in [
        ("handover-account", "dynamodb:PutItem on table TOKEN"),
        ("handover-account", "dynamodb:PutItem on table ACCOUNT"),
        ("delete-account", "dynamodb:GetItem on table ENTERPRISE"),
        ("cancel-deletion", "dynamodb:GetItem on table RECEIPT"),
        ("cleanup", "dynamodb:GetItem on table LEDGER"),
        ("cleanup", "dynamodb:UpdateItem on table LEDGER"),
    ] {
        let seen = &audit.seen[function];
        assert!(seen.iter().any(|s| s.starts_with(access)), "{function} never asked for {access}: {seen:?}");
    }
    stack.finish().await;
}

#[test]
fn a_transaction_is_authorised_part_by_part_and_leading_keys_match_like_iam() {
    let body = json!({"TransactItems": [
        {"Update": {"Key": {"pk": {"S": "ACCOUNT#erin"}, "sk": {"S": "PROFILE"}}}},
        {"ConditionCheck": {"Key": {"pk": {"S": "ACCOUNT#gina"}, "sk": {"S": "PROFILE"}}}},
        {"Delete": {"Key": {"pk": {"S": "TOKEN#ab12"}, "sk": {"S": "TOKEN"}}}}
    ]});
    let seen = journeys::iam::accesses("TransactWriteItems", body.to_string().as_bytes());
    let actions: Vec<(&str, Option<&str>)> =
        seen.iter().map(|a| (a.action.as_str(), a.leading_key.as_deref())).collect();
    assert_eq!(
        actions,
        [
            ("dynamodb:UpdateItem", Some("ACCOUNT#erin")),
            ("dynamodb:ConditionCheckItem", Some("ACCOUNT#gina")),
            ("dynamodb:DeleteItem", Some("TOKEN#ab12"))
        ]
    );
    let query = json!({"IndexName": "due", "KeyConditionExpression": "#b = :b AND due_at <= :now",
        "ExpressionAttributeValues": {":b": {"S": "job"}, ":now": {"N": "1"}}});
    let seen = journeys::iam::accesses("Query", query.to_string().as_bytes());
    assert_eq!((seen[0].index.as_deref(), seen[0].leading_key.as_deref()), (Some("due"), Some("job")));
    use journeys::iam::string_like;
    assert!(string_like("ACCOUNT#*", "ACCOUNT#erin") && string_like("WARMUP", "WARMUP"));
    assert!(!string_like("ACCOUNT#*", "CLAIM#EMAIL#a") && !string_like("WARMUP", "WARMUP2"));
}

#[test]
fn the_audit_fails_on_a_write_to_a_receipt_by_a_function_that_only_reads_receipts() {
    let template = template();
    let receipt = json!({"pk": {"S": "RECEIPT#bob"}, "sk": {"S": "RECEIPT"}});
    let mut item = receipt.clone();
    item["kind"] = json!({"S": "account_deletion"});
    let writes = [
        journeys::iam::accesses("PutItem", json!({ "Item": item }).to_string().as_bytes()),
        journeys::iam::accesses("UpdateItem", json!({ "Key": receipt }).to_string().as_bytes()),
        journeys::iam::accesses(
            "TransactWriteItems",
            json!({"TransactItems": [{"Put": {"Item": item}}]}).to_string().as_bytes(),
        ),
    ]
    .concat();
    let read = journeys::iam::accesses("GetItem", json!({ "Key": receipt }).to_string().as_bytes());

    // send-code reads receipts (why an account is gone) and writes none: each write fails the audit.
    let mut audit = Audit::default();
    audit.judge("send-code", &dynamodb_grants(&template, "send-code"), &read);
    assert!(audit.refused.is_empty(), "{:?}", audit.refused);
    audit.judge("send-code", &dynamodb_grants(&template, "send-code"), &writes);
    assert_eq!(audit.refused.len(), 3, "{:?}", audit.refused);
    assert!(audit.refused.iter().all(|r| r.contains("a write") && r.contains("RECEIPT")), "{:?}", audit.refused);
    assert!(audit.verdict().is_err(), "the audit passed a write to a receipt by send-code");

    // The final transaction of a deletion, in delete-account or cleanup, writes it.
    let mut audit = Audit::default();
    for writer in ["delete-account", "cleanup"] {
        audit.judge(writer, &dynamodb_grants(&template, writer), &writes[..1]);
    }
    assert!(audit.refused.is_empty(), "{:?}", audit.refused);
}

/// The partition key prefixes whose writes the stream turns into events: the template's filters of publish-events.
fn fact_prefixes(template: &serde_norway::Value) -> BTreeSet<String> {
    let filters = &template["Resources"]["PublishEventsFunction"]["Properties"]["Events"]["Stream"]["Properties"]
        ["FilterCriteria"]["Filters"];
    filters
        .as_sequence()
        .expect("publish-events' filters")
        .iter()
        .map(|f| serde_json::from_str::<serde_json::Value>(f["Pattern"].as_str().expect("a pattern")).expect("JSON"))
        .flat_map(|p| p["dynamodb"]["Keys"]["pk"]["S"].as_array().cloned().unwrap_or_default())
        .map(|p| p["prefix"].as_str().expect("a pk prefix").to_string())
        .collect()
}

#[test]
fn the_items_that_are_events_are_written_only_by_the_functions_that_make_them() {
    let template = template();
    let functions: Vec<String> = template["Resources"]
        .as_mapping()
        .expect("resources")
        .values()
        .filter_map(|r| r["Metadata"]["BuildProperties"]["Binary"].as_str().map(String::from))
        .collect();
    // docs/events.md, "How they are made": who writes the item of each fact.
    let makers: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("RECEIPT#", &["delete-account", "cleanup"][..]),
        ("JOB#deletion#", &["delete-account", "cleanup"][..]),
        ("ENTERPRISE#", &["dismiss-enterprise", "cleanup"][..]),
        ("LEDGER#", &["delete-account", "cleanup", "erasure-ledger"][..]),
    ]);
    // The account's facts (HANDOVER#, CANCELLATION#) are told apart by the sort key, which dynamodb:LeadingKeys cannot name.
    let facts: BTreeSet<String> = fact_prefixes(&template).into_iter().filter(|p| p != "ACCOUNT#").collect();
    assert_eq!(facts, makers.keys().map(|p| p.to_string()).collect(), "a fact without its makers here");
    for (prefix, expected) in makers {
        let key = format!("{prefix}someone");
        let writers: BTreeSet<&str> = functions
            .iter()
            .filter(|f| {
                let grants = dynamodb_grants(&template, f);
                // A put, an update or a batch put creates or changes the item: each is an insert or a modify in the stream.
                ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"].iter().any(|action| {
                    let access = Access { action: action.to_string(), index: None, leading_key: Some(key.clone()) };
                    granting(&grants, &access).is_some()
                })
            })
            .map(String::as_str)
            .collect();
        assert_eq!(writers, expected.iter().copied().collect(), "who may write {key}");
    }
}

/// What each function asked of the export bucket since the last look, against its role's statements.
fn judge_s3(audit: &mut Audit, faulty: &Faulty, function: &'static str) {
    let grants = journeys::iam::s3_grants(&template(), function);
    for access in faulty.stack.s3.take() {
        match journeys::iam::granting_s3(&grants, &access) {
            Some(grant) => {
                let key = access.key.as_deref().unwrap_or_default();
                assert!(key.starts_with("exports/"), "{function}: {key} is outside the export prefix");
                audit
                    .seen
                    .entry(function)
                    .or_default()
                    .insert(format!("{} on exports/ ({})", access.action, grant.sid));
            }
            None => audit.refused.push(format!("{function}: no statement grants {access:?}")),
        }
    }
}

#[tokio::test]
async fn a_data_export_and_its_removal_touch_only_what_their_roles_grant_in_the_table_and_the_bucket() {
    let faulty = Faulty::with(|c| c.inline_work_items = 3).await;
    let stack = &faulty.stack;
    stack.seed(fixtures()).await;
    let mut audit = Audit::default();
    let (paul, erin) = (stack.user("paul"), stack.user("erin"));

    // Paul's export outgrows its request; cleanup finishes it; he reads its link.
    let t = token(&mut audit, &faulty, &paul, "export_data").await;
    stack.s3.take();
    let reply = audit.run(&faulty, "export-data", Box::pin(paul.export(&t))).await;
    reply.expect(202, "");
    judge_s3(&mut audit, &faulty, "export-data");
    let export_id = reply.str("export_id").to_string();
    stack.app.clock.advance(121);
    audited_cleanup(&mut audit, &faulty).await;
    judge_s3(&mut audit, &faulty, "cleanup");
    audit.run(&faulty, "export-data", Box::pin(paul.export_status(&export_id))).await.expect(200, "");
    judge_s3(&mut audit, &faulty, "export-data");
    // Erin's is small: ready within the request.
    let t = token(&mut audit, &faulty, &erin, "export_data").await;
    audit.run(&faulty, "export-data", Box::pin(erin.export(&t))).await;
    judge_s3(&mut audit, &faulty, "export-data");

    // Paul asks for another and, while it is prepared, deletes his account: the exports go first,
    // the running one's upload aborted; cleanup finishes the purge; he asks again.
    stack.app.clock.advance(61);
    let t = token(&mut audit, &faulty, &paul, "export_data").await;
    audit.run(&faulty, "export-data", Box::pin(paul.export(&t))).await.expect(202, "");
    judge_s3(&mut audit, &faulty, "export-data");
    let t = token(&mut audit, &faulty, &paul, "delete_account").await;
    audit.run(&faulty, "delete-account", Box::pin(paul.delete(&t))).await.expect(202, "");
    judge_s3(&mut audit, &faulty, "delete-account");
    stack.app.clock.advance(121);
    audited_cleanup(&mut audit, &faulty).await;
    judge_s3(&mut audit, &faulty, "cleanup");
    audit.run(&faulty, "export-data", Box::pin(paul.export_status(&export_id))).await.expect(410, "account_deleted");

    audit.assert_all_granted();
    for (function, access) in [
        ("export-data", "s3:PutObject on exports/"),
        ("export-data", "dynamodb:PutItem on table JOB#export"),
        ("export-data", "dynamodb:GetItem on table RECEIPT"),
        ("cleanup", "s3:PutObject on exports/"),
        ("cleanup", "dynamodb:UpdateItem on table JOB#export"),
        ("delete-account", "s3:DeleteObject on exports/"),
        ("delete-account", "s3:AbortMultipartUpload on exports/"),
        ("delete-account", "dynamodb:DeleteItem on table JOB#export"),
    ] {
        let seen = &audit.seen[function];
        assert!(seen.iter().any(|s| s.starts_with(access)), "{function} never did {access}: {seen:?}");
    }
    // Every role's S3 statements name objects under the export prefix only, never the bucket or another prefix.
    let template = template();
    for function in ["export-data", "cleanup", "delete-account"] {
        for grant in journeys::iam::s3_grants(&template, function) {
            assert_eq!(grant.keys, "exports/*", "{function}: {}", grant.sid);
        }
    }
    assert!(journeys::iam::s3_grants(&template, "send-code").is_empty());
    stack.finish().await;
}
