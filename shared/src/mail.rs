//! Mail through SES v2: every message has a plain-text and an HTML part.

use crate::accounts::EmailAddress;
use crate::codes::VerificationCode;
use crate::purpose::Purpose;
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Only the service's error code is kept: its message may quote an address.
    #[error("SES did not accept the mail ({0})")]
    Rejected(String),
    #[error("the mail could not be built: {0}")]
    Build(String),
}

#[derive(Debug, Clone)]
pub struct Mailer {
    client: aws_sdk_sesv2::Client,
    sender: String,
}

/// A message before it is addressed.
struct Letter {
    subject: String,
    text: String,
}

impl Letter {
    fn html(&self) -> String {
        let escaped = self.text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let paragraphs: String = escaped.split("\n\n").map(|p| format!("<p>{}</p>", p.replace('\n', "<br>"))).collect();
        format!("<html><body>{paragraphs}</body></html>")
    }
}

impl Mailer {
    pub fn new(client: aws_sdk_sesv2::Client, sender: impl Into<String>) -> Self {
        Self { client, sender: sender.into() }
    }

    async fn send(&self, to: &EmailAddress, letter: Letter) -> Result<(), MailError> {
        let part = |data: String| {
            Content::builder().data(data).charset("UTF-8").build().map_err(|e| MailError::Build(e.to_string()))
        };
        let message = Message::builder()
            .subject(part(letter.subject.clone())?)
            .body(Body::builder().text(part(letter.text.clone())?).html(part(letter.html())?).build())
            .build();
        self.client
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| MailError::Rejected(e.code().unwrap_or("no error code").to_string()))?;
        Ok(())
    }

    pub async fn send_code(
        &self,
        to: &EmailAddress,
        purpose: Purpose,
        code: &VerificationCode,
        ttl_seconds: i64,
    ) -> Result<(), MailError> {
        let minutes = (ttl_seconds + 59) / 60;
        self.send(
            to,
            Letter {
                subject: format!("Your verification code to {}", purpose.describe()),
                text: format!(
                    "Your verification code is {code}.\n\nEnter it to {what}. It expires in {minutes} minutes and works once.\n\n\
                     If you did not ask for it, ignore this mail and consider changing your password.",
                    code = code.digits(),
                    what = purpose.describe(),
                ),
            },
        )
        .await
    }

    pub async fn send_dismissal_notice(&self, to: &EmailAddress, enterprise_name: &str) -> Result<(), MailError> {
        self.send(
            to,
            Letter {
                subject: format!("Enterprise {enterprise_name} was dismissed"),
                text: format!(
                    "The default administrator dismissed the enterprise {enterprise_name}.\n\n\
                     Your account was not deleted: it is now an individual account, and you can keep using it or delete it yourself."
                ),
            },
        )
        .await
    }

    pub async fn send_deletion_notice(&self, to: &EmailAddress, receipt_id: &str) -> Result<(), MailError> {
        self.send(
            to,
            Letter {
                subject: "Your account was deleted".to_string(),
                text: format!(
                    "Your account was deleted for good and cannot be recovered. Deletion receipt: {receipt_id}.\n\n\
                     Its user name, email address and phone number can be used to register again."
                ),
            },
        )
        .await
    }

    /// The mails of a deletion's grace period: their English text is in `grace_letter`.
    pub async fn send_grace_notice(
        &self,
        to: &EmailAddress,
        notice: GraceNotice,
        receipt_id: &str,
        purge_at: &str,
    ) -> Result<(), MailError> {
        self.send(to, grace_letter(notice, receipt_id, purge_at)).await
    }

    pub async fn send_plain(&self, to: &EmailAddress, subject: &str, text: &str) -> Result<(), MailError> {
        self.send(to, Letter { subject: subject.to_string(), text: text.to_string() }).await
    }
}

/// The mails of a deletion's grace period (docs/api.md#cancel-deletion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraceNotice {
    /// The deletion was accepted and is scheduled: when, and how to cancel.
    Scheduled,
    /// Sent `DELETION_REMINDER_SECONDS` before the purge.
    Reminder,
    /// The user cancelled: the account is as it was.
    Cancelled,
}

/// The text of each grace-period mail, in one place for translation.
fn grace_letter(notice: GraceNotice, receipt_id: &str, purge_at: &str) -> Letter {
    const HOW_TO_CANCEL: &str = "To keep your account, cancel the deletion before then: sign in and choose \
         \"Cancel deletion\"; a verification code comes by mail to confirm it. Until then the account is locked.";
    match notice {
        GraceNotice::Scheduled => Letter {
            subject: "Your account will be deleted".to_string(),
            text: format!(
                "You asked to delete your account. It will be deleted for good at {purge_at} (UTC). \
                 Deletion receipt: {receipt_id}.\n\n{HOW_TO_CANCEL}\n\n\
                 If you did not ask for this, cancel the deletion and change your password."
            ),
        },
        GraceNotice::Reminder => Letter {
            subject: "Reminder: your account will be deleted soon".to_string(),
            text: format!(
                "Your account will be deleted for good at {purge_at} (UTC). Deletion receipt: {receipt_id}.\n\n\
                 {HOW_TO_CANCEL}"
            ),
        },
        GraceNotice::Cancelled => Letter {
            subject: "The deletion of your account was cancelled".to_string(),
            text: format!(
                "The deletion of your account (receipt {receipt_id}) was cancelled. Your account is active again, \
                 as it was before.\n\nIf you did not cancel it, change your password."
            ),
        },
    }
}
