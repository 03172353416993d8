//! Anything a client can send gets an error of docs/api.md#errors and changes nothing:
//! no panic, no 500. Ends with a property test over generated bodies.

use journeys::harness::{Function, TestStack};
use serde_json::json;

async fn stack_with_alice() -> TestStack {
    let stack = TestStack::start().await;
    stack
        .seed(json!({"accounts": [{"id": "alice-{id}", "username": "alice-{id}", "email": "alice-{id}@example.com"}]}))
        .await;
    stack
}

#[tokio::test]
async fn malformed_requests_get_invalid_request_and_change_nothing() {
    let stack = stack_with_alice().await;
    let alice = stack.id("alice");
    let before = stack.snapshot().await;
    let oversized = format!(r#"{{"purpose":"delete_account","pad":"{}"}}"#, "x".repeat(70 * 1024));
    let cases: Vec<(Function, Option<&str>, &str)> = vec![
        (Function::SendCode, Some("{not json"), "invalid_request"),
        (Function::SendCode, Some(""), "invalid_request"),
        (Function::SendCode, None, "invalid_request"),
        (Function::SendCode, Some("[]"), "invalid_request"),
        (Function::SendCode, Some(r#"{"purpose": 7}"#), "invalid_request"),
        (Function::SendCode, Some(r#"{"purpose": "delete_account", "email": "evil@example.com"}"#), "invalid_request"),
        (Function::SendCode, Some(r#"{}"#), "invalid_request"),
        (Function::SendCode, Some(&oversized), "invalid_request"),
        (Function::SendCode, Some(r#"{"purpose": "format_disk"}"#), "unsupported_purpose"),
        (Function::VerifyCode, Some(r#"{"purpose": "delete_account", "code": "12a456"}"#), "invalid_request"),
        (Function::VerifyCode, Some(r#"{"purpose": "delete_account", "code": "1234567"}"#), "invalid_request"),
        (Function::VerifyCode, Some(r#"{"purpose": "delete_account", "code": 123456}"#), "invalid_request"),
        (Function::VerifyCode, Some(r#"{"purpose": "delete_account"}"#), "invalid_request"),
        (Function::VerifyCode, Some(r#"{"purpose": "nope", "code": "123456"}"#), "unsupported_purpose"),
        (Function::DeleteAccount, Some(r#"{"verification_token": "abc"}"#), "invalid_request"),
        (Function::DeleteAccount, Some(r#"{"verification_token": null}"#), "invalid_request"),
        (Function::DismissEnterprise, Some(r#"{"verification_token": "ZZ"}"#), "invalid_request"),
        (Function::DismissEnterprise, Some(r#"{"verification_token": "00", "account_id": "bob"}"#), "invalid_request"),
    ];
    for (function, body, code) in cases {
        let reply = stack.invoke(function, Some(&alice), "web-console", body).await;
        let status = if code == "unsupported_purpose" || code == "invalid_request" { 400 } else { 0 };
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{function:?} {:?}: {}",
            body.map(|b| &b[..b.len().min(60)]),
            reply.body
        );
    }
    // No identity: 401 on every function, whatever the body says.
    for function in Function::ALL {
        let reply =
            stack.invoke(function, None, "web-console", Some(r#"{"purpose":"delete_account","sub":"alice"}"#)).await;
        reply.expect(401, "unauthenticated");
    }
    assert_eq!(stack.snapshot().await, before);
    assert!(stack.mails_to(&stack.email("alice")).await.is_empty());
    stack.finish().await;
}

/// A small deterministic generator (xorshift), so a failure can be replayed from its seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[(self.next() % options.len() as u64) as usize]
    }
    fn value(&mut self, depth: u32) -> String {
        match self.next() % if depth > 2 { 6 } else { 8 } {
            0 => "null".into(),
            1 => self.pick(&["true", "false"]).into(),
            2 => format!("{}", self.next() as i64 % 10_000_000),
            3 => format!(
                "{:?}",
                self.pick(&[
                    "delete_account",
                    "dismiss_enterprise",
                    "handover_account",
                    "",
                    "DELETE_ACCOUNT",
                    "123456",
                    "12345",
                    "1234567",
                    "12a456",
                    "\u{0}",
                    "\u{202e}x",
                    "a\"b"
                ])
            ),
            4 => format!("\"{}\"", "9".repeat((self.next() % 80) as usize)),
            5 => format!("{:.3}", (self.next() % 1000) as f64 / 7.0),
            6 => format!("[{}]", (0..self.next() % 3).map(|_| self.value(depth + 1)).collect::<Vec<_>>().join(",")),
            _ => self.object(depth + 1),
        }
    }
    fn object(&mut self, depth: u32) -> String {
        let fields = (0..self.next() % 4)
            .map(|_| {
                format!(
                    "{:?}:{}",
                    self.pick(&["purpose", "code", "verification_token", "sub", "account_id", "x"]),
                    self.value(depth)
                )
            })
            .collect::<Vec<_>>();
        format!("{{{}}}", fields.join(","))
    }
    fn body(&mut self) -> String {
        let mut body = self.value(0);
        if self.next().is_multiple_of(5) && !body.is_empty() {
            let cut = (self.next() % body.len() as u64) as usize;
            body = body.chars().take(cut).collect(); // truncated JSON
        }
        body
    }
}

#[tokio::test]
async fn generated_bodies_never_break_a_function() {
    let stack = stack_with_alice().await;
    let alice = stack.id("alice");
    let before = stack.snapshot().await;
    let seed = std::env::var("PROPTEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1234_u64);
    let mut gen = Gen(seed);
    for i in 0..400 {
        let function =
            [Function::SendCode, Function::VerifyCode, Function::DismissEnterprise, Function::DeleteAccount][i % 4];
        let body = gen.body();
        let reply = stack.invoke(function, Some(&alice), "web-console", Some(&body)).await;
        assert!(reply.status < 500, "seed {seed} case {i}: {function:?} {body:?} -> {}", reply.body);
        assert!(reply.body.is_object(), "seed {seed} case {i}: not JSON");
        if reply.status >= 400 {
            let allowed = [
                "invalid_request",
                "unsupported_purpose",
                "code_expired",
                "token_invalid",
                "resend_too_soon",
                "enterprise_not_active",
            ];
            assert!(allowed.contains(&reply.code()), "seed {seed} case {i}: {body:?} -> {}", reply.body);
        }
    }
    // A generated send-code may legitimately have sent a code (202); anything else is unchanged.
    let sent = stack.mails_to(&stack.email("alice")).await.len();
    if sent == 0 {
        assert_eq!(stack.snapshot().await, before);
    }
    stack.finish().await;
}
