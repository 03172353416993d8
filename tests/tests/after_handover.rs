//! After a handover the previous holder is out: an employee who has left keeps
//! no session, no token and no code on the account, and the designated person,
//! signed in afresh, can use it at once.

use journeys::harness::{Function, Item, TestStack, User};
use serde_json::{json, Value};

/// Globex: gina the default admin and erin a member with a phone.
fn globex() -> Value {
    json!({
        "enterprises": [{"id": "globex-{id}", "name": "Globex", "default_admin": "gina-{id}"}],
        "accounts": [
            {"id": "gina-{id}", "username": "gina-{id}", "email": "gina-{id}@example.com", "enterprise_id": "globex-{id}", "role": "default_admin"},
            {"id": "erin-{id}", "username": "erin-{id}", "email": "erin-{id}@example.com", "phone": "+8613800000005",
             "enterprise_id": "globex-{id}", "role": "member"}
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

    // Erin's JWT from before the handover, and one without iat: 401 from every function, nothing changed.
    let before = stack.snapshot().await;
    for old in [stack.user("erin").signed_in_at(signed_in), stack.user("erin").without_iat()] {
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
}
