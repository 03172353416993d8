//! Account handover (docs/seeds.md#handover): a transferred or resigned employee's account
//! is given to a designated person in one verified, all-or-nothing operation.
//!
//! Starting (`start_handover`) spends a `handover_account` token of the caller
//! (the account's holder, or an administrator of its enterprise), stores the
//! pending handover on the account's profile and mails a `confirm_handover`
//! code to the NEW address; the code machinery (cooldown, daily limit,
//! attempts, lock) applies to it as to every code. If the code cannot go out,
//! the token and the previous pending handover are put back: nothing is consumed.
//!
//! Confirming (`confirm_handover`) trades the code for an internal token and
//! spends it in the transaction that does the handover: the contacts are
//! rebound, the old email and phone claims released and the new ones taken,
//! every authenticator and third-party login unlinked, every access key
//! deactivated, every IAM user deleted or made to change its password, the
//! account made to change its password with its sessions revoked, and the
//! record with the checklist written. An account whose credentials do not fit
//! one transaction takes its new identifiers and is marked in the acceptance
//! transaction, then revoked page by page with recorded progress and rebound
//! in a final transaction; `cleanup` finishes one that was cut off, or rolls
//! it back (releasing what it took) when a deletion overtook it.
//!
//! Both parties are mailed by the job after the handover committed, at least
//! once: twice only if the process dies between a send and the progress write after it.

use crate::accounts::{
    authority_rank, Account, AccountError, AccountId, AccountStatus, EmailAddress, Identifier, PendingBy, PhoneNumber,
    Role,
};
use crate::caller::Caller;
use crate::codes::{CodeError, VerificationCode};
use crate::crypto::RandomError;
use crate::failpoints::Interrupted;
use crate::purpose::Purpose;
use crate::store::handover::{HandoverChange, HandoverConflict, HandoverRecord, HandoverView};
use crate::store::jobs::LEASE_SECONDS;
use crate::store::{Job, JobKind, StoreError};
use crate::tokens::TokenString;
use crate::work::{random_id, Budget, Progress};
use crate::App;
use serde::{Deserialize, Serialize};

/// DynamoDB's limit of operations in one TransactWriteItems.
const MAX_TRANSACTION_OPS: usize = 100;
/// Credentials read per kind when deciding whether one transaction is enough.
const VIEW_LIMIT: usize = 100;
/// Credentials revoked per transaction in a large handover (plus the profile check and the progress).
const PAGE: usize = 90;
/// Attempts at a transaction that raced another writer before the caller is told to come back.
const MAX_RACES: usize = 4;
const NAME_MAX_CHARS: usize = 128;

/// What happens to the account's IAM users (docs/seeds.md#handover, step 7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IamUsers {
    Delete,
    #[default]
    ResetPassword,
}

/// The designated person's contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOwner {
    pub email: EmailAddress,
    /// `None`: the old phone is removed and not replaced.
    pub phone: Option<PhoneNumber>,
    /// `None`: the old name (the leaving employee's) is removed.
    pub name: Option<String>,
}

impl NewOwner {
    fn identifiers(&self) -> Vec<Identifier> {
        let mut ids = vec![Identifier::Email(self.email.clone())];
        ids.extend(self.phone.clone().map(Identifier::Phone));
        ids
    }
}

/// A start request, parsed: nothing malformed gets past here.
#[derive(Debug)]
pub struct HandoverRequest {
    pub token: TokenString,
    pub owner: NewOwner,
    pub iam_users: IamUsers,
    /// The account to hand over; `None`: the caller's own.
    pub account: Option<AccountId>,
}

impl HandoverRequest {
    pub fn parse(
        token: &str,
        new_email: &str,
        new_phone: Option<&str>,
        new_name: Option<&str>,
        iam_users: IamUsers,
        account_id: Option<&str>,
    ) -> Result<Self, HandoverError> {
        let invalid = |e: &dyn std::fmt::Display| HandoverError::Invalid(e.to_string());
        let token = TokenString::parse(token).map_err(|e| invalid(&e))?;
        let email = EmailAddress::parse(new_email).map_err(|e| HandoverError::Invalid(format!("new_email: {e}")))?;
        let phone = new_phone
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(|e| HandoverError::Invalid(format!("new_phone: {e}")))?;
        let name = new_name.map(str::trim).map(String::from);
        if name
            .as_deref()
            .is_some_and(|n| n.is_empty() || n.chars().count() > NAME_MAX_CHARS || n.chars().any(char::is_control))
        {
            return Err(HandoverError::Invalid(format!(
                "new_name must be 1 to {NAME_MAX_CHARS} characters without control characters"
            )));
        }
        Ok(Self {
            token,
            owner: NewOwner { email, phone, name },
            iam_users,
            account: account_id.map(parse_account_id).transpose()?,
        })
    }
}

/// An `account_id` from a body: malformed is the client's error, never a 500.
pub fn parse_account_id(s: &str) -> Result<AccountId, HandoverError> {
    AccountId::parse(s)
        .ok_or_else(|| HandoverError::Invalid("account_id must be 1 to 128 printable ASCII characters".into()))
}

/// A handover waiting for its confirmation code, as kept on the target's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingHandover {
    /// Also the id of the handover record and the job.
    pub id: String,
    pub owner: NewOwner,
    pub iam_users: IamUsers,
    pub requested_by: AccountId,
    /// The requester's role when an administrator asked; `None` when the holder did.
    pub requested_as: Option<Role>,
    pub requested_at: i64,
    /// When its code expires; the pending handover is dead from then on.
    pub expires_at: i64,
}

/// Why the caller may hand the account over; the transaction re-checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authority {
    /// The account's own holder.
    Own,
    /// An administrator of the account's enterprise, above the account's role.
    Administrator { caller: AccountId, enterprise: String, caller_role: Role, target_role: Role },
}

impl Authority {
    /// Who outranks whom over a pending handover: see [`authority_rank`].
    pub fn rank(&self) -> u8 {
        match self {
            Self::Own => authority_rank(None),
            Self::Administrator { caller_role, .. } => authority_rank(Some(*caller_role)),
        }
    }

    /// A pending handover may be confirmed or replaced only with at least its requester's authority.
    fn may_act_on(&self, pending: Option<&PendingBy>, now: i64) -> Result<(), HandoverError> {
        match pending {
            Some(p) if p.expires_at > now && p.rank() > self.rank() => Err(AccountError::HandoverPending.into()),
            _ => Ok(()),
        }
    }
}

/// The rule: the holder; the default administrator for any other account of
/// the enterprise; a common administrator for members only (never upwards).
pub fn authority_over(caller: &Account, target: &Account) -> Option<Authority> {
    if caller.id == target.id {
        return Some(Authority::Own);
    }
    let enterprise = caller.enterprise_id.as_ref().filter(|e| target.enterprise_id.as_ref() == Some(*e))?;
    let allowed = match caller.role {
        Role::DefaultAdmin => target.role != Role::DefaultAdmin,
        Role::Admin => target.role == Role::Member,
        Role::Member | Role::Individual => false,
    };
    allowed.then(|| Authority::Administrator {
        caller: caller.id.clone(),
        enterprise: enterprise.clone(),
        caller_role: caller.role,
        target_role: target.role,
    })
}

/// Whose contact a profile keeps apart from the account's email and phone (docs/seeds.md#handover, step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactRole {
    Login,
    Security,
    Service,
    Admin,
}

impl ContactRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Security => "security",
            Self::Service => "service",
            Self::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Phone,
}

/// One separately kept contact, e.g. the security email. Absent: it follows the account's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactSlot {
    pub role: ContactRole,
    pub channel: Channel,
}

impl ContactSlot {
    pub const ALL: [ContactSlot; 8] = {
        use Channel::*;
        use ContactRole::*;
        [
            ContactSlot { role: Login, channel: Email },
            ContactSlot { role: Login, channel: Phone },
            ContactSlot { role: Security, channel: Email },
            ContactSlot { role: Security, channel: Phone },
            ContactSlot { role: Service, channel: Email },
            ContactSlot { role: Service, channel: Phone },
            ContactSlot { role: Admin, channel: Email },
            ContactSlot { role: Admin, channel: Phone },
        ]
    };

    /// `security_email` and the like, as fixtures and the profile name them.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|slot| slot.name() == s)
    }

    pub fn name(self) -> String {
        let channel = match self.channel {
            Channel::Email => "email",
            Channel::Phone => "phone",
        };
        format!("{}_{channel}", self.role.as_str())
    }
}

/// The kinds of credential the leaving employee may have held under the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Mfa,
    ThirdPartyLogin,
    AccessKey,
    IamUser,
}

/// A credential as linked by the service that owns it (or the fixtures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Mfa { id: String, label: Option<String> },
    ThirdPartyLogin { provider: String, subject: String },
    AccessKey { id: String, active: bool },
    IamUser { name: String },
}

impl Credential {
    fn validate(&self) -> Result<(), LinkError> {
        // `#` separates the parts of a sort key; only a login's subject comes last and may hold one.
        let part = |what: &'static str, v: &str, tail: bool| {
            let ok = !v.is_empty() && v.len() <= 256 && !v.chars().any(char::is_control) && (tail || !v.contains('#'));
            if ok {
                Ok(())
            } else {
                Err(LinkError::Invalid(what))
            }
        };
        match self {
            Self::Mfa { id, .. } => part("MFA device id", id, false),
            Self::ThirdPartyLogin { provider, subject } => {
                part("login provider", provider, false).and(part("login subject", subject, true))
            }
            Self::AccessKey { id, .. } => part("access key id", id, false),
            Self::IamUser { name } => part("IAM user name", name, false),
        }
    }
}

/// A credential as read back: its sort key, and for an access key whether it is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRef {
    pub kind: CredentialKind,
    pub sort_key: String,
    pub active: bool,
}

/// What one transaction does to credentials, by sort key.
#[derive(Debug, Default, Clone)]
pub struct Revocations {
    pub delete: Vec<String>,
    pub deactivate: Vec<String>,
    pub reset_password: Vec<String>,
}

impl Revocations {
    pub fn len(&self) -> usize {
        self.delete.len() + self.deactivate.len() + self.reset_password.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The profile after the handover.
#[derive(Debug, Clone)]
pub struct Rebinding {
    pub email: EmailAddress,
    pub phone: Option<PhoneNumber>,
    pub name: Option<String>,
    /// Each separately kept contact with its new value (`None`: removed, no new phone).
    pub contacts: Vec<(ContactSlot, Option<String>)>,
}

/// One step of docs/seeds.md#handover, with what was done and how many things it touched.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChecklistItem {
    pub step: u8,
    pub item: &'static str,
    pub done: String,
    pub count: u64,
}

/// What the handover touched, counted as it goes (kept on the job between runs).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Counts {
    pub identifiers_taken: u64,
    pub identifiers_released: u64,
    pub contacts_changed: u64,
    pub mfa_unlinked: u64,
    pub logins_unlinked: u64,
    pub keys_deactivated: u64,
    pub keys_already_inactive: u64,
    pub iam_users: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.identifiers_taken += other.identifiers_taken;
        self.identifiers_released += other.identifiers_released;
        self.contacts_changed += other.contacts_changed;
        self.mfa_unlinked += other.mfa_unlinked;
        self.logins_unlinked += other.logins_unlinked;
        self.keys_deactivated += other.keys_deactivated;
        self.keys_already_inactive += other.keys_already_inactive;
        self.iam_users += other.iam_users;
    }
}

/// What to do to each credential read, and the counts it adds.
pub fn revocations(credentials: &[CredentialRef], iam_users: IamUsers) -> (Revocations, Counts) {
    let mut r = Revocations::default();
    let mut c = Counts::default();
    for credential in credentials {
        let sk = credential.sort_key.clone();
        match credential.kind {
            CredentialKind::Mfa => {
                r.delete.push(sk);
                c.mfa_unlinked += 1;
            }
            CredentialKind::ThirdPartyLogin => {
                r.delete.push(sk);
                c.logins_unlinked += 1;
            }
            CredentialKind::AccessKey if credential.active => {
                r.deactivate.push(sk);
                c.keys_deactivated += 1;
            }
            CredentialKind::AccessKey => c.keys_already_inactive += 1,
            CredentialKind::IamUser => {
                match iam_users {
                    IamUsers::Delete => r.delete.push(sk),
                    IamUsers::ResetPassword => r.reset_password.push(sk),
                }
                c.iam_users += 1;
            }
        }
    }
    (r, c)
}

/// The profile's contacts given to `owner`, and how many of name and contacts changed.
pub fn rebinding(view: &HandoverView, owner: &NewOwner) -> (Rebinding, u64) {
    let mut changed = u64::from(owner.name != view.account.name);
    let contacts = view
        .contacts
        .iter()
        .map(|(slot, value)| {
            let new = match slot.channel {
                Channel::Email => Some(owner.email.as_str().to_string()),
                Channel::Phone => owner.phone.as_ref().map(|p| p.as_str().to_string()),
            };
            changed += u64::from(new.as_deref() != Some(value.as_str()));
            (*slot, new)
        })
        .collect();
    (Rebinding { email: owner.email.clone(), phone: owner.phone.clone(), name: owner.name.clone(), contacts }, changed)
}

/// The steps of the handover job, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Revoke(CredentialKind),
    Rebind,
    NotifyOld,
    NotifyNew,
}

impl Step {
    const FIRST: Step = Step::Revoke(CredentialKind::Mfa);

    fn as_str(self) -> &'static str {
        match self {
            Self::Revoke(CredentialKind::Mfa) => "revoke_mfa",
            Self::Revoke(CredentialKind::ThirdPartyLogin) => "revoke_logins",
            Self::Revoke(CredentialKind::AccessKey) => "revoke_access_keys",
            Self::Revoke(CredentialKind::IamUser) => "revoke_iam_users",
            Self::Rebind => "rebind",
            Self::NotifyOld => "notify_old",
            Self::NotifyNew => "notify_new",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Self::Revoke(CredentialKind::Mfa),
            Self::Revoke(CredentialKind::ThirdPartyLogin),
            Self::Revoke(CredentialKind::AccessKey),
            Self::Revoke(CredentialKind::IamUser),
            Self::Rebind,
            Self::NotifyOld,
            Self::NotifyNew,
        ]
        .into_iter()
        .find(|step| step.as_str() == s)
    }

    fn next(self) -> Self {
        match self {
            Self::Revoke(CredentialKind::Mfa) => Self::Revoke(CredentialKind::ThirdPartyLogin),
            Self::Revoke(CredentialKind::ThirdPartyLogin) => Self::Revoke(CredentialKind::AccessKey),
            Self::Revoke(CredentialKind::AccessKey) => Self::Revoke(CredentialKind::IamUser),
            Self::Revoke(CredentialKind::IamUser) => Self::Rebind,
            Self::Rebind => Self::NotifyOld,
            Self::NotifyOld | Self::NotifyNew => Self::NotifyNew,
        }
    }
}

/// The handover as the job carries it between runs (its payload, JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JobState {
    new_email: String,
    new_phone: Option<String>,
    new_name: Option<String>,
    iam_users: IamUsers,
    requested_by: String,
    confirmed_by: String,
    requested_at: i64,
    old_email: Option<String>,
    old_phone: Option<String>,
    counts: Counts,
}

impl JobState {
    fn new(pending: &PendingHandover, account: &Account, confirmed_by: &AccountId) -> Self {
        Self {
            new_email: pending.owner.email.as_str().to_string(),
            new_phone: pending.owner.phone.as_ref().map(|p| p.as_str().to_string()),
            new_name: pending.owner.name.clone(),
            iam_users: pending.iam_users,
            requested_by: pending.requested_by.to_string(),
            confirmed_by: confirmed_by.to_string(),
            requested_at: pending.requested_at,
            old_email: account.email.as_ref().map(|e| e.as_str().to_string()),
            old_phone: account.phone.as_ref().map(|p| p.as_str().to_string()),
            counts: Counts::default(),
        }
    }

    fn owner(&self) -> Result<NewOwner, StoreError> {
        let bad = |_| StoreError::Malformed("handover job payload".into());
        Ok(NewOwner {
            email: EmailAddress::parse(&self.new_email).map_err(bad)?,
            phone: self.new_phone.as_deref().map(PhoneNumber::parse).transpose().map_err(bad)?,
            name: self.new_name.clone(),
        })
    }

    fn old_email(&self) -> Option<EmailAddress> {
        self.old_email.as_deref().and_then(|e| EmailAddress::parse(e).ok())
    }

    /// The identifiers the account takes (the new ones it does not hold yet) and releases (the old ones it gives up).
    fn identifier_changes(&self) -> Result<(Vec<Identifier>, Vec<Identifier>), StoreError> {
        let owner = self.owner()?;
        let old_email = self.old_email();
        let old_phone = self.old_phone.as_deref().and_then(|p| PhoneNumber::parse(p).ok());
        let mut take = Vec::new();
        let mut release = Vec::new();
        if old_email.as_ref() != Some(&owner.email) {
            take.push(Identifier::Email(owner.email.clone()));
            release.extend(old_email.map(Identifier::Email));
        }
        if old_phone != owner.phone {
            take.extend(owner.phone.map(Identifier::Phone));
            release.extend(old_phone.map(Identifier::Phone));
        }
        Ok((take, release))
    }

    fn payload(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|e| StoreError::Malformed(e.to_string()))
    }

    fn from_job(job: &Job) -> Result<Self, StoreError> {
        serde_json::from_str(job.payload.as_deref().unwrap_or_default())
            .map_err(|_| StoreError::Malformed("handover job payload".into()))
    }

    fn checklist(&self) -> Vec<ChecklistItem> {
        let c = &self.counts;
        let item = |step, item, done: String, count| ChecklistItem { step, item, done, count };
        let bound = match self.new_phone {
            Some(_) => "email and phone bound to the designated person, the email proven by a code sent to it".to_string(),
            None => "email bound to the designated person, proven by a code sent to it; no new phone was given, so the old one was removed".to_string(),
        };
        let iam = match self.iam_users {
            IamUsers::Delete => "deleted",
            IamUsers::ResetPassword => "marked to change the password at next sign-in",
        };
        vec![
            item(1, "Change the email address and phone number to the designated person's", bound, c.identifiers_taken),
            item(
                2,
                "Disassociate the account from the leaving employee",
                "the leaving employee's email and phone released from the account; they can register them again".into(),
                c.identifiers_released,
            ),
            item(
                3,
                "Change the account information and the login, security, service and admin contacts",
                "name and separately kept contacts changed; the others follow the account's email and phone".into(),
                c.contacts_changed,
            ),
            item(
                4,
                "Give the account to the designated person and have them change the password",
                "password change required at next sign-in; every session revoked".into(),
                1,
            ),
            item(
                5,
                "Unlink the leaving employee's authenticators (virtual MFA)",
                "unlinked; the designated person links their own".into(),
                c.mfa_unlinked,
            ),
            item(6, "Unlink the leaving employee's third-party accounts", "unlinked".into(), c.logins_unlinked),
            item(7, "Delete the IAM users or change their passwords", iam.into(), c.iam_users),
            item(
                8,
                "Change the access keys (AK/SK)",
                format!("deactivated ({} already inactive)", c.keys_already_inactive),
                c.keys_deactivated,
            ),
            item(
                9,
                "Change the credentials of other cloud services",
                "not held by this service: change them in each service's own console".into(),
                0,
            ),
        ]
    }

    fn record(&self, id: &str, now: i64) -> Result<HandoverRecord, StoreError> {
        Ok(HandoverRecord {
            id: id.to_string(),
            requested_by: self.requested_by.clone(),
            confirmed_by: self.confirmed_by.clone(),
            requested_at: self.requested_at,
            handed_over_at: now,
            iam_users: self.iam_users,
            destination: self.owner()?.email.masked(),
            checklist: self.checklist(),
        })
    }
}

/// The answer to a start (202).
#[derive(Debug, Serialize)]
pub struct HandoverStarted {
    pub status: &'static str,
    pub account_id: String,
    /// The new email, masked.
    pub destination: String,
    pub expires_in_seconds: i64,
}

/// The answer to a confirmation: 200 `handed_over` with the checklist, or 202
/// `handing_over` when a large account is finished in the background.
#[derive(Debug, Serialize)]
pub struct HandoverOutcome {
    pub status: &'static str,
    pub account_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checklist: Vec<ChecklistItem>,
}

impl HandoverOutcome {
    pub fn finished(&self) -> bool {
        self.status == "handed_over"
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Code(#[from] CodeError),
    #[error("the verification token is invalid")]
    TokenInvalid,
    #[error("the caller may not hand over this account")]
    NotAuthorized,
    #[error("a handover of this account is under way")]
    InProgress,
    #[error("racing requests kept changing the account")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
}

fn taken(id: Identifier) -> HandoverError {
    AccountError::IdentifierTaken { kind: id.kind(), value: id.value().to_string() }.into()
}

/// How a run of the handover job ended.
#[derive(Debug)]
struct Run {
    progress: Progress,
    state: JobState,
    /// The contacts are rebound (the handover is done, whatever mail is left).
    handed_over: bool,
    /// A deletion overtook it: what it had taken was released and the job ended.
    abandoned: bool,
}

impl App {
    /// Who may hand over `target_id`, from what was read: 404/410 for a missing
    /// or deleted account, 403 for anyone but the holder or an administrator above it.
    async fn handover_authority(
        &self,
        caller: &Caller,
        me: Option<&Account>,
        target_id: &AccountId,
        target: Option<&Account>,
    ) -> Result<Authority, HandoverError> {
        let Some(me) = me else { return Err(self.missing_account(&caller.account).await.into()) };
        me.admit(caller.session)?;
        if me.status != AccountStatus::Active {
            return Err(AccountError::Deleted.into());
        }
        let caller = &caller.account;
        if caller != target_id && !(matches!(me.role, Role::DefaultAdmin | Role::Admin) && me.enterprise_id.is_some()) {
            return Err(HandoverError::NotAuthorized);
        }
        // Another's account: missing, deleted or out of reach all answer the same, before anything is read about it.
        let target = match target {
            Some(t) => t,
            None if caller == target_id => return Err(self.missing_account(target_id).await.into()),
            None => return Err(HandoverError::NotAuthorized),
        };
        let authority = authority_over(me, target).ok_or(HandoverError::NotAuthorized)?;
        if target.status != AccountStatus::Active {
            return Err(AccountError::Deleted.into());
        }
        Ok(authority)
    }

    /// Starts a handover: one BatchGetItem, one transaction, then the code's
    /// conditional write and its mail. Nothing is spent for a caller without the
    /// right, a taken identifier, or a code that cannot be sent.
    pub async fn start_handover(
        &self,
        caller: &Caller,
        request: &HandoverRequest,
    ) -> Result<HandoverStarted, HandoverError> {
        let target = request.account.clone().unwrap_or_else(|| caller.account.clone());
        let token_hashes = request.token.hashes(self);
        let wanted = request.owner.identifiers();
        let mut stored = None;
        for _ in 0..MAX_RACES {
            let now = self.clock.now();
            let read = self.store.handover_start_read(&caller.account, &target, &wanted, &token_hashes).await?;
            let authority = self
                .handover_authority(caller, read.caller.as_ref(), &target, read.target.as_ref().map(|v| &v.account))
                .await?;
            let Some(view) = read.target else { return Err(AccountError::NotFound.into()) };
            if view.in_progress.is_some() {
                return Err(HandoverError::InProgress);
            }
            authority.may_act_on(view.account.pending_handover.as_ref(), now)?;
            if view.account.email.is_none() {
                return Err(AccountError::EmailNotBound.into());
            }
            // A token the caller's profile no longer lists was ended by a handover of the caller's account.
            let listed = |hash: &String| read.caller.as_ref().is_some_and(|me| me.live_tokens.contains(hash));
            let Some(token) = read
                .token
                .filter(|t| listed(&t.record.hash) && t.record.account == caller.account && t.record.expires_at > now)
            else {
                return Err(HandoverError::TokenInvalid);
            };
            let token_hash = token.record.hash.clone();
            if let Some(held) =
                read.claims.iter().find(|c| c.owner.as_ref() != Some(&target) && c.free_at.is_none_or(|at| at > now))
            {
                return Err(taken(held.id.clone()));
            }
            let pending = PendingHandover {
                id: random_id("handover")?,
                owner: request.owner.clone(),
                iam_users: request.iam_users,
                requested_by: caller.account.clone(),
                requested_as: match &authority {
                    Authority::Own => None,
                    Authority::Administrator { caller_role, .. } => Some(*caller_role),
                },
                requested_at: now,
                expires_at: now + self.config.code_ttl_seconds,
            };
            let seen = view.pending.as_ref().map(|p| p.id.as_str());
            match self
                .store
                .store_pending_handover(caller, &target, &authority, &token_hash, &pending, seen, &wanted, now)
                .await?
            {
                Ok(()) => {
                    stored = Some((pending, token, view.pending));
                    break;
                }
                Err(HandoverConflict::Token) => return Err(HandoverError::TokenInvalid),
                Err(HandoverConflict::IdentifierTaken(id)) => return Err(taken(id)),
                // The account or the caller changed since the read: read again and decide again.
                Err(_) => continue,
            }
        }
        let Some((pending, token, previous)) = stored else { return Err(HandoverError::Contended) };
        tracing::info!(account = %target, caller = %caller.account, handover = %pending.id, "handover pending confirmation");
        self.failpoints.check("handover.pending_stored")?;
        match Box::pin(self.send_code_to(
            &target,
            None,
            Purpose::ConfirmHandover,
            Some(&pending.owner.email),
            Some(&pending.id),
        ))
        .await
        {
            Ok(sent) => Ok(HandoverStarted {
                status: "awaiting_confirmation",
                account_id: target.to_string(),
                destination: sent.destination,
                expires_in_seconds: sent.expires_in_seconds,
            }),
            Err(error) => {
                // No code went out: put the token and the previous pending handover back.
                let (t, p) = tokio::join!(
                    self.store.restore_token(&token),
                    self.store.restore_pending_handover(&target, &pending.id, previous.as_ref())
                );
                t?;
                p?;
                Err(error.into())
            }
        }
    }

    /// Confirms a pending handover with the code sent to the new address and
    /// carries it out. Rights are checked before the code is tried, so a
    /// caller without them cannot spend the account's attempts.
    pub async fn confirm_handover(
        &self,
        caller: &Caller,
        account: Option<&AccountId>,
        code: &VerificationCode,
    ) -> Result<HandoverOutcome, HandoverError> {
        let target = account.cloned().unwrap_or_else(|| caller.account.clone());
        let mut me = None;
        // Rights (and a higher pending handover) are decided before an attempt is spent.
        let ids =
            if target == caller.account { vec![target.clone()] } else { vec![caller.account.clone(), target.clone()] };
        let accounts = self.store.get_accounts(&ids).await?;
        let find = |id: &AccountId| accounts.iter().find(|a| &a.id == id);
        let authority = self.handover_authority(caller, find(&caller.account), &target, find(&target)).await?;
        let pending = find(&target).and_then(|t| t.pending_handover.as_ref());
        authority.may_act_on(pending, self.clock.now())?;
        // The code verifies only for the pending handover it was sent for; none pending: no live code.
        let Some(bound_to) = pending.map(|p| p.id.clone()) else { return Err(CodeError::Expired.into()) };
        if target != caller.account {
            me = find(&caller.account).cloned();
        }
        // The holder's own confirmation spends an attempt only for a session from after the last handover.
        let session = (target == caller.account).then_some(caller.session);
        let token = match Box::pin(self.verify_code_on(
            &target,
            session,
            Purpose::ConfirmHandover,
            code,
            Some(&bound_to),
        ))
        .await
        {
            Ok(token) => token,
            // A deletion accepted between the attempt and the redemption also ends in "no live code": say which.
            Err(CodeError::Expired) => {
                self.live_account(&target).await?;
                return Err(CodeError::Expired.into());
            }
            Err(e) => return Err(e.into()),
        };
        let token_hash =
            TokenString::parse(&token.verification_token).map_err(|e| StoreError::Malformed(e.to_string()))?.hash(self);
        self.failpoints.check("handover.verified")?;
        let owner = random_id("worker")?;
        let mut accepted = None;
        for _ in 0..MAX_RACES {
            let now = self.clock.now();
            let Some(view) = self.store.handover_view(&target, VIEW_LIMIT).await? else {
                return Err(self.missing_account(&target).await.into());
            };
            if view.account.status != AccountStatus::Active {
                return Err(AccountError::Deleted.into());
            }
            let authority = match &me {
                None => Authority::Own,
                Some(me) => authority_over(me, &view.account).ok_or(HandoverError::NotAuthorized)?,
            };
            let Some(pending) = view.pending.clone().filter(|p| p.expires_at > now && p.id == bound_to) else {
                return Err(CodeError::Expired.into());
            };
            if !view.account.live_tokens.contains(&token_hash) {
                return Err(CodeError::Expired.into());
            }
            let mut state = JobState::new(&pending, &view.account, &caller.account);
            let (take, release) = state.identifier_changes()?;
            let (revocations, counts) = revocations(&view.credentials, pending.iam_users);
            let change = HandoverChange {
                target: &target,
                handover_id: &pending.id,
                authority: &authority,
                token_hash: &token_hash,
                old_email: view.account.email.as_ref(),
                take: &take,
                release: &release,
                now,
            };
            // Token, profile, caller, claims, record and job, around the revocations.
            let fixed = 4 + usize::from(me.is_some()) + take.len() + release.len();
            let one_transaction = view.complete && fixed + revocations.len() <= MAX_TRANSACTION_OPS;
            let mut job = Job {
                kind: JobKind::Handover,
                subject: target.to_string(),
                step: Step::FIRST.as_str().into(),
                done: 0,
                cursor: None,
                requested_by: caller.account.to_string(),
                requested_at: now,
                due_at: now + LEASE_SECONDS,
                lease_owner: Some(owner.clone()),
                reference: pending.id.clone(),
                payload: None,
            };
            let outcome = if one_transaction {
                let (rebinding, contacts_changed) = rebinding(&view, &pending.owner);
                state.counts = counts;
                state.counts.identifiers_taken = take.len() as u64;
                state.counts.identifiers_released = release.len() as u64;
                state.counts.contacts_changed = contacts_changed;
                job.step = Step::NotifyOld.as_str().into();
                job.payload = Some(state.payload()?);
                let record = state.record(&pending.id, now)?;
                self.store.commit_handover(&change, &rebinding, &revocations, &record, &job).await?
            } else {
                state.counts.identifiers_taken = take.len() as u64;
                job.payload = Some(state.payload()?);
                self.store.accept_handover(&change, &job).await?
            };
            match outcome {
                Ok(()) => {
                    tracing::info!(account = %target, caller = %caller.account, handover = %pending.id, one_transaction, "handover accepted");
                    accepted = Some(job);
                    break;
                }
                Err(HandoverConflict::Caller) => return Err(HandoverError::NotAuthorized),
                Err(HandoverConflict::IdentifierTaken(id)) => return Err(taken(id)),
                Err(HandoverConflict::Token) => return Err(CodeError::Expired.into()),
                Err(HandoverConflict::JobExists) => return Err(HandoverError::InProgress),
                // The account changed since the read (a credential, a deletion): read again.
                Err(_) => continue,
            }
        }
        let Some(job) = accepted else { return Err(HandoverError::Contended) };
        self.failpoints.check("handover.accepted")?;
        let handing_over =
            || HandoverOutcome { status: "handing_over", account_id: target.to_string(), checklist: Vec::new() };
        let run = match Box::pin(self.run_handover(&job, &owner, Budget::items(self.config.inline_work_items))).await {
            Ok(run) => run,
            // Accepted already: once the lease lapses, cleanup carries the handover on.
            Err(HandoverError::Store(StoreError::Busy(error))) => {
                tracing::warn!(account = %target, %error, "handover paused: DynamoDB is busy; cleanup carries it on");
                return Ok(handing_over());
            }
            Err(other) => return Err(other),
        };
        if run.abandoned {
            return Err(AccountError::Deleted.into());
        }
        if run.progress == Progress::Paused {
            match self.store.release_job(&job, &owner, self.clock.now()).await {
                Ok(()) => {}
                // The lease lapses by itself: cleanup takes the job then.
                Err(StoreError::Busy(_)) => return Ok(handing_over()),
                Err(other) => return Err(other.into()),
            }
        }
        Ok(HandoverOutcome {
            status: if run.handed_over { "handed_over" } else { "handing_over" },
            account_id: target.to_string(),
            checklist: if run.handed_over { run.state.checklist() } else { Vec::new() },
        })
    }

    /// Carries a handover on from wherever it stopped; one overtaken by a deletion is rolled back and ended.
    pub async fn resume_handover(&self, job: &Job, owner: &str, budget: Budget) -> Result<Progress, HandoverError> {
        // Boxed so that cleanup's future does not carry the whole job run inline.
        Ok(Box::pin(self.run_handover(job, owner, budget)).await?.progress)
    }

    async fn run_handover(&self, job: &Job, owner: &str, mut budget: Budget) -> Result<Run, HandoverError> {
        let target =
            AccountId::parse(&job.subject).ok_or_else(|| StoreError::Malformed("handover job subject".into()))?;
        let mut job = job.clone();
        let mut state = JobState::from_job(&job)?;
        let mut races = 0;
        loop {
            let step = Step::parse(&job.step).ok_or_else(|| StoreError::Malformed("handover job step".into()))?;
            let handed_over = matches!(step, Step::NotifyOld | Step::NotifyNew);
            let end = |progress, state: JobState| Ok(Run { progress, state, handed_over, abandoned: false });
            let now = self.clock.now();
            match step {
                Step::Revoke(kind) => {
                    let cursor = job.cursor.clone().filter(|c| !c.is_empty());
                    let (page, more) = self.store.credentials_page(&target, kind, cursor.as_deref(), PAGE).await?;
                    let (next_step, next_cursor) = match page.last() {
                        Some(last) if more => (step, last.sort_key.clone()),
                        _ => (step.next(), String::new()),
                    };
                    let (revocations, counts) = revocations(&page, state.iam_users);
                    let mut next = state.clone();
                    next.counts.add(&counts);
                    let progress = self.store.handover_progress(
                        &job,
                        owner,
                        now,
                        next_step.as_str(),
                        &next_cursor,
                        &next.payload()?,
                    );
                    let outcome = if revocations.is_empty() {
                        if self.store.save_progress(progress).await? {
                            Ok(())
                        } else {
                            Err(HandoverConflict::Lease)
                        }
                    } else {
                        self.store.revoke_credentials_page(&target, &job.reference, &revocations, progress, now).await?
                    };
                    match outcome {
                        Ok(()) => {
                            state = next;
                            job.step = next_step.as_str().into();
                            job.cursor = Some(next_cursor);
                        }
                        Err(HandoverConflict::Lease) => return end(Progress::LeaseLost, state),
                        Err(HandoverConflict::Profile) => {
                            return self.abandon_if_overtaken(&target, &job, owner, state).await
                        }
                        Err(_) if races < MAX_RACES => {
                            races += 1;
                            continue;
                        }
                        Err(_) => return end(Progress::Paused, state),
                    }
                    self.failpoints.check("handover.page_revoked")?;
                    budget.spend(page.len().max(1));
                    if budget.exhausted() {
                        return end(Progress::Paused, state);
                    }
                }
                Step::Rebind => {
                    let Some(view) = self.store.handover_view(&target, 0).await? else {
                        return self.abandon_if_overtaken(&target, &job, owner, state).await;
                    };
                    let (rebinding, contacts_changed) = rebinding(&view, &state.owner()?);
                    let (_, release) = state.identifier_changes()?;
                    let mut next = state.clone();
                    next.counts.contacts_changed = contacts_changed;
                    next.counts.identifiers_released = release.len() as u64;
                    let record = next.record(&job.reference, now)?;
                    let progress =
                        self.store.handover_progress(&job, owner, now, Step::NotifyOld.as_str(), "", &next.payload()?);
                    match self
                        .store
                        .finish_handover(&target, &job.reference, &rebinding, &release, &record, progress, now)
                        .await?
                    {
                        Ok(()) => {
                            tracing::info!(account = %target, handover = %job.reference, "handover rebound");
                            state = next;
                            job.step = Step::NotifyOld.as_str().into();
                        }
                        Err(HandoverConflict::Lease) => return end(Progress::LeaseLost, state),
                        Err(HandoverConflict::Profile) => {
                            return self.abandon_if_overtaken(&target, &job, owner, state).await
                        }
                        Err(_) if races < MAX_RACES => {
                            races += 1;
                            continue;
                        }
                        Err(_) => return end(Progress::Paused, state),
                    }
                    self.failpoints.check("handover.rebound")?;
                }
                Step::NotifyOld => {
                    let new = state.owner()?.email;
                    if let Some(old) = state.old_email().filter(|old| *old != new) {
                        if let Err(error) = self.mail_old_holder(&old, &target, &new).await {
                            tracing::warn!(account = %target, %error, "handover notice to the old address failed; a later run retries it");
                            return end(Progress::Paused, state);
                        }
                    }
                    let progress =
                        self.store.handover_progress(&job, owner, now, Step::NotifyNew.as_str(), "", &state.payload()?);
                    if !self.store.save_progress(progress).await? {
                        return end(Progress::LeaseLost, state);
                    }
                    job.step = Step::NotifyNew.as_str().into();
                    self.failpoints.check("handover.old_notified")?;
                }
                Step::NotifyNew => {
                    let new = state.owner()?.email;
                    if let Err(error) = self.mail_new_holder(&new, &target, &state.checklist()).await {
                        tracing::warn!(account = %target, %error, "handover notice to the new address failed; a later run retries it");
                        return end(Progress::Paused, state);
                    }
                    self.failpoints.check("handover.new_notified")?;
                    if !self.store.end_handover_job(&job, owner).await? {
                        return end(Progress::LeaseLost, state);
                    }
                    tracing::info!(account = %target, handover = %job.reference, "handover finished");
                    return end(Progress::Finished, state);
                }
            }
        }
    }

    /// A large handover's transaction found the profile changed: if the account
    /// is gone or being deleted, release what the handover took and end it.
    async fn abandon_if_overtaken(
        &self,
        target: &AccountId,
        job: &Job,
        owner: &str,
        state: JobState,
    ) -> Result<Run, HandoverError> {
        let view = self.store.handover_view(target, 0).await?;
        let overtaken = view.as_ref().is_none_or(|v| {
            v.account.status != AccountStatus::Active || v.in_progress.as_deref() != Some(job.reference.as_str())
        });
        if !overtaken {
            return Ok(Run { progress: Progress::Paused, state, handed_over: false, abandoned: false });
        }
        let (reserved, _) = state.identifier_changes()?;
        match self.store.abandon_handover(target, &reserved, job, owner).await? {
            Ok(()) => {
                tracing::info!(account = %target, handover = %job.reference, "handover overtaken by a deletion: rolled back");
                Ok(Run { progress: Progress::Finished, state, handed_over: false, abandoned: true })
            }
            Err(_) => Ok(Run { progress: Progress::LeaseLost, state, handed_over: false, abandoned: false }),
        }
    }

    async fn mail_old_holder(
        &self,
        to: &EmailAddress,
        account: &AccountId,
        new: &EmailAddress,
    ) -> Result<(), crate::mail::MailError> {
        let text = format!(
            "The account {account} that used this address was handed over to a designated person ({new}).\n\n\
             This address and your phone number are no longer linked to it, and you can register them again. \
             The authenticators and third-party accounts linked to it were unlinked, its access keys deactivated \
             and every session ended.\n\n\
             If you did not expect this, contact your enterprise administrator.",
            new = new.masked()
        );
        self.mailer.send_plain(to, "Your account was handed over", &text).await
    }

    async fn mail_new_holder(
        &self,
        to: &EmailAddress,
        account: &AccountId,
        checklist: &[ChecklistItem],
    ) -> Result<(), crate::mail::MailError> {
        let steps: Vec<String> =
            checklist.iter().map(|c| format!("{}. {}: {} ({})", c.step, c.item, c.done, c.count)).collect();
        let text = format!(
            "The account {account} was handed over to you and now uses this address.\n\n\
             Sign in and change the password: it must be changed at the next sign-in. Then link your own \
             authenticator and create new access keys where you need them.\n\n\
             What was done:\n{}",
            steps.join("\n")
        );
        self.mailer.send_plain(to, "An account was handed over to you", &text).await
    }
}

/// Why a credential or a contact could not be linked.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("{0} must be 1 to 256 characters, without control characters or '#'")]
    Invalid(&'static str),
    #[error("{0} is malformed")]
    InvalidContact(String),
    #[error("the account is not active (unknown, deleted or being deleted) or a handover of it is running")]
    AccountNotActive,
    #[error("this credential is already linked")]
    AlreadyLinked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl App {
    /// Links a credential to an active account (the services that own them, and the fixtures).
    pub async fn link_credential(&self, account: &AccountId, credential: &Credential) -> Result<(), LinkError> {
        credential.validate()?;
        match self.store.link_credential(account, credential, self.clock.now()).await? {
            crate::store::TxOutcome::Committed => Ok(()),
            outcome if outcome.failed(0) => Err(LinkError::AccountNotActive),
            _ => Err(LinkError::AlreadyLinked),
        }
    }

    /// Keeps contacts apart from the account's email and phone (e.g. a security email).
    pub async fn set_contacts(&self, account: &AccountId, contacts: &[(ContactSlot, String)]) -> Result<(), LinkError> {
        let mut normalised = Vec::with_capacity(contacts.len());
        for (slot, value) in contacts {
            let bad = |_| LinkError::InvalidContact(slot.name());
            let value = match slot.channel {
                Channel::Email => EmailAddress::parse(value).map_err(bad)?.as_str().to_string(),
                Channel::Phone => PhoneNumber::parse(value).map_err(bad)?.as_str().to_string(),
            };
            normalised.push((*slot, value));
        }
        if self.store.set_contacts(account, &normalised).await? {
            Ok(())
        } else {
            Err(LinkError::AccountNotActive)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            hold_count: 0,
            sessions_revoked_at: None,
            live_tokens: Vec::new(),
            pending_handover: None,
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
    fn steps_run_in_order_and_round_trip() {
        let mut step = Step::FIRST;
        let mut seen = vec![step.as_str()];
        while step != Step::NotifyNew {
            step = step.next();
            assert_eq!(Step::parse(step.as_str()), Some(step));
            seen.push(step.as_str());
        }
        assert_eq!(
            seen,
            [
                "revoke_mfa",
                "revoke_logins",
                "revoke_access_keys",
                "revoke_iam_users",
                "rebind",
                "notify_old",
                "notify_new"
            ]
        );
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
}
