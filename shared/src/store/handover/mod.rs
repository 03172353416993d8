//! Handover (docs/seeds.md#handover): the pending handover on the target's profile
//! (`handover_pending`, a map), the marker of a handover too large for one
//! transaction (`handover_in_progress`), the contacts a profile keeps apart
//! from its email and phone (`login_email` ... `admin_phone`), the credentials
//! the leaving employee held under the account (`MFA#<device>`,
//! `LOGIN#<provider>#<subject>`, `ACCESS_KEY#<key>`, `IAM_USER#<name>`), the
//! record of a finished handover (`HANDOVER#<id>`), and the transactions that
//! carry a handover out. Each transaction names the part whose condition
//! failed as a [`HandoverConflict`], never as an error string.

mod commit;
mod credentials;

pub use credentials::LinkCredentialPart;

use crate::accounts::{Account, AccountId, AccountStatus, EmailAddress, Identifier, PhoneNumber};
use crate::caller::Caller;
use crate::handover::{
    Authority, ClaimState, ContactSlot, Credential, CredentialKind, HandoverConflict, HandoverView, IamUsers, NewOwner,
    PendingHandover,
};
use crate::purpose::Purpose;
use crate::store::codes::{spending_token, within_session};
use crate::store::{accounts::account_from_item, key, keys, n, s, Item, ItemExt, Op, Store, StoreError, TxOutcome};
use crate::tokens::TokenRecord;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

const PENDING: &str = "handover_pending";
pub(crate) const IN_PROGRESS: &str = "handover_in_progress";
/// The profile's count of credentials linked and contacts set (`HandoverView::links_version`).
const LINKS_VERSION: &str = "links_version";
/// Beside `IN_PROGRESS` when an administrator carries the handover out: their role, which the holder may not overrule.
pub(crate) const IN_PROGRESS_AS: &str = "handover_in_progress_as";

fn profile_key(account: &AccountId) -> Item {
    key(keys::account(account.as_str()), keys::PROFILE)
}

fn claim_key(id: &Identifier) -> Item {
    key(keys::claim(id.kind(), id.value()), keys::CLAIM)
}

fn prefix(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Mfa => "MFA#",
        CredentialKind::ThirdPartyLogin => "LOGIN#",
        CredentialKind::AccessKey => "ACCESS_KEY#",
        CredentialKind::IamUser => "IAM_USER#",
    }
}

/// The first key past every key with this prefix: `#` is followed by `$`.
fn prefix_end(kind: CredentialKind) -> String {
    format!("{}$", prefix(kind).trim_end_matches('#'))
}

fn credential_sort_key(credential: &Credential) -> String {
    match credential {
        Credential::Mfa { id, .. } => format!("MFA#{id}"),
        Credential::ThirdPartyLogin { provider, subject } => format!("LOGIN#{provider}#{subject}"),
        Credential::AccessKey { id, .. } => format!("ACCESS_KEY#{id}"),
        Credential::IamUser { name } => format!("IAM_USER#{name}"),
    }
}

fn iam_users_str(choice: IamUsers) -> &'static str {
    match choice {
        IamUsers::Delete => "delete",
        IamUsers::ResetPassword => "reset_password",
    }
}

fn pending_value(p: &PendingHandover) -> AttributeValue {
    let mut m: Item = HashMap::from([
        ("id".into(), s(&p.id)),
        ("new_email".into(), s(p.owner.email.as_str())),
        ("iam_users".into(), s(iam_users_str(p.iam_users))),
        ("requested_by".into(), s(p.requested_by.as_str())),
        ("requested_at".into(), n(p.requested_at)),
        ("expires_at".into(), n(p.expires_at)),
    ]);
    if let Some(role) = p.requested_as {
        m.insert("requested_as".into(), s(role.as_str()));
    }
    if let Some(phone) = &p.owner.phone {
        m.insert("new_phone".into(), s(phone.as_str()));
    }
    if let Some(name) = &p.owner.name {
        m.insert("new_name".into(), s(name));
    }
    AttributeValue::M(m)
}

fn pending_from_map(m: &Item) -> Result<PendingHandover, StoreError> {
    let bad = || StoreError::Malformed("handover_pending".into());
    Ok(PendingHandover {
        id: m.str("id").ok_or_else(bad)?.to_string(),
        owner: NewOwner {
            email: m.str("new_email").and_then(|v| EmailAddress::parse(v).ok()).ok_or_else(bad)?,
            phone: m.str("new_phone").map(PhoneNumber::parse).transpose().map_err(|_| bad())?,
            name: m.str("new_name").map(String::from),
        },
        iam_users: if m.str("iam_users") == Some("delete") { IamUsers::Delete } else { IamUsers::ResetPassword },
        requested_by: m.str("requested_by").and_then(AccountId::parse).ok_or_else(bad)?,
        requested_as: m.str("requested_as").and_then(crate::accounts::Role::parse),
        requested_at: m.num("requested_at").unwrap_or(0),
        expires_at: m.num("expires_at").unwrap_or(0),
    })
}

fn view_from_profile(item: &Item) -> Result<HandoverView, StoreError> {
    Ok(HandoverView {
        account: account_from_item(item)?,
        pending: item.map(PENDING).map(pending_from_map).transpose()?,
        in_progress: item.str(IN_PROGRESS).map(String::from),
        contacts: ContactSlot::ALL
            .iter()
            .filter_map(|slot| Some((*slot, item.str(&slot.name())?.to_string())))
            .collect(),
        credentials: Vec::new(),
        complete: true,
        links_version: item.num(LINKS_VERSION).unwrap_or(0).max(0) as u64,
    })
}

/// A verification token as read before it is spent, so a start that cannot
/// mail its code can put it back exactly as it was.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub record: TokenRecord,
    item: Item,
}

/// What starting a handover reads, in one BatchGetItem.
#[derive(Debug)]
pub struct StartRead {
    pub caller: Option<Account>,
    /// The account to hand over (the caller's own view when it is the caller).
    pub target: Option<HandoverView>,
    /// The claims that exist on the wanted identifiers.
    pub claims: Vec<ClaimState>,
    pub token: Option<StoredToken>,
}

/// What each operation of a transaction stands for, in the order failures are reported.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Profile,
    Caller,
    Token,
    Take(Identifier),
    Release,
    Credential,
    Record,
    Job,
    Progress,
}

impl Part {
    fn rank(&self) -> u8 {
        match self {
            Part::Profile => 0,
            Part::Caller => 1,
            Part::Token => 2,
            Part::Take(_) => 3,
            Part::Credential => 4,
            Part::Job => 5,
            Part::Progress => 6,
            Part::Release | Part::Record => 7,
        }
    }
}

impl Store {
    async fn run_parts(&self, parts: Vec<(Part, Op)>) -> Result<Result<(), HandoverConflict>, StoreError> {
        let outcome = self.transact(parts).await?;
        if let TxOutcome::Committed = outcome {
            return Ok(Ok(()));
        }
        let failed = outcome.refused_parts().iter().min_by_key(|part| part.rank()).cloned();
        Ok(Err(match failed {
            Some(Part::Profile) => HandoverConflict::Profile,
            Some(Part::Caller) => HandoverConflict::Caller,
            Some(Part::Token) => HandoverConflict::Token,
            Some(Part::Take(id)) => HandoverConflict::IdentifierTaken(id),
            Some(Part::Credential) => HandoverConflict::Credentials,
            Some(Part::Job) => HandoverConflict::JobExists,
            Some(Part::Progress) => HandoverConflict::Lease,
            _ => HandoverConflict::Other(format!("{outcome:?}")),
        }))
    }

    /// The profile's conditions for an administrator's handover: still in the
    /// enterprise, in the role the rights were decided on.
    fn authority_parts(&self, op: Op, authority: &Authority) -> (Op, Option<(Part, Op)>) {
        match authority {
            Authority::Own => (op, None),
            Authority::Administrator { caller, enterprise, caller_role, target_role } => {
                let op = op.name("#role", "role").value(":e", s(enterprise)).value(":trole", s(target_role.as_str()));
                let check =
                    Op::check(profile_key(caller), "#status = :active AND enterprise_id = :e AND #role = :crole")
                        .name("#status", "status")
                        .name("#role", "role")
                        .value(":active", s(AccountStatus::Active.as_str()))
                        .value(":e", s(enterprise))
                        .value(":crole", s(caller_role.as_str()));
                (op, Some((Part::Caller, check)))
            }
        }
    }

    fn authority_condition(authority: &Authority) -> &'static str {
        match authority {
            Authority::Own => "",
            Authority::Administrator { .. } => " AND enterprise_id = :e AND #role = :trole",
        }
    }

    /// Pattern "read for a handover start": one BatchGetItem of the caller's and
    /// the target's profiles, the claims on the wanted identifiers and the token.
    pub async fn handover_start_read(
        &self,
        caller: &AccountId,
        target: &AccountId,
        wanted: &[Identifier],
        token_hashes: &[String],
    ) -> Result<StartRead, StoreError> {
        let mut wanted_keys = vec![profile_key(caller)];
        if target != caller {
            wanted_keys.push(profile_key(target));
        }
        wanted_keys.extend(wanted.iter().map(claim_key));
        wanted_keys.extend(token_hashes.iter().map(|h| key(keys::token(h), keys::TOKEN)));
        let items = self.get_many(wanted_keys).await?;
        let mut read = StartRead { caller: None, target: None, claims: Vec::new(), token: None };
        let (caller_pk, target_pk) = (keys::account(caller.as_str()), keys::account(target.as_str()));
        for item in &items {
            let pk = item.str("pk").unwrap_or_default();
            if pk == caller_pk || pk == target_pk {
                let view = view_from_profile(item)?;
                if pk == caller_pk {
                    read.caller = Some(view.account.clone());
                }
                if pk == target_pk {
                    read.target = Some(view);
                }
            } else if pk.starts_with("TOKEN#") {
                // A token of another purpose is as good as none here.
                if item.str("purpose") == Some(Purpose::HandoverAccount.as_str()) {
                    let account = item
                        .str("account_id")
                        .and_then(AccountId::parse)
                        .ok_or_else(|| StoreError::Malformed("token".into()))?;
                    // The hash it was found under: the key it was issued with.
                    let hash = pk.strip_prefix("TOKEN#").unwrap_or_default().to_string();
                    let record = TokenRecord {
                        hash,
                        account,
                        purpose: Purpose::HandoverAccount,
                        expires_at: item.num("expires_at").unwrap_or(0),
                    };
                    read.token = Some(StoredToken { record, item: item.clone() });
                }
            } else if let Some(id) = wanted.iter().find(|id| pk == keys::claim(id.kind(), id.value())) {
                read.claims.push(ClaimState {
                    id: id.clone(),
                    owner: item.str("owner").and_then(AccountId::parse),
                    free_at: item.num("free_at"),
                });
            }
        }
        Ok(read)
    }

    /// Pattern "store a pending handover": one transaction spends the caller's
    /// token, checks the caller's rights and that no live account holds the new
    /// identifiers, and replaces the pending handover seen (`seen`) with `pending`.
    // Each argument is one named condition of the one transaction; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub async fn store_pending_handover(
        &self,
        caller: &Caller,
        target: &AccountId,
        authority: &Authority,
        token_hash: &str,
        pending: &PendingHandover,
        seen: Option<&str>,
        wanted: &[Identifier],
        now: i64,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let seen_condition = if seen.is_some() { "#hp.#id = :seen" } else { "attribute_not_exists(#hp)" };
        let profile = Op::update(profile_key(target), "SET #hp = :p")
            .when(format!(
                "#status = :active AND attribute_not_exists(#hip) AND {seen_condition}{}",
                Self::authority_condition(authority)
            ))
            .name("#hp", PENDING)
            .name("#hip", IN_PROGRESS)
            .name("#status", "status")
            .value(":active", s(AccountStatus::Active.as_str()))
            .value(":p", pending_value(pending));
        let profile = match seen {
            Some(id) => profile.name("#id", "id").value(":seen", s(id)),
            None => profile,
        };
        let (profile, caller_check) = self.authority_parts(profile, authority);
        // The caller's own profile (the target's, or the administrator's check) still lists the token and admits the session.
        let guard = |op| within_session(spending_token(op, Purpose::HandoverAccount, token_hash), Some(caller.session));
        let (profile, caller_check) = match caller_check {
            Some((part, check)) => (profile, Some((part, guard(check)))),
            None => (guard(profile), None),
        };
        let caller = &caller.account;
        let mut parts = vec![
            (Part::Token, self.token_consumption(token_hash, caller, Purpose::HandoverAccount, now)),
            (Part::Profile, profile),
        ];
        parts.extend(caller_check);
        for id in wanted {
            let check = Op::check(claim_key(id), "attribute_not_exists(pk) OR #owner = :me OR free_at <= :now")
                .name("#owner", "owner")
                .value(":me", s(target.as_str()))
                .value(":now", n(now));
            parts.push((Part::Take(id.clone()), check));
        }
        self.run_parts(parts).await
    }

    /// Pattern "take back a pending handover" after its code could not be sent:
    /// puts back the one it replaced, unless another has replaced it since.
    pub async fn restore_pending_handover(
        &self,
        target: &AccountId,
        mine: &str,
        previous: Option<&PendingHandover>,
    ) -> Result<(), StoreError> {
        let op = match previous {
            Some(p) => Op::update(profile_key(target), "SET #hp = :prev").value(":prev", pending_value(p)),
            None => Op::update(profile_key(target), "REMOVE #hp"),
        }
        .when("#hp.#id = :mine")
        .name("#hp", PENDING)
        .name("#id", "id")
        .value(":mine", s(mine));
        self.write(op, true).await.map(|_| ())
    }

    /// Pattern "put a spent token back", exactly as it was read.
    pub async fn restore_token(&self, token: &StoredToken) -> Result<(), StoreError> {
        self.write(Op::put(token.item.clone()).when("attribute_not_exists(pk)"), false).await.map(|_| ())
    }
}
