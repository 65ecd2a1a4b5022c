//! Field rules of request bodies, as `validator` custom functions: each names what a good value
//! looks like, and the message becomes the field's entry in a 422 (`error.rs` maps
//! `ValidationErrors` to the contract's `fields`). Rules that need the database or an
//! instrument (a unit that exists, an item of the instrument) stay in the domain calls.

use std::borrow::Cow;

use validator::ValidationError;

pub(crate) fn problem(message: impl Into<Cow<'static, str>>) -> ValidationError {
    ValidationError::new("invalid").with_message(message.into())
}

/// What the text rule says of a value it refuses.
pub const TEXT_RULE: &str = "must not hold control characters (U+0000 to U+001F other than tab, line feed and carriage return)";

/// Whether a character breaks the text rule: U+0000 and the other C0 controls but tab, line
/// feed and carriage return. PostgreSQL cannot store U+0000 in text, and XML (Word, Excel)
/// cannot hold any of them.
pub fn is_forbidden(c: char) -> bool {
    c < '\u{20}' && !matches!(c, '\t' | '\n' | '\r')
}

/// The text rule, for one value: every text field of every body, query and upload obeys it.
pub fn text(value: &str) -> Result<(), ValidationError> {
    if value.chars().any(is_forbidden) {
        return Err(problem(TEXT_RULE));
    }
    Ok(())
}

/// The first place in a JSON value (a key or a string) that breaks the text rule, as the
/// contract names fields: `profile.city`, `events[2]`; `body` for the top level.
pub fn text_breach(value: &serde_json::Value) -> Option<String> {
    fn walk(value: &serde_json::Value, path: &str) -> Option<String> {
        let here = || {
            if path.is_empty() {
                "body".to_owned()
            } else {
                path.to_owned()
            }
        };
        match value {
            serde_json::Value::String(s) => s.chars().any(is_forbidden).then(here),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| walk(v, &format!("{}[{i}]", here()))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
                let inner = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if k.chars().any(is_forbidden) {
                    Some(here())
                } else {
                    walk(v, &inner)
                }
            }),
            _ => None,
        }
    }
    walk(value, "")
}

/// Whether `value` is 1 to `max` bytes of ASCII letters, digits and the `extra` marks: the
/// shape of codes and device ids.
pub(crate) fn is_word(value: &str, max: usize, extra: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

/// A unit or service code: 1 to 64 letters, digits, '.', '_' or '-'.
pub fn code(value: &str) -> Result<(), ValidationError> {
    is_word(value, 64, b"._-")
        .then_some(())
        .ok_or_else(|| problem("must be 1 to 64 letters, digits, '.', '_' or '-'"))
}

/// Unit codes, each as [`code`].
pub fn codes(values: &[String]) -> Result<(), ValidationError> {
    values.iter().try_for_each(|v| code(v))
}

/// A name shown to people: 1 to 200 characters, not only spaces, obeying [`text`].
pub fn name(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() || value.chars().count() > 200 {
        return Err(problem("must be 1 to 200 characters"));
    }
    text(value)
}

/// Text that must say something: not empty, not only spaces.
pub fn not_blank(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(problem("must not be empty"));
    }
    Ok(())
}

/// An IANA time zone such as Asia/Jakarta.
pub fn timezone(value: &str) -> Result<(), ValidationError> {
    match crate::period::parse_timezone(value) {
        Some(_) => Ok(()),
        None => Err(problem(format!(
            "`{value}` is not an IANA time zone such as Asia/Jakarta"
        ))),
    }
}

/// A period in the contract's syntax (2025-Q3, 2025-07, 2025, a range).
pub fn period(value: &str) -> Result<(), ValidationError> {
    value
        .parse::<crate::period::Period>()
        .map(|_| ())
        .map_err(|e| problem(e.to_string()))
}

/// A calendar date, YYYY-MM-DD.
pub fn date(value: &str) -> Result<(), ValidationError> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(|_| ())
        .map_err(|_| problem("must be a date such as 2025-12-31"))
}

/// A UUID.
pub fn uuid(value: &str) -> Result<(), ValidationError> {
    uuid::Uuid::parse_str(value)
        .map(|_| ())
        .map_err(|_| problem("must be a UUID"))
}

/// An RFC 3339 time with its offset.
pub fn rfc3339(value: &str) -> Result<(), ValidationError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|_| ())
        .map_err(|_| problem("must be an RFC 3339 time such as 2025-07-01T09:30:00+07:00"))
}

/// An RFC 3339 time that [`rfc3339`] accepted, in UTC; `None` when absent or not one.
pub fn utc(value: Option<&str>) -> Option<chrono::NaiveDateTime> {
    value
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.naive_utc())
}

/// A device's own id: 1 to 64 letters, digits, '-' or '_'.
pub fn device_id(value: &str) -> Result<(), ValidationError> {
    is_word(value, 64, b"-_")
        .then_some(())
        .ok_or_else(|| problem("must be 1 to 64 letters, digits, '-' or '_'"))
}

/// A key's role.
pub fn role(value: &str) -> Result<(), ValidationError> {
    value
        .parse::<crate::auth::Role>()
        .map(|_| ())
        .map_err(problem)
}

/// A language of the pages and documents: `id` or `en`.
pub fn lang(value: &str) -> Result<(), ValidationError> {
    matches!(value, "id" | "en")
        .then_some(())
        .ok_or_else(|| problem("must be `id` or `en`"))
}

/// One of `allowed`.
pub fn one_of(value: &str, allowed: &[&str]) -> Result<(), ValidationError> {
    allowed
        .contains(&value)
        .then_some(())
        .ok_or_else(|| problem(format!("must be one of {}", allowed.join(", "))))
}

#[cfg(test)]
mod tests {
    use validator::Validate;

    #[derive(Validate)]
    struct Body {
        #[validate(custom(function = "super::code"))]
        code: String,
        #[validate(custom(function = "super::timezone"))]
        timezone: Option<String>,
        #[validate(length(max = 3, message = "must be at most 3 characters"))]
        note: Option<String>,
    }

    #[test]
    fn broken_rules_become_the_contract_fields_with_their_sentences() {
        let good = Body {
            code: "dukcapil-bdg".into(),
            timezone: Some("Asia/Makassar".into()),
            note: None,
        };
        assert!(good.validate().is_ok());
        let bad = Body {
            code: "dukcapil bdg".into(),
            timezone: Some("WITA".into()),
            note: Some("four".into()),
        };
        let e = crate::error::AppError::from(bad.validate().unwrap_err());
        assert_eq!(e.code(), "validation_failed");
        let fields = e.fields().unwrap();
        assert_eq!(
            fields["code"],
            "must be 1 to 64 letters, digits, '.', '_' or '-'"
        );
        assert_eq!(
            fields["timezone"],
            "`WITA` is not an IANA time zone such as Asia/Jakarta"
        );
        assert_eq!(fields["note"], "must be at most 3 characters");
        assert_eq!(fields.len(), 3);
    }
}
