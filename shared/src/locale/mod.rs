//! The languages of the texts people read: every mail and every problem's
//! `title` and `detail`. The texts themselves are all here, one catalogue per
//! kind ([`problems`], [`mails`], the handover's [`checklist`]), so a new text is
//! translated in one place; the
//! languages themselves are the model's [`Locale`](crate::model::locale::Locale).
//! Machine-readable members (`code`, `kind`, `status`, …) never change with it.

pub mod checklist;
pub mod mails;
pub mod problems;
