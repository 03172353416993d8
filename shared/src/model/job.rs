//! Jobs: a deletion, dismissal or handover in progress, with its step, counters
//! and lease. A job is due at the end of its lease, or of a grace period, so a
//! later run finds the ones whose worker died or whose time came.

use super::handover::credentials::CredentialKind;

/// How long a worker owns a job before another may take it over.
pub const LEASE_SECONDS: i64 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    Deletion,
    Dismissal,
    Handover,
    /// A copy of the account's data being written (docs/data-export.md).
    Export,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deletion => "deletion",
            Self::Dismissal => "dismissal",
            Self::Handover => "handover",
            Self::Export => "export",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "deletion" => Self::Deletion,
            "dismissal" => Self::Dismissal,
            "handover" => Self::Handover,
            "export" => Self::Export,
            _ => return None,
        })
    }
}

/// Where a job stands, stored as its `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStep {
    /// A deletion with a user pool (contract §9): the pool user is signed out everywhere first.
    SignOut,
    /// A deletion: removes the account's items page by page, then the profile and claims in one transaction.
    Purge,
    /// A dismissal: releases the members page by page, then dismisses the enterprise in one transaction.
    Release,
    Handover(HandoverStep),
    Export(ExportStep),
}

impl JobStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignOut => "sign_out",
            Self::Purge => "purge",
            Self::Release => "release",
            Self::Handover(step) => step.as_str(),
            Self::Export(step) => step.as_str(),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sign_out" => Some(Self::SignOut),
            "purge" => Some(Self::Purge),
            "release" => Some(Self::Release),
            _ => HandoverStep::parse(s).map(Self::Handover).or_else(|| ExportStep::parse(s).map(Self::Export)),
        }
    }
}

/// The steps of the export job, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportStep {
    /// Pages through the account's items into the archive's parts.
    Collect,
    /// Completes the upload: the archive appears whole, or not at all.
    Seal,
    /// The export is ready: the link is mailed, then the job ends.
    Notify,
}

impl ExportStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Collect => "collect",
            Self::Seal => "seal",
            Self::Notify => "notify",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Collect, Self::Seal, Self::Notify].into_iter().find(|step| step.as_str() == s)
    }
}

/// The steps of the handover job, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoverStep {
    Revoke(CredentialKind),
    Rebind,
    /// With a user pool, after the handover committed: one call to the pool each (contract §9).
    UserPool(PoolStep),
    NotifyOld,
    NotifyNew,
}

/// What a handover tells the user pool, one call a step, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolStep {
    /// Email (verified), phone and name become the designated person's.
    Contacts,
    /// A random password nobody knows replaces the leaving employee's.
    Password,
    /// The next sign-in must set a new password.
    ResetRequired,
    /// Every session ends: refresh tokens revoked.
    SignOut,
    /// SMS and authenticator-app MFA off.
    Mfa,
    /// Linked third-party identities unlinked.
    Identities,
}

impl PoolStep {
    pub const ALL: [PoolStep; 6] =
        [Self::Contacts, Self::Password, Self::ResetRequired, Self::SignOut, Self::Mfa, Self::Identities];
}

impl HandoverStep {
    pub const FIRST: HandoverStep = HandoverStep::Revoke(CredentialKind::Mfa);

    const ALL: [HandoverStep; 13] = [
        Self::Revoke(CredentialKind::Mfa),
        Self::Revoke(CredentialKind::ThirdPartyLogin),
        Self::Revoke(CredentialKind::AccessKey),
        Self::Revoke(CredentialKind::IamUser),
        Self::Rebind,
        Self::UserPool(PoolStep::Contacts),
        Self::UserPool(PoolStep::Password),
        Self::UserPool(PoolStep::ResetRequired),
        Self::UserPool(PoolStep::SignOut),
        Self::UserPool(PoolStep::Mfa),
        Self::UserPool(PoolStep::Identities),
        Self::NotifyOld,
        Self::NotifyNew,
    ];

    /// The step after the handover committed: the user pool's first, when there is one.
    pub fn after_rebind(user_pool: bool) -> Self {
        if user_pool {
            Self::UserPool(PoolStep::Contacts)
        } else {
            Self::NotifyOld
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoke(CredentialKind::Mfa) => "revoke_mfa",
            Self::Revoke(CredentialKind::ThirdPartyLogin) => "revoke_logins",
            Self::Revoke(CredentialKind::AccessKey) => "revoke_access_keys",
            Self::Revoke(CredentialKind::IamUser) => "revoke_iam_users",
            Self::Rebind => "rebind",
            Self::UserPool(PoolStep::Contacts) => "pool_contacts",
            Self::UserPool(PoolStep::Password) => "pool_password",
            Self::UserPool(PoolStep::ResetRequired) => "pool_reset_required",
            Self::UserPool(PoolStep::SignOut) => "pool_sign_out",
            Self::UserPool(PoolStep::Mfa) => "pool_mfa",
            Self::UserPool(PoolStep::Identities) => "pool_identities",
            Self::NotifyOld => "notify_old",
            Self::NotifyNew => "notify_new",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|step| step.as_str() == s)
    }

    pub fn next(self) -> Self {
        match self {
            Self::Revoke(CredentialKind::Mfa) => Self::Revoke(CredentialKind::ThirdPartyLogin),
            Self::Revoke(CredentialKind::ThirdPartyLogin) => Self::Revoke(CredentialKind::AccessKey),
            Self::Revoke(CredentialKind::AccessKey) => Self::Revoke(CredentialKind::IamUser),
            Self::Revoke(CredentialKind::IamUser) => Self::Rebind,
            Self::Rebind => Self::NotifyOld,
            Self::UserPool(PoolStep::Contacts) => Self::UserPool(PoolStep::Password),
            Self::UserPool(PoolStep::Password) => Self::UserPool(PoolStep::ResetRequired),
            Self::UserPool(PoolStep::ResetRequired) => Self::UserPool(PoolStep::SignOut),
            Self::UserPool(PoolStep::SignOut) => Self::UserPool(PoolStep::Mfa),
            Self::UserPool(PoolStep::Mfa) => Self::UserPool(PoolStep::Identities),
            Self::UserPool(PoolStep::Identities) => Self::NotifyOld,
            Self::NotifyOld | Self::NotifyNew => Self::NotifyNew,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub kind: JobKind,
    /// The account or enterprise the job is about.
    pub subject: String,
    pub step: JobStep,
    /// Units of work done and recorded (items removed, members released).
    pub done: u64,
    /// The last sort key counted, so a page re-read after a crash is not counted twice.
    pub cursor: Option<String>,
    pub requested_by: String,
    pub requested_at: i64,
    pub due_at: i64,
    pub lease_owner: Option<String>,
    /// Deletion: the receipt id promised to the caller. Handover: the record id.
    pub reference: String,
    /// Free-form, job-specific state (handover: the requested change as JSON).
    pub payload: Option<String>,
    /// A deletion in its grace period: when the purge is due. The stream carries it to
    /// publish-events as `Account Deletion Scheduled` (docs/events.md).
    pub purge_at: Option<i64>,
}

/// A handover job's move to its next step, for the write that records it: it holds only while
/// `owner` holds the job's lease, which it renews.
#[derive(Debug, Clone, Copy)]
pub struct HandoverProgress<'a> {
    pub job: &'a Job,
    pub owner: &'a str,
    pub now: i64,
    pub step: HandoverStep,
    /// Where the step stands: the last credential revoked, or empty at its start.
    pub cursor: &'a str,
    /// The job's state as it goes on (JSON).
    pub payload: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handover_steps_run_in_order_and_round_trip() {
        let mut step = HandoverStep::FIRST;
        let mut seen = vec![step.as_str()];
        while step != HandoverStep::NotifyNew {
            step = step.next();
            assert_eq!(JobStep::parse(step.as_str()), Some(JobStep::Handover(step)));
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
        let mut step = HandoverStep::after_rebind(true);
        let mut pool = Vec::new();
        while let HandoverStep::UserPool(p) = step {
            assert_eq!(JobStep::parse(step.as_str()), Some(JobStep::Handover(step)));
            pool.push(p);
            step = step.next();
        }
        assert_eq!((pool, step), (PoolStep::ALL.to_vec(), HandoverStep::NotifyOld));
        assert_eq!(HandoverStep::after_rebind(false), HandoverStep::NotifyOld);
        assert_eq!(JobStep::parse("purge"), Some(JobStep::Purge));
        assert_eq!(JobStep::parse("sign_out"), Some(JobStep::SignOut));
        assert_eq!(JobStep::parse("release"), Some(JobStep::Release));
        assert_eq!(JobStep::parse("sweep"), None);
        for step in [ExportStep::Collect, ExportStep::Seal, ExportStep::Notify] {
            assert_eq!(JobStep::parse(step.as_str()), Some(JobStep::Export(step)));
        }
    }
}
