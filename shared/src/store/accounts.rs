//! Accounts (`ACCOUNT#<id>` / `PROFILE`), their holds (`PROFILE#HOLD#...`),
//! identifier claims (`CLAIM#<KIND>#<value>`) and deletion receipts.

use super::{key, keys, n, s, Item, ItemExt, Job, Op, Store, StoreError, TxOutcome};
use crate::accounts::{
    Account, AccountError, AccountId, AccountStatus, EmailAddress, Identifier, NewAccount, PhoneNumber, Role, Username,
};
use crate::deletion::DeletionFinal;
use crate::holds::Hold;
use crate::locale::Locale;

/// The parts of registering an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationPart {
    /// The profile exists already.
    Profile,
    /// Another account (or a quarantine) holds this identifier.
    Claim(Identifier),
    Membership,
}

/// The parts of registering or releasing a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldPart {
    /// Registering: the account is not active. Releasing: no such account.
    Profile,
    /// Registering: the same hold exists. Releasing: no such hold.
    Hold,
}

/// The parts of accepting a deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptDeletionPart {
    /// Spent, expired, or not this account's.
    Token,
    /// Not active and deletable, not in this session, or no longer listing the token.
    Profile,
    /// A deletion job exists already.
    Job,
}

/// The parts of finishing a deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalizeDeletionPart {
    Profile,
    Claim,
    Membership,
    Receipt,
    /// A ledger entry exists already.
    Ledger,
    /// Never refused: the account's unspent tokens go with it.
    Token,
    /// The job's lease went to another worker.
    Job,
}

pub(super) fn account_from_item(item: &Item) -> Result<Account, StoreError> {
    let id = item.str("account_id").and_then(AccountId::parse);
    let role = item.str("role").and_then(Role::parse);
    let status = item.str("status").and_then(AccountStatus::parse);
    let (Some(id), Some(role), Some(status)) = (id, role, status) else {
        return Err(StoreError::Malformed(item.str("pk").unwrap_or("profile").to_string()));
    };
    Ok(Account {
        username: item.str("username").and_then(|v| Username::parse(v).ok()),
        email: item.str("email").and_then(|v| EmailAddress::parse(v).ok()),
        phone: item.str("phone").and_then(|v| PhoneNumber::parse(v).ok()),
        name: item.str("name").map(String::from),
        enterprise_id: item.str("enterprise_id").map(String::from),
        locale: item.str("locale").and_then(Locale::parse).unwrap_or_default(),
        hold_count: item.num("hold_count").unwrap_or(0).max(0) as u32,
        sessions_revoked_at: item.num(super::codes::SESSIONS_REVOKED_AT),
        pending_handover: item.map("handover_pending").and_then(|m| {
            Some(crate::accounts::PendingBy {
                id: m.str("id")?.to_string(),
                requested_by: m.str("requested_by").and_then(AccountId::parse)?,
                requested_as: m.str("requested_as").and_then(Role::parse),
                expires_at: m.num("expires_at").unwrap_or(0),
            })
        }),
        handover_running_as: item.str(super::handover::IN_PROGRESS_AS).and_then(Role::parse),
        reserved: item
            .get(RESERVED)
            .and_then(|v| v.as_l().ok())
            .map(|list| list.iter().filter_map(|v| v.as_m().ok()).filter_map(identifier_from_map).collect())
            .unwrap_or_default(),
        live_tokens: crate::purpose::Purpose::ALL
            .iter()
            .filter_map(|p| item.str(&super::codes::token_attr(*p)).map(String::from))
            .collect(),
        id,
        role,
        status,
    })
}

/// On the profile while a handover runs in several transactions: the identifiers it claimed.
pub(crate) const RESERVED: &str = "handover_reserved";

/// `{kind, value}`, as a handover records what it claimed.
pub(crate) fn identifier_value(id: &Identifier) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::M(std::collections::HashMap::from([
        ("kind".to_string(), s(id.kind())),
        ("value".to_string(), s(id.value())),
    ]))
}

fn identifier_from_map(m: &Item) -> Option<Identifier> {
    let value = m.str("value")?;
    match m.str("kind")? {
        "email" => EmailAddress::parse(value).ok().map(Identifier::Email),
        "phone" => PhoneNumber::parse(value).ok().map(Identifier::Phone),
        "username" => Username::parse(value).ok().map(Identifier::Username),
        _ => None,
    }
}

pub(super) fn hold_from_item(item: &Item) -> Hold {
    Hold {
        kind: item.str("kind").unwrap_or("unknown").to_string(),
        reference: item.str("reference").unwrap_or_default().to_string(),
        detail: item.str("detail").unwrap_or_default().to_string(),
    }
}

fn profile_key(account: &AccountId) -> Item {
    key(keys::account(account.as_str()), keys::PROFILE)
}

fn claim_key(id: &Identifier) -> Item {
    key(keys::claim(id.kind(), id.value()), keys::CLAIM)
}

/// One page of the items an account owns besides its profile.
#[derive(Debug)]
pub struct AccountItemsPage {
    /// The profile, while it exists (the final transaction deletes it).
    pub profile: Option<Account>,
    /// Sort keys of the other items, in key order.
    pub item_keys: Vec<String>,
    pub more: bool,
}

impl Store {
    /// Pattern "read a profile": one consistent GetItem.
    pub async fn get_account(&self, account: &AccountId) -> Result<Option<Account>, StoreError> {
        self.get(profile_key(account)).await?.map(|i| account_from_item(&i)).transpose()
    }

    /// Pattern "profile and holds": one Query on `begins_with(sk, "PROFILE")`,
    /// which holds the profile and every hold and nothing else of the account.
    pub async fn account_with_holds(&self, account: &AccountId) -> Result<Option<(Account, Vec<Hold>)>, StoreError> {
        let mut profile = None;
        let mut holds = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :profile)")
                .expression_attribute_values(":pk", s(keys::account(account.as_str())))
                .expression_attribute_values(":profile", s(keys::PROFILE))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(StoreError::sdk)?;
            for item in out.items() {
                match item.str("sk") {
                    Some(keys::PROFILE) => profile = Some(account_from_item(item)?),
                    _ => holds.push(hold_from_item(item)),
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(profile.map(|p| (p, holds)))
    }

    /// Pattern "register an account": the profile, its identifier claims and
    /// its enterprise membership in one transaction. A claim is taken if it is
    /// free or its quarantine has passed.
    pub async fn register_account(&self, account: &NewAccount, now: i64) -> Result<(), AccountError> {
        let mut profile = profile_key(&account.id);
        profile.extend([
            ("account_id".to_string(), s(account.id.as_str())),
            ("role".to_string(), s(account.role.as_str())),
            ("status".to_string(), s(AccountStatus::Active.as_str())),
            ("hold_count".to_string(), n(0)),
            ("created_at".to_string(), n(now)),
            ("locale".to_string(), s(account.locale.as_str())),
        ]);
        let optional = [
            ("username", account.username.as_ref().map(|v| v.as_str().to_string())),
            ("email", account.email.as_ref().map(|v| v.as_str().to_string())),
            ("phone", account.phone.as_ref().map(|v| v.as_str().to_string())),
            ("name", account.name.clone()),
            ("enterprise_id", account.enterprise_id.clone()),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                profile.insert(name.to_string(), s(v));
            }
        }
        let mut ops = vec![(RegistrationPart::Profile, Op::put(profile).when("attribute_not_exists(pk)"))];
        let identifiers: Vec<Identifier> = [
            account.username.clone().map(Identifier::Username),
            account.email.clone().map(Identifier::Email),
            account.phone.clone().map(Identifier::Phone),
        ]
        .into_iter()
        .flatten()
        .collect();
        for id in &identifiers {
            ops.push((RegistrationPart::Claim(id.clone()), self.claim_taking(id, &account.id, now)));
        }
        if let Some(enterprise) = &account.enterprise_id {
            let mut member = key(keys::enterprise(enterprise), &keys::member(account.id.as_str()));
            member.extend([
                ("account_id".to_string(), s(account.id.as_str())),
                ("role".to_string(), s(account.role.as_str())),
            ]);
            ops.push((RegistrationPart::Membership, Op::put(member)));
        }
        match self.transact(ops).await? {
            TxOutcome::Committed => Ok(()),
            outcome if outcome.refused(&RegistrationPart::Profile) => {
                Err(AccountError::AlreadyExists(account.id.to_string()))
            }
            outcome => {
                let taken = outcome.refused_parts().iter().find_map(|part| match part {
                    RegistrationPart::Claim(id) => Some(id),
                    _ => None,
                });
                match taken {
                    Some(id) => Err(AccountError::IdentifierTaken { kind: id.kind(), value: id.value().to_string() }),
                    None => {
                        Err(AccountError::from(StoreError::Unavailable(format!("registration cancelled: {outcome:?}"))))
                    }
                }
            }
        }
    }

    /// Pattern "take a claim", for a transaction: free, or its quarantine has passed.
    pub(crate) fn claim_taking(&self, id: &Identifier, owner: &AccountId, now: i64) -> Op {
        let mut claim = claim_key(id);
        claim.extend([("owner".to_string(), s(owner.as_str())), ("claimed_at".to_string(), n(now))]);
        Op::put(claim).when("attribute_not_exists(pk) OR free_at <= :now").value(":now", n(now))
    }

    /// Pattern "release a claim", for a transaction: deleted at once, or kept
    /// ownerless in quarantine until `free_at` (then it is in the due index).
    pub(crate) fn claim_release(&self, id: &Identifier, owner: &AccountId, free_at: Option<i64>) -> Op {
        let op = match free_at {
            None => Op::delete(claim_key(id)),
            Some(at) => Op::update(
                claim_key(id),
                "SET free_at = :at, due_bucket = :bucket, due_at = :at, #ttl = :at REMOVE #owner",
            )
            .name("#ttl", "ttl")
            .value(":at", n(at))
            .value(":bucket", s(super::sweep::CLAIM_BUCKET)),
        };
        op.when("attribute_not_exists(pk) OR #owner = :me").name("#owner", "owner").value(":me", s(owner.as_str()))
    }

    /// Pattern "was this account deleted": one GetItem on its receipt.
    pub async fn receipt_exists(&self, account: &AccountId) -> Result<bool, StoreError> {
        Ok(self.get(key(keys::receipt(account.as_str()), keys::RECEIPT)).await?.is_some())
    }

    /// Pattern "register a hold": the hold and the profile's hold count in one
    /// transaction, only while the account is active, so a deletion that has
    /// been accepted can never be overtaken by a hold.
    /// `Ok(false)`: refused (no active account, or the same hold exists).
    pub async fn register_hold(
        &self,
        account: &AccountId,
        hold: &Hold,
        now: i64,
    ) -> Result<TxOutcome<HoldPart>, StoreError> {
        let count = Op::update(profile_key(account), "ADD hold_count :one")
            .when("#status = :active")
            .name("#status", "status")
            .value(":active", s(AccountStatus::Active.as_str()))
            .value(":one", n(1));
        let mut item = key(keys::account(account.as_str()), &keys::hold(&hold.kind, &hold.reference));
        item.extend([
            ("kind".to_string(), s(&hold.kind)),
            ("reference".to_string(), s(&hold.reference)),
            ("detail".to_string(), s(&hold.detail)),
            ("registered_at".to_string(), n(now)),
        ]);
        self.transact(vec![
            (HoldPart::Profile, count),
            (HoldPart::Hold, Op::put(item).when("attribute_not_exists(pk)")),
        ])
        .await
    }

    /// Pattern "release a hold": the hold and the count together. `false`: no such hold.
    pub async fn release_hold(&self, account: &AccountId, kind: &str, reference: &str) -> Result<bool, StoreError> {
        let count = Op::update(profile_key(account), "ADD hold_count :minus")
            .value(":minus", n(-1))
            .when("attribute_exists(pk)");
        let hold =
            Op::delete(key(keys::account(account.as_str()), &keys::hold(kind, reference))).when("attribute_exists(pk)");
        Ok(matches!(
            self.transact(vec![(HoldPart::Profile, count), (HoldPart::Hold, hold)]).await?,
            TxOutcome::Committed
        ))
    }

    /// Pattern "accept a deletion": one transaction spends the token, checks the
    /// account is active, deletable and without holds, locks it and creates the job.
    pub async fn accept_deletion(
        &self,
        account: &AccountId,
        session: crate::caller::Session,
        token_hash: &str,
        now: i64,
        locked_as: AccountStatus,
        job: &Job,
    ) -> Result<TxOutcome<AcceptDeletionPart>, StoreError> {
        let token = self.token_consumption(token_hash, account, crate::purpose::Purpose::DeleteAccount, now);
        let lock = Op::update(profile_key(account), "SET #status = :locked, deletion_requested_at = :now")
            .when(
                "#status = :active AND attribute_exists(email) AND (attribute_not_exists(hold_count) OR hold_count = :zero) \
                 AND NOT (#role = :default_admin AND attribute_exists(enterprise_id))",
            )
            .name("#status", "status")
            .name("#role", "role")
            .value(":active", s(AccountStatus::Active.as_str()))
            .value(":locked", s(locked_as.as_str()))
            .value(":now", n(now))
            .value(":zero", n(0))
            .value(":default_admin", s(Role::DefaultAdmin.as_str()));
        // Not while an administrator's handover of the account waits for its code or is under way.
        let lock = lock
            .and_when("attribute_not_exists(#hp) OR attribute_not_exists(#hp.#as) OR #hp.#exp <= :now")
            .and_when("attribute_not_exists(#hipas)")
            .name("#hipas", super::handover::IN_PROGRESS_AS)
            .name("#hp", "handover_pending")
            .name("#as", "requested_as")
            .name("#exp", "expires_at");
        let lock = super::codes::within_session(
            super::codes::spending_token(lock, crate::purpose::Purpose::DeleteAccount, token_hash),
            Some(session),
        );
        self.transact(vec![
            (AcceptDeletionPart::Token, token),
            (AcceptDeletionPart::Profile, lock),
            (AcceptDeletionPart::Job, self.job_creation(job)),
        ])
        .await
    }

    /// Pattern "page through an account's items": a consistent Query of keys only,
    /// from the start of the partition (what was deleted is no longer there).
    pub async fn account_items_page(&self, account: &AccountId, limit: usize) -> Result<AccountItemsPage, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::account(account.as_str())))
            .consistent_read(true)
            .limit(limit as i32 + 1)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let more = out.last_evaluated_key.is_some();
        let mut page = AccountItemsPage { profile: None, item_keys: Vec::new(), more };
        for item in out.items.unwrap_or_default() {
            match item.str("sk") {
                Some(keys::PROFILE) => page.profile = Some(account_from_item(&item)?),
                Some(sk) => page.item_keys.push(sk.to_string()),
                None => {}
            }
        }
        Ok(page)
    }

    /// Pattern "delete an account's items": BatchWriteItem, 25 keys a request.
    pub async fn delete_account_items(&self, account: &AccountId, sort_keys: &[String]) -> Result<(), StoreError> {
        let pk = keys::account(account.as_str());
        self.delete_keys(sort_keys.iter().map(|sk| key(pk.clone(), sk)).collect()).await
    }

    /// Pattern "finish a deletion": one transaction deletes the profile and the
    /// membership, releases the identifier claims, writes the receipt (which the
    /// table's stream carries downstream) and ends the job.
    pub async fn finalize_deletion(
        &self,
        account: &Account,
        job: &Job,
        owner: &str,
        receipt: &DeletionFinal,
    ) -> Result<TxOutcome<FinalizeDeletionPart>, StoreError> {
        use FinalizeDeletionPart as Part;
        let mut ops = vec![(
            Part::Profile,
            Op::delete(profile_key(&account.id))
                .when("#status IN (:deleting, :scheduled)")
                .name("#status", "status")
                .value(":deleting", s(AccountStatus::Deleting.as_str()))
                .value(":scheduled", s(AccountStatus::DeletionScheduled.as_str())),
        )];
        let identifiers = account.identifiers();
        for id in &identifiers {
            ops.push((Part::Claim, self.claim_release(id, &account.id, receipt.identifiers_free_at)));
        }
        // What an overtaken handover had claimed goes now too, not when its job next runs (never the account's own).
        for id in account.reserved.iter().filter(|id| !identifiers.contains(id)) {
            ops.push((Part::Claim, self.claim_release(id, &account.id, None)));
        }
        if let Some(enterprise) = &account.enterprise_id {
            ops.push((
                Part::Membership,
                Op::delete(key(keys::enterprise(enterprise), &keys::member(account.id.as_str()))),
            ));
        }
        let mut item = key(keys::receipt(account.id.as_str()), keys::RECEIPT);
        item.extend([
            ("kind".to_string(), s("account_deletion")),
            ("receipt_id".to_string(), s(&receipt.receipt_id)),
            ("account_id".to_string(), s(account.id.as_str())),
            ("requested_at".to_string(), n(receipt.requested_at)),
            ("deleted_at".to_string(), n(receipt.deleted_at)),
            ("items_removed".to_string(), n(receipt.items_removed)),
            ("identifiers_released".to_string(), n(identifiers.len())),
            ("memberships_removed".to_string(), n(account.enterprise_id.is_some() as u8)),
        ]);
        if let Some(at) = receipt.identifiers_free_at {
            item.insert("identifiers_free_at".to_string(), n(at));
        }
        ops.push((Part::Receipt, Op::put(item).when("attribute_not_exists(pk)")));
        ops.extend(
            receipt.ledger.iter().map(|e| (Part::Ledger, self.ledger_entry_creation(e, receipt.ledger_next_at))),
        );
        // The profile lists every live token of the account (each redemption and handover deletes the ones it unlists).
        ops.extend(account.live_tokens.iter().map(|h| (Part::Token, Op::delete(key(keys::token(h), keys::TOKEN)))));
        ops.push((Part::Job, self.job_deletion(job, owner)));
        self.transact(ops).await
    }
}
