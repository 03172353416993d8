//! The transactions that carry a handover out, whole or page by page.

use super::{iam_users_str, profile_key, Part, IN_PROGRESS, IN_PROGRESS_AS, LINKS_VERSION, PENDING};
use crate::accounts::{AccountId, AccountStatus, Identifier};
use crate::handover::{Authority, HandoverChange, HandoverConflict, HandoverRecord, Rebinding, Revocations};
use crate::purpose::Purpose;
use crate::store::codes::{spending_token, verification_attrs};
use crate::store::{key, keys, n, s, Job, Op, Store, StoreError, Written};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

impl Store {
    /// The profile update that gives the account to the designated person; the
    /// caller adds the conditions. `marker` is the attribute the change removes.
    fn rebinding_op(&self, target: &AccountId, r: &Rebinding, handover_id: &str, now: i64, marker: &str) -> Op {
        let mut sets = vec!["email = :email", "#prr = :true", "#sra = :now", "#hoa = :now", "#last = :hid"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        let mut removes = vec!["#marker".to_string(), "#mas".to_string(), "#res".to_string()];
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
            ("#mas".into(), IN_PROGRESS_AS.into()),
            ("#res".into(), crate::store::accounts::RESERVED.into()),
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
    /// the job that mails both parties, all or nothing; only if no credential was
    /// linked and no contact set since the profile was read at `links_version`.
    pub async fn commit_handover(
        &self,
        change: &HandoverChange<'_>,
        links_version: u64,
        rebinding: &Rebinding,
        revocations: &Revocations,
        record: &HandoverRecord,
        job: &Job,
    ) -> Result<Result<(), HandoverConflict>, StoreError> {
        let profile = self.rebinding_op(change.target, rebinding, change.handover_id, change.now, PENDING);
        let unchanged = if links_version == 0 { "attribute_not_exists(#lv)" } else { "#lv = :lv" };
        let profile = self
            .active_with(profile, change, &format!("#marker.#id = :hid AND {unchanged}"))
            .name("#id", "id")
            .name("#lv", LINKS_VERSION);
        let profile = if links_version == 0 { profile } else { profile.value(":lv", n(links_version)) };
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
        // The confirmation token is spent above: one transaction may not touch an item twice.
        parts.extend(self.ended_tokens(rebinding, Some(change.token_hash)));
        parts.push((Part::Record, self.record_op(change.target, record)));
        parts.push((Part::Job, self.job_creation(job)));
        self.run_parts(parts).await
    }

    /// Deletes of the tokens a rebinding unlists (a token deleted already is no failure).
    fn ended_tokens(&self, r: &Rebinding, spent: Option<&str>) -> Vec<(Part, Op)> {
        r.ended_tokens
            .iter()
            .filter(|h| Some(h.as_str()) != spent)
            .map(|h| (Part::Token, Op::delete(key(keys::token(h), keys::TOKEN))))
            .collect()
    }

    /// The profile must be active, still bind the email it was read with, and `extra`.
    fn active_with(&self, op: Op, change: &HandoverChange<'_>, extra: &str) -> Op {
        let condition = format!(
            "#status = :active AND {extra} AND {}{}",
            if change.old_email.is_some() { "email = :old_email" } else { "attribute_not_exists(email)" },
            Self::authority_condition(change.authority)
        );
        let op = op.when(condition).name("#status", "status").value(":active", s(AccountStatus::Active.as_str()));
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
        let reserved = AttributeValue::L(change.take.iter().map(crate::store::accounts::identifier_value).collect());
        let running_as = match change.authority {
            Authority::Own => None,
            Authority::Administrator { caller_role, .. } => Some(caller_role.as_str()),
        };
        let expression = match running_as {
            None => "SET #hip = :hid, #res = :res REMOVE #hp",
            Some(_) => "SET #hip = :hid, #res = :res, #hipas = :hipas REMOVE #hp",
        };
        let mut profile = Op::update(profile_key(change.target), expression);
        if let Some(role) = running_as {
            profile = profile.name("#hipas", IN_PROGRESS_AS).value(":hipas", s(role));
        }
        let profile = profile
            .name("#res", crate::store::accounts::RESERVED)
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
            .value(":active", s(AccountStatus::Active.as_str()))
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
            .value(":active", s(AccountStatus::Active.as_str()));
        let mut parts = vec![(Part::Profile, profile)];
        parts.extend(release.iter().map(|id| (Part::Release, self.claim_release(id, target, None))));
        parts.extend(self.ended_tokens(rebinding, None));
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
}
