//! Verification codes and tokens: docs/seeds.md#verification-codes, "Send Code, enter the verification
//! code, click OK", against the real DynamoDB and SES APIs of the local stack.

use journeys::harness::{code_in, number, Function, TestStack};
use serde_json::json;
use shared::model::ids::AccountId;
use shared::model::purpose::Purpose;
use shared::tokens::TokenString;
use std::sync::Arc;

async fn with_alice(stack: &TestStack) {
    stack
        .seed(json!({"accounts": [
            {"id": "alice-{id}", "username": "alice-{id}", "email": "alice-{id}@example.com", "phone": null, "role": "individual"},
            {"id": "carol-{id}", "username": "carol-{id}", "role": "individual"}
        ]}))
        .await;
}

#[tokio::test]
async fn a_code_is_mailed_and_traded_once_for_a_token() {
    let stack = TestStack::start().await;
    with_alice(&stack).await;
    let alice = stack.user("alice");

    let sent = alice.send_code("delete_account").await;
    sent.expect(202, "");
    assert_eq!(sent.body["destination"], json!(format!("a***{}@example.com", alice.id.chars().last().unwrap())));
    assert_eq!(
        (sent.body["expires_in_seconds"].as_i64(), sent.body["resend_after_seconds"].as_i64()),
        (Some(600), Some(60))
    );
    let mails = alice.mails().await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains("delete your account"));
    let code = alice.code_from_mail().await;
    assert!(!sent.body.to_string().contains(&code), "the code must never be in a response");

    let verified = alice.verify("delete_account", &code).await;
    verified.expect(200, "");
    let token = verified.str("verification_token").to_string();
    assert!(TokenString::parse(&token).is_ok(), "256-bit hex token");
    assert_eq!((verified.str("purpose"), verified.body["expires_in_seconds"].as_i64()), ("delete_account", Some(600)));

    // Stored only hashed: neither the code nor the token appears in any item.
    let dump = stack.snapshot().await.join("\n");
    assert!(!dump.contains(&token) && !dump.contains(&format!("\"{code}\"")));
    assert_eq!(stack.keys_with_prefix("TOKEN#").await.len(), 1);
    let profile = stack.profile(&alice.id).await.unwrap();
    assert!(profile["code_delete_account"].as_m().unwrap().get("hash").is_none(), "the code is burned");
    assert_eq!(number(&profile, "failures_delete_account"), Some(0));

    // Single-use: the same code again finds no live code.
    alice.verify("delete_account", &code).await.expect(422, "code_expired");
    // The token is bound to its purpose and account, and is spent once.
    let account = AccountId::parse(&alice.id).unwrap();
    let parsed = TokenString::parse(&token).unwrap();
    assert!(stack.app.consume_token(&parsed, &account, Purpose::DismissEnterprise).await.is_err());
    assert!(stack
        .app
        .consume_token(&parsed, &AccountId::parse("mallory").unwrap(), Purpose::DeleteAccount)
        .await
        .is_err());
    assert!(stack.app.consume_token(&parsed, &account, Purpose::DeleteAccount).await.is_ok());
    assert!(stack.app.consume_token(&parsed, &account, Purpose::DeleteAccount).await.is_err());
    assert!(stack.keys_with_prefix("TOKEN#").await.is_empty());
    stack.finish().await;
}

#[tokio::test]
async fn wrong_codes_spend_attempts_until_the_code_is_burned() {
    let stack = TestStack::start().await;
    with_alice(&stack).await;
    let alice = stack.user("alice");
    alice.send_code("dismiss_enterprise").await.expect(202, "");
    let code = alice.code_from_mail().await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (0..5).rev() {
        let reply = alice.verify("dismiss_enterprise", wrong).await;
        reply.expect(422, "code_incorrect");
        assert_eq!(reply.body["attempts_left"], json!(left));
        let profile = stack.profile(&alice.id).await.unwrap();
        assert_eq!(number(&profile, "code_dismiss_enterprise.attempts_left"), Some(left));
    }
    // Burned: even the right code no longer works, and nothing more is spent.
    let before = stack.snapshot().await;
    alice.verify("dismiss_enterprise", &code).await.expect(422, "code_expired");
    assert_eq!(stack.snapshot().await, before);
    assert!(stack.keys_with_prefix("TOKEN#").await.is_empty());
    stack.finish().await;
}

#[tokio::test]
async fn an_expired_code_is_dead_and_a_new_code_replaces_the_old() {
    let stack = TestStack::start().await;
    with_alice(&stack).await;
    let alice = stack.user("alice");
    alice.send_code("delete_account").await.expect(202, "");
    let first = alice.code_from_mail().await;
    stack.app.clock.advance(601);
    let before = stack.snapshot().await;
    alice.verify("delete_account", &first).await.expect(422, "code_expired");
    assert_eq!(stack.snapshot().await, before, "an expired code spends nothing");

    alice.send_code("delete_account").await.expect(202, "");
    let second = alice.code_from_mail().await;
    stack.app.clock.advance(61);
    alice.send_code("delete_account").await.expect(202, "");
    let third = alice.code_from_mail().await;
    if second != third {
        alice.verify("delete_account", &second).await.expect(422, "code_incorrect");
    }
    alice.verify("delete_account", &third).await.expect(200, "");
    stack.finish().await;
}

#[tokio::test]
async fn resends_wait_for_the_cooldown_and_the_daily_limit() {
    let stack = TestStack::with(|c| c.daily_code_limit = 3).await;
    with_alice(&stack).await;
    let alice = stack.user("alice");
    alice.send_code("delete_account").await.expect(202, "");
    let before = stack.snapshot().await;
    let again = alice.send_code("delete_account").await;
    again.expect(429, "resend_too_soon");
    let retry: i64 = again.headers["retry-after"].parse().unwrap();
    assert!((59..=60).contains(&retry), "retry after the cooldown: {retry}");
    assert_eq!(stack.snapshot().await, before, "a refused send changes nothing");
    assert_eq!(alice.mails().await.len(), 1);

    for _ in 0..2 {
        stack.app.clock.advance(60);
        alice.send_code("delete_account").await.expect(202, "");
    }
    stack.app.clock.advance(60);
    let before = stack.snapshot().await;
    let limited = alice.send_code("delete_account").await;
    limited.expect(429, "daily_limit_reached");
    let retry: i64 = limited.headers["retry-after"].parse().unwrap();
    assert!((86_400 - 200..=86_400 - 170).contains(&retry), "retry after the window: {retry}");
    assert_eq!(alice.mails().await.len(), 3);
    assert_eq!(stack.snapshot().await, before, "a refused send changes nothing");
    // Another purpose has its own count.
    alice.send_code("dismiss_enterprise").await.expect(202, "");
    // The window moves on after 24 h.
    stack.app.clock.advance(retry);
    alice.send_code("delete_account").await.expect(202, "");
    stack.finish().await;
}

#[tokio::test]
async fn when_mail_fails_nothing_is_consumed() {
    let stack = TestStack::with(|c| c.resend_cooldown_seconds = 0).await;
    with_alice(&stack).await;
    let alice = stack.user("alice");
    alice.send_code("delete_account").await.expect(202, "");
    let code = alice.code_from_mail().await;
    let before = stack.snapshot().await;

    // A sender SES has not verified: moto refuses the mail, as SES would.
    let broken = stack.app_with(|c| c.sender_email = "unverified@elsewhere.example".into()).await;
    let now = stack.app.clock.now().to_string();
    let request = Function::SendCode.event(
        Some(&alice.id),
        Some("web-console"),
        Some(&now),
        Some(r#"{"purpose":"delete_account"}"#),
    );
    let response =
        send_code::handle(&broken, shared::lambda_http::request::from_str(&request.to_string()).unwrap()).await;
    assert_eq!(response.status().as_u16(), 503);
    assert!(format!("{:?}", response.body()).contains("mail_unavailable"));

    assert_eq!(stack.snapshot().await, before, "no quota spent, no cooldown started, the old code kept");
    assert_eq!(alice.mails().await.len(), 1);
    alice.verify("delete_account", &code).await.expect(200, "");
    stack.finish().await;
}

#[tokio::test]
async fn twenty_wrong_codes_in_a_row_lock_verification_for_a_day() {
    let stack = TestStack::with(|c| {
        c.max_consecutive_failures = 7;
        c.resend_cooldown_seconds = 0;
    })
    .await;
    with_alice(&stack).await;
    let alice = stack.user("alice");
    let mut code = String::new();
    // Seven wrong codes across two codes: a new code does not reset the streak.
    for round in 0..2 {
        alice.send_code("delete_account").await.expect(202, "");
        code = alice.code_from_mail().await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..(if round == 0 { 5 } else { 2 }) {
            alice.verify("delete_account", wrong).await.expect(422, "code_incorrect");
        }
    }
    let before = stack.snapshot().await;
    let locked = alice.verify("delete_account", &code).await;
    locked.expect(429, "verification_locked");
    let retry: i64 = locked.headers["retry-after"].parse().unwrap();
    assert!((86_000..=86_400).contains(&retry));
    assert_eq!(stack.snapshot().await, before, "a locked verification spends nothing");
    // Other purposes are not locked.
    alice.send_code("dismiss_enterprise").await.expect(202, "");
    let other = alice.code_from_mail().await;
    alice.verify("dismiss_enterprise", &other).await.expect(200, "");
    // A day later the lock is gone and a success clears the streak.
    stack.app.clock.advance(86_401);
    alice.send_code("delete_account").await.expect(202, "");
    let fresh = alice.code_from_mail().await;
    alice.verify("delete_account", &fresh).await.expect(200, "");
    assert_eq!(number(&stack.profile(&alice.id).await.unwrap(), "failures_delete_account"), Some(0));
    stack.finish().await;
}

#[tokio::test]
async fn who_cannot_get_a_code() {
    let stack = TestStack::start().await;
    with_alice(&stack).await;
    let before = stack.snapshot().await;
    // Carol has no bound email (docs/seeds.md#deletion: complete the information first).
    stack.user("carol").send_code("delete_account").await.expect(409, "email_not_bound");
    stack.user("carol").verify("delete_account", "123456").await.expect(422, "code_expired");
    stack.user("nobody").send_code("delete_account").await.expect(404, "account_not_found");
    stack.user("nobody").verify("delete_account", "123456").await.expect(404, "account_not_found");
    assert_eq!(stack.snapshot().await, before);
    assert!(stack.mails_to(&stack.email("carol")).await.is_empty());
    stack.finish().await;
}

#[tokio::test]
async fn a_deleted_account_gets_account_deleted() {
    let stack = TestStack::start().await;
    with_alice(&stack).await;
    let alice = stack.user("alice");
    let token = alice.token_for("delete_account").await;
    alice.delete(&token).await.expect(200, "");
    let before = stack.snapshot().await;
    alice.send_code("delete_account").await.expect(410, "account_deleted");
    alice.verify("delete_account", "123456").await.expect(410, "account_deleted");
    assert_eq!(stack.snapshot().await, before, "nothing is written for a deleted account");
    assert_eq!(alice.mails().await.len(), 2, "the code and the deletion notice, nothing more");
    stack.finish().await;
}

#[tokio::test]
async fn fifty_concurrent_wrong_codes_get_at_most_five_evaluations() {
    let stack = Arc::new(TestStack::start().await);
    with_alice(&stack).await;
    let alice = stack.user("alice");
    alice.send_code("delete_account").await.expect(202, "");
    let code = alice.code_from_mail().await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let stack = stack.clone();
        tasks.spawn(async move { stack.user("alice").verify("delete_account", wrong).await });
    }
    let mut incorrect = 0;
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        match reply.code() {
            "code_incorrect" => incorrect += 1,
            "code_expired" => {}
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert!(incorrect <= 5, "{incorrect} guesses evaluated");
    assert_eq!(incorrect, 5, "every allowed attempt is used by someone");
    let profile = stack.profile(&alice.id).await.unwrap();
    assert_eq!(number(&profile, "code_delete_account.attempts_left"), Some(0));
    assert_eq!(number(&profile, "failures_delete_account"), Some(5));
    alice.verify("delete_account", &code).await.expect(422, "code_expired");
    stack.finish().await;
}

#[tokio::test]
async fn twenty_concurrent_right_codes_yield_one_token_and_it_is_spent_once() {
    let stack = Arc::new(TestStack::with(|c| c.code_max_attempts = 20).await);
    with_alice(&stack).await;
    let alice = stack.user("alice");
    alice.send_code("delete_account").await.expect(202, "");
    let code = alice.code_from_mail().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (stack, code) = (stack.clone(), code.clone());
        tasks.spawn(async move { stack.user("alice").verify("delete_account", &code).await });
    }
    let mut tokens = Vec::new();
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        match reply.status {
            200 => tokens.push(reply.str("verification_token").to_string()),
            422 => assert_eq!(reply.code(), "code_expired"),
            _ => panic!("unexpected {}", reply.body),
        }
    }
    assert_eq!(tokens.len(), 1);
    assert_eq!(stack.keys_with_prefix("TOKEN#").await.len(), 1);

    let token = TokenString::parse(&tokens[0]).unwrap();
    let account = AccountId::parse(&alice.id).unwrap();
    let mut consumers = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (stack, token, account) = (stack.clone(), TokenString::parse(&tokens[0]).unwrap(), account.clone());
        consumers.spawn(async move { stack.app.consume_token(&token, &account, Purpose::DeleteAccount).await.is_ok() });
    }
    let mut wins = 0;
    while let Some(ok) = consumers.join_next().await {
        wins += ok.unwrap() as usize;
    }
    assert_eq!(wins, 1);
    assert!(stack.app.consume_token(&token, &account, Purpose::DeleteAccount).await.is_err());
    stack.finish().await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let stack = TestStack::start().await;
    with_alice(&stack).await;
    let alice = stack.user("alice");
    let token = alice.token_for("delete_account").await;
    stack.app.clock.advance(601);
    alice.delete(&token).await.expect(403, "token_invalid");
    assert_eq!(stack.keys_with_prefix("TOKEN#").await.len(), 1, "an expired token is not spent, cleanup removes it");
    let summary = stack.app.run_cleanup(std::time::Instant::now() + std::time::Duration::from_secs(30)).await;
    assert_eq!(summary.tokens_removed, 1);
    assert!(stack.keys_with_prefix("TOKEN#").await.is_empty());
    stack.finish().await;
}

#[test]
fn the_code_is_found_in_text_and_html_mail() {
    assert_eq!(code_in("Your verification code is 012345."), Some("012345".into()));
    assert_eq!(code_in("<p>Your verification code is 987654.</p>"), Some("987654".into()));
    assert_eq!(code_in("no code"), None);
}
