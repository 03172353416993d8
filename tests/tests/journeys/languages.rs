//! Mail and problem texts in the user's language: a `zh-CN` account reads its
//! code mail, its deletion notice and its problem answers in Chinese, an `en`
//! account in English, and a request's `Accept-Language` overrides either;
//! `code` and the other members never change with the language.

use journeys::harness::TestStack;
use serde_json::json;

async fn two_accounts(stack: &TestStack) {
    stack
        .seed(json!({"accounts": [
            {"id": "lin-{id}", "username": "lin-{id}", "email": "lin-{id}@example.com", "locale": "zh-CN"},
            {"id": "emma-{id}", "username": "emma-{id}", "email": "emma-{id}@example.com", "locale": "en"},
            {"id": "ming-{id}", "username": "ming-{id}", "email": "ming-{id}@example.com",
             "locale": "zh-CN"}
        ], "holds": [{"account_id": "ming-{id}", "kind": "account_balance", "detail": "12.30 CNY left"}]}))
        .await;
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[tokio::test]
async fn a_chinese_account_reads_its_code_mail_problems_and_deletion_notice_in_chinese() {
    let stack = TestStack::start().await;
    two_accounts(&stack).await;
    let lin = stack.user("lin");

    lin.send_code("delete_account").await.expect(202, "");
    let mail = lin.mails().await.pop().expect("a code mail");
    assert!(mail.subject.contains("验证码") && mail.subject.contains("注销您的账号"), "{}", mail.subject);
    assert!(mail.body.contains("您的验证码是") && mail.body.contains("lang=\"zh-CN\""), "{}", mail.body);

    let wrong = lin.verify("delete_account", "000000").await;
    wrong.expect(422, "code_incorrect");
    assert_eq!(wrong.body["title"], "验证码错误");
    assert_eq!(wrong.body["detail"], "还剩 4 次机会");
    assert_eq!(wrong.body["attempts_left"], 4);

    let again = lin.send_code("delete_account").await;
    again.expect(429, "resend_too_soon");
    assert!(has_chinese(again.str("title")) && again.str("detail").contains("秒"), "{}", again.body);
    let bad = lin.call(journeys::event::Function::SendCode, json!({"purpose": 7})).await;
    bad.expect(400, "invalid_request");
    assert_eq!(bad.body["title"], "请求无效");

    stack.app.clock.advance(61);
    let token = lin.token_for("delete_account").await;
    lin.delete(&token).await.expect(200, "");
    let notice = lin.mails().await.pop().expect("a deletion notice");
    assert_eq!(notice.subject, "您的账号已注销");
    assert!(notice.body.contains("永久注销"), "{}", notice.body);
    stack.finish().await;
}

#[tokio::test]
async fn an_english_account_reads_them_in_english() {
    let stack = TestStack::start().await;
    two_accounts(&stack).await;
    let emma = stack.user("emma");

    emma.send_code("delete_account").await.expect(202, "");
    let mail = emma.mails().await.pop().expect("a code mail");
    assert_eq!(mail.subject, "Your verification code to delete your account");
    assert!(!has_chinese(&mail.body) && mail.body.contains("lang=\"en\""), "{}", mail.body);
    let wrong = emma.verify("delete_account", "000000").await;
    wrong.expect(422, "code_incorrect");
    assert_eq!((wrong.str("title"), wrong.str("detail")), ("Verification code is incorrect", "4 attempts left"));

    stack.app.clock.advance(61);
    let token = emma.token_for("delete_account").await;
    emma.delete(&token).await.expect(200, "");
    assert_eq!(emma.mails().await.pop().expect("a deletion notice").subject, "Your account was deleted");
    stack.finish().await;
}

#[tokio::test]
async fn accept_language_overrides_the_account_s_locale_and_changes_no_member_but_the_texts() {
    let stack = TestStack::start().await;
    two_accounts(&stack).await;

    let lin = stack.user("lin").asking_in("en-US,en;q=0.9");
    lin.send_code("delete_account").await.expect(202, "");
    assert_eq!(lin.mails().await.pop().expect("a code mail").subject, "Your verification code to delete your account");
    let wrong = lin.verify("delete_account", "000000").await;
    wrong.expect(422, "code_incorrect");
    assert_eq!(wrong.str("title"), "Verification code is incorrect");

    let emma = stack.user("emma").asking_in("zh-CN,zh;q=0.9,en;q=0.8");
    emma.send_code("dismiss_enterprise").await.expect(202, "");
    assert!(emma.mails().await.pop().expect("a code mail").subject.contains("解散您的企业"));
    let wrong = emma.verify("dismiss_enterprise", "000000").await;
    wrong.expect(422, "code_incorrect");
    assert_eq!(wrong.str("detail"), "还剩 4 次机会");
    // The deletion notice a request sends is in the language it asked for.
    let token = emma.token_for("delete_account").await;
    emma.delete(&token).await.expect(200, "");
    assert_eq!(emma.mails().await.pop().expect("a deletion notice").subject, "您的账号已注销");

    // The same problem in both languages: only title and detail differ.
    let ming = stack.user("ming");
    let token_zh = ming.token_for("delete_account").await;
    let zh = ming.delete(&token_zh).await;
    zh.expect(409, "prerequisites_unmet");
    stack.app.clock.advance(61);
    let ming_en = stack.user("ming").asking_in("en");
    let token_en = ming_en.token_for("delete_account").await;
    let en = ming_en.delete(&token_en).await;
    en.expect(409, "prerequisites_unmet");
    assert_eq!(zh.str("title"), "不满足注销条件");
    assert_eq!(en.str("title"), "The deletion prerequisites are not met");
    let (mut zh_rest, mut en_rest) = (zh.body.clone(), en.body.clone());
    for body in [&mut zh_rest, &mut en_rest] {
        let members = body.as_object_mut().expect("a problem object");
        members.remove("title");
        members.remove("detail");
    }
    assert_eq!(zh_rest, en_rest, "code, status, blockers and the rest never change with the language");
    // A language the catalogue lacks falls back to the account's locale.
    let fr = stack.user("ming").asking_in("fr-FR");
    fr.verify("delete_account", "000000").await.expect(422, "code_expired");
    assert!(has_chinese(fr.verify("delete_account", "000000").await.str("title")));
    stack.finish().await;
}
