//! After a handover the previous holder is out: an employee who has left keeps
//! no session, no token and no code on the account, and the designated person,
//! signed in afresh, can use it at once.

use journeys::harness::{number, Function, Item, TestStack, User};
use serde_json::{json, Value};

/// Globex: gina the default admin, harry an admin, erin a member with a phone;
/// olga runs Initech; dave has an account of his own.
fn globex() -> Value {
    json!({
        "enterprises": [
            {"id": "globex-{id}", "name": "Globex", "default_admin": "gina-{id}"},
            {"id": "initech-{id}", "name": "Initech", "default_admin": "olga-{id}"}
        ],
        "accounts": [
            {"id": "gina-{id}", "username": "gina-{id}", "email": "gina-{id}@example.com", "enterprise_id": "globex-{id}", "role": "default_admin"},
            {"id": "harry-{id}", "email": "harry-{id}@example.com", "enterprise_id": "globex-{id}", "role": "admin"},
            {"id": "erin-{id}", "username": "erin-{id}", "email": "erin-{id}@example.com", "phone": "+8613800000005",
             "enterprise_id": "globex-{id}", "role": "member"},
            {"id": "olga-{id}", "email": "olga-{id}@example.com", "enterprise_id": "initech-{id}", "role": "default_admin"},
            {"id": "dave-{id}", "email": "dave-{id}@example.com", "role": "individual"}
        ]
    })
}

async fn seeded() -> TestStack {
    let stack = TestStack::start().await;
    stack.seed(globex()).await;
    stack
}

fn s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// The default administrator hands erin's account over to frank, who confirms with the code he received.
async fn gina_hands_erin_over_to_frank(stack: &TestStack) {
    let (gina, erin, frank) = (stack.user("gina"), stack.user("erin"), stack.user("frank"));
    let token = gina.token_for("handover_account").await;
    gina.hand_over(json!({"verification_token": token, "new_email": frank.email, "account_id": erin.id}))
        .await
        .expect(202, "");
    let code = frank.code_from_mail().await;
    gina.confirm_handover(Some(&erin.id), &code).await.expect(200, "");
    // A JWT of the handover's own second may predate it and is refused: whoever goes on signs in a second later.
    stack.app.clock.advance(1);
}

/// The account is frank's now, active and whole.
async fn assert_franks(stack: &TestStack) {
    let profile = stack.profile(&stack.id("erin")).await.expect("the account is still there");
    assert_eq!(s(&profile, "status"), Some("active"));
    assert_eq!(s(&profile, "email"), Some(stack.email("frank").as_str()));
}

/// The designated person signs in afresh on the account and verifies a code mailed to his address.
async fn franks_token(stack: &TestStack, purpose: &str) -> String {
    let (erin, frank) = (stack.user("erin"), stack.user("frank"));
    erin.send_code(purpose).await.expect(202, "");
    let reply = erin.verify(purpose, &frank.code_from_mail().await).await;
    reply.expect(200, "");
    reply.str("verification_token").to_string()
}

#[tokio::test]
async fn an_employee_who_has_left_keeps_no_session_on_the_account() {
    let stack = seeded().await;
    let signed_in = stack.app.clock.now() - 10;
    stack.app.clock.advance(61);
    gina_hands_erin_over_to_frank(&stack).await;

    // Erin's JWT from before the handover, one of its very second (`iat` has no fraction to tell
    // which came first), and one without iat: 401 from every function, nothing changed.
    let profile = stack.profile(&stack.id("erin")).await.expect("the account is still there");
    let handed_over = number(&profile, "sessions_revoked_at").expect("the handover revoked the sessions");
    let before = stack.snapshot().await;
    let erin = || stack.user("erin");
    for old in [erin().signed_in_at(signed_in), erin().signed_in_at(handed_over), erin().without_iat()] {
        for purpose in ["delete_account", "handover_account"] {
            old.send_code(purpose).await.expect(401, "session_revoked");
            old.verify(purpose, "123456").await.expect(401, "session_revoked");
        }
        old.check().await.expect(401, "session_revoked");
        old.delete(&"a".repeat(64)).await.expect(401, "session_revoked");
        old.dismiss(&"a".repeat(64)).await.expect(401, "session_revoked");
        old.hand_over(json!({"verification_token": "a".repeat(64), "new_email": stack.email("mallory")}))
            .await
            .expect(401, "session_revoked");
        old.confirm_handover(None, "123456").await.expect(401, "session_revoked");
    }
    // Twenty wrong codes on an old session lock nothing for the new holder.
    let old = stack.user("erin").signed_in_at(signed_in);
    for _ in 0..20 {
        old.verify("delete_account", "000000").await.expect(401, "session_revoked");
    }
    assert_eq!(stack.snapshot().await, before, "no code placed, no attempt spent, nothing locked");
    assert!(stack.mails_to(&stack.email("erin")).await.iter().all(|m| !m.subject.contains("code")));

    // The designated person, signed in after the handover, uses the account at once.
    assert_franks(&stack).await;
    let frank_on_erin = stack.user("erin");
    frank_on_erin.check().await.expect(200, "");
    let token = franks_token(&stack, "delete_account").await;
    frank_on_erin.delete(&token).await.expect(200, "");
    stack.finish().await;
}

#[tokio::test]
async fn tokens_codes_and_failures_from_before_a_handover_are_ended_by_it() {
    let stack = seeded().await;
    let erin = stack.user("erin");
    // Before leaving, erin verified a deletion token and a handover token, and has a code in her mailbox.
    let delete_token = erin.token_for("delete_account").await;
    let handover_token = erin.token_for("handover_account").await;
    erin.send_code("dismiss_enterprise").await.expect(202, "");
    let unused_code = erin.code_from_mail().await;
    let wrong = if unused_code == "000000" { "000001" } else { "000000" };
    erin.verify("dismiss_enterprise", wrong).await.expect(422, "code_incorrect");
    stack.app.clock.advance(61);

    gina_hands_erin_over_to_frank(&stack).await;
    let profile = stack.profile(&erin.id).await.unwrap();
    let left: Vec<&String> = profile
        .keys()
        .filter(|k| k.starts_with("code_") || k.starts_with("failures_") || k.starts_with("token_"))
        .collect();
    assert!(left.is_empty(), "the handover ends every code, failure count and token: {left:?}");

    // Even on a fresh session, what erin got before the handover buys nothing.
    let before = stack.snapshot().await;
    erin.delete(&delete_token).await.expect(403, "token_invalid");
    erin.hand_over(json!({"verification_token": handover_token, "new_email": stack.email("mallory")}))
        .await
        .expect(403, "token_invalid");
    erin.verify("dismiss_enterprise", &unused_code).await.expect(422, "code_expired");
    assert_eq!(stack.snapshot().await, before, "the account is intact and frank's");
    assert!(stack.mails_to(&stack.email("mallory")).await.is_empty());
    assert_franks(&stack).await;

    // Frank's own token works.
    let token = franks_token(&stack, "delete_account").await;
    erin.delete(&token).await.expect(200, "");
    stack.finish().await;
}

#[tokio::test]
async fn a_holders_session_from_before_their_own_handover_is_out_too() {
    let stack = seeded().await;
    let (erin, frank) = (stack.user("erin"), stack.user("frank"));
    let signed_in = stack.app.clock.now() - 5;
    let token = erin.token_for("handover_account").await;
    erin.hand_over(json!({"verification_token": token, "new_email": frank.email})).await.expect(202, "");
    let code = frank.code_from_mail().await;
    erin.confirm_handover(None, &code).await.expect(200, "");
    stack.app.clock.advance(1);

    let old = User { signed_in: journeys::harness::SignIn::At(signed_in), ..stack.user("erin") };
    let before = stack.snapshot().await;
    old.check().await.expect(401, "session_revoked");
    old.send_code("delete_account").await.expect(401, "session_revoked");
    let reply = stack
        .invoke_signed(Function::CheckPrerequisites, Some(&erin.id), "web-console", Some(&signed_in.to_string()), None)
        .await;
    reply.expect(401, "session_revoked");
    assert_eq!(stack.snapshot().await, before);
    stack.user("erin").check().await.expect(200, "");
    stack.finish().await;
}

#[tokio::test]
async fn while_the_default_administrator_hands_erin_over_only_someone_of_her_rank_may_act_on_it() {
    let stack = seeded().await;
    let (gina, harry, erin, frank) = (stack.user("gina"), stack.user("harry"), stack.user("erin"), stack.user("frank"));
    let erins_delete = erin.token_for("delete_account").await;
    let erins_handover = erin.token_for("handover_account").await;
    let harrys_handover = harry.token_for("handover_account").await;
    let token = gina.token_for("handover_account").await;
    gina.hand_over(json!({"verification_token": token, "new_email": frank.email, "account_id": erin.id}))
        .await
        .expect(202, "");
    let code = frank.code_from_mail().await;
    let wrong = if code == "000000" { "000001" } else { "000000" };

    // The holder can neither confirm it (no attempt spent), start her own, nor delete the account.
    let before = stack.snapshot().await;
    erin.confirm_handover(None, wrong).await.expect(409, "handover_pending");
    erin.hand_over(json!({"verification_token": erins_handover, "new_email": stack.email("mallory")}))
        .await
        .expect(409, "handover_pending");
    erin.delete(&erins_delete).await.expect(409, "handover_pending");
    // An administrator below the default administrator can neither confirm nor replace it.
    harry.confirm_handover(Some(&erin.id), wrong).await.expect(409, "handover_pending");
    harry
        .hand_over(
            json!({"verification_token": harrys_handover, "new_email": stack.email("mallory"), "account_id": erin.id}),
        )
        .await
        .expect(409, "handover_pending");
    assert_eq!(stack.snapshot().await, before, "no attempt, token or code spent; nothing replaced or deleted");
    assert!(stack.mails_to(&stack.email("mallory")).await.is_empty());

    let check = erin.check().await;
    check.expect(200, "");
    assert_eq!(check.body["deletable"], json!(false));
    assert!(check.body["blockers"].as_array().unwrap().iter().any(|b| b["kind"] == "handover_pending"));

    // The default administrator confirms with the code frank received: the account is frank's.
    gina.confirm_handover(Some(&erin.id), &code).await.expect(200, "");
    assert_franks(&stack).await;
    stack.finish().await;
}

#[tokio::test]
async fn an_administrator_learns_nothing_of_accounts_outside_their_reach() {
    let stack = seeded().await;
    let (olga, dave) = (stack.user("olga"), stack.user("dave"));
    let daves = dave.token_for("delete_account").await;
    dave.delete(&daves).await.expect(200, "");
    let token = olga.token_for("handover_account").await;
    let before = stack.snapshot().await;
    // Another enterprise's member, an account that never was, a deleted one: one answer, nothing spent.
    let mut answers = Vec::new();
    for account in [stack.id("erin"), stack.id("nobody"), dave.id.clone()] {
        let body = json!({"verification_token": token, "new_email": stack.email("mallory"), "account_id": account});
        let started = olga.hand_over(body).await;
        started.expect(403, "not_authorized");
        let confirmed = olga.confirm_handover(Some(&account), "123456").await;
        confirmed.expect(403, "not_authorized");
        answers.push((started.body, confirmed.body));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "the same answer whoever the account id names");
    assert_eq!(stack.snapshot().await, before, "the token is not spent, no code tried");
    stack.finish().await;
}
