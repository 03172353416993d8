//! Mail through SES v2: every message has a plain-text and an HTML part; the
//! texts, in each language, are in `locale::mails`.

pub use crate::locale::mails::GraceNotice;
use crate::locale::mails::{self, Letter};
use crate::model::ids::EmailAddress;
use crate::model::locale::Locale;
use crate::model::purpose::Purpose;
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Only the service's error code is kept: its message may quote an address.
    #[error("SES did not accept the mail ({0})")]
    Rejected(String),
    #[error("the mail could not be built: {0}")]
    Build(String),
    /// A wrong `crate::Uses`: a bug, never the service's.
    #[error("this function builds no SES client (its Uses say it sends no mail)")]
    NoClient,
}

#[derive(Debug, Clone)]
pub struct Mailer {
    /// `None` in a function that sends no mail (`crate::Uses::mail`).
    client: Option<aws_sdk_sesv2::Client>,
    sender: String,
}

/// The HTML part: the text's paragraphs, escaped, in the letter's language.
fn html(letter: &Letter, locale: Locale) -> String {
    let escaped = letter.text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let paragraphs: String = escaped.split("\n\n").map(|p| format!("<p>{}</p>", p.replace('\n', "<br>"))).collect();
    format!("<html lang=\"{locale}\"><body>{paragraphs}</body></html>")
}

impl Mailer {
    pub fn new(client: aws_sdk_sesv2::Client, sender: impl Into<String>) -> Self {
        Self { client: Some(client), sender: sender.into() }
    }

    /// For a function that sends no mail: no SES client is built.
    pub fn none(sender: impl Into<String>) -> Self {
        Self { client: None, sender: sender.into() }
    }

    async fn send(&self, to: &EmailAddress, locale: Locale, letter: Letter) -> Result<(), MailError> {
        let part = |data: String| {
            Content::builder().data(data).charset("UTF-8").build().map_err(|e| MailError::Build(e.to_string()))
        };
        let message = Message::builder()
            .subject(part(letter.subject.clone())?)
            .body(Body::builder().text(part(letter.text.clone())?).html(part(html(&letter, locale))?).build())
            .build();
        let Some(client) = &self.client else { return Err(MailError::NoClient) };
        client
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| MailError::Rejected(e.code().unwrap_or("no error code").to_string()))?;
        Ok(())
    }

    /// `digits` goes into the mail only, never a log.
    pub async fn send_code(
        &self,
        to: &EmailAddress,
        locale: Locale,
        purpose: Purpose,
        digits: &str,
        ttl_seconds: i64,
    ) -> Result<(), MailError> {
        let minutes = (ttl_seconds + 59) / 60;
        self.send(to, locale, mails::code(locale, purpose, digits, minutes)).await
    }

    pub async fn send_dismissal_notice(
        &self,
        to: &EmailAddress,
        locale: Locale,
        enterprise_name: &str,
    ) -> Result<(), MailError> {
        self.send(to, locale, mails::dismissal_notice(locale, enterprise_name)).await
    }

    pub async fn send_deletion_notice(
        &self,
        to: &EmailAddress,
        locale: Locale,
        receipt_id: &str,
    ) -> Result<(), MailError> {
        self.send(to, locale, mails::deletion_notice(locale, receipt_id)).await
    }

    /// A mail of a deletion's grace period, in `locale`.
    pub async fn send_grace_notice(
        &self,
        to: &EmailAddress,
        locale: Locale,
        notice: GraceNotice,
        receipt_id: &str,
        purge_at: &str,
    ) -> Result<(), MailError> {
        self.send(to, locale, mails::grace(locale, notice, receipt_id, purge_at)).await
    }

    /// A letter of `locale::mails`, written by the caller.
    pub async fn send_letter(&self, to: &EmailAddress, locale: Locale, letter: Letter) -> Result<(), MailError> {
        self.send(to, locale, letter).await
    }
}
