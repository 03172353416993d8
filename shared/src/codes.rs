//! Verification codes: six digits mailed to the bound address, traded once for
//! a verification token (docs/seeds.md#verification-codes: "Send Code, enter the verification code").

use crate::accounts::{admit, refusal_for, AccountError};
use crate::caller::Caller;
use crate::crypto::{self, RandomError};
use crate::internal::{internal_from, Internal};
use crate::model::code::TokenRecord;
use crate::model::code::{CodeSlot, PlaceGuard};
use crate::model::ids::{AccountId, EmailAddress};
use crate::model::locale::Locale;
use crate::model::purpose::Purpose;
use crate::model::session::Session;
use crate::secrets::KeysNotRead;
use crate::store::{CodeStore, CodeWrite};
use crate::tokens::VerificationToken;
use crate::App;
use serde::Serialize;

const DAY: i64 = 24 * 60 * 60;
/// Attempts at a conditional write before a racing client is told to come back.
const MAX_RACES: usize = 4;

/// A code as the user typed it: exactly six ASCII digits.
pub struct VerificationCode(String);

#[derive(Debug, thiserror::Error)]
#[error("code must be exactly 6 digits")]
pub struct MalformedCode;

impl VerificationCode {
    pub fn parse(s: &str) -> Result<Self, MalformedCode> {
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_string()))
        } else {
            Err(MalformedCode)
        }
    }

    fn generate() -> Result<Self, RandomError> {
        Ok(Self(format!("{:06}", crypto::random_below(1_000_000)?)))
    }

    /// Bound to the account and purpose (and to what it was sent for, if given), so a code for one never verifies another.
    fn hash(
        &self,
        app: &App,
        account: &AccountId,
        purpose: Purpose,
        bound_to: Option<&str>,
    ) -> Result<String, KeysNotRead> {
        Ok(crypto::keyed_hash(&app.secrets.current()?.signing, &Self::parts(account, purpose, bound_to, &self.0)))
    }

    /// Under any key still checking, so a code hashed before a rotation stays good.
    fn matches(
        &self,
        app: &App,
        account: &AccountId,
        purpose: Purpose,
        bound_to: Option<&str>,
        hash: &str,
    ) -> Result<bool, KeysNotRead> {
        let parts = Self::parts(account, purpose, bound_to, &self.0);
        Ok(app.secrets.current()?.checking.iter().any(|key| crypto::keyed_hash_matches(key, &parts, hash)))
    }

    fn parts<'a>(account: &'a AccountId, purpose: Purpose, bound_to: Option<&'a str>, digits: &'a str) -> Vec<&'a str> {
        let mut parts = vec!["code", account.as_str(), purpose.as_str()];
        parts.extend(bound_to);
        parts.push(digits);
        parts
    }

    /// Only for the mail body: a code never goes into a response or a log.
    pub(crate) fn digits(&self) -> &str {
        &self.0
    }
}

// Debug hides the digits so a code cannot reach a log through `{:?}`.
impl std::fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerificationCode(******)")
    }
}

/// The answer to send-code (docs/api.md#send-code).
#[derive(Debug, Serialize)]
pub struct SentCode {
    pub destination: String,
    pub expires_in_seconds: i64,
    pub resend_after_seconds: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("a code was sent less than the cooldown ago")]
    ResendTooSoon { retry_after: i64 },
    #[error("the daily number of codes is used up")]
    DailyLimitReached { retry_after: i64 },
    #[error("the mail service failed")]
    MailUnavailable,
    #[error("the code is incorrect")]
    Incorrect { attempts_left: u32 },
    #[error("no live code")]
    Expired,
    #[error("too many wrong codes in a row")]
    Locked { retry_after: i64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}

internal_from!(CodeError);

impl App {
    /// Places a new code (replacing any earlier one) and mails it: one
    /// conditional write and one send in the common case. If the mail fails,
    /// the previous state is put back, so the caller loses nothing.
    pub async fn send_code(&self, caller: &Caller, purpose: Purpose) -> Result<SentCode, CodeError> {
        self.send_code_to(&caller.account, Some(caller.session), purpose, None, None, caller.language).await
    }

    /// As `send_code`, but to `destination` when given (a handover's new address) instead of the bound email.
    /// `session`: the caller's, when the account is the caller's own (its writes then hold only for it).
    /// `bound_to`: what the code is for (a pending handover's id); it verifies only for that.
    /// `language`: what the request asked for; else the mail is in the account's `locale`.
    pub(crate) async fn send_code_to(
        &self,
        account: &AccountId,
        session: Option<Session>,
        purpose: Purpose,
        destination: Option<&EmailAddress>,
        bound_to: Option<&str>,
        language: Option<Locale>,
    ) -> Result<SentCode, CodeError> {
        let cfg = &self.config;
        let now = self.clock.now();
        let code = VerificationCode::generate()?;
        let hash = code.hash(self, account, purpose, bound_to)?;
        let slot = |window_start, window_sends| CodeSlot {
            hash: Some(hash.clone()),
            expires_at: now + cfg.code_ttl_seconds,
            attempts_left: cfg.code_max_attempts,
            sent_at: now,
            window_start,
            window_sends,
        };
        let mut placing = (slot(now, 1), PlaceGuard::FreshWindow { window_edge: now - DAY });
        let mut before = None;
        for _ in 0..MAX_RACES {
            let state = match self.store.place_code(account, purpose, &placing.0, &placing.1, session).await? {
                CodeWrite::Written(state) => {
                    before = Some(state);
                    break;
                }
                CodeWrite::Refused(None) => return Err(self.missing_account(account).await.into()),
                CodeWrite::Refused(Some(state)) => state,
            };
            if let Some(session) = session {
                admit(&state.account, session)?;
            }
            if state.account.status != purpose.account_status() {
                return Err(refusal_for(&state.account, purpose).into());
            }
            if state.account.email.is_none() {
                return Err(AccountError::EmailNotBound.into());
            }
            placing = match state.slot {
                Some(seen) if seen.window_start > now - DAY => {
                    if now < seen.sent_at + cfg.resend_cooldown_seconds {
                        return Err(CodeError::ResendTooSoon {
                            retry_after: seen.sent_at + cfg.resend_cooldown_seconds - now,
                        });
                    }
                    if seen.window_sends >= cfg.daily_code_limit {
                        return Err(CodeError::DailyLimitReached { retry_after: seen.window_start + DAY - now });
                    }
                    (slot(seen.window_start, seen.window_sends + 1), PlaceGuard::Observed(seen))
                }
                _ => (slot(now, 1), PlaceGuard::FreshWindow { window_edge: now - DAY }),
            };
        }
        // Only a burst of racing sends gets here; the winner's cooldown now applies.
        let Some(before) = before else {
            return Err(CodeError::ResendTooSoon { retry_after: cfg.resend_cooldown_seconds.max(1) });
        };
        let Some(email) = destination.cloned().or(before.account.email) else {
            return Err(AccountError::EmailNotBound.into());
        };
        let locale = language.unwrap_or(before.account.locale);
        if let Err(error) = self.mailer.send_code(&email, locale, purpose, code.digits(), cfg.code_ttl_seconds).await {
            tracing::warn!(account = %account, %purpose, %error, "code mail failed; restoring the previous code");
            self.store.restore_code(account, purpose, &hash, before.slot.as_ref()).await?;
            return Err(CodeError::MailUnavailable);
        }
        tracing::info!(account = %account, %purpose, "verification code sent");
        Ok(SentCode {
            destination: email.masked(),
            expires_in_seconds: cfg.code_ttl_seconds,
            resend_after_seconds: cfg.resend_cooldown_seconds,
        })
    }

    /// Trades a code for a verification token: at most two DynamoDB requests.
    /// The attempt is spent (and a failure counted) before the comparison, so
    /// racing guesses cannot exceed the limit; a match burns the code and clears the count.
    pub async fn verify_code(
        &self,
        caller: &Caller,
        purpose: Purpose,
        code: &VerificationCode,
    ) -> Result<VerificationToken, CodeError> {
        self.verify_code_on(&caller.account, Some(caller.session), purpose, code, None).await
    }

    /// As `verify_code`, on `account`; `session` as for `send_code_to`.
    pub(crate) async fn verify_code_on(
        &self,
        account: &AccountId,
        session: Option<Session>,
        purpose: Purpose,
        code: &VerificationCode,
        bound_to: Option<&str>,
    ) -> Result<VerificationToken, CodeError> {
        let cfg = &self.config;
        let now = self.clock.now();
        for _ in 0..MAX_RACES {
            let attempt = crate::work::random_id("attempt")?;
            let state = match self
                .store
                .spend_attempt(account, purpose, now, cfg.max_consecutive_failures, session, &attempt)
                .await?
            {
                CodeWrite::Written(after) => {
                    let Some(slot) = after.slot else { return Err(CodeError::Expired) };
                    let Some(hash) = slot.hash else { return Err(CodeError::Expired) };
                    if !code.matches(self, account, purpose, bound_to, &hash)? {
                        tracing::info!(account = %account, %purpose, attempts_left = slot.attempts_left, failures = after.failures, "wrong verification code");
                        return Err(CodeError::Incorrect { attempts_left: slot.attempts_left });
                    }
                    let (token, hash_of_token) = VerificationToken::generate(self)?;
                    let record = TokenRecord {
                        hash: hash_of_token,
                        account: account.clone(),
                        purpose,
                        expires_at: now + cfg.token_ttl_seconds,
                    };
                    if !self.store.redeem_code(account, purpose, &hash, &record, after.token.as_deref()).await? {
                        return Err(CodeError::Expired);
                    }
                    tracing::info!(account = %account, %purpose, "verification code redeemed for a token");
                    return Ok(token.with_lifetime(purpose, cfg.token_ttl_seconds));
                }
                CodeWrite::Refused(None) => return Err(self.missing_account(account).await.into()),
                CodeWrite::Refused(Some(state)) => state,
            };
            if let Some(session) = session {
                admit(&state.account, session)?;
            }
            if state.account.status != purpose.account_status() {
                return Err(refusal_for(&state.account, purpose).into());
            }
            if state.failures < cfg.max_consecutive_failures {
                return Err(CodeError::Expired);
            }
            let lock_ends = state.last_failure_at + DAY;
            if now < lock_ends {
                return Err(CodeError::Locked { retry_after: lock_ends - now });
            }
            // The lock has run out: start a new streak, then try again.
            self.store.reset_failures(account, purpose, state.failures).await?;
        }
        Err(CodeError::Expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for ok in ["000000", "123456", "999999"] {
            assert!(VerificationCode::parse(ok).is_ok());
        }
        for bad in ["", "12345", "1234567", "12345a", "١٢٣٤٥٦", " 12345", "12 456"] {
            assert!(VerificationCode::parse(bad).is_err(), "{bad:?} accepted");
        }
        for _ in 0..100 {
            let c = VerificationCode::generate().unwrap();
            assert!(VerificationCode::parse(c.digits()).is_ok());
        }
        assert!(!format!("{:?}", VerificationCode::parse("123456").unwrap()).contains("123456"));
    }
}
