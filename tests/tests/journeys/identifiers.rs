//! One identifier rule, as sign-up compares them: an email or username is one
//! claim whatever its Unicode encoding or case, and one with an invisible
//! character is refused as malformed, by seeding and by every request.

use journeys::fixtures::Fixtures;
use journeys::harness::TestStack;
use serde_json::json;

async fn load(stack: &TestStack, fixtures: serde_json::Value) -> Result<(), String> {
    let text = fixtures.to_string();
    Fixtures::parse(&text).map_err(|e| e.to_string())?.load(&stack.app).await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn zoe_in_nfc_in_nfd_or_in_capitals_is_one_mailbox() {
    let stack = TestStack::start().await;
    let suffix = stack.id("x");
    let nfc = format!("zo\u{00EB}-{suffix}@example.com");
    load(&stack, json!({"accounts": [{"id": format!("zoe-{suffix}"), "email": nfc, "role": "individual"}]}))
        .await
        .unwrap();
    let before = stack.snapshot().await;
    for other in [format!("zoe\u{0308}-{suffix}@example.com"), format!("ZO\u{00CB}-{suffix}@EXAMPLE.COM")] {
        let refused =
            load(&stack, json!({"accounts": [{"id": format!("zed-{suffix}"), "email": other, "role": "individual"}]}))
                .await;
        assert!(refused.is_err_and(|e| e.contains("email")), "a second claim on the same mailbox");
    }
    assert_eq!(stack.snapshot().await, before, "no second account, no second claim");
    let refused = load(
        &stack,
        json!({"accounts": [{"id": format!("zed-{suffix}"), "username": format!("ZO\u{00CB}-{suffix}"), "role": "individual"},
                            {"id": format!("zia-{suffix}"), "username": format!("zoe\u{0308}-{suffix}"), "role": "individual"}]}),
    )
    .await;
    assert!(refused.is_err_and(|e| e.contains("username")), "usernames follow the same rule");
    let profile = stack.profile(&format!("zoe-{suffix}")).await.unwrap();
    assert_eq!(profile["email"].as_s().unwrap(), &format!("zo\u{00EB}-{suffix}@example.com"));
    stack.finish().await;
}

#[tokio::test]
async fn an_address_with_an_invisible_character_is_malformed() {
    let stack = TestStack::start().await;
    let suffix = stack.id("x");
    let before = stack.snapshot().await;
    for invisible in ["\u{200B}", "\u{00AD}", "\u{FEFF}", "\u{2066}"] {
        let email = format!("zo{invisible}e-{suffix}@example.com");
        let refused =
            load(&stack, json!({"accounts": [{"id": format!("zoe-{suffix}"), "email": email, "role": "individual"}]}))
                .await;
        assert!(refused.is_err_and(|e| e.contains("invisible")), "seeding refuses {invisible:?}");
    }
    assert_eq!(stack.snapshot().await, before, "nothing seeded");

    // A request naming one: 400, nothing spent.
    stack
        .seed(json!({"accounts": [{"id": "erin-{id}", "email": "erin-{id}@example.com", "role": "individual"}]}))
        .await;
    let erin = stack.user("erin");
    let token = erin.token_for("handover_account").await;
    let before = stack.snapshot().await;
    let reply = erin
        .hand_over(json!({"verification_token": token, "new_email": format!("fr\u{200B}ank-{suffix}@example.com")}))
        .await;
    reply.expect(400, "invalid_request");
    assert_eq!(stack.snapshot().await, before, "the token is not spent");
    stack.finish().await;
}

#[tokio::test]
async fn a_two_letter_mailbox_is_never_shown_whole() {
    let stack = TestStack::start().await;
    stack.seed(json!({"accounts": [{"id": "al-{id}", "email": "al@{id}.example.com", "role": "individual"}]})).await;
    let reply = stack.user("al").send_code("delete_account").await;
    reply.expect(202, "");
    assert_eq!(reply.str("destination"), format!("a***@{}.example.com", stack.id("").trim_start_matches('-')));
    stack.finish().await;
}
