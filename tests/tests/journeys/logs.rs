//! A full journey with the logs captured: neither the code, the token, the
//! secret nor the full email address may appear in any line.

use journeys::harness::{TestStack, SECRET};
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_never_hold_codes_tokens_secrets_or_addresses() {
    let captured = Captured::default();
    let sink = captured.clone();
    // The process's one global subscriber: the journeys running alongside log
    // into it too, which every assertion below allows (JSON lines, no secrets).
    shared::runtime::init_logging_to(move || sink.clone());

    let stack = TestStack::start().await;
    stack
        .seed(json!({
            "enterprises": [{"id": "ent-{id}", "name": "Acme", "default_admin": "alice-{id}"}],
            "accounts": [
                {"id": "alice-{id}", "username": "alice-{id}", "email": "alice-{id}@example.com", "enterprise_id": "ent-{id}", "role": "default_admin"},
                {"id": "bob-{id}", "email": "bob-{id}@example.com", "enterprise_id": "ent-{id}", "role": "member"}
            ]
        }))
        .await;
    let alice = stack.user("alice");
    alice.send_code("dismiss_enterprise").await.expect(202, "");
    let wrong_code = alice.code_from_mail().await;
    let wrong = if wrong_code == "000000" { "111111" } else { "000000" };
    alice.verify("dismiss_enterprise", wrong).await.expect(422, "code_incorrect");
    let code = alice.code_from_mail().await;
    let dismiss = alice.verify("dismiss_enterprise", &code).await;
    let dismiss_token = dismiss.str("verification_token").to_string();
    alice.dismiss(&dismiss_token).await.expect(200, "");
    alice.dismiss(&dismiss_token).await.expect(409, "enterprise_not_active");
    let delete_token = alice.token_for("delete_account").await;
    alice.delete(&delete_token).await.expect(200, "");

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = logs.lines().collect();
    assert!(lines.len() >= 8, "the journey is logged: {logs}");
    assert!(lines.iter().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "one JSON object a line");
    assert!(logs.contains("verification code sent") && logs.contains("account deleted"));
    for secret in [
        code.as_str(),
        dismiss_token.as_str(),
        delete_token.as_str(),
        SECRET,
        alice.email.as_str(),
        stack.email("bob").as_str(),
    ] {
        assert!(!logs.contains(secret), "a log line holds {secret}");
    }
    stack.finish().await;
}
