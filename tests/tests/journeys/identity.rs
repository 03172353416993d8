//! The sign-in follows the account (contract §9): with a user pool, a deletion signs the pool
//! user out when it is accepted and deletes it when it completes, a handover gives the pool user
//! to the designated person, and sign-up goes through the bundle's rules. Every assertion on the
//! pool reads it as the pool reports it (AdminGetUser, InitiateAuth), not the bundle's records.

use journeys::cognito::Tokens;
use journeys::faults::{Fault, Rule};
use journeys::harness::TestStack;
use journeys::pool::PoolStack;
use serde_json::json;
use std::time::{Duration, Instant};

const PASSWORD: &str = "Passw0rd-journeys";

async fn cleanup(stack: &TestStack) -> shared::cleanup::CleanupSummary {
    stack.app.run_cleanup(Instant::now() + Duration::from_secs(60)).await
}

/// A person signs up (and confirms) in the pool as any Cognito client does; their account id is the `sub`.
async fn sign_up(p: &PoolStack, base: &str, phone: Option<&str>) -> (String, String, String) {
    let (username, email) = (p.stack.id(base), p.stack.email(base));
    let mut attributes = vec![("email", email.as_str())];
    attributes.extend(phone.map(|phone| ("phone_number", phone)));
    let sub = p.pool.sign_up(&username, PASSWORD, &attributes).await.expect("the sign-up is accepted");
    (sub, username, email)
}

#[tokio::test]
async fn confirmation_registers_the_account_and_a_deletion_deletes_the_pool_user() {
    let p = PoolStack::start(|_| {}).await;
    let (sub, username, email) = sign_up(&p, "ivy", Some("+8613800000031")).await;
    // The pool's user and the bundle's account are one: the account id is the pool user's sub.
    let user = p.pool.user(&username).await.unwrap();
    assert_eq!((user.status.as_str(), user.attributes["sub"].as_str()), ("CONFIRMED", sub.as_str()));
    let ivy = p.stack.user_by_id(&sub, &email);
    let checked = ivy.check().await;
    checked.expect(200, "");
    assert_eq!(checked.str("account_id"), sub);
    // By user name: moto resolves no sign-in alias (Cognito also takes the email and phone here).
    let signed_in = p.pool.sign_in(&username, PASSWORD).await.expect("signs in");
    let refresh = signed_in.refresh.expect("a refresh token");

    let deleted = ivy.delete(&ivy.token_for("delete_account").await).await;
    deleted.expect(200, "");
    assert_eq!(p.pool.user(&username).await.unwrap_err(), "UserNotFoundException");
    assert!(p.pool.sign_in(&username, PASSWORD).await.is_err(), "a deleted user cannot sign in");
    assert_eq!(p.pool.refresh(&refresh).await.unwrap_err(), "NotAuthorizedException");
    // The user name, email and phone sign up again at once: a new user, a new account.
    let (again, _, _) = sign_up(&p, "ivy", Some("+8613800000031")).await;
    assert_ne!(again, sub);
    p.stack.user_by_id(&again, &email).check().await.expect(200, "");
    p.stack.finish().await;
}

#[tokio::test]
async fn a_scheduled_deletion_signs_out_keeps_the_sign_in_through_a_cancellation_and_deletes_at_the_purge() {
    let p = PoolStack::start(|c| {
        c.deletion_grace_seconds = 3600;
        c.deletion_reminder_seconds = 0;
    })
    .await;
    let (sub, username, email) = sign_up(&p, "jay", None).await;
    let jay = p.stack.user_by_id(&sub, &email);
    let session = p.pool.sign_in(&username, PASSWORD).await.unwrap();

    jay.delete(&jay.token_for("delete_account").await).await.expect(202, "");
    // Signed out everywhere: the refresh token is refused; the password still signs in, to cancel.
    assert_eq!(p.pool.refresh(session.refresh.as_deref().unwrap()).await.unwrap_err(), "NotAuthorizedException");
    let during = p.pool.sign_in(&username, PASSWORD).await.expect("a sign-in in the grace period works");
    jay.cancel_deletion(&jay.token_for("cancel_deletion").await).await.expect(200, "");
    assert_eq!(p.pool.user(&username).await.unwrap().status, "CONFIRMED");
    assert!(p.pool.refresh(during.refresh.as_deref().unwrap()).await.is_ok(), "a cancellation keeps the sign-in");

    p.stack.app.clock.advance(61);
    jay.delete(&jay.token_for("delete_account").await).await.expect(202, "");
    p.stack.app.clock.advance(3601);
    assert_eq!(cleanup(&p.stack).await.deletions_finished, 1);
    assert_eq!(p.pool.user(&username).await.unwrap_err(), "UserNotFoundException");
    p.stack.finish().await;
}

#[tokio::test]
async fn sign_up_is_refused_for_an_identifier_a_live_account_holds_or_a_quarantine_keeps() {
    let p = PoolStack::start(|c| c.identifier_quarantine_seconds = 3600).await;
    let (sub, username, email) = sign_up(&p, "kim", Some("+8613800000032")).await;
    let refused = |message: &str| format!("UserLambdaValidationException: PreSignUp failed with error {message}");
    let other = p.stack.id("other");
    let cases = [
        (username.to_uppercase(), vec![("email", p.stack.email("other"))], "This user name is already in use."),
        (other.clone(), vec![("email", email.to_uppercase())], "This email address is already in use."),
        (other.clone(), vec![("phone_number", "+8613800000032".to_string())], "This phone number is already in use."),
    ];
    for (name, attributes, message) in &cases {
        let attributes: Vec<(&str, &str)> = attributes.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(p.pool.sign_up(name, PASSWORD, &attributes).await.unwrap_err(), refused(message));
        assert_eq!(p.pool.user(name).await.unwrap_err(), "UserNotFoundException", "nothing in the pool for {name}");
    }
    // An administrator's AdminCreateUser goes through the same trigger, as on Cognito.
    let created = p
        .pool
        .client
        .admin_create_user()
        .user_pool_id(&p.pool.pool_id)
        .username(&other)
        .user_attributes(
            aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
                .name("email")
                .value(&email)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(journeys::cognito::code_of(&created), "UserLambdaValidationException");
    let kim = p.stack.user_by_id(&sub, &email);
    kim.delete(&kim.token_for("delete_account").await).await.expect(200, "");
    assert_eq!(p.pool.user(&username).await.unwrap_err(), "UserNotFoundException");
    // Quarantined: refused, saying from when; once it has passed, taken again.
    let quarantined = p.pool.sign_up(&username, PASSWORD, &[("email", &email)]).await.unwrap_err();
    assert!(
        quarantined.contains("This user name belonged to a deleted account and can be used again from"),
        "{quarantined}"
    );
    p.stack.app.clock.advance(3601);
    let (again, _, _) = sign_up(&p, "kim", None).await;
    assert_eq!(p.pool.user(&username).await.unwrap().attributes["sub"], again);
    p.stack.finish().await;
}

/// Erin signs up and in, with SMS MFA on; she hands her account over to Frank, whose code confirms it.
async fn erin_hands_over(p: &PoolStack) -> (String, Tokens, serde_json::Value) {
    let (sub, username, email) = sign_up(p, "erin", Some("+8613800000033")).await;
    let session = p.pool.sign_in(&username, PASSWORD).await.unwrap();
    p.pool
        .client
        .admin_set_user_mfa_preference()
        .user_pool_id(&p.pool.pool_id)
        .username(&username)
        .sms_mfa_settings(
            aws_sdk_cognitoidentityprovider::types::SmsMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let erin = p.stack.user_by_id(&sub, &email);
    let frank = p.stack.user("frank");
    let body = json!({"verification_token": erin.token_for("handover_account").await, "new_email": frank.email,
                      "new_phone": "+8613800000034", "new_name": "Frank Example"});
    erin.hand_over(body).await.expect(202, "");
    let confirmed = erin.confirm_handover(None, &frank.code_from_mail().await).await;
    confirmed.expect(200, "");
    (username, session, confirmed.body)
}

#[tokio::test]
async fn a_handover_gives_the_pool_user_to_the_designated_person() {
    let p = PoolStack::start(|_| {}).await;
    let (username, session, confirmed) = erin_hands_over(&p).await;
    let line =
        confirmed["checklist"].as_array().unwrap().iter().find(|l| l["item"].as_str().unwrap().contains("sign-in"));
    let line = line.expect("the checklist says what the pool did");
    assert!(line["done"].as_str().unwrap().starts_with("in the user pool: email (verified)"), "{line}");
    assert_pool_handed_over(&p, &username, &session).await;
    p.stack.finish().await;
}

/// What the pool reports after Erin's handover: Frank's contacts, Erin's sessions and password refused, MFA off.
async fn assert_pool_handed_over(p: &PoolStack, username: &str, session: &Tokens) {
    let user = p.pool.user(username).await.unwrap();
    let frank = p.stack.user("frank");
    let attribute = |name: &str| user.attributes.get(name).map(String::as_str);
    assert_eq!(
        (attribute("email"), attribute("email_verified"), attribute("phone_number"), attribute("name")),
        (Some(frank.email.as_str()), Some("true"), Some("+8613800000034"), Some("Frank Example"))
    );
    assert_eq!(user.status, "RESET_REQUIRED", "a password reset is required");
    assert!(user.mfa_preferred.as_deref().unwrap_or_default().is_empty(), "MFA off: {:?}", user.mfa_preferred);
    assert_eq!(p.pool.refresh(session.refresh.as_deref().unwrap()).await.unwrap_err(), "NotAuthorizedException");
    assert!(p.pool.sign_in(username, PASSWORD).await.is_err(), "the leaving employee's password no longer signs in");
}

/// Each of the pool's steps faulted in turn, on every attempt the SDK makes: the request still
/// answers (the step is left to the job), and once the pool answers again cleanup reaches the
/// end state of the fault-free journey.
#[tokio::test]
async fn each_pool_step_faulted_in_turn_reaches_the_fault_free_end_state() {
    let mut tally = Vec::new();
    for operation in ["AdminUserGlobalSignOut", "AdminDeleteUser"] {
        let p = PoolStack::with_faults(|_| {}).await;
        let proxy = p.faults.as_ref().unwrap();
        let (sub, username, email) = sign_up(&p, "liz", None).await;
        let liz = p.stack.user_by_id(&sub, &email);
        let token = liz.token_for("delete_account").await;
        proxy.inject(Rule { operation: operation.into(), skip: 0, times: usize::MAX, fault: Fault::ServerError });
        let answer = liz.delete(&token).await;
        answer.expect(202, "");
        assert_eq!(answer.str("status"), "deleting", "{operation}");
        assert!(p.pool.user(&username).await.is_ok(), "{operation}: the user is left to the job");
        proxy.heal();
        assert_eq!(cleanup(&p.stack).await.deletions_finished, 1, "{operation}");
        assert_eq!(p.pool.user(&username).await.unwrap_err(), "UserNotFoundException", "{operation}");
        liz.check().await.expect(410, "account_deleted");
        p.stack.finish().await;
        tally.push(("deletion", operation, proxy.injected()));
    }
    // A scheduled deletion whose sign-out fails: accepted all the same; cleanup signs out, then purges at its time.
    {
        let p = PoolStack::with_faults(|c| {
            c.deletion_grace_seconds = 3600;
            c.deletion_reminder_seconds = 0;
        })
        .await;
        let proxy = p.faults.as_ref().unwrap();
        let (sub, username, email) = sign_up(&p, "max", None).await;
        let session = p.pool.sign_in(&username, PASSWORD).await.unwrap();
        let max = p.stack.user_by_id(&sub, &email);
        let token = max.token_for("delete_account").await;
        proxy.inject(Rule {
            operation: "AdminUserGlobalSignOut".into(),
            skip: 0,
            times: usize::MAX,
            fault: Fault::ServerError,
        });
        let answer = max.delete(&token).await;
        answer.expect(202, "");
        assert_eq!(answer.str("status"), "deletion_scheduled");
        proxy.heal();
        let summary = cleanup(&p.stack).await;
        assert_eq!((summary.deletions_finished, summary.reminders_sent), (0, 0), "signed out, not purged");
        assert_eq!(p.pool.refresh(session.refresh.as_deref().unwrap()).await.unwrap_err(), "NotAuthorizedException");
        p.stack.app.clock.advance(3601);
        assert_eq!(cleanup(&p.stack).await.deletions_finished, 1);
        assert_eq!(p.pool.user(&username).await.unwrap_err(), "UserNotFoundException");
        p.stack.finish().await;
        tally.push(("scheduled deletion", "AdminUserGlobalSignOut", proxy.injected()));
    }
    for operation in [
        "AdminUpdateUserAttributes",
        "AdminSetUserPassword",
        "AdminResetUserPassword",
        "AdminUserGlobalSignOut",
        "AdminSetUserMFAPreference",
        "AdminGetUser",
    ] {
        let p = PoolStack::with_faults(|_| {}).await;
        let proxy = p.faults.as_ref().unwrap();
        proxy.inject(Rule { operation: operation.into(), skip: 0, times: usize::MAX, fault: Fault::ServerError });
        let (username, session, confirmed) = erin_hands_over(&p).await;
        assert_eq!(confirmed["status"], "handed_over", "{operation}: the handover committed in the table");
        let line =
            confirmed["checklist"].as_array().unwrap().iter().find(|l| l["item"].as_str().unwrap().contains("sign-in"));
        assert!(line.unwrap()["done"].as_str().unwrap().starts_with("under way"), "{operation}: {line:?}");
        proxy.heal();
        assert_eq!(cleanup(&p.stack).await.handovers_finished, 1, "{operation}");
        assert_pool_handed_over(&p, &username, &session).await;
        p.stack.finish().await;
        tally.push(("handover", operation, proxy.injected()));
    }
    let faulted: Vec<String> = tally.iter().map(|(job, op, n)| format!("{job}/{op}: {n} requests faulted")).collect();
    eprintln!(
        "pool fault matrix: {} steps faulted in turn, each reached the fault-free end state\n{}",
        tally.len(),
        faulted.join("\n")
    );
    assert!(tally.iter().all(|(_, _, n)| *n >= 1), "every step was faulted: {faulted:?}");
}

/// The IAM audit with a user pool: each pool call a function makes is an action its role may take
/// on the pool, each DynamoDB item it touches one its role grants (sign-up-triggers' included),
/// and a function that never calls the pool makes no call there.
#[tokio::test]
async fn each_function_calls_the_pool_only_as_its_role_grants() {
    use crate::iam::{template, Audit};
    use journeys::iam::{dynamodb_grants, pool_grants};
    let p = PoolStack::audited(|_| {}).await;
    let (pool, dynamodb) = (p.faults.as_ref().unwrap(), p.dynamodb.as_ref().unwrap());
    let template = template();
    let mut audit = Audit::default();
    let mut pool_calls: Vec<(&str, String)> = Vec::new();
    let mut check = |function: &'static str, audit: &mut Audit| {
        audit.judge(function, &dynamodb_grants(&template, function), &dynamodb.accesses());
        let granted = pool_grants(&template, function);
        for operation in pool.operations() {
            let action = format!("cognito-idp:{operation}");
            assert!(
                granted.contains(&action),
                "{function} called {operation}, which its role does not grant: {granted:?}"
            );
            pool_calls.push((function, operation));
        }
        dynamodb.clear_log();
        pool.clear_log();
    };
    let (sub, username, email) = sign_up(&p, "mia", Some("+8613800000035")).await;
    check("sign-up-triggers", &mut audit);
    let mia = p.stack.user_by_id(&sub, &email);
    mia.send_code("handover_account").await.expect(202, "");
    check("send-code", &mut audit);
    let code = mia.code_from_mail().await;
    let verified = mia.verify("handover_account", &code).await;
    check("verify-code", &mut audit);
    let frank = p.stack.user("frank");
    let body = json!({"verification_token": verified.str("verification_token"), "new_email": frank.email});
    mia.hand_over(body).await.expect(202, "");
    check("handover-account", &mut audit);
    mia.confirm_handover(None, &frank.code_from_mail().await).await.expect(200, "");
    check("handover-account", &mut audit);

    let (sub, username_nia, email) = sign_up(&p, "nia", None).await;
    check("sign-up-triggers", &mut audit);
    let nia = p.stack.user_by_id(&sub, &email);
    let token = nia.token_for("delete_account").await;
    dynamodb.clear_log();
    pool.clear_log();
    // The purge's pool step fails: cleanup finishes it.
    pool.inject(Rule { operation: "AdminDeleteUser".into(), skip: 0, times: usize::MAX, fault: Fault::ServerError });
    nia.delete(&token).await.expect(202, "");
    check("delete-account", &mut audit);
    pool.heal();
    assert_eq!(cleanup(&p.stack).await.deletions_finished, 1);
    check("cleanup", &mut audit);
    audit.assert_all_granted();
    let called: std::collections::BTreeSet<String> = pool_calls.iter().map(|(f, op)| format!("{f}: {op}")).collect();
    eprintln!("pool calls seen: {called:?}");
    for expected in
        ["handover-account: AdminSetUserPassword", "delete-account: AdminUserGlobalSignOut", "cleanup: AdminDeleteUser"]
    {
        assert!(called.contains(expected), "{expected} not seen: {called:?}");
    }
    assert!(!pool_calls.iter().any(|(f, _)| ["send-code", "verify-code", "sign-up-triggers"].contains(f)));
    assert_eq!(p.pool.user(&username_nia).await.unwrap_err(), "UserNotFoundException");
    assert_eq!(p.pool.user(&username).await.unwrap().attributes["email"], frank.email);
    p.stack.finish().await;
}

/// Only the functions that call the pool build a Cognito client at start, and they are the ones the template lets call it.
#[test]
fn only_the_functions_that_call_the_pool_build_its_client() {
    use journeys::iam::pool_grants;
    let template = crate::iam::template();
    let uses = [
        ("send-code", send_code::USES),
        ("verify-code", verify_code::USES),
        ("check-prerequisites", check_prerequisites::USES),
        ("dismiss-enterprise", dismiss_enterprise::USES),
        ("delete-account", delete_account::USES),
        ("cleanup", cleanup::USES),
        ("handover-account", handover_account::USES),
        ("cancel-deletion", cancel_deletion::USES),
        ("erasure-ledger", erasure_ledger::USES),
        ("sign-up-triggers", sign_up_triggers::USES),
    ];
    let building: Vec<&str> = uses.iter().filter(|(_, u)| u.pool).map(|(f, _)| *f).collect();
    assert_eq!(building, ["delete-account", "cleanup", "handover-account"]);
    for (function, u) in uses {
        assert_eq!(!pool_grants(&template, function).is_empty(), u.pool, "{function}: its Uses and its role disagree");
    }
}

#[tokio::test]
async fn a_handover_without_a_new_phone_takes_the_leaving_employees_phone_off_the_pool_user() {
    let p = PoolStack::start(|_| {}).await;
    for (base, phone) in [("oli", Some("+8613800000036")), ("pia", None)] {
        let (sub, username, email) = sign_up(&p, base, phone).await;
        let holder = p.stack.user_by_id(&sub, &email);
        let new = p.stack.user(&format!("{base}-new"));
        let body = json!({"verification_token": holder.token_for("handover_account").await, "new_email": new.email});
        holder.hand_over(body).await.expect(202, "");
        holder.confirm_handover(None, &new.code_from_mail().await).await.expect(200, "");
        let user = p.pool.user(&username).await.unwrap();
        assert_eq!(user.attributes.get("phone_number"), None, "{base}");
        assert_eq!(
            (user.attributes["email"].as_str(), user.status.as_str()),
            (new.email.as_str(), "RESET_REQUIRED"),
            "{base}"
        );
    }
    p.stack.finish().await;
}

/// A crash after any pool call and before its step is recorded: cleanup tells the pool again (a user
/// already gone counts as done) and reaches the end state of an uninterrupted run.
#[tokio::test]
async fn a_crash_after_any_pool_call_is_finished_by_cleanup() {
    for point in ["deletion.signed_out", "deletion.pool_user_deleted"] {
        let p = PoolStack::start(|_| {}).await;
        let (sub, username, email) = sign_up(&p, "ned", None).await;
        let ned = p.stack.user_by_id(&sub, &email);
        let token = ned.token_for("delete_account").await;
        p.stack.app.failpoints.arm(point, 1);
        ned.delete(&token).await.expect(500, "internal");
        ned.check().await.expect(410, "account_deleted");
        p.stack.app.clock.advance(121);
        assert_eq!(cleanup(&p.stack).await.deletions_finished, 1, "{point}");
        assert_eq!(p.pool.user(&username).await.unwrap_err(), "UserNotFoundException", "{point}");
        assert!(p.stack.keys_with_prefix("JOB#").await.is_empty(), "{point}");
        p.stack.finish().await;
    }
    for nth in 1..=6 {
        let p = PoolStack::start(|_| {}).await;
        p.stack.app.failpoints.arm("handover.pool_told", nth);
        let (sub, username, email) = sign_up(&p, "erin", Some("+8613800000033")).await;
        let session = p.pool.sign_in(&username, PASSWORD).await.unwrap();
        let erin = p.stack.user_by_id(&sub, &email);
        let frank = p.stack.user("frank");
        let body = json!({"verification_token": erin.token_for("handover_account").await, "new_email": frank.email,
                          "new_phone": "+8613800000034", "new_name": "Frank Example"});
        erin.hand_over(body).await.expect(202, "");
        erin.confirm_handover(None, &frank.code_from_mail().await).await.expect(500, "internal");
        p.stack.app.clock.advance(121);
        assert_eq!(cleanup(&p.stack).await.handovers_finished, 1, "pool call {nth}");
        assert_pool_handed_over(&p, &username, &session).await;
        p.stack.finish().await;
    }
}
