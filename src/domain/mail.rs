//! The messages the server sends, as templates in the repository (`templates/mail/`), one file
//! per message and language: the first line is `Subject: …`, then a blank line, then the body.
//! Rendering is strict: a variable the template prints but the caller did not give is an
//! error, never an empty gap in a message someone acts on.
use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior};

use crate::models::enums::Language;

/// Every message the server can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailTemplate {
    /// A link to choose a new password (`name`, `email`, `link`, `valid_minutes`).
    PasswordReset,
    /// An account was locked after failed logins (`name`, `email`, `failures`,
    /// `lock_minutes`, `recovery_link`).
    AccountLocked,
    /// Confirm the e-mail address of a join request (`name`, `configuration`, `link`,
    /// `valid_hours`).
    JoinVerification,
    /// A join request was approved (`name`, `configuration`, `joined_at`, `pods`).
    JoinApproved,
    /// A join request was rejected (`name`, `configuration`, `reason`).
    JoinRejected,
    /// A member's statement of a period, the PDF attached (`name`, `configuration`, `period`,
    /// `pods`, `provisional`: the operator's reason or empty).
    Statement,
    /// Someone asked, from the holder's account, to be paid on another IBAN (`name`,
    /// `iban_tail`): the holder hears of it even if it was not them.
    IbanChangeRequested,
    /// The holder is paid on the new IBAN from now on (`name`, `iban_tail`).
    IbanChangeConfirmed,
    /// The request for a new IBAN was rejected (`name`, `iban_tail`, `reason`).
    IbanChangeRejected,
}

impl MailTemplate {
    pub const ALL: [MailTemplate; 9] = [
        MailTemplate::PasswordReset,
        MailTemplate::AccountLocked,
        MailTemplate::JoinVerification,
        MailTemplate::JoinApproved,
        MailTemplate::JoinRejected,
        MailTemplate::Statement,
        MailTemplate::IbanChangeRequested,
        MailTemplate::IbanChangeConfirmed,
        MailTemplate::IbanChangeRejected,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MailTemplate::PasswordReset => "password_reset",
            MailTemplate::AccountLocked => "account_locked",
            MailTemplate::JoinVerification => "join_verification",
            MailTemplate::JoinApproved => "join_approved",
            MailTemplate::JoinRejected => "join_rejected",
            MailTemplate::Statement => "statement",
            MailTemplate::IbanChangeRequested => "iban_change_requested",
            MailTemplate::IbanChangeConfirmed => "iban_change_confirmed",
            MailTemplate::IbanChangeRejected => "iban_change_rejected",
        }
    }
}

/// A message ready to queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailTemplateError {
    #[error("mail template {0}: {1}")]
    Render(String, String),
    #[error("mail template {0} does not start with a `Subject: …` line and a blank line")]
    Shape(String),
}

macro_rules! templates {
    ($($name:literal),+ $(,)?) => {
        &[$(
            (concat!($name, ".it.txt"), include_str!(concat!("../../templates/mail/", $name, ".it.txt"))),
            (concat!($name, ".en.txt"), include_str!(concat!("../../templates/mail/", $name, ".en.txt"))),
        )+]
    };
}

const SOURCES: &[(&str, &str)] = templates!(
    "password_reset",
    "account_locked",
    "join_verification",
    "join_approved",
    "join_rejected",
    "statement",
    "iban_change_requested",
    "iban_change_confirmed",
    "iban_change_rejected",
);

/// Built once from the sources compiled into the binary; read-only afterwards.
static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    for (name, source) in SOURCES {
        environment
            .add_template(name, source)
            .unwrap_or_else(|error| panic!("mail template {name} does not parse: {error}"));
    }
    environment
});

/// Renders `template` in `language` with `context` (an object of the template's variables;
/// `app_name` is always there).
pub fn render(
    template: MailTemplate,
    language: Language,
    context: &serde_json::Value,
) -> Result<RenderedMail, MailTemplateError> {
    let name = format!("{}.{}.txt", template.name(), language.as_str());
    let context = template_value(context);
    let globals = minijinja::context! { app_name => "condivisa", ..context };
    let text = TEMPLATES
        .get_template(&name)
        .and_then(|t| t.render(globals))
        .map_err(|error| MailTemplateError::Render(name.clone(), format!("{error:#}")))?;
    let (first, body) = text
        .split_once('\n')
        .ok_or_else(|| MailTemplateError::Shape(name.clone()))?;
    let subject = first
        .strip_prefix("Subject: ")
        .ok_or_else(|| MailTemplateError::Shape(name.clone()))?;
    let body = body
        .strip_prefix('\n')
        .ok_or_else(|| MailTemplateError::Shape(name.clone()))?;
    Ok(RenderedMail {
        subject: subject.trim().to_string(),
        body: format!("{}\n", body.trim_end()),
    })
}

/// A JSON value as the template engine's. Numbers go over as integers when they are, or as
/// their exact text (amounts and energies print as given, never through a float).
pub fn template_value(value: &serde_json::Value) -> minijinja::Value {
    use serde_json::Value as Json;
    match value {
        Json::Null => minijinja::Value::from(()),
        Json::Bool(b) => minijinja::Value::from(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => minijinja::Value::from(i),
            None => minijinja::Value::from(n.to_string()),
        },
        Json::String(s) => minijinja::Value::from(s.as_str()),
        Json::Array(items) => items.iter().map(template_value).collect(),
        Json::Object(map) => minijinja::Value::from(
            map.iter()
                .map(|(key, item)| (key.clone(), template_value(item)))
                .collect::<std::collections::BTreeMap<String, minijinja::Value>>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn full_context() -> serde_json::Value {
        json!({
            "name": "Maria Rossi", "email": "maria@example.org", "link": "https://x/y?token=abc",
            "valid_minutes": 60, "valid_hours": 48, "failures": 5, "lock_minutes": 1,
            "recovery_link": "https://x/recover", "configuration": "CER Sole",
            "joined_at": "2026-12-01", "pods": ["IT001E00000001", "IT001E00000002"],
            "reason": "POD outside the primary substation", "period": "2026-03",
            "provisional": "", "iban_tail": "3456",
        })
    }

    #[test]
    fn every_template_renders_in_both_languages_with_a_subject() {
        for template in MailTemplate::ALL {
            for language in [Language::It, Language::En] {
                let mail = render(template, language, &full_context()).unwrap();
                assert!(!mail.subject.is_empty(), "{template:?} {language:?}");
                assert!(!mail.subject.contains("{{"), "{}", mail.subject);
                assert!(!mail.body.contains("{{") && !mail.body.contains("{%"));
                assert!(mail.body.ends_with("condivisa\n"), "{}", mail.body);
            }
        }
        let it = render(MailTemplate::JoinApproved, Language::It, &full_context()).unwrap();
        assert!(it.subject.contains("Benvenuto in CER Sole"));
        assert!(it.body.contains("  - IT001E00000002"), "{}", it.body);
        let en = render(MailTemplate::PasswordReset, Language::En, &full_context()).unwrap();
        assert!(en.body.contains("https://x/y?token=abc"));
        assert!(en.body.contains("within 60 minutes"), "{}", en.body);
        let amounts = render(
            MailTemplate::JoinRejected,
            Language::En,
            &serde_json::from_str(
                r#"{ "name": "x", "configuration": "y", "reason": 12.34567890123456789 }"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert!(
            amounts.body.contains("12.34567890123456789"),
            "{}",
            amounts.body
        );
    }

    #[test]
    fn a_missing_variable_is_an_error_not_a_gap() {
        let error = render(
            MailTemplate::PasswordReset,
            Language::It,
            &json!({ "email": "a@b.it", "valid_minutes": 60 }),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("password_reset.it.txt"),
            "{error}"
        );
        // An optional variable tested with `if` may be absent.
        let mail = render(
            MailTemplate::PasswordReset,
            Language::En,
            &json!({ "email": "a@b.it", "valid_minutes": 60, "link": "l" }),
        )
        .unwrap();
        assert!(mail.body.starts_with("Hello,\n"), "{}", mail.body);
    }
}
