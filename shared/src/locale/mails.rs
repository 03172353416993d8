//! The subject and text of every mail, per language (`mail.rs` adds the HTML
//! part from the text and sends it).

use super::checklist;
use crate::model::handover::record::ChecklistLine;
use crate::model::locale::Locale;
use crate::model::purpose::Purpose;

/// A message before it is addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
}

/// What a code is for, as the mail says it.
fn purpose(locale: Locale, purpose: Purpose) -> &'static str {
    match (locale, purpose) {
        (Locale::En, Purpose::DeleteAccount) => "delete your account",
        (Locale::En, Purpose::DismissEnterprise) => "dismiss your enterprise",
        (Locale::En, Purpose::HandoverAccount) => "hand over an account",
        (Locale::En, Purpose::ConfirmHandover) => "confirm this address for an account handed over to you",
        (Locale::En, Purpose::CancelDeletion) => "cancel the deletion of your account",
        (Locale::En, Purpose::ExportData) => "download a copy of your data",
        (Locale::ZhCn, Purpose::DeleteAccount) => "注销您的账号",
        (Locale::ZhCn, Purpose::DismissEnterprise) => "解散您的企业",
        (Locale::ZhCn, Purpose::HandoverAccount) => "交接账号",
        (Locale::ZhCn, Purpose::ConfirmHandover) => "确认此邮箱用于交接给您的账号",
        (Locale::ZhCn, Purpose::CancelDeletion) => "撤销您的账号注销",
        (Locale::ZhCn, Purpose::ExportData) => "导出您的数据副本",
    }
}

/// The verification code mail. `digits` goes into the mail only, never a log.
pub fn code(locale: Locale, for_purpose: Purpose, digits: &str, minutes: i64) -> Letter {
    let what = purpose(locale, for_purpose);
    match locale {
        Locale::En => Letter {
            subject: format!("Your verification code to {what}"),
            text: format!(
                "Your verification code is {digits}.\n\nEnter it to {what}. It expires in {minutes} minutes and works once.\n\n\
                 If you did not ask for it, ignore this mail and consider changing your password."
            ),
        },
        Locale::ZhCn => Letter {
            subject: format!("验证码：用于{what}"),
            text: format!(
                "您的验证码是 {digits}。\n\n请输入该验证码以{what}。验证码 {minutes} 分钟内有效，仅可使用一次。\n\n\
                 如果这不是您本人的操作，请忽略本邮件，并考虑修改密码。"
            ),
        },
    }
}

pub fn dismissal_notice(locale: Locale, enterprise_name: &str) -> Letter {
    match locale {
        Locale::En => Letter {
            subject: format!("Enterprise {enterprise_name} was dismissed"),
            text: format!(
                "The default administrator dismissed the enterprise {enterprise_name}.\n\n\
                 Your account was not deleted: it is now an individual account, and you can keep using it or delete it yourself."
            ),
        },
        Locale::ZhCn => Letter {
            subject: format!("企业 {enterprise_name} 已解散"),
            text: format!(
                "默认管理员已解散企业 {enterprise_name}。\n\n\
                 您的账号没有被注销：它现在是个人账号，您可以继续使用，也可以自行注销。"
            ),
        },
    }
}

pub fn deletion_notice(locale: Locale, receipt_id: &str) -> Letter {
    match locale {
        Locale::En => Letter {
            subject: "Your account was deleted".to_string(),
            text: format!(
                "Your account was deleted for good and cannot be recovered. Deletion receipt: {receipt_id}.\n\n\
                 Its user name, email address and phone number can be used to register again."
            ),
        },
        Locale::ZhCn => Letter {
            subject: "您的账号已注销".to_string(),
            text: format!(
                "您的账号已永久注销，无法恢复。注销回执编号：{receipt_id}。\n\n\
                 该账号的用户名、邮箱和手机号可以再次用于注册。"
            ),
        },
    }
}

/// A copy of the account's data is ready: the link, and until when (RFC 3339, UTC) it works.
pub fn export_ready(locale: Locale, export_id: &str, link: &str, expires_at: &str) -> Letter {
    match locale {
        Locale::En => Letter {
            subject: "A copy of your data is ready".to_string(),
            text: format!(
                "The copy of your data you asked for is ready ({export_id}). Download it here:\n{link}\n\n\
                 The link works until {expires_at} (UTC); after that the copy is deleted. The file is one JSON \
                 document with your profile, contacts, holds, credentials (no secrets) and your other data.\n\n\
                 If you did not ask for it, change your password: someone else may have signed in."
            ),
        },
        Locale::ZhCn => Letter {
            subject: "您的数据副本已准备好".to_string(),
            text: format!(
                "您申请的数据副本已准备好（{export_id}）。请在此下载：\n{link}\n\n\
                 该链接在 {expires_at}（UTC）之前有效，之后副本将被删除。文件是一个 JSON 文档，\
                 包含您的资料、联系方式、限制项、凭证（不含任何密钥）及您的其他数据。\n\n\
                 如果这不是您本人的操作，请修改密码：可能有他人登录了您的账号。"
            ),
        },
    }
}

/// The mails of a deletion's grace period (docs/api.md#cancel-deletion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraceNotice {
    /// The deletion was accepted and is scheduled: when, and how to cancel.
    Scheduled,
    /// Sent `DELETION_REMINDER_SECONDS` before the purge.
    Reminder,
    /// The user cancelled: the account is as it was.
    Cancelled,
}

/// A grace-period mail; `purge_at` is RFC 3339 in UTC.
pub fn grace(locale: Locale, notice: GraceNotice, receipt_id: &str, purge_at: &str) -> Letter {
    match locale {
        Locale::En => {
            const HOW_TO_CANCEL: &str = "To keep your account, cancel the deletion before then: sign in and choose \
                 \"Cancel deletion\"; a verification code comes by mail to confirm it. Until then the account is locked.";
            match notice {
                GraceNotice::Scheduled => Letter {
                    subject: "Your account will be deleted".to_string(),
                    text: format!(
                        "You asked to delete your account. It will be deleted for good at {purge_at} (UTC). \
                         Deletion receipt: {receipt_id}.\n\n{HOW_TO_CANCEL}\n\n\
                         If you did not ask for this, cancel the deletion and change your password."
                    ),
                },
                GraceNotice::Reminder => Letter {
                    subject: "Reminder: your account will be deleted soon".to_string(),
                    text: format!(
                        "Your account will be deleted for good at {purge_at} (UTC). Deletion receipt: {receipt_id}.\n\n\
                         {HOW_TO_CANCEL}"
                    ),
                },
                GraceNotice::Cancelled => Letter {
                    subject: "The deletion of your account was cancelled".to_string(),
                    text: format!(
                        "The deletion of your account (receipt {receipt_id}) was cancelled. Your account is active \
                         again, as it was before.\n\nIf you did not cancel it, change your password."
                    ),
                },
            }
        }
        Locale::ZhCn => {
            const HOW_TO_CANCEL: &str = "如需保留账号，请在此之前撤销注销：登录后选择“撤销注销”，\
                 我们会通过邮件发送验证码以确认。在此之前账号处于锁定状态。";
            match notice {
                GraceNotice::Scheduled => Letter {
                    subject: "您的账号将被注销".to_string(),
                    text: format!(
                        "您申请了注销账号。账号将于 {purge_at}（UTC）永久注销。注销回执编号：{receipt_id}。\n\n\
                         {HOW_TO_CANCEL}\n\n如果这不是您本人的操作，请撤销注销并修改密码。"
                    ),
                },
                GraceNotice::Reminder => Letter {
                    subject: "提醒：您的账号即将被注销".to_string(),
                    text: format!(
                        "您的账号将于 {purge_at}（UTC）永久注销。注销回执编号：{receipt_id}。\n\n{HOW_TO_CANCEL}"
                    ),
                },
                GraceNotice::Cancelled => Letter {
                    subject: "您的账号注销已撤销".to_string(),
                    text: format!(
                        "您的账号注销（回执编号 {receipt_id}）已撤销。账号已恢复正常，与申请注销前一致。\n\n\
                         如果这不是您本人的操作，请修改密码。"
                    ),
                },
            }
        }
    }
}

/// To the previous holder's address; `new_masked` is the new address, masked.
pub fn handed_over_old(locale: Locale, account: &str, new_masked: &str) -> Letter {
    match locale {
        Locale::En => Letter {
            subject: "Your account was handed over".to_string(),
            text: format!(
                "The account {account} that used this address was handed over to a designated person ({new_masked}).\n\n\
                 This address and your phone number are no longer linked to it, and you can register them again. \
                 The authenticators and third-party accounts linked to it were unlinked, its access keys deactivated \
                 and every session ended.\n\n\
                 If you did not expect this, contact your enterprise administrator."
            ),
        },
        Locale::ZhCn => Letter {
            subject: "您的账号已交接".to_string(),
            text: format!(
                "使用此邮箱的账号 {account} 已交接给指定人员（{new_masked}）。\n\n\
                 此邮箱和您的手机号已与该账号解除绑定，可以再次用于注册。该账号绑定的身份验证器和第三方账号已解绑，\
                 访问密钥已停用，所有登录会话已结束。\n\n\
                 如果您对此不知情，请联系您的企业管理员。"
            ),
        },
    }
}

/// To the new holder's address, with what the handover did.
pub fn handed_over_new(locale: Locale, account: &str, checklist: &[ChecklistLine]) -> Letter {
    let steps = checklist.iter().map(|line| checklist::mail_line(locale, line)).collect::<Vec<_>>().join("\n");
    match locale {
        Locale::En => Letter {
            subject: "An account was handed over to you".to_string(),
            text: format!(
                "The account {account} was handed over to you and now uses this address.\n\n\
                 Sign in and change the password: it must be changed at the next sign-in. Then link your own \
                 authenticator and create new access keys where you need them.\n\n\
                 What was done:\n{steps}"
            ),
        },
        Locale::ZhCn => Letter {
            subject: "一个账号已交接给您".to_string(),
            text: format!(
                "账号 {account} 已交接给您，现在使用此邮箱。\n\n\
                 请登录并修改密码：下次登录时必须修改。然后绑定您自己的身份验证器，并按需创建新的访问密钥。\n\n\
                 已完成的事项：\n{steps}"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mail_is_in_the_asked_language() {
        let zh = code(Locale::ZhCn, Purpose::DeleteAccount, "123456", 10);
        assert!(zh.subject.contains("验证码") && zh.text.contains("123456") && zh.text.contains("10 分钟"));
        let en = code(Locale::En, Purpose::DeleteAccount, "123456", 10);
        assert!(en.subject.starts_with("Your verification code") && en.text.contains("123456"));
        assert_eq!(deletion_notice(Locale::ZhCn, "r1").subject, "您的账号已注销");
        assert!(dismissal_notice(Locale::ZhCn, "Acme").text.contains("Acme"));
        for notice in [GraceNotice::Scheduled, GraceNotice::Reminder, GraceNotice::Cancelled] {
            let (en, zh) = (grace(Locale::En, notice, "r1", "t"), grace(Locale::ZhCn, notice, "r1", "t"));
            assert!(en.text.contains("r1") && zh.text.contains("r1") && zh.subject.contains("注销"));
        }
        for p in Purpose::ALL {
            assert_ne!(purpose(Locale::En, p), purpose(Locale::ZhCn, p));
        }
    }
}
