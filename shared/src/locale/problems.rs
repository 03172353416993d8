//! The `title` and `detail` of every problem answer, per language. The
//! problem's `code`, `status` and other members are decided in `http.rs`.

use crate::model::locale::Locale;

/// What went wrong, with what its texts quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The body is larger than this many KiB.
    BodyTooLarge(usize),
    BodyMissing,
    BodyNotJson,
    /// Valid JSON, but not an object (an array, a string, a number...).
    BodyNotObject,
    /// The body does not match the request; serde's words name the field.
    BodyMismatch(String),
    /// Another malformed input (a code, a token, an address), said in English by its parser.
    Invalid(String),
    UnsupportedPurpose(String),
    Unauthenticated,
    /// The JWT's `iat` or `auth_time` is not a time, or lies in the future.
    SessionTimeInvalid,
    Internal,
    Busy,
    TokenInvalid,
    AccountNotFound,
    AccountDeleted,
    EmailNotBound,
    /// The kind of identifier: `email`, `phone` or `username`.
    IdentifierTaken(String),
    SessionRevoked,
    HandoverPending,
    ResendTooSoon {
        retry_after: i64,
    },
    DailyLimitReached,
    MailUnavailable,
    CodeIncorrect {
        attempts_left: u32,
    },
    CodeExpired,
    VerificationLocked,
    NotDefaultAdmin,
    EnterpriseNotActive,
    /// The kinds of the blockers left.
    PrerequisitesUnmet(Vec<String>),
    NotAuthorized,
    HandoverInProgress,
    DeletionNotScheduled,
    /// No export with that id for the caller's account.
    ExportNotFound,
    /// An operator's route called without an IAM signature.
    IamSignatureRequired,
}

impl Message {
    pub fn title(&self, locale: Locale) -> &'static str {
        use Message::*;
        let (en, zh) = match self {
            BodyTooLarge(_) | BodyMissing | BodyNotJson | BodyNotObject | BodyMismatch(_) | Invalid(_) => {
                ("The request is invalid", "请求无效")
            }
            UnsupportedPurpose(_) => ("Unsupported purpose", "不支持的用途"),
            Unauthenticated | SessionTimeInvalid => ("Authentication required", "需要登录"),
            Internal => ("Internal error", "内部错误"),
            Busy => ("Busy: try again", "系统繁忙，请重试"),
            TokenInvalid => ("Verification token is invalid", "验证凭证无效"),
            AccountNotFound => ("Account not found", "账号不存在"),
            AccountDeleted => ("Account deleted", "账号已注销"),
            EmailNotBound => ("No email address is bound", "未绑定邮箱"),
            IdentifierTaken(_) => ("Identifier already in use", "标识已被占用"),
            SessionRevoked => ("Session revoked", "登录已失效"),
            HandoverPending => ("A handover of this account is pending", "该账号有待完成的交接"),
            ResendTooSoon { .. } => ("A code was sent moments ago", "验证码刚刚已发送"),
            DailyLimitReached => ("Daily limit of codes reached", "已达今日验证码上限"),
            MailUnavailable => ("Mail service unavailable", "邮件服务不可用"),
            CodeIncorrect { .. } => ("Verification code is incorrect", "验证码错误"),
            CodeExpired => ("No live verification code", "验证码无效或已过期"),
            VerificationLocked => ("Verification locked", "验证已锁定"),
            NotDefaultAdmin => {
                ("Only the default administrator can dismiss the enterprise", "只有默认管理员可以解散企业")
            }
            EnterpriseNotActive => ("No active enterprise", "没有可解散的企业"),
            PrerequisitesUnmet(_) => ("The deletion prerequisites are not met", "不满足注销条件"),
            NotAuthorized => ("Not allowed to hand over this account", "无权交接该账号"),
            HandoverInProgress => ("A handover of this account is under way", "该账号正在交接中"),
            DeletionNotScheduled => ("No deletion to cancel", "没有可撤销的注销"),
            ExportNotFound => ("Data export not found", "未找到数据导出"),
            IamSignatureRequired => ("Authentication required", "需要身份验证"),
        };
        pick(locale, en, zh)
    }

    pub fn detail(&self, locale: Locale) -> String {
        use Message::*;
        let zh = locale == Locale::ZhCn;
        let text = |en: &str, cn: &str| if zh { cn.to_string() } else { en.to_string() };
        match self {
            BodyTooLarge(kib) => {
                if zh {
                    format!("请求体超过 {kib} KiB。")
                } else {
                    format!("The body is larger than {kib} KiB.")
                }
            }
            BodyMissing => text("A JSON body is required.", "请求需要 JSON 请求体。"),
            BodyNotJson => text("The body is not valid JSON.", "请求体不是有效的 JSON。"),
            BodyNotObject => text("The body must be a JSON object.", "请求体必须是 JSON 对象。"),
            BodyMismatch(why) => {
                if zh {
                    format!("请求体与接口不符：{why}。")
                } else {
                    format!("The body does not match the request: {why}.")
                }
            }
            Invalid(why) => {
                if zh {
                    format!("输入格式不正确：{why}")
                } else {
                    why.clone()
                }
            }
            UnsupportedPurpose(why) => {
                if zh {
                    format!("不支持该用途：{why}")
                } else {
                    why.clone()
                }
            }
            Unauthenticated => {
                text("The request carries no verified identity (sub claim).", "请求中没有经过验证的身份（sub 声明）。")
            }
            SessionTimeInvalid => text(
                "The sign-in's time (iat or auth_time) is malformed or in the future: sign in again.",
                "登录时间（iat 或 auth_time）格式错误或晚于当前时间，请重新登录。",
            ),
            Internal => text(
                "Something went wrong on our side; nothing you sent caused it.",
                "我们这边出了问题，与您提交的内容无关。",
            ),
            Busy => text(
                "Another change to the same account or enterprise was under way; nothing was done. Try again shortly.",
                "同一账号或企业正在进行另一项变更，本次未做任何操作。请稍后重试。",
            ),
            TokenInvalid => text(
                "The verification token is unknown, expired, already used, or for another purpose or account. Verify a new code.",
                "验证凭证无效、已过期、已使用，或属于其他用途或账号。请重新获取并验证验证码。",
            ),
            AccountNotFound => text("No account is registered under this identity.", "该身份下没有注册的账号。"),
            AccountDeleted => {
                text("This account was deleted and cannot be used or recovered.", "该账号已注销，无法继续使用或恢复。")
            }
            EmailNotBound => text(
                "The account has no email address to send a code to: bind one first.",
                "账号未绑定邮箱，无法发送验证码：请先绑定邮箱。",
            ),
            IdentifierTaken(kind) => {
                if zh {
                    let kind = match kind.as_str() {
                        "email" => "邮箱",
                        "phone" => "手机号",
                        "username" => "用户名",
                        other => other,
                    };
                    format!("该{kind}已被另一个有效账号占用。")
                } else {
                    format!("The {kind} is held by another live account.")
                }
            }
            SessionRevoked => {
                text("The account was handed over after you signed in: sign in again.", "您登录后该账号已被交接：请重新登录。")
            }
            HandoverPending => text(
                "An administrator's handover of this account is pending or running; only someone with at least their authority can act on it.",
                "管理员发起的账号交接正在等待确认或进行中；只有权限不低于该管理员的人可以操作。",
            ),
            ResendTooSoon { retry_after } => {
                if zh {
                    format!("请等待 {retry_after} 秒后再获取验证码。")
                } else {
                    format!("Wait {retry_after} seconds before asking for another code.")
                }
            }
            DailyLimitReached => {
                text("Too many codes were sent for this purpose in 24 hours.", "24 小时内该用途的验证码发送次数过多。")
            }
            MailUnavailable => text(
                "The code could not be mailed. Nothing was used up; try again.",
                "验证码邮件发送失败。没有消耗任何次数，请重试。",
            ),
            CodeIncorrect { attempts_left: 0 } => text(
                "0 attempts left: the code is now burned; ask for a new one.",
                "剩余 0 次机会：该验证码已失效，请重新获取。",
            ),
            CodeIncorrect { attempts_left } => {
                if zh {
                    format!("还剩 {attempts_left} 次机会")
                } else {
                    format!("{attempts_left} attempts left")
                }
            }
            CodeExpired => text(
                "The code expired, was used or burned, or none was sent. Ask for a new one.",
                "验证码已过期、已使用或已失效，或尚未发送。请重新获取。",
            ),
            VerificationLocked => text(
                "Too many wrong codes in a row: verification is locked for 24 hours.",
                "连续输错验证码次数过多：验证已锁定 24 小时。",
            ),
            NotDefaultAdmin => {
                text("You are not the default administrator of this enterprise.", "您不是该企业的默认管理员。")
            }
            DeletionNotScheduled => text(
                "This account's deletion is not in its grace period: there is nothing to cancel.",
                "该账号的注销不在冷静期内：没有可撤销的注销。",
            ),
            ExportNotFound => text(
                "Your account has no data export with this id.",
                "您的账号没有此编号的数据导出。",
            ),
            IamSignatureRequired => text(
                "This route takes requests signed by an IAM principal (SigV4).",
                "此接口只接受由 IAM 主体签名（SigV4）的请求。",
            ),
            EnterpriseNotActive => text(
                "There is no active enterprise to dismiss: none, or it is already dismissed or being dismissed.",
                "没有可解散的企业：企业不存在，或已解散、正在解散。",
            ),
            PrerequisitesUnmet(kinds) => {
                if zh {
                    format!("请先完成这些事项：{}。", kinds.join("、"))
                } else {
                    format!("Complete these first: {}.", kinds.join(", "))
                }
            }
            NotAuthorized => text(
                "Only the account itself, or an administrator of its enterprise above it, can hand it over.",
                "只有账号本人，或其所在企业中权限更高的管理员，可以交接该账号。",
            ),
            HandoverInProgress => text(
                "Wait until the handover under way has finished, then try again.",
                "请等待正在进行的交接完成后再试。",
            ),
        }
    }
}

fn pick(locale: Locale, en: &'static str, zh: &'static str) -> &'static str {
    match locale {
        Locale::En => en,
        Locale::ZhCn => zh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_a_chinese_title_and_detail() {
        let all = [
            Message::BodyMissing,
            Message::BodyNotObject,
            Message::Unauthenticated,
            Message::SessionTimeInvalid,
            Message::AccountDeleted,
            Message::CodeIncorrect { attempts_left: 2 },
            Message::ResendTooSoon { retry_after: 42 },
            Message::PrerequisitesUnmet(vec!["account_balance".into()]),
            Message::IdentifierTaken("email".into()),
        ];
        for m in all {
            assert_ne!(m.title(Locale::En), m.title(Locale::ZhCn), "{m:?}");
            assert_ne!(m.detail(Locale::En), m.detail(Locale::ZhCn), "{m:?}");
            assert!(m.title(Locale::ZhCn).chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{m:?}");
        }
        assert_eq!(Message::CodeIncorrect { attempts_left: 2 }.detail(Locale::ZhCn), "还剩 2 次机会");
        assert_eq!(Message::CodeIncorrect { attempts_left: 2 }.detail(Locale::En), "2 attempts left");
    }
}
