//! Handover (docs/seeds.md#handover): the pending handover on the target's profile
//! (`handover_pending`, a map), the marker of a handover too large for one
//! transaction (`handover_in_progress`), the contacts a profile keeps apart
//! from its email and phone (`login_email` ... `admin_phone`), the credentials
//! the leaving employee held under the account (`MFA#<device>`,
//! `LOGIN#<provider>#<subject>`, `ACCESS_KEY#<key>`, `IAM_USER#<name>`), the
//! record of a finished handover (`HANDOVER#<id>`), and the transactions that
//! carry a handover out. Each transaction names the part whose condition
//! failed as a [`HandoverConflict`], never as an error string.

use super::codes::{spending_token, verification_attrs, within_session, TokenRecord};
use super::{
    accounts::account_from_item, key, keys, n, s, Item, ItemExt, Job, Op, Store, StoreError, TxOutcome, Written,
};
use crate::accounts::{Account, AccountId, EmailAddress, Identifier, PhoneNumber};
use crate::caller::Caller;
use crate::handover::{
    Authority, ChecklistItem, ContactSlot, Credential, CredentialKind, CredentialRef, IamUsers, NewOwner,
    PendingHandover, Rebinding, Revocations,
};
use crate::purpose::Purpose;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

const PENDING: &str = "handover_pending";
const IN_PROGRESS: &str = "handover_in_progress";

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

/// The account as a handover needs it: its profile, what is pending, and its credentials.
#[derive(Debug, Clone)]
pub struct HandoverView {
    pub account: Account,
    pub pending: Option<PendingHandover>,
    /// The id of a handover under way in several transactions.
    pub in_progress: Option<String>,
    /// Contacts the profile keeps apart from its email and phone, with their values.
    pub contacts: Vec<(ContactSlot, String)>,
    pub credentials: Vec<CredentialRef>,
    /// Every credential of the account is in `credentials`.
    pub complete: bool,
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
    })
}

/// An identifier's claim as it stands.
#[derive(Debug, Clone)]
pub struct ClaimState {
    pub id: Identifier,
    /// `None`: ownerless, in quarantine until `free_at`.
    pub owner: Option<AccountId>,
    pub free_at: Option<i64>,
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

/// Which part of a handover transaction did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoverConflict {
    /// The account is not active, changed since it was read, or has no such pending handover.
    Profile,
    /// The caller no longer has the rights it was read with.
    Caller,
    /// The verification token is spent, expired or not the caller's.
    Token,
    /// A live account (or a quarantine) holds this identifier.
    IdentifierTaken(Identifier),
    /// A credential changed since it was read.
    Credentials,
    /// A handover job for the account exists already.
    JobExists,
    /// The job's lease went to another worker.
    Lease,
    /// Something else: a conflict that outlasted the retries.
    Other(String),
}

/// What each operation of a transaction stands for, in the order failures are reported.
#[derive(Debug, Clone)]
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

/// Everything one transaction of a handover changes, built by the domain.
#[derive(Debug)]
pub struct HandoverChange<'a> {
    pub target: &'a AccountId,
    pub handover_id: &'a str,
    pub authority: &'a Authority,
    /// The token the confirmation code bought (purpose `confirm_handover`), spent here.
    pub token_hash: &'a str,
    /// The profile's email when it was read: the claims released are that email's.
    pub old_email: Option<&'a EmailAddress>,
    pub take: &'a [Identifier],
    pub release: &'a [Identifier],
    pub now: i64,
}

/// The record of a finished handover: who, when and the checklist; no secrets.
#[derive(Debug, Clone)]
pub struct HandoverRecord {
    pub id: String,
    pub requested_by: String,
    pub confirmed_by: String,
    pub requested_at: i64,
    pub handed_over_at: i64,
    pub iam_users: IamUsers,
    /// The new email, masked.
    pub destination: String,
    pub checklist: Vec<ChecklistItem>,
}

impl Store {
    async fn run_parts(&self, parts: Vec<(Part, Op)>) -> Result<Result<(), HandoverConflict>, StoreError> {
        let (tags, ops): (Vec<Part>, Vec<Op>) = parts.into_iter().unzip();
        let outcome = self.transact(ops).await?;
        if let TxOutcome::Committed = outcome {
            return Ok(Ok(()));
        }
        let failed =
            tags.into_iter().enumerate().filter(|(i, _)| outcome.failed(*i)).map(|(_, t)| t).min_by_key(Part::rank);
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
                        .value(":active", s("active"))
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
            .value(":active", s("active"))
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

    /// Pattern "page through an account's credentials of one kind": a consistent
    /// Query of keys (and access-key state) past `after`, in key order.
    pub async fn credentials_page(
        &self,
        account: &AccountId,
        kind: CredentialKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<CredentialRef>, bool), StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .projection_expression("sk, #state")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pk", s(keys::account(account.as_str())))
            .expression_attribute_values(":from", s(after.unwrap_or(prefix(kind))))
            .expression_attribute_values(":to", s(prefix_end(kind)))
            .consistent_read(true)
            .limit(limit as i32 + 1)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let mut more = out.last_evaluated_key.is_some();
        let mut page: Vec<CredentialRef> = out
            .items()
            .iter()
            .filter_map(|i| Some((i.str("sk")?, i.str("state"))))
            .filter(|(sk, _)| Some(*sk) != after)
            .map(|(sk, state)| CredentialRef { kind, sort_key: sk.to_string(), active: state != Some("Inactive") })
            .collect();
        if page.len() > limit {
            page.truncate(limit);
            more = true;
        }
        Ok((page, more))
    }

    /// Pattern "read an account for a handover": one GetItem on the profile and,
    /// with `limit` > 0, a Query per kind of credential, all at once.
    pub async fn handover_view(&self, account: &AccountId, limit: usize) -> Result<Option<HandoverView>, StoreError> {
        if limit == 0 {
            return self.get(profile_key(account)).await?.map(|i| view_from_profile(&i)).transpose();
        }
        // Boxed: five SDK futures side by side would make every caller's future huge.
        let page = |kind| Box::pin(self.credentials_page(account, kind, None, limit));
        let (profile, mfa, logins, keys, iam) = tokio::join!(
            Box::pin(self.get(profile_key(account))),
            page(CredentialKind::Mfa),
            page(CredentialKind::ThirdPartyLogin),
            page(CredentialKind::AccessKey),
            page(CredentialKind::IamUser),
        );
        let Some(profile) = profile? else { return Ok(None) };
        let mut view = view_from_profile(&profile)?;
        for page in [mfa?, logins?, keys?, iam?] {
            view.complete &= !page.1;
            view.credentials.extend(page.0);
        }
        Ok(Some(view))
    }

    /// The profile update that gives the account to the designated person; the
    /// caller adds the conditions. `marker` is the attribute the change removes.
    fn rebinding_op(&self, target: &AccountId, r: &Rebinding, handover_id: &str, now: i64, marker: &str) -> Op {
        let mut sets = vec!["email = :email", "#prr = :true", "#sra = :now", "#hoa = :now", "#last = :hid"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        let mut removes = vec!["#marker".to_string(), "#res".to_string()];
        // Every code, failure streak and token of the previous holder ends here.
        let verification = verification_attrs();
        removes.extend((0..verification.len()).map(|i| format!("#v{i}")));
        let mut names = vec![
            ("#prr".to_string(), "password_reset_required".to_string()),
            ("#sra".into(), "sessions_revoked_at".into()),
        ];
        names.extend([
            ("#hoa".to_string(), "handed_over_at".to_string()),
            ("#last".into(), "last_handover_id".into()),
            ("#marker".into(), marker.into()),
            ("#res".into(), super::accounts::RESERVED.into()),
        ]);
        names.extend(verification.into_iter().enumerate().map(|(i, a)| (format!("#v{i}"), a)));
        let mut values = vec![
            (":email".to_string(), s(r.email.as_str())),
            (":true".into(), AttributeValue::Bool(true)),
            (":now".into(), n(now)),
            (":hid".into(), s(handover_id)),
        ];
        match &r.phone {
            Some(phone) => {
                sets.push("phone = :phone".into());
                values.push((":phone".into(), s(phone.as_str())));
            }
            None => removes.push("phone".into()),
        }
        names.push(("#name".into(), "name".into()));
        match &r.name {
            Some(name) => {
                sets.push("#name = :name".into());
                values.push((":name".into(), s(name)));
            }
            None => removes.push("#name".into()),
        }
        for (i, (slot, value)) in r.contacts.iter().enumerate() {
            names.push((format!("#c{i}"), slot.name()));
            match value {
                Some(v) => {
                    sets.push(format!("#c{i} = :c{i}"));
                    values.push((format!(":c{i}"), s(v)));
                }
                None => removes.push(format!("#c{i}")),
            }
        }
        let op = Op::update(profile_key(target), format!("SET {} REMOVE {}", sets.join(", "), removes.join(", ")));
        let op = names.into_iter().fold(op, |op, (p, a)| op.name(&p, a));
        values.into_iter().fold(op, |op, (p, v)| op.value(&p, v))
    }

    fn revocation_parts(&self, target: &AccountId, r: &Revocations, now: i64) -> Vec<(Part, Op)> {
        let pk = keys::account(target.as_str());
        let mut parts = Vec::new();
        for sk in &r.delete {
            parts.push((Part::Credential, Op::delete(key(pk.clone(), sk)).when("attribute_exists(pk)")));
        }
        for sk in &r.deactivate {
            let op = Op::update(key(pk.clone(), sk), "SET #state = :inactive, deactivated_at = :now")
                .when("#state = :active")
                .name("#state", "state")
                .value(":active", s("Active"))
                .value(":inactive", s("Inactive"))
                .value(":now", n(now));
            parts.push((Part::Credential, op));
        }
        for sk in &r.reset_password {
            let op = Op::update(key(pk.clone(), sk), "SET password_reset_required = :true")
                .when("attribute_exists(pk)")
                .value(":true", AttributeValue::Bool(true));
            parts.push((Part::Credential, op));
        }
        parts
    }

    fn record_op(&self, target: &AccountId, record: &HandoverRecord) -> Op {
        let checklist = record
            .checklist
            .iter()
            .map(|c| {
                AttributeValue::M(HashMap::from([
                    ("step".to_string(), n(c.step)),
                    ("item".to_string(), s(c.item)),
                    ("done".to_string(), s(&c.done)),
                    ("count".to_string(), n(c.count)),
                ]))
            })
            .collect();
        let mut item = key(keys::account(target.as_str()), &format!("HANDOVER#{}", record.id));
        item.extend([
            ("kind".to_string(), s("handover")),
            ("handover_id".to_string(), s(&record.id)),
            ("requested_by".to_string(), s(&record.requested_by)),
            ("confirmed_by".to_string(), s(&record.confirmed_by)),
            ("requested_at".to_string(), n(record.requested_at)),
            ("handed_over_at".to_string(), n(record.handed_over_at)),
            ("iam_users".to_string(), s(iam_users_str(record.iam_users))),
            ("destination".to_string(), s(&record.destination)),
            ("checklist".to_string(), AttributeValue::L(checklist)),
        ]);
        Op::put(item).when("attribute_not_exists(pk)")
    }

    /// Pattern "hand an account over at once", for an account whose credentials
    /// fit one transaction: spends the confirmation token, rebinds the contacts,
    /// swaps the claims, revokes the credentials, writes the record and creates
    /// the job that mails both parties, all or nothing.
    pub async fn commit_handover(
        &self,
        change: &HandoverChange<'_>,
        rebinding: &Rebinding,
        revocations: &Revocations,
        record: &HandoverRecord,
        job: &Job,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let profile = self.rebinding_op(change.target, rebinding, change.handover_id, change.now, PENDING);
        let profile = self.active_with(profile, change, "#marker.#id = :hid").name("#id", "id");
        let profile = spending_token(profile, Purpose::ConfirmHandover, change.token_hash);
        let (profile, caller_check) = self.authority_parts(profile, change.authority);
        let mut parts = vec![
            (
                Part::Token,
                self.token_consumption(change.token_hash, change.target, Purpose::ConfirmHandover, change.now),
            ),
            (Part::Profile, profile),
        ];
        parts.extend(caller_check);
        parts.extend(change.release.iter().map(|id| (Part::Release, self.claim_release(id, change.target, None))));
        parts.extend(
            change.take.iter().map(|id| (Part::Take(id.clone()), self.claim_taking(id, change.target, change.now))),
        );
        parts.extend(self.revocation_parts(change.target, revocations, change.now));
        parts.push((Part::Record, self.record_op(change.target, record)));
        parts.push((Part::Job, self.job_creation(job)));
        self.run_parts(parts).await
    }

    /// The profile must be active, still bind the email it was read with, and `extra`.
    fn active_with(&self, op: Op, change: &HandoverChange<'_>, extra: &str) -> Op {
        let condition = format!(
            "#status = :active AND {extra} AND {}{}",
            if change.old_email.is_some() { "email = :old_email" } else { "attribute_not_exists(email)" },
            Self::authority_condition(change.authority)
        );
        let op = op.when(condition).name("#status", "status").value(":active", s("active"));
        match change.old_email {
            Some(e) => op.value(":old_email", s(e.as_str())),
            None => op,
        }
    }

    /// Pattern "accept a handover too large for one transaction": spends the
    /// confirmation token, marks the profile as under handover, takes the new
    /// identifiers (so nobody can take them meanwhile) and creates the job.
    pub async fn accept_handover(
        &self,
        change: &HandoverChange<'_>,
        job: &Job,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let reserved = AttributeValue::L(change.take.iter().map(super::accounts::identifier_value).collect());
        let profile = Op::update(profile_key(change.target), "SET #hip = :hid, #res = :res REMOVE #hp")
            .name("#res", super::accounts::RESERVED)
            .value(":res", reserved)
            .name("#hp", PENDING)
            .name("#hip", IN_PROGRESS)
            .name("#id", "id")
            .value(":hid", s(change.handover_id));
        let profile = spending_token(
            self.active_with(profile, change, "#hp.#id = :hid"),
            Purpose::ConfirmHandover,
            change.token_hash,
        );
        let (profile, caller_check) = self.authority_parts(profile, change.authority);
        let mut parts = vec![
            (
                Part::Token,
                self.token_consumption(change.token_hash, change.target, Purpose::ConfirmHandover, change.now),
            ),
            (Part::Profile, profile),
        ];
        parts.extend(caller_check);
        parts.extend(
            change.take.iter().map(|id| (Part::Take(id.clone()), self.claim_taking(id, change.target, change.now))),
        );
        parts.push((Part::Job, self.job_creation(job)));
        self.run_parts(parts).await
    }

    /// Pattern "revoke a page of credentials": the revocations and the job's
    /// progress in one transaction, only while the account is active and under this handover.
    pub(crate) async fn revoke_credentials_page(
        &self,
        target: &AccountId,
        handover_id: &str,
        revocations: &Revocations,
        progress: Op,
        now: i64,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let profile = Op::check(profile_key(target), "#status = :active AND #hip = :hid")
            .name("#status", "status")
            .name("#hip", IN_PROGRESS)
            .value(":active", s("active"))
            .value(":hid", s(handover_id));
        let mut parts = vec![(Part::Profile, profile)];
        parts.extend(self.revocation_parts(target, revocations, now));
        parts.push((Part::Progress, progress));
        self.run_parts(parts).await
    }

    /// Pattern "finish a large handover": rebinds the contacts, releases the old
    /// identifiers, writes the record and moves the job on, in one transaction.
    // Each argument is one named condition of the one transaction; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn finish_handover(
        &self,
        target: &AccountId,
        handover_id: &str,
        rebinding: &Rebinding,
        release: &[Identifier],
        record: &HandoverRecord,
        progress: Op,
        now: i64,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let profile = self
            .rebinding_op(target, rebinding, handover_id, now, IN_PROGRESS)
            .when("#status = :active AND #marker = :hid")
            .name("#status", "status")
            .value(":active", s("active"));
        let mut parts = vec![(Part::Profile, profile)];
        parts.extend(release.iter().map(|id| (Part::Release, self.claim_release(id, target, None))));
        parts.push((Part::Record, self.record_op(target, record)));
        parts.push((Part::Progress, progress));
        self.run_parts(parts).await
    }

    /// Pattern "give up a handover overtaken by a deletion": releases the
    /// identifiers it had taken and ends the job, in one transaction.
    pub async fn abandon_handover(
        &self,
        target: &AccountId,
        reserved: &[Identifier],
        job: &Job,
        owner: &str,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let mut parts: Vec<(Part, Op)> =
            reserved.iter().map(|id| (Part::Release, self.claim_release(id, target, None))).collect();
        parts.push((Part::Progress, self.job_deletion(job, owner)));
        self.run_parts(parts).await
    }

    /// Pattern "record a handover's progress", for a transaction or alone: the
    /// step, the cursor within it and the counts so far, while `owner` holds the lease.
    pub(crate) fn handover_progress(
        &self,
        job: &Job,
        owner: &str,
        now: i64,
        step: &str,
        cursor: &str,
        payload: &str,
    ) -> Op {
        self.job_progress(job, owner, now, "#step = :step, #cursor = :cursor, #payload = :payload")
            .name("#step", "step")
            .name("#cursor", "cursor")
            .name("#payload", "payload")
            .value(":step", s(step))
            .value(":cursor", s(cursor))
            .value(":payload", s(payload))
    }

    /// Pattern "end a handover job". `false`: the lease was lost.
    pub async fn end_handover_job(&self, job: &Job, owner: &str) -> Result<bool, StoreError> {
        Ok(matches!(self.write(self.job_deletion(job, owner), false).await?, Written::Done(_)))
    }

    /// Pattern "link a credential" (other services, the fixtures): the item,
    /// only while the account is active and the same credential is not linked.
    /// Operation order: 0 profile, 1 credential.
    pub async fn link_credential(
        &self,
        account: &AccountId,
        credential: &Credential,
        now: i64,
    ) -> Result<TxOutcome, StoreError> {
        // Not while a handover runs: its pages were read already, so a credential linked now would survive it.
        let profile = Op::check(profile_key(account), "#status = :active AND attribute_not_exists(#hip)")
            .name("#status", "status")
            .name("#hip", IN_PROGRESS)
            .value(":active", s("active"));
        let mut item = key(keys::account(account.as_str()), &credential_sort_key(credential));
        match credential {
            Credential::Mfa { id, label } => {
                item.extend([("kind".to_string(), s("mfa_device")), ("device_id".to_string(), s(id))]);
                if let Some(label) = label {
                    item.insert("label".to_string(), s(label));
                }
            }
            Credential::ThirdPartyLogin { provider, subject } => {
                item.extend([
                    ("kind".to_string(), s("third_party_login")),
                    ("provider".to_string(), s(provider)),
                    ("subject".to_string(), s(subject)),
                ]);
            }
            Credential::AccessKey { id, active } => {
                item.extend([
                    ("kind".to_string(), s("access_key")),
                    ("key_id".to_string(), s(id)),
                    ("state".to_string(), s(if *active { "Active" } else { "Inactive" })),
                ]);
            }
            Credential::IamUser { name } => {
                item.extend([
                    ("kind".to_string(), s("iam_user")),
                    ("name".to_string(), s(name)),
                    ("password_reset_required".to_string(), AttributeValue::Bool(false)),
                ]);
            }
        }
        item.insert("linked_at".to_string(), n(now));
        self.transact(vec![profile, Op::put(item).when("attribute_not_exists(pk)")]).await
    }

    /// Pattern "keep contacts apart": sets login, security, service or admin
    /// contacts on an active profile. `false`: no active account.
    pub async fn set_contacts(
        &self,
        account: &AccountId,
        contacts: &[(ContactSlot, String)],
    ) -> Result<bool, StoreError> {
        if contacts.is_empty() {
            return Ok(true);
        }
        let sets: Vec<String> = (0..contacts.len()).map(|i| format!("#c{i} = :c{i}")).collect();
        let op = Op::update(profile_key(account), format!("SET {}", sets.join(", ")))
            .when("#status = :active")
            .name("#status", "status")
            .value(":active", s("active"));
        let op = contacts.iter().enumerate().fold(op, |op, (i, (slot, value))| {
            op.name(&format!("#c{i}"), slot.name()).value(&format!(":c{i}"), s(value))
        });
        Ok(matches!(self.write(op, true).await?, Written::Done(_)))
    }
}
