//! Verification codes (a map per purpose on the account's profile) and the
//! tokens they buy (`TOKEN#<hash>` items).
//!
//! Codes live on the profile so that one conditional write both checks the
//! account (exists, active, email bound) and places the code, and returns the
//! bound address for the mail: send-code needs no read first.

use super::error::StoreError;
use super::items::profile::codes as profile;
use super::items::profile::schema::{code_state_from_item, slot_field, ATTEMPT};
use super::items::token;
use super::table::{Store, TxOutcome, Written};
use crate::model::code::{CodeSlot, CodeState, PlaceGuard, TokenRecord};
use crate::model::ids::AccountId;
use crate::model::purpose::Purpose;
use crate::model::session::Session;

/// The answer of a conditional write on the profile.
#[derive(Debug)]
pub enum CodeWrite {
    /// Written; the profile before (placing) or after (spending) the write. A placing whose
    /// answer was lost and whose retry found it done gives the profile after it: the one before is gone.
    Written(CodeState),
    /// Not written; the profile as it was, if there is one.
    Refused(Option<CodeState>),
}

/// The parts of redeeming a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RedeemPart {
    /// The code was used or replaced.
    Code,
    Token,
    /// Never refused: the token of the purpose the new one replaces.
    Replaced,
}

/// The write's answer as the operations take it. `ours` is a field of the slot and the value this write put there: a refusal
/// that finds it is this very write sent again by the SDK after its answer was lost, so it is
/// answered as written, with the profile as the first send left it.
fn code_write(written: Written, purpose: Purpose, ours: Option<(&str, &str)>) -> Result<CodeWrite, StoreError> {
    let written = match (written, ours) {
        (Written::Refused(Some(item)), Some((field, value))) if slot_field(&item, purpose, field) == Some(value) => {
            Written::Done(Some(item))
        }
        (written, _) => written,
    };
    Ok(match written {
        Written::Done(Some(item)) => CodeWrite::Written(code_state_from_item(&item, purpose)?),
        Written::Done(None) => return Err(StoreError::Malformed("profile write returned no image".into())),
        Written::Refused(item) => CodeWrite::Refused(item.map(|i| code_state_from_item(&i, purpose)).transpose()?),
    })
}

/// Verification codes on the profile and the tokens they buy, as the operations ask the table for them.
pub(crate) trait CodeStore {
    /// Pattern "place a code": one UpdateItem on the profile that checks the
    /// account is active with a bound email and the send limits still hold,
    /// stores the new code, and returns the profile as it was before.
    async fn place_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        code: &CodeSlot,
        guard: &PlaceGuard,
        session: Option<Session>,
    ) -> Result<CodeWrite, StoreError>;

    /// Pattern "put the previous code back": after a failed send, restores the
    /// slot as it was, unless another code has been placed since.
    async fn restore_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        placed_hash: &str,
        previous: Option<&CodeSlot>,
    ) -> Result<bool, StoreError>;

    /// Pattern "spend an attempt": one UpdateItem that takes an attempt from a
    /// live code and counts a failure before the comparison, so racing requests
    /// cannot get more guesses than allowed. Returns the profile after the write.
    /// `attempt` is the request's own id: the same write sent twice spends one attempt.
    async fn spend_attempt(
        &self,
        account: &AccountId,
        purpose: Purpose,
        now: i64,
        max_failures: u32,
        session: Option<Session>,
        attempt: &str,
    ) -> Result<CodeWrite, StoreError>;

    /// Pattern "redeem a code": one transaction burns the code (if it is still
    /// the one that matched), clears the failure streak, stores the token and
    /// deletes the token of the purpose it `replaces` (no longer listed, never spendable).
    /// `false`: the code was used or replaced by a racing request.
    async fn redeem_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        code_hash: &str,
        token: &TokenRecord,
        replaces: Option<&str>,
    ) -> Result<bool, StoreError>;

    /// Pattern "end a lock that has run out": zeroes the failure streak if it is still the one observed.
    async fn reset_failures(&self, account: &AccountId, purpose: Purpose, observed: u32) -> Result<(), StoreError>;

    /// Pattern "consume a token" on its own: one conditional delete, so exactly
    /// one of racing consumers gets `true`.
    async fn consume_token(
        &self,
        token_hash: &str,
        account: &AccountId,
        purpose: Purpose,
        now: i64,
    ) -> Result<bool, StoreError>;
}

impl CodeStore for Store {
    async fn place_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        code: &CodeSlot,
        guard: &PlaceGuard,
        session: Option<Session>,
    ) -> Result<CodeWrite, StoreError> {
        let op = profile::placing(account, purpose, code, guard, session);
        let ours = code.hash.as_deref().map(|hash| ("hash", hash));
        code_write(self.write(op, false).await?, purpose, ours)
    }

    async fn restore_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        placed_hash: &str,
        previous: Option<&CodeSlot>,
    ) -> Result<bool, StoreError> {
        let op = profile::restoring(account, purpose, placed_hash, previous);
        Ok(matches!(self.write(op, true).await?, Written::Done(_)))
    }

    async fn spend_attempt(
        &self,
        account: &AccountId,
        purpose: Purpose,
        now: i64,
        max_failures: u32,
        session: Option<Session>,
        attempt: &str,
    ) -> Result<CodeWrite, StoreError> {
        let op = profile::attempt_spending(account, purpose, now, max_failures, session, attempt);
        code_write(self.write(op, true).await?, purpose, Some((ATTEMPT, attempt)))
    }

    async fn redeem_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        code_hash: &str,
        token: &TokenRecord,
        replaces: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut parts = vec![
            (RedeemPart::Code, profile::burning(account, purpose, code_hash, &token.hash)),
            (RedeemPart::Token, token::creation(token)),
        ];
        if let Some(old) = replaces.filter(|old| *old != token.hash) {
            parts.push((RedeemPart::Replaced, token::removal(old)));
        }
        Ok(matches!(self.transact(parts).await?, TxOutcome::Committed))
    }

    async fn reset_failures(&self, account: &AccountId, purpose: Purpose, observed: u32) -> Result<(), StoreError> {
        self.write(profile::failures_reset(account, purpose, observed), true).await.map(|_| ())
    }

    async fn consume_token(
        &self,
        token_hash: &str,
        account: &AccountId,
        purpose: Purpose,
        now: i64,
    ) -> Result<bool, StoreError> {
        let op = token::consumption(token_hash, account, purpose, now);
        Ok(matches!(self.write(op, false).await?, Written::Done(_)))
    }
}
