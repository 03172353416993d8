//! Seed 002 says it twice: "Make sure you have a data backup before deleting the account." The
//! export journey (docs/data-export.md): erin takes a copy of her data, reads it, finds only
//! her own, then deletes her account, and the copy goes with it.

use journeys::harness::{number, TestStack, User};
use journeys::localstack::{self, download};
use journeys::schema;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn globex() -> Value {
    json!({
        "enterprises": [{"id": "globex-{id}", "name": "Globex", "default_admin": "gina-{id}"}],
        "accounts": [
            {"id": "gina-{id}", "username": "gina-{id}", "email": "gina-{id}@example.com", "phone": "+8613800000001",
             "name": "Gina Admin", "enterprise_id": "globex-{id}", "role": "default_admin"},
            {"id": "erin-{id}", "username": "erin-{id}", "email": "erin-{id}@example.com", "phone": "+8613800000005",
             "name": "Erin Example", "enterprise_id": "globex-{id}", "role": "member",
             "contacts": {"security_email": "erin.security-{id}@example.com", "security_phone": "+8613800000055"}},
            {"id": "hank-{id}", "username": "hank-{id}", "email": "hank-{id}@example.com", "phone": "+8613800000009",
             "name": "Hank Other", "role": "individual"}
        ],
        "holds": [{"account_id": "erin-{id}", "kind": "account_balance", "detail": "12.30 CNY left", "reference": "wallet"}],
        "mfa_devices": [{"account_id": "erin-{id}", "id": "totp-1", "label": "Erin's phone"}],
        "third_party_logins": [{"account_id": "erin-{id}", "provider": "google", "subject": "109384500012"}],
        "access_keys": [
            {"account_id": "erin-{id}", "id": "AKIAERIN0001"},
            {"account_id": "erin-{id}", "id": "AKIAERIN0003", "state": "Inactive"},
            {"account_id": "gina-{id}", "id": "AKIAGINA0001"}
        ],
        "iam_users": [{"account_id": "erin-{id}", "name": "erin-ops"}]
    })
}

/// The mail with an export's link (not the code mail of its purpose).
fn is_export_mail(subject: &str) -> bool {
    subject.contains("copy of your data is ready") || subject.contains("数据副本已准备好")
}

fn archive_schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/data-export.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the archive's schema")).expect("JSON")
}

async fn cleanup(stack: &TestStack) -> shared::cleanup::CleanupSummary {
    stack.app.run_cleanup(Instant::now() + Duration::from_secs(120)).await
}

/// The archive behind a ready export's link, checked against its schema.
async fn archive(user: &User<'_>, export_id: &str) -> Value {
    let reply = user.export_status(export_id).await;
    reply.expect(200, "");
    assert_eq!(reply.str("status"), "ready", "{}", reply.body);
    let (status, body) = download(reply.str("download_url")).await.expect("the link answers");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let doc: Value = serde_json::from_slice(&body).expect("the archive is one JSON document");
    schema::check(&archive_schema(), &doc).unwrap_or_else(|e| panic!("the archive breaks its schema:\n{e}"));
    doc
}

/// The link in the newest export mail to `user` (moto keeps the HTML part, `&` escaped).
async fn mailed_link(user: &User<'_>) -> String {
    let mails = user.mails().await;
    let mail = mails.iter().rev().find(|m| is_export_mail(&m.subject)).expect("an export mail");
    let at = mail.body.find("http://").expect("a link in the mail");
    let end = mail.body[at..].find(['<', '\n', ' ']).map_or(mail.body.len(), |e| at + e);
    mail.body[at..end].replace("&amp;", "&")
}

async fn export_mails(user: &User<'_>) -> usize {
    user.mails().await.iter().filter(|m| is_export_mail(&m.subject)).count()
}

/// The keys of the objects under an account's export prefix.
async fn objects_of(account: &str) -> Vec<String> {
    let sdk = localstack::sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(localstack::s3_config(&sdk));
    let out = s3
        .list_objects_v2()
        .bucket(localstack::EXPORT_BUCKET)
        .prefix(format!("exports/{account}/"))
        .send()
        .await
        .expect("list the export bucket");
    out.contents.unwrap_or_default().into_iter().filter_map(|o| o.key).collect()
}

#[tokio::test]
async fn erin_takes_a_copy_of_her_data_then_deletes_her_account_and_the_copy_goes_with_it() {
    let stack = TestStack::start().await;
    stack.seed(globex()).await;
    stack.attach_items(&stack.id("erin"), 3).await;
    let (erin, gina, hank) = (stack.user("erin"), stack.user("gina"), stack.user("hank"));

    // A token of another purpose buys no export, and spends nothing.
    let deletion_token = erin.token_for("delete_account").await;
    let before = stack.snapshot().await;
    erin.export(&deletion_token).await.expect(403, "token_invalid");
    assert_eq!(stack.snapshot().await, before, "a refused export changes nothing");

    // A small account's export is ready within the request: 200 and the link.
    let token = erin.token_for("export_data").await;
    let reply = erin.export(&token).await;
    reply.expect(200, "");
    assert_eq!(reply.str("status"), "ready");
    let export_id = reply.str("export_id").to_string();
    assert!(reply.str("download_url").starts_with("http://"), "{}", reply.body);
    erin.export(&token).await.expect(403, "token_invalid");

    let doc = archive(&erin, &export_id).await;
    assert_eq!(doc["export_id"], json!(export_id));
    assert_eq!(doc["account"]["id"], json!(erin.id));
    assert_eq!(doc["account"]["email"], json!(erin.email));
    assert_eq!(doc["account"]["username"], json!(erin.id));
    assert_eq!(doc["account"]["phone"], "+8613800000005");
    assert_eq!(doc["account"]["name"], "Erin Example");
    assert_eq!(doc["account"]["enterprise_id"], json!(stack.id("globex")));
    assert_eq!(doc["account"]["role"], "member");
    let contacts: Vec<&str> =
        doc["contacts"].as_array().unwrap().iter().map(|c| c["value"].as_str().unwrap()).collect();
    assert_eq!(contacts, [stack.email("erin.security").as_str(), "+8613800000055"]);
    assert_eq!(
        doc["holds"],
        json!([{"kind": "account_balance", "reference": "wallet", "detail": "12.30 CNY left",
        "registered_at": doc["holds"][0]["registered_at"]}])
    );
    let credentials: Vec<(String, String)> = doc["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["kind"].as_str().unwrap().into(), c["id"].as_str().unwrap().into()))
        .collect();
    let expected = [
        ("access_key", "AKIAERIN0001"),
        ("access_key", "AKIAERIN0003"),
        ("iam_user", "erin-ops"),
        ("third_party_login", "109384500012"),
        ("mfa_device", "totp-1"),
    ];
    assert_eq!(credentials, expected.map(|(k, i)| (k.to_string(), i.to_string())));
    assert_eq!(doc["credentials"][1]["state"], "Inactive");
    assert_eq!(doc["credentials"][4]["label"], "Erin's phone");
    let data: Vec<&str> = doc["data"].as_array().unwrap().iter().map(|d| d["key"].as_str().unwrap()).collect();
    assert_eq!(data, ["DATA#000000", "DATA#000001", "DATA#000002"]);
    // Nothing of any other account: the enterprise's other member, another individual.
    let text = doc.to_string();
    for other in [&gina, &hank] {
        for (what, value) in [("email", other.email.clone()), ("username", other.id.clone())] {
            assert!(!text.contains(&value), "the archive holds {}'s {what}", other.id);
        }
    }
    for value in ["+8613800000001", "+8613800000009", "Gina Admin", "Hank Other", "AKIAGINA0001"] {
        assert!(!text.contains(value), "the archive holds {value}");
    }
    for secret in ["token_", "code_", "hash"] {
        assert!(!text.contains(secret), "the archive holds a {secret}");
    }

    // The link came by mail too, once, and downloads the same archive.
    assert_eq!(export_mails(&erin).await, 1);
    let (status, body) = download(&mailed_link(&erin).await).await.unwrap();
    assert_eq!((status, serde_json::from_slice::<Value>(&body).unwrap()["export_id"].clone()), (200, json!(export_id)));

    // Another account's export id is not found, as an unknown one is.
    gina.export_status(&export_id).await.expect(404, "export_not_found");
    erin.export_status("exp_000000000000000000000000").await.expect(404, "export_not_found");
    erin.export_status("../PROFILE").await.expect(404, "export_not_found");

    // The hold released, erin deletes her account; her export goes first.
    let erin_id = shared::model::ids::AccountId::parse(&erin.id).unwrap();
    stack.app.release_hold(&erin_id, "account_balance", "wallet").await.unwrap();
    assert_eq!(objects_of(&erin.id).await.len(), 1);
    erin.delete(&deletion_token).await.expect(200, "");
    let link = mailed_link(&erin).await;
    let (status, _) = download(&link).await.unwrap();
    assert_ne!(status, 200, "the link no longer downloads");
    assert!(objects_of(&erin.id).await.is_empty(), "nothing of erin is left in the bucket");
    erin.export_status(&export_id).await.expect(410, "account_deleted");
    let receipt = stack.item(&format!("RECEIPT#{}", erin.id), "RECEIPT").await.expect("a receipt");
    assert_eq!(number(&receipt, "exports_removed"), Some(1));
    // Gina's account and data are untouched.
    assert!(stack.item(&format!("ACCOUNT#{}", gina.id), "ACCESS_KEY#AKIAGINA0001").await.is_some());
    stack.finish().await;
}

#[tokio::test]
async fn a_large_export_is_finished_by_cleanup_and_asking_again_answers_the_one_being_prepared() {
    let stack = TestStack::with(|c| c.inline_work_items = 200).await;
    stack.seed(json!({"accounts": [{"id": "bob-{id}", "username": "bob-{id}", "email": "bob-{id}@example.com", "locale": "zh-CN"}]})).await;
    stack.attach_items(&stack.id("bob"), 1200).await;
    let bob = stack.user("bob");
    let first = bob.export(&bob.token_for("export_data").await).await;
    first.expect(202, "");
    assert_eq!((first.str("status"), &first.body["expires_at"]), ("preparing", &Value::Null));
    assert!(first.body.get("download_url").is_none());
    // A second request while it is prepared answers the first, and spends nothing.
    stack.app.clock.advance(61);
    let token = bob.token_for("export_data").await;
    let again = bob.export(&token).await;
    again.expect(202, "");
    assert_eq!(again.str("export_id"), first.str("export_id"));
    assert!(stack.keys_with_prefix("TOKEN#").await.len() == 1, "the second token is unspent");
    let status = bob.export_status(first.str("export_id")).await;
    status.expect(200, "");
    assert_eq!(status.str("status"), "preparing");

    stack.app.clock.advance(121);
    assert_eq!(cleanup(&stack).await.exports_finished, 1);
    let doc = archive(&bob, first.str("export_id")).await;
    assert_eq!(doc["data"].as_array().unwrap().len(), 1200);
    assert_eq!(export_mails(&bob).await, 1);
    let mail = bob.mails().await.into_iter().rev().find(|m| is_export_mail(&m.subject)).expect("an export mail");
    assert!(mail.subject.contains("数据副本"), "in bob's language: {}", mail.subject);
    assert!(mail.body.contains(first.str("export_id")));
    assert_eq!(cleanup(&stack).await.exports_finished, 0, "nothing is done twice");
    // Now a new one may be asked for.
    bob.export(&token).await.expect(202, "");
    stack.app.clock.advance(121);
    assert_eq!(cleanup(&stack).await.exports_finished, 1);
    assert_eq!(export_mails(&bob).await, 2);
    // The links lapse with EXPORT_LINK_TTL_SECONDS: expired, no link.
    stack.app.clock.advance(stack.app.config.export_link_ttl_seconds);
    let expired = bob.export_status(first.str("export_id")).await;
    expired.expect(200, "");
    assert_eq!(expired.str("status"), "expired");
    assert!(expired.body.get("download_url").is_none());
    stack.finish().await;
}

#[tokio::test]
async fn a_crash_at_each_step_of_an_export_ends_with_one_complete_archive_and_one_mail() {
    for (point, nth) in [
        ("export.accepted", 1),
        ("export.upload_begun", 1),
        ("export.part_uploaded", 1),
        ("export.part_saved", 1),
        ("export.sealed", 1),
        ("export.ready", 1),
    ] {
        let stack = TestStack::start().await;
        stack
            .seed(json!({"accounts": [{"id": "bob-{id}", "username": "bob-{id}", "email": "bob-{id}@example.com"}]}))
            .await;
        stack.attach_items(&stack.id("bob"), 300).await;
        let bob = stack.user("bob");
        let token = bob.token_for("export_data").await;
        stack.app.failpoints.arm(point, nth);
        bob.export(&token).await.expect(500, "internal");
        assert_eq!(cleanup(&stack).await.exports_finished, 0, "{point}: the dead worker's lease still runs");
        stack.app.clock.advance(121);
        assert_eq!(cleanup(&stack).await.exports_finished, 1, "{point}");
        let exports = stack.keys_with_prefix(&format!("ACCOUNT#{}", bob.id)).await;
        let ids: Vec<&str> = exports.iter().filter_map(|(_, sk)| sk.strip_prefix("EXPORT#")).collect();
        assert_eq!(ids.len(), 1, "{point}: one export");
        let doc = archive(&bob, ids[0]).await;
        assert_eq!(doc["data"].as_array().unwrap().len(), 300, "{point}: every item once");
        assert_eq!(objects_of(&bob.id).await.len(), 1, "{point}: one object");
        assert_eq!(export_mails(&bob).await, 1, "{point}: one mail");
        assert!(stack.keys_with_prefix("JOB#").await.is_empty(), "{point}");
        stack.finish().await;
    }
}

#[tokio::test]
async fn a_deletion_during_an_export_takes_the_export_and_its_upload_with_it() {
    let stack = TestStack::with(|c| c.inline_work_items = 100).await;
    stack
        .seed(json!({"accounts": [{"id": "bob-{id}", "username": "bob-{id}", "email": "bob-{id}@example.com"}]}))
        .await;
    stack.attach_items(&stack.id("bob"), 700).await;
    let bob = stack.user("bob");
    bob.export(&bob.token_for("export_data").await).await.expect(202, "");
    let deleted = bob.delete(&bob.token_for("delete_account").await).await;
    stack.app.clock.advance(121);
    if deleted.status == 202 {
        cleanup(&stack).await;
    }
    assert!(stack.keys_with_prefix(&format!("ACCOUNT#{}", bob.id)).await.is_empty());
    assert!(stack.keys_with_prefix("JOB#").await.is_empty());
    assert!(objects_of(&bob.id).await.is_empty());
    let receipt = stack.item(&format!("RECEIPT#{}", bob.id), "RECEIPT").await.expect("a receipt");
    assert_eq!(number(&receipt, "exports_removed"), Some(1));
    assert_eq!(cleanup(&stack).await.exports_finished, 0);
    assert_eq!(export_mails(&bob).await, 0, "no link to a copy that is gone");
    stack.finish().await;
}
