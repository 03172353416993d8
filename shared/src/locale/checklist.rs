//! The handover checklist's texts, per language: what each step of
//! docs/seeds.md#handover is, and what was done. The API's answer and the
//! handover's record keep them in English; the mail to the designated person is
//! in the account's language.

use crate::model::handover::pending::IamUsers;
use crate::model::handover::record::{ChecklistEntry, ChecklistItem, ChecklistLine};
use crate::model::locale::Locale;

/// What the step is.
pub fn item(locale: Locale, entry: ChecklistEntry) -> &'static str {
    use ChecklistEntry as E;
    match (locale, entry) {
        (Locale::En, E::Contacts { .. }) => "Change the email address and phone number to the designated person's",
        (Locale::En, E::Disassociate) => "Disassociate the account from the leaving employee",
        (Locale::En, E::AccountInformation) => {
            "Change the account information and the login, security, service and admin contacts"
        }
        (Locale::En, E::Password) => "Give the account to the designated person and have them change the password",
        (Locale::En, E::UserPool { .. }) => {
            "Change the sign-in: the login email, phone and name, the password, MFA and third-party identities"
        }
        (Locale::En, E::Authenticators) => "Unlink the leaving employee's authenticators (virtual MFA)",
        (Locale::En, E::ThirdPartyAccounts) => "Unlink the leaving employee's third-party accounts",
        (Locale::En, E::IamUsers(_)) => "Delete the IAM users or change their passwords",
        (Locale::En, E::AccessKeys { .. }) => "Change the access keys (AK/SK)",
        (Locale::En, E::OtherCredentials) => "Change the credentials of other cloud services",
        (Locale::ZhCn, E::Contacts { .. }) => "将邮箱和手机号更换为指定人员的",
        (Locale::ZhCn, E::Disassociate) => "解除账号与离职员工的关联",
        (Locale::ZhCn, E::AccountInformation) => "修改账号信息，以及登录、安全、服务和管理联系人",
        (Locale::ZhCn, E::Password) => "将账号交给指定人员，并要求其修改密码",
        (Locale::ZhCn, E::UserPool { .. }) => "更换登录方式：登录邮箱、手机号和名称、密码、MFA 和第三方身份",
        (Locale::ZhCn, E::Authenticators) => "解绑离职员工的身份验证器（虚拟 MFA）",
        (Locale::ZhCn, E::ThirdPartyAccounts) => "解绑离职员工的第三方账号",
        (Locale::ZhCn, E::IamUsers(_)) => "删除 IAM 用户或修改其密码",
        (Locale::ZhCn, E::AccessKeys { .. }) => "更换访问密钥（AK/SK）",
        (Locale::ZhCn, E::OtherCredentials) => "更换其他云服务的凭证",
    }
}

/// What was done at the step.
pub fn done(locale: Locale, entry: ChecklistEntry) -> String {
    use ChecklistEntry as E;
    match (locale, entry) {
        (Locale::En, E::Contacts { new_phone: true }) => {
            "email and phone bound to the designated person, the email proven by a code sent to it".into()
        }
        (Locale::En, E::Contacts { new_phone: false }) => {
            "email bound to the designated person, proven by a code sent to it; \
             no new phone was given, so the old one was removed"
                .into()
        }
        (Locale::En, E::Disassociate) => {
            "the leaving employee's email and phone released from the account; they can register them again".into()
        }
        (Locale::En, E::AccountInformation) => {
            "name and separately kept contacts changed; the others follow the account's email and phone".into()
        }
        (Locale::En, E::Password) => "password change required at next sign-in; every session revoked".into(),
        (Locale::En, E::UserPool { finished: true, identities_unlinked }) => format!(
            "in the user pool: email (verified), phone and name are the designated person's; the old password \
             replaced and a reset required; signed out everywhere; MFA off; {identities_unlinked} third-party \
             identities unlinked"
        ),
        (Locale::En, E::UserPool { finished: false, .. }) => {
            "under way in the user pool: repeated until the pool takes every change".into()
        }
        (Locale::En, E::Authenticators) => "unlinked; the designated person links their own".into(),
        (Locale::En, E::ThirdPartyAccounts) => "unlinked".into(),
        (Locale::En, E::IamUsers(IamUsers::Delete)) => "deleted".into(),
        (Locale::En, E::IamUsers(IamUsers::ResetPassword)) => "marked to change the password at next sign-in".into(),
        (Locale::En, E::AccessKeys { already_inactive }) => {
            format!("deactivated ({already_inactive} already inactive)")
        }
        (Locale::En, E::OtherCredentials) => {
            "not held by this service: change them in each service's own console".into()
        }
        (Locale::ZhCn, E::Contacts { new_phone: true }) => {
            "邮箱和手机号已绑定到指定人员，邮箱已通过发送到该邮箱的验证码确认".into()
        }
        (Locale::ZhCn, E::Contacts { new_phone: false }) => {
            "邮箱已绑定到指定人员，并已通过发送到该邮箱的验证码确认；未提供新手机号，原手机号已移除".into()
        }
        (Locale::ZhCn, E::Disassociate) => "离职员工的邮箱和手机号已与该账号解除绑定，可以再次用于注册".into(),
        (Locale::ZhCn, E::AccountInformation) => {
            "名称和单独设置的联系人已修改；其余联系人跟随账号的邮箱和手机号".into()
        }
        (Locale::ZhCn, E::Password) => "下次登录时必须修改密码；所有登录会话已撤销".into(),
        (Locale::ZhCn, E::UserPool { finished: true, identities_unlinked }) => format!(
            "用户池中：邮箱（已验证）、手机号和名称已改为指定人员的；原密码已替换并要求重置；所有登录会话已退出；\
             MFA 已关闭；已解绑 {identities_unlinked} 个第三方身份"
        ),
        (Locale::ZhCn, E::UserPool { finished: false, .. }) => "用户池中正在进行：重试直至用户池接受每项更改".into(),
        (Locale::ZhCn, E::Authenticators) => "已解绑；由指定人员绑定自己的身份验证器".into(),
        (Locale::ZhCn, E::ThirdPartyAccounts) => "已解绑".into(),
        (Locale::ZhCn, E::IamUsers(IamUsers::Delete)) => "已删除".into(),
        (Locale::ZhCn, E::IamUsers(IamUsers::ResetPassword)) => "已标记为下次登录时修改密码".into(),
        (Locale::ZhCn, E::AccessKeys { already_inactive }) => format!("已停用（另有 {already_inactive} 个原已停用）"),
        (Locale::ZhCn, E::OtherCredentials) => "不由本服务保管：请在各服务自己的控制台中更换".into(),
    }
}

/// The checklist in words, in `locale`.
pub fn items(locale: Locale, checklist: &[ChecklistLine]) -> Vec<ChecklistItem> {
    checklist
        .iter()
        .map(|line| ChecklistItem {
            step: line.entry.step(),
            item: item(locale, line.entry),
            done: done(locale, line.entry),
            count: line.count,
        })
        .collect()
}

/// One line of the checklist as a mail lists it.
pub fn mail_line(locale: Locale, line: &ChecklistLine) -> String {
    let (step, item, done, count) = (line.entry.step(), item(locale, line.entry), done(locale, line.entry), line.count);
    match locale {
        Locale::En => format!("{step}. {item}: {done} ({count})"),
        Locale::ZhCn => format!("{step}. {item}：{done}（{count}）"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(iam: IamUsers, new_phone: bool) -> Vec<ChecklistLine> {
        [
            ChecklistEntry::Contacts { new_phone },
            ChecklistEntry::Disassociate,
            ChecklistEntry::AccountInformation,
            ChecklistEntry::Password,
            ChecklistEntry::Authenticators,
            ChecklistEntry::ThirdPartyAccounts,
            ChecklistEntry::IamUsers(iam),
            ChecklistEntry::AccessKeys { already_inactive: 2 },
            ChecklistEntry::OtherCredentials,
        ]
        .into_iter()
        .map(|entry| ChecklistLine { entry, count: 1 })
        .collect()
    }

    #[test]
    fn the_english_checklist_is_the_one_the_api_documents() {
        let items = items(Locale::En, &all(IamUsers::ResetPassword, false));
        assert_eq!(items.iter().map(|i| i.step).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(items[0].item, "Change the email address and phone number to the designated person's");
        assert_eq!(
            items[0].done,
            "email bound to the designated person, proven by a code sent to it; no new phone was given, so the old one was removed"
        );
        assert_eq!(items[6].done, "marked to change the password at next sign-in");
        assert_eq!(
            (items[7].item, items[7].done.as_str()),
            ("Change the access keys (AK/SK)", "deactivated (2 already inactive)")
        );
        assert_eq!(items[8].item, "Change the credentials of other cloud services");
        assert_eq!(
            mail_line(Locale::En, &all(IamUsers::Delete, true)[6]),
            "7. Delete the IAM users or change their passwords: deleted (1)"
        );
    }

    #[test]
    fn every_text_has_its_chinese() {
        for lines in [all(IamUsers::Delete, true), all(IamUsers::ResetPassword, false)] {
            let (en, zh) = (items(Locale::En, &lines), items(Locale::ZhCn, &lines));
            for (en, zh) in en.iter().zip(&zh) {
                assert_ne!(en.item, zh.item);
                assert_ne!(en.done, zh.done);
            }
        }
    }
}
