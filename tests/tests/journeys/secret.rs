//! The code secret is read from Secrets Manager at start-up (moto serves it
//! locally), never from the function configuration; rotating it needs no
//! redeploy and loses no live code or token.

use journeys::harness::{Function, TestStack};
use journeys::localstack;
use serde_json::json;

const K1: &str = "rotation-test-key-one-0123456789abcdef";
const K2: &str = "rotation-test-key-two-0123456789abcdef";
/// Long enough that the code and token outlive the settling of the new key.
const SETTINGS: [(&str, &str); 2] = [("CODE_TTL_SECONDS", "3600"), ("TOKEN_TTL_SECONDS", "3600")];

#[tokio::test]
async fn a_rotation_keeps_every_live_code_and_token_good() {
    let sdk = localstack::sdk_config().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let namer = TestStack::start().await;
    let secret_id = format!("code-secret-{}", namer.id("rotation"));
    namer.finish().await;
    localstack::put_code_secret(&secrets, &secret_id, K1).await.unwrap();

    // Carol, on an instance started before the rotation: a verified token and a code in her mailbox.
    let stack = TestStack::reading_secret(&secret_id, &SETTINGS).await;
    assert_eq!(stack.app.secrets.current().unwrap().signing.expose(), K1.as_bytes());
    stack
        .seed(json!({"accounts": [{"id": "carol-{id}", "email": "carol-{id}@example.com", "role": "individual"}]}))
        .await;
    let carol = stack.user("carol");
    let delete_token = carol.token_for("delete_account").await;
    carol.send_code("handover_account").await.expect(202, "");
    let code = carol.code_from_mail().await;

    // The secret rotates; a new instance reads it, and once the new key has settled it signs with it.
    localstack::put_code_secret(&secrets, &secret_id, K2).await.unwrap();
    let fresh = stack.app_reading_secret(&secret_id, &SETTINGS).await;
    assert_eq!(fresh.secrets.current().unwrap().signing.expose(), K1.as_bytes(), "a new key only checks at first");
    fresh.clock.advance(shared::secrets::SETTLE_SECONDS + 1);
    fresh.secrets.refresh_if_stale(fresh.clock.now()).await;
    let keys = fresh.secrets.current().unwrap();
    assert_eq!(keys.signing.expose(), K2.as_bytes());
    assert_eq!(keys.checking.len(), 2);

    // On the new instance: the code and the token from before the rotation are good.
    let verified = stack
        .invoke_on(&fresh, Function::VerifyCode, &carol.id, json!({"purpose": "handover_account", "code": code}))
        .await;
    verified.expect(200, "");
    let deleted =
        stack.invoke_on(&fresh, Function::DeleteAccount, &carol.id, json!({"verification_token": delete_token})).await;
    deleted.expect(200, "");
    assert!(stack.profile(&carol.id).await.is_none(), "deleted with a token issued under the previous key");
    stack.finish().await;
}

#[test]
fn the_function_configuration_names_the_secret_never_its_value() {
    let template = std::fs::read_to_string(localstack::template_path()).unwrap();
    assert!(!template.contains("CODE_SECRET:"), "no CODE_SECRET in any function's environment");
    assert!(!template.contains("resolve:secretsmanager"), "no value resolved into the configuration");
    assert!(template.contains("CODE_SECRET_ID"));
}

/// Each function builds what it uses (`shared::Uses`): check-prerequisites, on AWS configured with
/// the secret's id only, reads no secret and builds no SES client, and answers all the same; a
/// function that hashes reads the secret at start and stops there, named, if it cannot.
#[tokio::test]
async fn a_function_that_hashes_nothing_reads_no_secret_and_one_that_mails_nothing_builds_no_ses_client() {
    let stack = TestStack::start().await;
    stack
        .seed(json!({"accounts": [{"id": "dave-{id}", "email": "dave-{id}@example.com", "role": "individual"}]}))
        .await;
    // The secret does not exist: a read of it would fail the start.
    let settings = [
        ("TABLE_NAME", stack.table.clone()),
        ("SENDER_EMAIL", "no-reply@example.com".to_string()),
        ("CODE_SECRET_ID", stack.id("never-created")),
    ];
    let lookup = |name: &str| settings.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
    let start =
        |uses| async move { shared::App::start_with(&mut shared::startup::Startup::begin(), uses, lookup).await };

    let checker = start(check_prerequisites::USES).await.expect("no secret read: nothing to fail");
    assert!(checker.secrets.current().is_err(), "no key held");
    let to = shared::model::ids::EmailAddress::parse("dave@example.com").unwrap();
    let mailed = checker
        .mailer
        .send_letter(&to, Default::default(), shared::locale::mails::deletion_notice(Default::default(), "r"))
        .await;
    assert!(matches!(mailed, Err(shared::mail::MailError::NoClient)), "{mailed:?}");
    stack.invoke_on(&checker, Function::CheckPrerequisites, &stack.id("dave"), json!(null)).await.expect(200, "");

    let failed = start(send_code::USES).await.err().expect("send-code hashes codes: it must read the secret");
    assert!(failed.to_string().starts_with("CODE_SECRET_ID is malformed: the secret could not be read"), "{failed}");
    assert!(stack.mails_to(&stack.email("dave")).await.is_empty());
    stack.finish().await;
}
