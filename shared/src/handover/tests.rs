//! The handover's rules, without the table.

use super::job::JobState;
use super::*;
use crate::locale::{checklist, mails};
use crate::model::account::{Account, AccountStatus, Role};
use crate::model::handover::authority::{authority_over, Authority};
use crate::model::handover::contacts::{Channel, ContactRole, ContactSlot};
use crate::model::handover::credentials::{revocations, CredentialKind, CredentialRef};
use crate::model::handover::pending::{IamUsers, NewOwner, PendingHandover};
use crate::model::ids::{AccountId, EmailAddress};
use crate::model::locale::Locale;

fn account(id: &str, role: Role, enterprise: Option<&str>) -> Account {
    Account {
        id: AccountId::parse(id).unwrap(),
        username: None,
        email: None,
        phone: None,
        name: None,
        enterprise_id: enterprise.map(String::from),
        role,
        status: AccountStatus::Active,
        locale: Default::default(),
        hold_count: 0,
        sessions_revoked_at: None,
        live_tokens: Vec::new(),
        pending_handover: None,
        handover_running_as: None,
        reserved: Vec::new(),
    }
}

#[test]
fn the_holder_or_an_administrator_above_the_account_may_hand_it_over() {
    let gina = account("gina", Role::DefaultAdmin, Some("globex"));
    let harry = account("harry", Role::Admin, Some("globex"));
    let erin = account("erin", Role::Member, Some("globex"));
    let ivan = account("ivan", Role::Member, Some("globex"));
    let olga = account("olga", Role::DefaultAdmin, Some("initech"));
    let carol = account("carol", Role::Individual, None);
    assert_eq!(authority_over(&erin, &erin), Some(Authority::Own));
    assert_eq!(authority_over(&carol, &carol), Some(Authority::Own));
    assert!(authority_over(&gina, &erin).is_some());
    assert!(authority_over(&gina, &harry).is_some());
    assert!(authority_over(&harry, &erin).is_some());
    assert!(authority_over(&harry, &gina).is_none(), "an admin never hands over the default admin");
    assert!(authority_over(&harry, &account("hana", Role::Admin, Some("globex"))).is_none());
    assert!(authority_over(&ivan, &erin).is_none());
    assert!(authority_over(&olga, &erin).is_none(), "another enterprise's admin");
    assert!(authority_over(&olga, &carol).is_none());
}

#[test]
fn requests_are_parsed_strictly() {
    let token = "a".repeat(64);
    let ok = HandoverRequest::parse(
        &token,
        " Frank@Example.com ",
        Some("+86 138 0000 0009"),
        Some(" Frank "),
        IamUsers::Delete,
        Some("erin"),
    )
    .unwrap();
    assert_eq!(ok.owner.email.as_str(), "frank@example.com");
    assert_eq!(ok.owner.phone.as_ref().unwrap().as_str(), "+8613800000009");
    assert_eq!(ok.owner.name.as_deref(), Some("Frank"));
    for (t, e, p, n, a) in [
        ("short", "f@example.com", None, None, None),
        (token.as_str(), "frank", None, None, None),
        (token.as_str(), "f@example.com", Some("12"), None, None),
        (token.as_str(), "f@example.com", None, Some("  "), None),
        (token.as_str(), "f@example.com", None, None, Some("")),
        (token.as_str(), "f@example.com", None, None, Some("with space")),
    ] {
        assert!(
            matches!(HandoverRequest::parse(t, e, p, n, IamUsers::default(), a), Err(HandoverError::Invalid(_))),
            "{e} {p:?} {n:?} {a:?}"
        );
    }
}

#[test]
fn revocations_count_what_they_touch() {
    let c = |kind, sk: &str, active| CredentialRef { kind, sort_key: sk.into(), active };
    let creds = [
        c(CredentialKind::Mfa, "MFA#1", true),
        c(CredentialKind::ThirdPartyLogin, "LOGIN#google#1", true),
        c(CredentialKind::AccessKey, "ACCESS_KEY#A", true),
        c(CredentialKind::AccessKey, "ACCESS_KEY#B", false),
        c(CredentialKind::IamUser, "IAM_USER#ops", true),
    ];
    let (r, counts) = revocations(&creds, IamUsers::ResetPassword);
    assert_eq!((r.delete.len(), r.deactivate, r.reset_password.len()), (2, vec!["ACCESS_KEY#A".to_string()], 1));
    assert_eq!(
        (
            counts.mfa_unlinked,
            counts.logins_unlinked,
            counts.keys_deactivated,
            counts.keys_already_inactive,
            counts.iam_users
        ),
        (1, 1, 1, 1, 1)
    );
    let (r, _) = revocations(&creds, IamUsers::Delete);
    assert_eq!((r.delete.len(), r.reset_password.len()), (3, 0));
}

#[test]
fn contact_slots_are_named_as_stored() {
    assert_eq!(ContactSlot::ALL.map(|s| s.name()).len(), 8);
    assert_eq!(
        ContactSlot::parse("security_email"),
        Some(ContactSlot { role: ContactRole::Security, channel: Channel::Email })
    );
    assert_eq!(ContactSlot::parse("admin_phone").map(|s| s.name()).as_deref(), Some("admin_phone"));
    assert!(ContactSlot::parse("email").is_none());
}

#[test]
fn a_zh_cn_handover_mail_lists_the_checklist_in_chinese() {
    let mut erin = account("erin", Role::Member, Some("globex"));
    erin.locale = Locale::ZhCn;
    erin.email = Some(EmailAddress::parse("erin@example.com").unwrap());
    let owner = NewOwner { email: EmailAddress::parse("frank@example.com").unwrap(), phone: None, name: None };
    let pending = PendingHandover {
        id: "handover_1".into(),
        owner,
        iam_users: IamUsers::Delete,
        requested_by: erin.id.clone(),
        requested_as: None,
        requested_at: 0,
        expires_at: 600,
    };
    let state = JobState::new(&pending, &erin, &erin.id);
    let letter = mails::handed_over_new(state.locale(), "erin", &state.checklist());
    let steps: Vec<&str> = letter.text.lines().filter(|l| l.starts_with(|c: char| c.is_ascii_digit())).collect();
    assert_eq!(steps.len(), 9, "{}", letter.text);
    let chinese = |s: &str| s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
    for step in &steps {
        assert!(chinese(step), "{step}");
    }
    for english in checklist::items(Locale::En, &state.checklist()) {
        assert!(!letter.text.contains(english.item) && !letter.text.contains(&english.done), "{english:?}");
    }
}
