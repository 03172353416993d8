//! The handover journey of docs/seeds.md#handover: an employee who is transferred or resigns
//! hands their account over to a designated person, or an administrator of the
//! enterprise does it for one who has already left. One verified,
//! all-or-nothing operation with a checklist of what was done.

use journeys::harness::{number, Function, Item, TestStack, User};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ERIN_PHONE: &str = "+8613800000005";
const FRANK_PHONE: &str = "+8613800000009";
const GINA_PHONE: &str = "+8613800000001";

/// Globex: gina the default admin, harry an admin, ivan and erin members; erin
/// keeps a security email and phone and an admin phone apart, and holds an
/// authenticator, a Google login, three access keys (one already inactive) and
/// two IAM users. Olga runs Initech, another enterprise.
fn globex() -> Value {
    json!({
        "enterprises": [
            {"id": "globex-{id}", "name": "Globex", "default_admin": "gina-{id}"},
            {"id": "initech-{id}", "name": "Initech", "default_admin": "olga-{id}"}
        ],
        "accounts": [
            {"id": "gina-{id}", "username": "gina-{id}", "email": "gina-{id}@example.com", "phone": GINA_PHONE, "enterprise_id": "globex-{id}", "role": "default_admin"},
            {"id": "harry-{id}", "username": "harry-{id}", "email": "harry-{id}@example.com", "enterprise_id": "globex-{id}", "role": "admin"},
            {"id": "ivan-{id}", "username": "ivan-{id}", "email": "ivan-{id}@example.com", "enterprise_id": "globex-{id}", "role": "member"},
            {"id": "erin-{id}", "username": "erin-{id}", "email": "erin-{id}@example.com", "phone": ERIN_PHONE, "name": "Erin Example",
             "enterprise_id": "globex-{id}", "role": "member",
             "contacts": {"security_email": "erin.security-{id}@example.com", "security_phone": "+8613800000055", "admin_phone": ERIN_PHONE}},
            {"id": "olga-{id}", "username": "olga-{id}", "email": "olga-{id}@example.com", "enterprise_id": "initech-{id}", "role": "default_admin"}
        ],
        "mfa_devices": [{"account_id": "erin-{id}", "id": "totp-1", "label": "Erin's phone"}],
        "third_party_logins": [{"account_id": "erin-{id}", "provider": "google", "subject": "109384500012"}],
        "access_keys": [
            {"account_id": "erin-{id}", "id": "AKIAERIN0001"},
            {"account_id": "erin-{id}", "id": "AKIAERIN0002", "state": "Active"},
            {"account_id": "erin-{id}", "id": "AKIAERIN0003", "state": "Inactive"}
        ],
        "iam_users": [{"account_id": "erin-{id}", "name": "erin-ops"}, {"account_id": "erin-{id}", "name": "erin-ci"}]
    })
}

async fn seeded() -> TestStack {
    seeded_with(|_| {}).await
}

async fn seeded_with(adjust: impl FnOnce(&mut shared::config::Config)) -> TestStack {
    let stack = TestStack::with(adjust).await;
    stack.seed(globex()).await;
    stack
}

async fn cleanup(stack: &TestStack) -> shared::cleanup::CleanupSummary {
    stack.app.run_cleanup(Instant::now() + Duration::from_secs(300)).await
}

fn s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

async fn claim_owner(stack: &TestStack, kind: &str, value: &str) -> Option<String> {
    let claim = stack.item(&format!("CLAIM#{kind}#{value}"), "CLAIM").await?;
    s(&claim, "owner").map(String::from)
}

async fn mails_with(user: &User<'_>, subject: &str) -> usize {
    user.mails().await.iter().filter(|m| m.subject.contains(subject)).count()
}

/// `by` starts handing over `account` (`None`: their own) to frank; returns the code frank received.
async fn start(stack: &TestStack, by: &User<'_>, extra: Value) -> String {
    let mut body =
        json!({"verification_token": by.token_for("handover_account").await, "new_email": stack.email("frank")});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    let started = by.hand_over(body).await;
    started.expect(202, "");
    assert_eq!(started.str("status"), "awaiting_confirmation");
    assert_eq!(started.body["expires_in_seconds"], json!(600));
    stack.user("frank").code_from_mail().await
}

/// Erin's account, untouched: her contacts, claims and every credential.
async fn assert_erins_as_before(stack: &TestStack) {
    let erin = stack.user("erin");
    let profile = stack.profile(&erin.id).await.unwrap();
    assert_eq!(
        (s(&profile, "email"), s(&profile, "phone"), s(&profile, "name")),
        (Some(erin.email.as_str()), Some(ERIN_PHONE), Some("Erin Example"))
    );
    assert!(!profile.contains_key("password_reset_required") && !profile.contains_key("handover_in_progress"));
    let keys: Vec<String> =
        stack.keys_with_prefix(&format!("ACCOUNT#{}", erin.id)).await.into_iter().map(|(_, sk)| sk).collect();
    assert_eq!(
        keys,
        [
            "ACCESS_KEY#AKIAERIN0001",
            "ACCESS_KEY#AKIAERIN0002",
            "ACCESS_KEY#AKIAERIN0003",
            "IAM_USER#erin-ci",
            "IAM_USER#erin-ops",
            "LOGIN#google#109384500012",
            "MFA#totp-1",
            "PROFILE"
        ]
    );
    let key = stack.item(&format!("ACCOUNT#{}", erin.id), "ACCESS_KEY#AKIAERIN0001").await.unwrap();
    assert_eq!(s(&key, "state"), Some("Active"));
    assert_eq!(claim_owner(stack, "EMAIL", &erin.email).await.as_deref(), Some(erin.id.as_str()));
    assert_eq!(claim_owner(stack, "PHONE", ERIN_PHONE).await.as_deref(), Some(erin.id.as_str()));
    assert_eq!(claim_owner(stack, "EMAIL", &stack.email("frank")).await, None);
    assert_eq!(claim_owner(stack, "PHONE", FRANK_PHONE).await, None);
    assert!(stack.keys_with_prefix("JOB#").await.is_empty());
}

/// Erin's account is frank's: contacts rebound, claims swapped, credentials
/// revoked, the record kept, the job gone, and both addresses mailed once.
async fn assert_handed_over(stack: &TestStack, new_phone: Option<&str>, iam: &str) {
    assert_handed_over_with(stack, new_phone, iam, 1..=1).await;
}

/// As [`assert_handed_over`], with erin told `erin_notices` times: a notice goes out just before the
/// write that records it, so a failure of that write sends it once more.
async fn assert_handed_over_with(
    stack: &TestStack,
    new_phone: Option<&str>,
    iam: &str,
    erin_notices: std::ops::RangeInclusive<usize>,
) {
    let (erin, frank) = (stack.user("erin"), stack.user("frank"));
    let profile = stack.profile(&erin.id).await.unwrap();
    assert_eq!(s(&profile, "email"), Some(frank.email.as_str()));
    assert_eq!(s(&profile, "phone"), new_phone);
    assert_eq!(s(&profile, "security_email"), Some(frank.email.as_str()));
    assert_eq!(s(&profile, "security_phone"), new_phone);
    assert_eq!(s(&profile, "admin_phone"), new_phone);
    assert_eq!(profile.get("password_reset_required").and_then(|v| v.as_bool().ok()), Some(&true));
    assert!(number(&profile, "sessions_revoked_at").is_some());
    assert!(!profile.contains_key("handover_pending") && !profile.contains_key("handover_in_progress"));
    assert_eq!(s(&profile, "status"), Some("active"));

    let keys: Vec<String> =
        stack.keys_with_prefix(&format!("ACCOUNT#{}", erin.id)).await.into_iter().map(|(_, sk)| sk).collect();
    assert!(!keys.iter().any(|k| k.starts_with("MFA#") || k.starts_with("LOGIN#")), "{keys:?}");
    let access_keys: Vec<&String> = keys.iter().filter(|k| k.starts_with("ACCESS_KEY#")).collect();
    assert!(!access_keys.is_empty());
    for key in access_keys {
        let item = stack.item(&format!("ACCOUNT#{}", erin.id), key).await.unwrap();
        assert_eq!(s(&item, "state"), Some("Inactive"), "{key}");
    }
    let iam_users: Vec<&String> = keys.iter().filter(|k| k.starts_with("IAM_USER#")).collect();
    match iam {
        "delete" => assert!(iam_users.is_empty()),
        _ => {
            assert_eq!(iam_users.len(), 2);
            for user in iam_users {
                let item = stack.item(&format!("ACCOUNT#{}", erin.id), user).await.unwrap();
                assert_eq!(item.get("password_reset_required").and_then(|v| v.as_bool().ok()), Some(&true));
            }
        }
    }
    let records: Vec<&String> = keys.iter().filter(|k| k.starts_with("HANDOVER#")).collect();
    assert_eq!(records.len(), 1, "{keys:?}");
    let record = stack.item(&format!("ACCOUNT#{}", erin.id), records[0]).await.unwrap();
    assert_eq!(record.get("checklist").and_then(|c| c.as_l().ok()).map(Vec::len), Some(9));
    let text = format!("{record:?}");
    assert!(
        !text.contains(&frank.email) && !text.contains(&erin.email) && !text.contains("hash"),
        "no personal data or secrets: {text}"
    );

    assert_eq!(claim_owner(stack, "EMAIL", &erin.email).await, None, "erin's email is free");
    assert_eq!(claim_owner(stack, "PHONE", ERIN_PHONE).await, None, "erin's phone is free");
    assert_eq!(claim_owner(stack, "EMAIL", &frank.email).await.as_deref(), Some(erin.id.as_str()));
    assert_eq!(claim_owner(stack, "PHONE", FRANK_PHONE).await.as_deref(), new_phone.map(|_| erin.id.as_str()));
    assert_eq!(
        claim_owner(stack, "USERNAME", &erin.id).await.as_deref(),
        Some(erin.id.as_str()),
        "the sign-in name goes with the account"
    );
    assert!(stack.keys_with_prefix("JOB#").await.is_empty());

    let told = mails_with(&erin, "Your account was handed over").await;
    assert!(erin_notices.contains(&told), "erin told {told} times");
    let notices: Vec<_> =
        frank.mails().await.into_iter().filter(|m| m.subject.contains("An account was handed over")).collect();
    assert!((1..=2).contains(&notices.len()), "at least once, twice only after a crash between send and record");
    assert!(notices[0].body.contains("change the password") && !notices[0].body.contains("code is"));
}

fn checklist_counts(reply: &Value) -> Vec<(u64, u64)> {
    reply["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["step"].as_u64().unwrap(), c["count"].as_u64().unwrap()))
        .collect()
}

#[tokio::test]
async fn erin_hands_her_own_account_over_to_frank_before_she_leaves() {
    let stack = seeded().await;
    let (erin, frank) = (stack.user("erin"), stack.user("frank"));

    let token = erin.token_for("handover_account").await;
    let body = json!({"verification_token": token, "new_email": frank.email, "new_phone": "+86 138 0000 0009", "new_name": "Frank Example"});
    let started = erin.hand_over(body).await;
    started.expect(202, "");
    assert_eq!((started.str("status"), started.str("account_id")), ("awaiting_confirmation", erin.id.as_str()));
    assert_eq!(started.str("destination"), format!("f***{}@example.com", frank.id.chars().last().unwrap()));
    // Nothing is handed over before frank proves the address: the code went to him, not to erin.
    assert_erins_as_before(&stack).await;
    assert_eq!(mails_with(&erin, "handed over").await, 0);
    let code = frank.code_from_mail().await;
    assert!(frank.mails().await[0].subject.contains("confirm this address"));

    let done = erin.confirm_handover(None, &code).await;
    done.expect(200, "");
    assert_eq!((done.str("status"), done.str("account_id")), ("handed_over", erin.id.as_str()));
    // Steps 1-9 of docs/seeds.md#handover: 2 identifiers taken and 2 released, name + 3 separate contacts,
    // password and sessions, 1 authenticator, 1 Google login, 2 IAM users, 2 access keys.
    assert_eq!(checklist_counts(&done.body), [(1, 2), (2, 2), (3, 4), (4, 1), (5, 1), (6, 1), (7, 2), (8, 2), (9, 0)]);
    assert!(done.body["checklist"][7]["done"].as_str().unwrap().contains("1 already inactive"));
    assert_handed_over(&stack, Some(FRANK_PHONE), "reset_password").await;
    assert_eq!(s(&stack.profile(&erin.id).await.unwrap(), "name"), Some("Frank Example"));

    // The code worked once (asked a second later: a JWT of the handover's own second is refused);
    // erin's old address can register again (docs/seeds.md#identifiers-after-deletion).
    stack.app.clock.advance(1);
    erin.confirm_handover(None, &code).await.expect(422, "code_expired");
    stack
        .seed(json!({"accounts": [{"id": "erin2-{id}", "email": "erin-{id}@example.com", "phone": ERIN_PHONE}]}))
        .await;
    stack.finish().await;
}

#[tokio::test]
async fn gina_the_default_admin_hands_over_erin_who_has_already_left() {
    let stack = seeded().await;
    let (gina, erin, frank) = (stack.user("gina"), stack.user("erin"), stack.user("frank"));

    let code = start(&stack, &gina, json!({"account_id": erin.id, "iam_users": "delete"})).await;
    assert_eq!(gina.mails().await.len(), 1, "gina only got the code for her own token");
    // The code is erin's account's: without account_id, gina confirms nothing of her own.
    gina.confirm_handover(None, &code).await.expect(422, "code_expired");
    let done = gina.confirm_handover(Some(&erin.id), &code).await;
    done.expect(200, "");
    // No new phone: erin's is released and none taken; no new name: hers is removed.
    assert_eq!(checklist_counts(&done.body), [(1, 1), (2, 2), (3, 4), (4, 1), (5, 1), (6, 1), (7, 2), (8, 2), (9, 0)]);
    assert_eq!(done.body["checklist"][6]["done"], json!("deleted"));
    assert_handed_over(&stack, None, "delete").await;
    assert!(!stack.profile(&erin.id).await.unwrap().contains_key("name"));
    let record = stack
        .keys_with_prefix(&format!("ACCOUNT#{}", erin.id))
        .await
        .into_iter()
        .find(|(_, sk)| sk.starts_with("HANDOVER#"))
        .unwrap();
    let record = stack.item(&record.0, &record.1).await.unwrap();
    assert_eq!(
        (s(&record, "requested_by"), s(&record, "confirmed_by")),
        (Some(gina.id.as_str()), Some(gina.id.as_str()))
    );
    assert_eq!(frank.mails().await.len(), 2, "the code and the notice");
    stack.finish().await;
}

#[tokio::test]
async fn only_the_holder_or_an_administrator_above_the_account_may_hand_it_over() {
    let stack = seeded().await;
    let (gina, harry, ivan, erin, olga, frank) = (
        stack.user("gina"),
        stack.user("harry"),
        stack.user("ivan"),
        stack.user("erin"),
        stack.user("olga"),
        stack.user("frank"),
    );
    let body = |token: &str, account: &str| json!({"verification_token": token, "new_email": frank.email, "account_id": account});
    let (ivan_token, olga_token, harry_token) = (
        ivan.token_for("handover_account").await,
        olga.token_for("handover_account").await,
        harry.token_for("handover_account").await,
    );
    let before = stack.snapshot().await;

    // A member, another enterprise's default admin, an admin above his station: 403, nothing done, no token spent.
    ivan.hand_over(body(&ivan_token, &erin.id)).await.expect(403, "not_authorized");
    olga.hand_over(body(&olga_token, &erin.id)).await.expect(403, "not_authorized");
    harry.hand_over(body(&harry_token, &gina.id)).await.expect(403, "not_authorized");
    ivan.hand_over(body(&ivan_token, &stack.id("nobody"))).await.expect(403, "not_authorized");
    assert_eq!(stack.snapshot().await, before);
    assert!(frank.mails().await.is_empty());

    // To an administrator too, an unknown account is outside their reach; harry, an admin, may hand over ivan, a member.
    harry.hand_over(body(&harry_token, &stack.id("nobody"))).await.expect(403, "not_authorized");
    harry.hand_over(body(&harry_token, &ivan.id)).await.expect(202, "");
    assert!(stack.keys_with_prefix("TOKEN#").await.len() == 2, "harry's token alone was spent");
    stack.app.clock.advance(61);

    // Gina starts erin's handover; nobody without the right can confirm it or spend erin's attempts.
    let code = start(&stack, &gina, json!({"account_id": erin.id})).await;
    let attempts = |p: Item| number(&p, "code_confirm_handover.attempts_left");
    let before = stack.snapshot().await;
    ivan.confirm_handover(Some(&erin.id), &code).await.expect(403, "not_authorized");
    olga.confirm_handover(Some(&erin.id), &code).await.expect(403, "not_authorized");
    olga.confirm_handover(None, &code).await.expect(422, "code_expired");
    assert_eq!(stack.snapshot().await, before);
    assert_eq!(attempts(stack.profile(&erin.id).await.unwrap()), Some(5));
    assert_erins_as_before(&stack).await;

    // Erin, the holder, may not confirm what her administrator started (she may be the one leaving); gina does.
    erin.confirm_handover(None, &code).await.expect(409, "handover_pending");
    assert_eq!(stack.snapshot().await, before);
    gina.confirm_handover(Some(&erin.id), &code).await.expect(200, "");
    assert_handed_over(&stack, None, "reset_password").await;
    stack.finish().await;
}

#[tokio::test]
async fn an_email_or_phone_held_by_a_live_account_is_refused_and_nothing_changes() {
    let stack = seeded().await;
    let (gina, erin, frank) = (stack.user("gina"), stack.user("erin"), stack.user("frank"));
    let token = erin.token_for("handover_account").await;
    let before = stack.snapshot().await;
    for body in [
        json!({"verification_token": token, "new_email": gina.email}),
        json!({"verification_token": token, "new_email": frank.email, "new_phone": GINA_PHONE}),
        json!({"verification_token": token, "new_email": gina.email.to_uppercase()}),
    ] {
        let refused = erin.hand_over(body).await;
        refused.expect(409, "identifier_taken");
        assert!(refused.str("detail").contains("email") || refused.str("detail").contains("phone"));
    }
    assert_eq!(stack.snapshot().await, before, "the token is not spent, nothing is pending");
    assert!(gina.mails().await.is_empty() && frank.mails().await.is_empty());

    // Taken between the start and the confirmation: refused then, and still nothing changes.
    erin.hand_over(json!({"verification_token": token, "new_email": frank.email, "new_phone": FRANK_PHONE}))
        .await
        .expect(202, "");
    let code = frank.code_from_mail().await;
    stack.seed(json!({"accounts": [{"id": "frank-real-{id}", "email": "frank-{id}@example.com"}]})).await;
    let refused = erin.confirm_handover(None, &code).await;
    refused.expect(409, "identifier_taken");
    assert_eq!(claim_owner(&stack, "EMAIL", &frank.email).await, Some(stack.id("frank-real")));
    let profile = stack.profile(&erin.id).await.unwrap();
    assert_eq!((s(&profile, "email"), s(&profile, "phone")), (Some(erin.email.as_str()), Some(ERIN_PHONE)));
    assert_eq!(
        stack.keys_with_prefix(&format!("ACCOUNT#{}", erin.id)).await.len(),
        8,
        "every credential still there, no record"
    );
    assert!(stack.keys_with_prefix("JOB#").await.is_empty());
    assert_eq!(mails_with(&erin, "handed over").await, 0);
    stack.finish().await;
}

#[tokio::test]
async fn bad_input_is_refused_with_its_code_and_changes_nothing() {
    let stack = seeded().await;
    let (gina, erin, frank) = (stack.user("gina"), stack.user("erin"), stack.user("frank"));
    let token = erin.token_for("handover_account").await;
    let delete_token = erin.token_for("delete_account").await;
    let gina_token = gina.token_for("handover_account").await;
    let before = stack.snapshot().await;
    let f = frank.email.as_str();
    let cases = [
        (json!({}), 400, "invalid_request"),
        (json!({"verification_token": token}), 400, "invalid_request"),
        (json!({"verification_token": token, "new_email": f, "sub": gina.id}), 400, "invalid_request"),
        (json!({"verification_token": "abc", "new_email": f}), 400, "invalid_request"),
        (json!({"verification_token": token.to_uppercase(), "new_email": f}), 400, "invalid_request"),
        (json!({"verification_token": token, "new_email": "frank"}), 400, "invalid_request"),
        (json!({"verification_token": token, "new_email": 7}), 400, "invalid_request"),
        (json!({"verification_token": token, "new_email": f, "new_phone": "12"}), 400, "invalid_request"),
        (json!({"verification_token": token, "new_email": f, "new_name": " "}), 400, "invalid_request"),
        (json!({"verification_token": token, "new_email": f, "new_name": "x".repeat(129)}), 400, "invalid_request"),
        (json!({"verification_token": token, "new_email": f, "iam_users": "keep"}), 400, "invalid_request"),
        (json!({"verification_token": token, "new_email": f, "account_id": ""}), 400, "invalid_request"),
        (json!({"verification_token": token, "new_email": f, "account_id": "with space"}), 400, "invalid_request"),
        // Valid shape, wrong token: another purpose, another account's, unknown.
        (json!({"verification_token": delete_token, "new_email": f}), 403, "token_invalid"),
        (json!({"verification_token": gina_token, "new_email": f}), 403, "token_invalid"),
        (json!({"verification_token": "0".repeat(64), "new_email": f}), 403, "token_invalid"),
    ];
    for (body, status, code) in cases {
        erin.hand_over(body.clone()).await.expect(status, code);
    }
    for (body, status, code) in [
        (json!({}), 400, "invalid_request"),
        (json!({"code": "12a456"}), 400, "invalid_request"),
        (json!({"code": 123456}), 400, "invalid_request"),
        (json!({"code": "123456", "account_id": 5}), 400, "invalid_request"),
        (json!({"code": "123456", "new_email": f}), 400, "invalid_request"),
        (json!({"code": "123456"}), 422, "code_expired"),
    ] {
        erin.call(journeys::harness::Function::ConfirmHandover, body).await.expect(status, code);
    }
    let raw = stack
        .invoke(journeys::harness::Function::HandoverAccount, Some(&erin.id), "web-console", Some("{not json"))
        .await;
    raw.expect(400, "invalid_request");
    for function in [journeys::harness::Function::HandoverAccount, journeys::harness::Function::ConfirmHandover] {
        let body = json!({"verification_token": token, "new_email": f, "code": "123456"}).to_string();
        stack.invoke(function, None, "web-console", Some(&body)).await.expect(401, "unauthenticated");
    }
    assert_eq!(stack.snapshot().await, before, "no token spent, no attempt spent, nothing pending");
    assert!(frank.mails().await.is_empty());

    // An account being deleted answers 410 to both routes, and nothing of it is taken.
    erin.delete(&delete_token).await.expect(200, "");
    erin.hand_over(json!({"verification_token": token, "new_email": f})).await.expect(410, "account_deleted");
    erin.confirm_handover(None, "123456").await.expect(410, "account_deleted");
    // To an administrator a deleted account is as one that never was: outside their reach.
    gina.hand_over(json!({"verification_token": gina_token, "new_email": f, "account_id": erin.id}))
        .await
        .expect(403, "not_authorized");
    assert_eq!(claim_owner(&stack, "EMAIL", f).await, None);
    stack.finish().await;
}

#[tokio::test]
async fn an_event_whose_route_key_the_function_does_not_serve_is_refused_whatever_its_path() {
    let stack = seeded().await;
    let (erin, frank) = (stack.user("erin"), stack.user("frank"));
    let token = erin.token_for("handover_account").await;
    let before = stack.snapshot().await;
    // A start's path and a body it would accept: only the route key says this is no start.
    let body = json!({"verification_token": token, "new_email": frank.email}).to_string();
    let now = stack.app.clock.now().to_string();
    let start = Function::HandoverAccount.event(Some(&erin.id), Some("web-console"), Some(&now), Some(&body));
    for route_key in [json!("POST /v1/account/handover/cancel"), json!("GET /v1/account/handover"), Value::Null] {
        let mut event = start.clone();
        event["routeKey"] = route_key.clone();
        event["requestContext"]["routeKey"] = route_key.clone();
        let refused = journeys::harness::call(&stack.app, Function::HandoverAccount, event).await;
        refused.expect(400, "invalid_request");
        let named = route_key.as_str().unwrap_or("an event without one");
        assert!(refused.str("detail").ends_with(&format!("not {named}")), "{}", refused.body);
    }
    assert_eq!(stack.snapshot().await, before, "no token spent, nothing pending");
    assert!(frank.mails().await.is_empty());
    stack.finish().await;
}

#[tokio::test]
async fn confirmation_codes_are_limited_and_checked_like_every_code() {
    let stack = seeded_with(|c| {
        c.daily_code_limit = 2;
        c.max_consecutive_failures = 3;
    })
    .await;
    let (gina, erin, frank) = (stack.user("gina"), stack.user("erin"), stack.user("frank"));
    let token_a = erin.token_for("handover_account").await;
    stack.app.clock.advance(61);
    let body = |token: &str| json!({"verification_token": token, "new_email": frank.email, "new_name": "Frank"});
    erin.hand_over(body(&token_a)).await.expect(202, "");
    let first = frank.code_from_mail().await;
    // A newer token of a purpose replaces the older one, as a newer code does.
    let token_b = erin.token_for("handover_account").await;

    // Asking again within the cooldown: 429, and the second token is not spent.
    let before = stack.snapshot().await;
    let refused = erin.hand_over(body(&token_b)).await;
    refused.expect(429, "resend_too_soon");
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(stack.snapshot().await, before, "token and the pending handover put back as they were");

    // A wrong code spends an attempt; a new code replaces the first.
    let wrong = if first == "000000" { "000001" } else { "000000" };
    let reply = erin.confirm_handover(None, wrong).await;
    reply.expect(422, "code_incorrect");
    assert_eq!(reply.body["attempts_left"], json!(4));
    stack.app.clock.advance(61);
    erin.hand_over(body(&token_b)).await.expect(202, "");
    let second = frank.code_from_mail().await;
    if second != first {
        erin.confirm_handover(None, &first).await.expect(422, "code_incorrect");
    } else {
        erin.confirm_handover(None, wrong).await.expect(422, "code_incorrect");
    }

    // Daily limit: two codes in 24 h for this account and purpose, whoever asks.
    stack.app.clock.advance(61);
    let gina_token = gina.token_for("handover_account").await;
    let before = stack.snapshot().await;
    let limited = gina
        .hand_over(json!({"verification_token": gina_token, "new_email": frank.email, "account_id": erin.id}))
        .await;
    limited.expect(429, "daily_limit_reached");
    assert_eq!(stack.snapshot().await, before);

    // Three wrong codes in a row lock confirmation; the lock holds even for the right code.
    let wrong = if second == "000000" { "000001" } else { "000000" };
    erin.confirm_handover(None, wrong).await.expect(422, "code_incorrect");
    erin.confirm_handover(None, wrong).await.expect(429, "verification_locked");
    erin.confirm_handover(None, &second).await.expect(429, "verification_locked");
    assert_erins_as_before(&stack).await;

    // After a day: the lock is over but the code has expired; nothing was handed over.
    stack.app.clock.advance(24 * 3600);
    erin.confirm_handover(None, &second).await.expect(422, "code_expired");
    assert_erins_as_before(&stack).await;
    stack.finish().await;
}

#[tokio::test]
async fn a_handover_interrupted_after_any_step_is_finished_or_rolled_back() {
    // Before the handover commits: rolled back, and a new try goes through.
    for point in ["handover.pending_stored", "handover.verified"] {
        let stack = seeded().await;
        let (erin, frank) = (stack.user("erin"), stack.user("frank"));
        let token = erin.token_for("handover_account").await;
        let body = json!({"verification_token": token, "new_email": frank.email, "new_phone": FRANK_PHONE});
        if point == "handover.pending_stored" {
            stack.app.failpoints.arm(point, 1);
            erin.hand_over(body).await.expect(500, "internal");
            assert!(frank.mails().await.is_empty(), "no code went out");
            erin.confirm_handover(None, "123456").await.expect(422, "code_expired");
        } else {
            erin.hand_over(body).await.expect(202, "");
            let code = frank.code_from_mail().await;
            stack.app.failpoints.arm(point, 1);
            erin.confirm_handover(None, &code).await.expect(500, "internal");
            erin.confirm_handover(None, &code).await.expect(422, "code_expired");
        }
        stack.app.clock.advance(61);
        assert_erins_as_before(&stack).await;
        assert_eq!(cleanup(&stack).await.handovers_finished, 0, "{point}: nothing to finish");
        let code = start(&stack, &erin, json!({"new_phone": FRANK_PHONE})).await;
        erin.confirm_handover(None, &code).await.expect(200, "");
        assert_handed_over(&stack, Some(FRANK_PHONE), "reset_password").await;
        stack.finish().await;
    }
    // After it commits: done at once for every caller, the mail finished by cleanup.
    for point in ["handover.accepted", "handover.old_notified", "handover.new_notified"] {
        let stack = seeded().await;
        let erin = stack.user("erin");
        let code = start(&stack, &erin, json!({"new_phone": FRANK_PHONE})).await;
        stack.app.failpoints.arm(point, 1);
        erin.confirm_handover(None, &code).await.expect(500, "internal");
        let profile = stack.profile(&erin.id).await.unwrap();
        assert_eq!(s(&profile, "email"), Some(stack.email("frank").as_str()), "{point}");
        assert_eq!(cleanup(&stack).await.handovers_finished, 0, "{point}: the dead worker's lease still runs");
        stack.app.clock.advance(121);
        assert_eq!(cleanup(&stack).await.handovers_finished, 1, "{point}");
        assert_handed_over(&stack, Some(FRANK_PHONE), "reset_password").await;
        assert_eq!(cleanup(&stack).await.handovers_finished, 0, "{point}: nothing is done twice");
        stack.finish().await;
    }
}

/// Erin with `keys` active access keys: more than one transaction holds.
fn with_keys(keys: usize) -> Value {
    let mut fixtures = globex();
    let list = fixtures["access_keys"].as_array_mut().unwrap();
    list.extend((0..keys).map(|i| json!({"account_id": "erin-{id}", "id": format!("AKIABULK{i:04}")})));
    fixtures
}

#[tokio::test]
async fn an_account_with_more_credentials_than_one_transaction_is_handed_over_in_pages() {
    let stack = TestStack::start().await;
    stack.seed(with_keys(200)).await;
    let erin = stack.user("erin");
    let code = start(&stack, &erin, json!({"new_phone": FRANK_PHONE, "iam_users": "delete"})).await;
    let done = erin.confirm_handover(None, &code).await;
    done.expect(200, "");
    assert_eq!(checklist_counts(&done.body)[7], (8, 202));
    assert_handed_over(&stack, Some(FRANK_PHONE), "delete").await;
    stack.finish().await;

    // Larger than a request may work through: 202, finished in the background.
    let stack = TestStack::with(|c| c.inline_work_items = 50).await;
    stack.seed(with_keys(200)).await;
    let erin = stack.user("erin");
    let code = start(&stack, &erin, json!({"new_phone": FRANK_PHONE})).await;
    let accepted = erin.confirm_handover(None, &code).await;
    accepted.expect(202, "");
    assert_eq!((accepted.str("status"), accepted.body.get("checklist")), ("handing_over", None));
    // Until the last step the account keeps its contacts, and the new ones are already reserved.
    let profile = stack.profile(&erin.id).await.unwrap();
    assert_eq!(s(&profile, "email"), Some(erin.email.as_str()));
    assert_eq!(claim_owner(&stack, "EMAIL", &stack.email("frank")).await.as_deref(), Some(erin.id.as_str()));
    stack.app.clock.advance(61);
    let again = erin.token_for("handover_account").await;
    erin.hand_over(json!({"verification_token": again, "new_email": stack.email("zoe")}))
        .await
        .expect(429, "resend_too_soon");
    let summary = cleanup(&stack).await;
    assert_eq!(summary.handovers_finished, 1, "{summary:?}");
    assert_handed_over(&stack, Some(FRANK_PHONE), "reset_password").await;
    let record = stack
        .keys_with_prefix(&format!("ACCOUNT#{}", erin.id))
        .await
        .into_iter()
        .find(|(_, sk)| sk.starts_with("HANDOVER#"))
        .unwrap();
    let record = stack.item(&record.0, &record.1).await.unwrap();
    let step8 = &record["checklist"].as_l().unwrap()[7];
    assert_eq!(number(step8.as_m().unwrap(), "count"), Some(202));
    stack.finish().await;
}

#[tokio::test]
async fn while_the_default_administrators_large_handover_of_erin_runs_erin_can_neither_start_her_own_nor_delete() {
    let stack = TestStack::with(|c| c.inline_work_items = 50).await;
    stack.seed(with_keys(200)).await;
    let (gina, erin) = (stack.user("gina"), stack.user("erin"));
    let erins_delete = erin.token_for("delete_account").await;
    let erins_handover = erin.token_for("handover_account").await;
    let code = start(&stack, &gina, json!({"account_id": erin.id, "new_phone": FRANK_PHONE})).await;
    gina.confirm_handover(Some(&erin.id), &code).await.expect(202, "");

    // Confirmed and under way in the background: still the default administrator's, not erin's to overrule.
    let before = stack.snapshot().await;
    erin.hand_over(json!({"verification_token": erins_handover, "new_email": stack.email("mallory")}))
        .await
        .expect(409, "handover_pending");
    erin.delete(&erins_delete).await.expect(409, "handover_pending");
    let check = erin.check().await;
    check.expect(200, "");
    assert!(check.body["blockers"].as_array().unwrap().iter().any(|b| b["kind"] == "handover_pending"));
    assert_eq!(stack.snapshot().await, before, "no token spent, nothing deleted or replaced");
    assert!(stack.mails_to(&stack.email("mallory")).await.is_empty());

    let summary = cleanup(&stack).await;
    assert_eq!(summary.handovers_finished, 1, "{summary:?}");
    assert_handed_over(&stack, Some(FRANK_PHONE), "reset_password").await;
    let profile = stack.profile(&erin.id).await.unwrap();
    assert!(!profile.contains_key("handover_in_progress_as"), "the account is frank's to act on now");
    stack.finish().await;
}

#[tokio::test]
async fn a_large_handover_interrupted_after_any_step_is_finished_by_cleanup() {
    for (point, nth) in [("handover.page_revoked", 1), ("handover.page_revoked", 3), ("handover.rebound", 1)] {
        let stack = TestStack::start().await;
        stack.seed(with_keys(200)).await;
        let erin = stack.user("erin");
        let code = start(&stack, &erin, json!({"new_phone": FRANK_PHONE})).await;
        stack.app.failpoints.arm(point, nth);
        erin.confirm_handover(None, &code).await.expect(500, "internal");
        assert_eq!(
            claim_owner(&stack, "EMAIL", &stack.email("frank")).await.as_deref(),
            Some(erin.id.as_str()),
            "{point}"
        );
        stack.app.clock.advance(121);
        assert_eq!(cleanup(&stack).await.handovers_finished, 1, "{point}");
        assert_handed_over(&stack, Some(FRANK_PHONE), "reset_password").await;
        let done = stack
            .keys_with_prefix(&format!("ACCOUNT#{}", erin.id))
            .await
            .into_iter()
            .find(|(_, sk)| sk.starts_with("HANDOVER#"))
            .unwrap();
        let record = stack.item(&done.0, &done.1).await.unwrap();
        let counts: Vec<i64> =
            record["checklist"].as_l().unwrap().iter().map(|c| number(c.as_m().unwrap(), "count").unwrap()).collect();
        assert_eq!(counts, [2, 2, 4, 1, 1, 1, 2, 202, 0], "{point}: every credential counted once");
        stack.finish().await;
    }
}

/// Nothing of erin's account is left, and no identifier is held for it: the deletion's outcome.
async fn assert_deleted(stack: &TestStack) {
    let erin = stack.user("erin");
    assert!(stack.keys_with_prefix(&format!("ACCOUNT#{}", erin.id)).await.is_empty());
    assert!(stack.item(&format!("RECEIPT#{}", erin.id), "RECEIPT").await.is_some());
    for claim in [
        format!("CLAIM#EMAIL#{}", erin.email),
        format!("CLAIM#EMAIL#{}", stack.email("frank")),
        format!("CLAIM#PHONE#{ERIN_PHONE}"),
        format!("CLAIM#PHONE#{FRANK_PHONE}"),
    ] {
        assert!(stack.item(&claim, "CLAIM").await.is_none(), "{claim} left behind");
    }
    assert!(stack.keys_with_prefix("JOB#").await.is_empty());
}

/// When erin's deletion is sent, relative to the confirmation of her handover.
#[derive(Debug, Clone, Copy)]
enum Deletion {
    /// Answered before the confirmation is sent: the deletion must win.
    Before,
    /// Sent this many milliseconds after the confirmation, during its round trips: either may win.
    During(u64),
    /// Sent once the confirmation is answered: the handover must win.
    After,
}

#[tokio::test]
async fn a_handover_racing_a_deletion_of_the_account_leaves_one_outcome() {
    use Deletion::*;
    for when in [Before, During(0), During(4), During(8), During(15), During(30), During(120), After] {
        let stack = Arc::new(seeded().await);
        let erin = stack.user("erin");
        let delete_token = erin.token_for("delete_account").await;
        stack.app.clock.advance(61);
        let code = start(&stack, &erin, json!({"new_phone": FRANK_PHONE})).await;
        let (confirmed, deleted) = match when {
            Before => {
                let deleted = erin.delete(&delete_token).await;
                (erin.confirm_handover(None, &code).await, deleted)
            }
            During(delay_ms) => {
                let deleter = {
                    let stack = stack.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                        stack.user("erin").delete(&delete_token).await
                    })
                };
                let confirmed = erin.confirm_handover(None, &code).await;
                (confirmed, deleter.await.unwrap())
            }
            After => {
                let confirmed = erin.confirm_handover(None, &code).await;
                (confirmed, erin.delete(&delete_token).await)
            }
        };
        let must_win = match when {
            Before => Some(410),
            During(_) => None,
            After => Some(200),
        };
        assert!(must_win.is_none_or(|status| status == confirmed.status), "{when:?}: {}", confirmed.body);
        match confirmed.status {
            // The deletion came first: the handover is refused, took nothing and announced nothing.
            410 => {
                confirmed.expect(410, "account_deleted");
                deleted.expect(200, "");
                assert_deleted(&stack).await;
                assert_eq!(mails_with(&erin, "handed over").await, 0, "{when:?}");
                assert_eq!(mails_with(&stack.user("frank"), "An account was handed over").await, 0, "{when:?}");
            }
            // The handover came first: it ended the token erin verified before it (and a session of
            // its own second), so the account stays frank's and no deletion was recorded.
            200 => {
                assert_eq!(confirmed.str("status"), "handed_over");
                let refused = (deleted.status, deleted.code());
                assert!(
                    matches!(refused, (403, "token_invalid") | (401, "session_revoked")),
                    "{when:?}: {}",
                    deleted.body
                );
                assert_handed_over(&stack, Some(FRANK_PHONE), "reset_password").await;
                assert!(stack.item(&format!("RECEIPT#{}", erin.id), "RECEIPT").await.is_none(), "{when:?}");
            }
            _ => panic!("{when:?}: confirmation answered {}", confirmed.body),
        }
        stack.finish().await;
    }
}

#[tokio::test]
async fn a_deletion_overtaking_a_large_handover_rolls_it_back() {
    let stack = TestStack::with(|c| c.inline_work_items = 50).await;
    stack.seed(with_keys(200)).await;
    let erin = stack.user("erin");
    let delete_token = erin.token_for("delete_account").await;
    stack.app.clock.advance(61);
    let code = start(&stack, &erin, json!({"new_phone": FRANK_PHONE})).await;
    erin.confirm_handover(None, &code).await.expect(202, "");
    assert_eq!(claim_owner(&stack, "PHONE", FRANK_PHONE).await.as_deref(), Some(erin.id.as_str()));
    // Mid-handover the account is still active and erin's own: her deletion goes through.
    let deleted = erin.delete(&delete_token).await;
    assert!(matches!(deleted.status, 200 | 202), "{}", deleted.body);
    let summary = cleanup(&stack).await;
    assert_eq!(summary.failures, 0, "{summary:?}");
    assert_deleted(&stack).await;
    assert_eq!(mails_with(&erin, "handed over").await, 0, "a handover that did not happen is not announced");
    assert_eq!(mails_with(&stack.user("frank"), "An account was handed over").await, 0);
    stack.finish().await;
}

#[tokio::test]
async fn fixtures_hold_contacts_and_credentials_in_the_documented_format() {
    let stack = seeded().await;
    let erin = stack.user("erin");
    let pk = format!("ACCOUNT#{}", erin.id);
    let profile = stack.profile(&erin.id).await.unwrap();
    assert_eq!(
        s(&profile, "security_email"),
        Some(format!("erin.security-{}@example.com", stack.id("").trim_start_matches('-')).as_str())
    );
    assert_eq!(s(&profile, "admin_phone"), Some(ERIN_PHONE));
    assert!(!profile.contains_key("login_email"), "absent: follows the account's own email");
    let mfa = stack.item(&pk, "MFA#totp-1").await.unwrap();
    assert_eq!(
        (s(&mfa, "kind"), s(&mfa, "device_id"), s(&mfa, "label")),
        (Some("mfa_device"), Some("totp-1"), Some("Erin's phone"))
    );
    let login = stack.item(&pk, "LOGIN#google#109384500012").await.unwrap();
    assert_eq!((s(&login, "provider"), s(&login, "subject")), (Some("google"), Some("109384500012")));
    assert_eq!(s(&stack.item(&pk, "ACCESS_KEY#AKIAERIN0003").await.unwrap(), "state"), Some("Inactive"));
    let iam = stack.item(&pk, "IAM_USER#erin-ops").await.unwrap();
    assert_eq!(iam.get("password_reset_required").and_then(|v| v.as_bool().ok()), Some(&false));

    // Refused, each naming what is wrong: an unknown account, a duplicate, a bad state or contact.
    for (fixtures, names) in [
        (json!({"mfa_devices": [{"account_id": "nobody-{id}", "id": "x"}]}), "nobody"),
        (json!({"mfa_devices": [{"account_id": "erin-{id}", "id": "totp-1"}]}), "already linked"),
        (json!({"access_keys": [{"account_id": "erin-{id}", "id": "K", "state": "Frozen"}]}), "Frozen"),
        (json!({"third_party_logins": [{"account_id": "erin-{id}", "provider": "a#b", "subject": "1"}]}), "provider"),
        (
            json!({"accounts": [{"id": "zed-{id}", "email": "zed-{id}@example.com", "contacts": {"pager_phone": "+8613800000077"}}]}),
            "pager_phone",
        ),
        (json!({"accounts": [{"id": "yan-{id}", "contacts": {"security_email": "not-an-email"}}]}), "security_email"),
    ] {
        let text = fixtures.to_string().replace("{id}", stack.id("").trim_start_matches('-'));
        let parsed = journeys::fixtures::Fixtures::parse(&text);
        let error = match parsed {
            Err(e) => e.to_string(),
            Ok(f) => f.load(&stack.app).await.expect_err("refused").to_string(),
        };
        assert!(error.contains(names), "{error}");
    }
    stack.finish().await;
}

#[tokio::test]
async fn when_the_code_cannot_be_mailed_nothing_is_consumed() {
    let stack = seeded().await;
    let erin = stack.user("erin");
    let code = start(&stack, &erin, json!({"new_phone": FRANK_PHONE})).await;
    stack.app.clock.advance(61);
    let token = erin.token_for("handover_account").await;
    let before = stack.snapshot().await;

    // A sender SES has not verified: moto refuses the mail, as SES would.
    let broken = stack.app_with(|c| c.sender_email = "unverified@elsewhere.example".into()).await;
    let body = json!({"verification_token": token, "new_email": stack.email("zoe")}).to_string();
    let now = stack.app.clock.now().to_string();
    let event = journeys::harness::Function::HandoverAccount.event(
        Some(&erin.id),
        Some("web-console"),
        Some(&now),
        Some(&body),
    );
    let response =
        handover_account::handle(&broken, shared::lambda_http::request::from_str(&event.to_string()).unwrap()).await;
    assert_eq!(response.status().as_u16(), 503);
    assert!(format!("{:?}", response.body()).contains("mail_unavailable"));
    assert_eq!(stack.snapshot().await, before, "the token, the earlier pending handover and its code put back");
    assert!(stack.mails_to(&stack.email("zoe")).await.is_empty());

    // The earlier handover still completes with its code.
    erin.confirm_handover(None, &code).await.expect(200, "");
    assert_handed_over(&stack, Some(FRANK_PHONE), "reset_password").await;
    stack.finish().await;
}

#[tokio::test]
async fn no_credential_linked_while_a_large_handover_runs_survives_it() {
    let stack = TestStack::with(|c| c.inline_work_items = 50).await;
    stack.seed(with_keys(200)).await;
    let erin = stack.user("erin");
    let code = start(&stack, &erin, json!({"new_phone": FRANK_PHONE})).await;
    erin.confirm_handover(None, &code).await.expect(202, "");

    // The leaving employee links an authenticator of their own while the handover runs: refused.
    let mfa = shared::model::handover::credentials::Credential::Mfa { id: "sneaky".into(), label: None };
    let linked = stack.app.link_credential(&shared::model::ids::AccountId::parse(&erin.id).unwrap(), &mfa).await;
    assert!(matches!(linked, Err(shared::handover::LinkError::AccountNotActive)), "{linked:?}");

    cleanup(&stack).await;
    assert_handed_over(&stack, Some(FRANK_PHONE), "reset_password").await;
    assert!(stack.item(&format!("ACCOUNT#{}", erin.id), "MFA#sneaky").await.is_none(), "nothing of theirs survives");
    stack.finish().await;
}

#[tokio::test]
async fn a_code_confirms_only_the_pending_handover_it_was_sent_for() {
    let stack = seeded().await;
    let (gina, erin) = (stack.user("gina"), stack.user("erin"));
    let franks_code = start(&stack, &gina, json!({"account_id": erin.id})).await;
    // Gina replaces it with a handover to zoe, and the process dies before zoe's code is placed:
    // zoe's handover is pending while the code slot still holds the one frank received.
    stack.app.clock.advance(61);
    let token = gina.token_for("handover_account").await;
    stack.app.failpoints.arm("handover.pending_stored", 1);
    gina.hand_over(json!({"verification_token": token, "new_email": stack.email("zoe"), "account_id": erin.id}))
        .await
        .expect(500, "internal");

    // Frank's code does not confirm zoe's handover.
    gina.confirm_handover(Some(&erin.id), &franks_code).await.expect(422, "code_incorrect");
    assert_erins_as_before(&stack).await;
    assert_eq!(claim_owner(&stack, "EMAIL", &stack.email("zoe")).await, None);
    assert_eq!(claim_owner(&stack, "EMAIL", &stack.email("frank")).await, None);
    stack.finish().await;
}

#[tokio::test]
async fn a_deletion_overtaking_a_large_handover_frees_what_it_claimed_in_its_final_transaction() {
    let stack = TestStack::with(|c| c.inline_work_items = 50).await;
    stack.seed(with_keys(200)).await;
    let erin = stack.user("erin");
    let delete_token = erin.token_for("delete_account").await;
    stack.app.clock.advance(61);
    let code = start(&stack, &erin, json!({"new_phone": FRANK_PHONE})).await;
    erin.confirm_handover(None, &code).await.expect(202, "");
    assert_eq!(claim_owner(&stack, "PHONE", FRANK_PHONE).await.as_deref(), Some(erin.id.as_str()));

    // The deletion finishes in its own request, before the handover's job runs again.
    let whole = stack.app_with(|c| c.inline_work_items = 10_000).await;
    let deleted =
        stack.invoke_on(&whole, Function::DeleteAccount, &erin.id, json!({"verification_token": delete_token})).await;
    deleted.expect(200, "");
    assert_eq!(claim_owner(&stack, "PHONE", FRANK_PHONE).await, None, "released by the deletion itself");
    assert_eq!(claim_owner(&stack, "EMAIL", &stack.email("frank")).await, None);
    assert!(!stack.keys_with_prefix("JOB#handover").await.is_empty(), "the handover's job has not run since");

    let summary = cleanup(&stack).await;
    assert_eq!(summary.failures, 0, "{summary:?}");
    assert_deleted(&stack).await;
    stack.finish().await;
}

#[tokio::test]
async fn a_handover_whose_table_fails_at_any_step_of_the_confirmation_is_finished_exactly_once() {
    use crate::faults::{Faulty, Tally};
    use journeys::faults::Fault;
    let mut tally = Tally::default();
    let steps = {
        let faulty = Faulty::start().await;
        faulty.stack.seed(globex()).await;
        let (gina, erin) = (faulty.stack.user("gina"), faulty.stack.user("erin"));
        let code = start(&faulty.stack, &gina, json!({"account_id": erin.id, "iam_users": "delete"})).await;
        faulty.dynamodb.clear_log();
        gina.confirm_handover(Some(&erin.id), &code).await.expect(200, "");
        faulty.stack.finish().await;
        faulty.dynamodb.operations()
    };
    // docs/handover.md's round trips: the first transaction redeems the code, the second hands over.
    let transactions: Vec<usize> = (0..steps.len()).filter(|&i| steps[i] == "TransactWriteItems").collect();
    let [redeemed, handed_over] = transactions[..] else { panic!("two transactions expected: {steps:?}") };
    for (step, operation) in steps.iter().enumerate() {
        for fault in [Fault::Reset, Fault::ServerError, Fault::Throttle] {
            let context = format!("step {step} ({operation}), {fault:?}");
            let faulty = Faulty::start().await;
            let stack = &faulty.stack;
            stack.seed(globex()).await;
            let (gina, erin) = (stack.user("gina"), stack.user("erin"));
            let code = start(stack, &gina, json!({"account_id": erin.id, "iam_users": "delete"})).await;
            let reply =
                faulty.hit(step, fault, &mut tally, &context, gina.confirm_handover(Some(&erin.id), &code)).await;
            if reply.status == 503 {
                // Not handed over: erin's account is as it was. The same code confirms it now, unless the
                // failure fell after the code was redeemed and up to the handover's transaction (README.md,
                // "Races and faults"): then the code is spent, gina starts again and frank gets a new one.
                assert_erins_as_before(stack).await;
                let retried = gina.confirm_handover(Some(&erin.id), &code).await;
                if redeemed < step && step <= handed_over {
                    assert_eq!((retried.status, retried.code()), (422, "code_expired"), "{context}: {}", retried.body);
                    stack.app.clock.advance(61);
                    let code = start(stack, &gina, json!({"account_id": erin.id, "iam_users": "delete"})).await;
                    gina.confirm_handover(Some(&erin.id), &code).await.expect(200, "");
                } else {
                    assert_eq!(retried.status, 200, "{context}: {}", retried.body);
                }
            } else {
                stack.app.clock.advance(121);
                cleanup(stack).await;
            }
            let most = if reply.status == 202 { 2 } else { 1 };
            assert_handed_over_with(stack, None, "delete", 1..=most).await;
            stack.finish().await;
            tally.recovered += 1;
        }
    }
    tally.report("handover");
}
