//! The second security round (docs/security.md): each gap a reviewer found, as the sequence of
//! requests that opened it, now closed. Each test failed on the `main` of before the round.

use journeys::harness::{Function, TestStack};
use serde_json::{json, Value};

/// Globex: gina its default administrator, erin a member with a phone; frank is who erin's job goes to.
fn globex() -> Value {
    json!({
        "enterprises": [{"id": "globex-{id}", "name": "Globex", "default_admin": "gina-{id}"}],
        "accounts": [
            {"id": "gina-{id}", "username": "gina-{id}", "email": "gina-{id}@example.com", "enterprise_id": "globex-{id}", "role": "default_admin"},
            {"id": "erin-{id}", "username": "erin-{id}", "email": "erin-{id}@example.com", "phone": "+8613800000005",
             "enterprise_id": "globex-{id}", "role": "member"},
            {"id": "dave-{id}", "username": "dave-{id}", "email": "dave-{id}@example.com", "role": "individual"}
        ]
    })
}

async fn seeded() -> TestStack {
    let stack = TestStack::start().await;
    stack.seed(globex()).await;
    stack
}

/// Gina, the default administrator, starts handing erin's account over to frank: the code frank received.
async fn gina_starts_handing_erin_over_to_frank(stack: &TestStack) -> String {
    let (gina, erin, frank) = (stack.user("gina"), stack.user("erin"), stack.user("frank"));
    let token = gina.token_for("handover_account").await;
    gina.hand_over(json!({"verification_token": token, "new_email": frank.email, "account_id": erin.id}))
        .await
        .expect(202, "");
    frank.code_from_mail().await
}

/// Gap 7: serde's derived struct also takes a sequence, field by field, so `["delete_account"]` mailed a code.
#[tokio::test]
async fn a_json_array_in_place_of_the_object_is_refused_on_every_route() {
    let stack = seeded().await;
    let dave = stack.user("dave");
    let before = stack.snapshot().await;
    let arrays: [(Function, &str); 7] = [
        (Function::SendCode, r#"["delete_account"]"#),
        (Function::VerifyCode, r#"["delete_account", "123456"]"#),
        (Function::DismissEnterprise, r#"["0123456789abcdef0123456789abcdef"]"#),
        (Function::DeleteAccount, r#"["0123456789abcdef0123456789abcdef"]"#),
        (Function::HandoverAccount, r#"["0123456789abcdef0123456789abcdef", "frank@example.com", null, null, null]"#),
        (Function::ConfirmHandover, r#"["123456", null]"#),
        (Function::CancelDeletion, r#"["0123456789abcdef0123456789abcdef"]"#),
    ];
    for (function, body) in arrays {
        let reply = stack.invoke(function, Some(&dave.id), "web-console", Some(body)).await;
        assert_eq!((reply.status, reply.code()), (400, "invalid_request"), "{function:?} {body}: {}", reply.body);
        assert_eq!(reply.str("detail"), "The body must be a JSON object.");
    }
    for scalar in [r#""delete_account""#, "7", "true", "null"] {
        stack
            .invoke(Function::SendCode, Some(&dave.id), "web-console", Some(scalar))
            .await
            .expect(400, "invalid_request");
    }
    assert_eq!(stack.snapshot().await, before, "no code, no attempt, nothing");
    assert!(dave.mails().await.is_empty(), "no code was mailed");
    stack.finish().await;
}

/// Gap 6: `x<frank@example.com>` and `frank@example.com(c)` may reach frank's mailbox while the
/// claims count them as other addresses; only a plain `local@domain` is an address.
#[tokio::test]
async fn an_address_that_is_not_plain_is_refused_and_mails_nothing() {
    let stack = seeded().await;
    let gina = stack.user("gina");
    let frank = stack.email("frank");
    let token = gina.token_for("handover_account").await;
    let before = stack.snapshot().await;
    for odd in
        [format!("x<{frank}>"), format!("{frank}(c)"), format!("\"frank\"@{}", &frank[frank.find('@').unwrap() + 1..])]
    {
        let reply = gina
            .hand_over(json!({"verification_token": token, "new_email": odd, "account_id": stack.id("erin")}))
            .await;
        reply.expect(400, "invalid_request");
        assert!(reply.str("detail").contains("email"), "{}", reply.body);
    }
    assert_eq!(stack.snapshot().await, before, "the token is not spent, no handover begins");
    assert!(stack.mails_to(&frank).await.is_empty());
    // The fixtures' sign-up follows the same rule.
    let fixtures = json!({"accounts": [{"id": stack.id("mallory"), "email": format!("x<{frank}>")}]}).to_string();
    let seeded = journeys::fixtures::Fixtures::parse(&fixtures).unwrap().load(&stack.app).await;
    assert!(seeded.is_err(), "a fixture with a display-name address is refused");
    stack.finish().await;
}

/// Gap 2: an identity provider keeps `auth_time` when it refreshes a token and gives it a new
/// `iat`; erin, gone, refreshed her sign-in of before the handover and was back in.
#[tokio::test]
async fn a_token_refreshed_from_a_sign_in_before_the_handover_is_out() {
    let stack = seeded().await;
    let (gina, erin, frank) = (stack.user("gina"), stack.user("erin"), stack.user("frank"));
    let signed_in = stack.app.clock.now() - 30;
    let code = gina_starts_handing_erin_over_to_frank(&stack).await;
    gina.confirm_handover(Some(&erin.id), &code).await.expect(200, "");
    stack.app.clock.advance(5);
    let mails_before = stack.mails_to(&frank.email).await.len();
    let before = stack.snapshot().await;

    // Refreshed after the handover: a new iat, the old auth_time. She may neither mail frank nor lock him out.
    let refreshed = || stack.user("erin").refreshed_from(signed_in);
    refreshed().send_code("delete_account").await.expect(401, "session_revoked");
    for _ in 0..3 {
        refreshed().verify("delete_account", "000000").await.expect(401, "session_revoked");
    }
    refreshed().check().await.expect(401, "session_revoked");
    assert_eq!(stack.snapshot().await, before, "no code, no failure counted");
    assert_eq!(stack.mails_to(&frank.email).await.len(), mails_before);

    // Frank, signed in after the handover, refreshes as often as he likes.
    let franks_sign_in = stack.app.clock.now() - 1;
    stack.user("erin").refreshed_from(franks_sign_in).check().await.expect(200, "");
    stack.finish().await;
}

/// Gap 2, the authorizer's part: a time claim that is not a time, or lies in the future, is no sign-in.
#[tokio::test]
async fn a_sign_in_time_that_is_malformed_or_in_the_future_is_refused() {
    let stack = seeded().await;
    let now = stack.app.clock.now();
    let dave = || stack.user("dave");
    let before = stack.snapshot().await;
    for malformed in [
        dave().with_time_claims(Some("soon"), None),
        dave().with_time_claims(Some("1764547200"), Some("yesterday")),
        dave().with_time_claims(Some("NaN"), None),
        dave().signed_in_at(now + 3600),
        dave().refreshed_from(now + 3600),
    ] {
        malformed.check().await.expect(401, "unauthenticated");
        malformed.send_code("delete_account").await.expect(401, "unauthenticated");
    }
    assert_eq!(stack.snapshot().await, before);
    assert!(stack.mails_to(&stack.email("dave")).await.is_empty());
    // Within the documented skew (a minute), a clock a little ahead of ours is no attack.
    dave().signed_in_at(now + 30).check().await.expect(200, "");
    dave().refreshed_from(now + 30).check().await.expect(200, "");
    stack.finish().await;
}

/// Gap 5: dismissal skipped a member in its grace period, who then cancelled and came back an
/// `admin` of an enterprise that no longer exists, able to hand over a former colleague.
#[tokio::test]
async fn an_admin_who_cancels_after_the_dismissal_comes_back_an_individual() {
    let stack = TestStack::with(|c| c.deletion_grace_seconds = 3600).await;
    stack
        .seed(json!({
            "enterprises": [{"id": "globex-{id}", "name": "Globex", "default_admin": "gina-{id}"}],
            "accounts": [
                {"id": "gina-{id}", "email": "gina-{id}@example.com", "enterprise_id": "globex-{id}", "role": "default_admin"},
                {"id": "harry-{id}", "email": "harry-{id}@example.com", "enterprise_id": "globex-{id}", "role": "admin"},
                {"id": "erin-{id}", "email": "erin-{id}@example.com", "enterprise_id": "globex-{id}", "role": "member"}
            ]
        }))
        .await;
    let (gina, harry, erin) = (stack.user("gina"), stack.user("harry"), stack.user("erin"));
    let token = harry.token_for("delete_account").await;
    harry.delete(&token).await.expect(202, "");
    let token = gina.token_for("dismiss_enterprise").await;
    gina.dismiss(&token).await.expect(200, "");
    let token = harry.token_for("cancel_deletion").await;
    harry.cancel_deletion(&token).await.expect(200, "");

    let profile = stack.profile(&harry.id).await.expect("harry is back");
    let text = |name: &str| profile.get(name).and_then(|v| v.as_s().ok()).cloned();
    assert_eq!(text("status").as_deref(), Some("active"));
    assert_eq!(text("role").as_deref(), Some("individual"), "no role in a dismissed enterprise");
    assert_eq!(text("enterprise_id"), None);
    assert!(stack.item(&format!("ENTERPRISE#{}", stack.id("globex")), &format!("MEMBER#{}", harry.id)).await.is_none());
    assert!(
        harry.mails().await.iter().any(|m| m.subject == "Enterprise Globex was dismissed"),
        "harry is told of the dismissal like every other member"
    );

    // As an individual he acts on no former colleague.
    let token = harry.token_for("handover_account").await;
    let before = stack.snapshot().await;
    harry
        .hand_over(json!({"verification_token": token, "new_email": stack.email("mallory"), "account_id": erin.id}))
        .await
        .expect(403, "not_authorized");
    assert_eq!(stack.snapshot().await, before);
    stack.finish().await;
}

fn account(stack: &TestStack, base: &str) -> shared::model::ids::AccountId {
    shared::model::ids::AccountId::parse(&stack.id(base)).unwrap()
}

/// Gap 1, held open: the handover read erin's profile and credentials, then committed revoking
/// only what it read; what she linked in between survived it, a security email among them.
#[tokio::test]
async fn nothing_linked_between_the_handovers_read_and_its_commit_survives_it() {
    use shared::handover::LinkError;
    use shared::model::handover::contacts::ContactSlot;
    use shared::model::handover::credentials::Credential;
    let stack = seeded().await;
    let (gina, erin, frank) = (stack.user("gina"), stack.user("erin"), stack.user("frank"));
    let code = gina_starts_handing_erin_over_to_frank(&stack).await;

    let mut window = stack.app.failpoints.hold("handover.read");
    let sneak_in = async {
        window.arrived().await;
        let erin = account(&stack, "erin");
        for credential in [
            Credential::Mfa { id: "sneaky".into(), label: Some("erin's own phone".into()) },
            Credential::ThirdPartyLogin { provider: "github".into(), subject: "erin-sneaky".into() },
            Credential::AccessKey { id: "AKIASNEAKY".into(), active: true },
        ] {
            stack.app.link_credential(&erin, &credential).await.expect("a credential may be linked while pending");
        }
        let security = ContactSlot::parse("security_email").unwrap();
        let set = stack.app.set_contacts(&erin, &[(security, stack.email("erin.recovery"))]).await;
        assert!(matches!(set, Err(LinkError::AccountNotActive)), "no contact changes while pending: {set:?}");
        window.release();
    };
    let (confirmed, ()) = tokio::join!(gina.confirm_handover(Some(&erin.id), &code), sneak_in);
    confirmed.expect(200, "");

    let pk = format!("ACCOUNT#{}", erin.id);
    assert!(stack.item(&pk, "MFA#sneaky").await.is_none(), "the authenticator went with the handover");
    assert!(stack.item(&pk, "LOGIN#github#erin-sneaky").await.is_none(), "the login went with the handover");
    let key = stack.item(&pk, "ACCESS_KEY#AKIASNEAKY").await.expect("keys are deactivated, not deleted");
    assert_eq!(key["state"].as_s().unwrap(), "Inactive");
    let profile = stack.profile(&erin.id).await.unwrap();
    assert_eq!(profile["email"].as_s().unwrap(), &frank.email);
    assert!(!profile.contains_key("security_email"));
    assert!(stack.mails_to(&stack.email("erin.recovery")).await.is_empty());
    stack.finish().await;
}

/// Gap 1, as real parallel requests: erin links credentials as fast as she can while gina
/// confirms. A link that committed before the handover did (the profile, read after the link,
/// shows no handover yet) must not outlive it; one after it is the new holder's to keep.
#[tokio::test]
async fn credentials_linked_in_parallel_with_the_confirmation_never_outlive_it() {
    use shared::model::handover::credentials::Credential;
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut raced = 0;
    for round in 0..6 {
        let stack = seeded().await;
        let (gina, erin) = (stack.user("gina"), stack.user("erin"));
        let code = gina_starts_handing_erin_over_to_frank(&stack).await;
        let confirmed = AtomicBool::new(false);
        let handed_over =
            || async { stack.profile(&erin.id).await.is_some_and(|p| p.contains_key("last_handover_id")) };
        let linker = async {
            let (id, mut before_commit) = (account(&stack, "erin"), Vec::new());
            for i in 0.. {
                if confirmed.load(Ordering::SeqCst) || handed_over().await {
                    break;
                }
                let credential = Credential::Mfa { id: format!("r{round}-{i}"), label: None };
                let linked = stack.app.link_credential(&id, &credential).await.is_ok();
                if linked && !handed_over().await {
                    before_commit.push(format!("MFA#r{round}-{i}"));
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            before_commit
        };
        let confirm = async {
            let reply = gina.confirm_handover(Some(&erin.id), &code).await;
            confirmed.store(true, Ordering::SeqCst);
            reply
        };
        let (reply, before_commit) = tokio::join!(confirm, linker);
        reply.expect(200, "");
        raced += before_commit.len();
        for sk in before_commit {
            assert!(stack.item(&format!("ACCOUNT#{}", erin.id), &sk).await.is_none(), "{sk} outlived the handover");
        }
        stack.finish().await;
    }
    assert!(raced > 0, "the linker never got a credential in before a commit: nothing was raced");
}
