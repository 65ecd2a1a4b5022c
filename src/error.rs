//! Application errors and how each becomes an HTTP response, in one place.
//!
//! Policy: every client mistake is a 4xx with a stable snake_case `error` code, a sentence in
//! `message`, and `fields` naming each bad field. A busy or unreachable database is 503 with
//! Retry-After so clients retry. Anything else is a bug: 500 `internal`, logged once with its
//! request id where it becomes a response, with a generic body. Bodies are
//! `{"error", "message", "fields"?}`.
//!
//! Every layer below the HTTP one (the domain calls, collection, imports, reports) returns
//! [`AppError`]; callers that must tell errors apart match on its [`Kind`], never on a code's
//! text. [`Kind::status`] and [`Kind::code`] are the one mapping from kinds to the contract's
//! statuses and codes.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

/// Declares [`Kind`] from one table: each kind with its HTTP status and its stable code, the
/// only place either is written.
macro_rules! kinds {
    ($($(#[doc = $doc:expr])* $kind:ident => $status:ident, $code:literal;)*) => {
        /// What went wrong. Each kind has one HTTP status and one stable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Kind {
            $($(#[doc = $doc])* $kind,)*
        }

        impl Kind {
            /// Every kind.
            pub const ALL: &[Kind] = &[$(Kind::$kind),*];

            /// The HTTP status of this kind.
            pub fn status(self) -> StatusCode {
                match self {
                    $(Kind::$kind => StatusCode::$status,)*
                }
            }

            /// The stable snake_case code of this kind: the contract's `error` field.
            pub fn code(self) -> &'static str {
                match self {
                    $(Kind::$kind => $code,)*
                }
            }
        }
    };
}

kinds! {
    /// 422: fields that fail validation.
    ValidationFailed => UNPROCESSABLE_ENTITY, "validation_failed";
    /// 422: a field names a row that does not exist (a foreign key).
    ReferenceNotFound => UNPROCESSABLE_ENTITY, "reference_not_found";
    /// 422: a receipt token that is unknown, forged or malformed.
    InvalidToken => UNPROCESSABLE_ENTITY, "invalid_token";
    /// 422: a receipt token past its validity.
    TokenExpired => UNPROCESSABLE_ENTITY, "token_expired";
    /// 422: a receipt token of another unit.
    TokenOtherUnit => UNPROCESSABLE_ENTITY, "token_other_unit";
    /// 422: a survey page's form ticket that is forged or for another unit.
    InvalidTicket => UNPROCESSABLE_ENTITY, "invalid_ticket";
    /// 422: a form ticket too old to count.
    TicketExpired => UNPROCESSABLE_ENTITY, "ticket_expired";
    /// 422: an open-link response without its page's form ticket.
    TicketRequired => UNPROCESSABLE_ENTITY, "ticket_required";
    /// 413: an upload over one of its limits.
    TooLarge => PAYLOAD_TOO_LARGE, "too_large";
    /// 413: a JSON body over the size limit.
    BodyTooLarge => PAYLOAD_TOO_LARGE, "body_too_large";
    /// 415: a body that is not JSON.
    UnsupportedContentType => UNSUPPORTED_MEDIA_TYPE, "unsupported_content_type";
    /// 400: a body that is not valid JSON.
    MalformedJson => BAD_REQUEST, "malformed_json";
    /// 400: a body that cannot be read.
    BadBody => BAD_REQUEST, "bad_body";
    /// 401: no key, or an Authorization header that is not a bearer key.
    Unauthorized => UNAUTHORIZED, "unauthorized";
    /// 401: a key this server does not know (a device should forget it and enrol again).
    KeyUnknown => UNAUTHORIZED, "key_unknown";
    /// 401: a key that has been revoked (a device should forget it).
    KeyRevoked => UNAUTHORIZED, "key_revoked";
    /// 401: the password was right; the person's two-step sign-in code is missing or wrong.
    TotpRequired => UNAUTHORIZED, "totp_required";
    /// 403: a valid key that may not do this.
    Forbidden => FORBIDDEN, "forbidden";
    /// 404.
    NotFound => NOT_FOUND, "not_found";
    /// 409: another transaction wrote the same row meanwhile; the work may be retried.
    Conflict => CONFLICT, "conflict";
    /// 409: a unit code that is taken.
    UnitExists => CONFLICT, "unit_exists";
    /// 409: a service code that is taken within its unit.
    ServiceExists => CONFLICT, "service_exists";
    /// 409: a submission id used before for different content.
    SubmissionIdConflict => CONFLICT, "submission_id_conflict";
    /// 409: a QR code or link to print while `KEPUASAN_PUBLIC_URL` is not set and the request
    /// came to a loopback address, which no phone or tablet can open.
    PublicUrlNeeded => CONFLICT, "public_url_needed";
    /// 409: a receipt already used for a survey.
    TokenSpent => CONFLICT, "token_spent";
    /// 409: a survey page's form already sent.
    TicketSpent => CONFLICT, "ticket_spent";
    /// 409: the demo asked to fill a database that has units.
    NotEmpty => CONFLICT, "not_empty";
    /// 409, never answered: a submission of a group-commit batch was stored before; the
    /// writer rolls the batch back and stores its submissions one at a time.
    SeenBefore => CONFLICT, "seen_before";
    /// 429: too many requests from one client.
    RateLimited => TOO_MANY_REQUESTS, "rate_limited";
    /// 503: the database is busy or unreachable.
    DbUnavailable => SERVICE_UNAVAILABLE, "db_unavailable";
    /// 503: heavy work is at its limit.
    Busy => SERVICE_UNAVAILABLE, "busy";
    /// Never answered: work run without a connection ([`crate::db::Offline`]) needed one;
    /// the caller runs it again with a connection.
    NeedsDatabase => INTERNAL_SERVER_ERROR, "needs_database";
    /// 500: a bug.
    Internal => INTERNAL_SERVER_ERROR, "internal";
}

/// The cause of an internal error, kept as an error value (with its own sources).
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// An error: its [`Kind`], a human sentence, the bad fields, and for a 500 its cause.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} {}: {message}{}", kind.status().as_u16(), kind.code(), cause_suffix(source.as_ref()))]
pub struct AppError {
    kind: Kind,
    message: String,
    fields: Option<BTreeMap<String, String>>,
    retry_after: Option<u64>,
    #[source]
    source: Option<Cause>,
}

/// A cause and its sources as one line, `cause: its source: ...`.
fn chain(cause: &(dyn std::error::Error + 'static)) -> String {
    let mut text = cause.to_string();
    let mut next = cause.source();
    while let Some(e) = next {
        text.push_str(&format!(": {e}"));
        next = e.source();
    }
    text
}

/// ` (the cause's chain)` for an error with a cause, nothing otherwise: the end of its Display.
fn cause_suffix(source: Option<&Cause>) -> String {
    source.map_or_else(String::new, |c| format!(" ({})", chain(c.as_ref())))
}

/// The stable code of an error answer, kept in the response's extensions so the request log
/// and `/metrics` can count refusals by reason.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

/// The JSON body of an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code.
    pub error: String,
    /// A human sentence.
    pub message: String,
    /// Field path to problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}

impl AppError {
    /// An error of a kind, with its message.
    pub fn new(kind: Kind, message: impl Into<String>) -> AppError {
        AppError {
            kind,
            message: message.into(),
            fields: None,
            retry_after: None,
            source: None,
        }
    }

    /// 422: fields that fail validation.
    pub fn invalid(fields: BTreeMap<String, String>) -> AppError {
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        AppError {
            message: format!("invalid field(s): {}", names.join(", ")),
            fields: Some(fields),
            ..AppError::new(Kind::ValidationFailed, "")
        }
    }

    /// The same error with its message and each field's problem in `lang`
    /// ([`crate::messages`]); a message the catalogue does not know stays as written.
    pub fn localized(&self, lang: crate::instrument::Lang) -> AppError {
        let say = |text: &String| crate::messages::say(text, lang).into_owned();
        AppError {
            message: say(&self.message),
            fields: self
                .fields
                .as_ref()
                .map(|f| f.iter().map(|(k, v)| (k.clone(), say(v))).collect()),
            ..self.clone()
        }
    }

    /// 422 for one field.
    pub fn field(field: impl Into<String>, problem: impl Into<String>) -> AppError {
        AppError::invalid(BTreeMap::from([(field.into(), problem.into())]))
    }

    /// One bad field, answered with a kind of its own (an expired token, say): the problem
    /// is both the message and the field's entry.
    pub fn field_of(kind: Kind, field: impl Into<String>, problem: impl Into<String>) -> AppError {
        let problem = problem.into();
        AppError {
            fields: Some(BTreeMap::from([(field.into(), problem.clone())])),
            ..AppError::new(kind, problem)
        }
    }

    /// 413 for one field: an upload over one of its limits, named in the problem.
    pub fn too_large(field: impl Into<String>, problem: impl Into<String>) -> AppError {
        AppError::field_of(Kind::TooLarge, field, problem)
    }

    /// 404.
    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::new(Kind::NotFound, what)
    }

    /// 401: no key, an unknown key or a revoked key.
    pub fn unauthorized(message: impl Into<String>) -> AppError {
        AppError::new(Kind::Unauthorized, message)
    }

    /// 403: a valid key that may not do this.
    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::new(Kind::Forbidden, message)
    }

    /// Work run without a connection ([`crate::db::Offline`]) needed one. Never answered: the
    /// caller runs the work again with a connection.
    pub fn needs_database() -> AppError {
        AppError::new(Kind::NeedsDatabase, "needs the database")
    }

    /// 503: the database is busy or unreachable; retry shortly.
    pub fn unavailable(message: impl Into<String>) -> AppError {
        AppError::new(Kind::DbUnavailable, message)
    }

    /// 503: heavy work (imports, exports, long reports) is at its limit; retry after `seconds`.
    pub fn busy(message: impl Into<String>, seconds: u64) -> AppError {
        AppError {
            retry_after: Some(seconds),
            ..AppError::new(Kind::Busy, message)
        }
    }

    /// 429: too many requests from one client; retry after `seconds`.
    pub fn rate_limited(message: impl Into<String>, seconds: u64) -> AppError {
        AppError {
            retry_after: Some(seconds),
            ..AppError::new(Kind::RateLimited, message)
        }
    }

    /// 500: a bug. The cause is kept as the error's source, not logged here: the request log
    /// writes it once, with the request id, where the error becomes a response (the command
    /// line prints it); the body stays generic.
    pub fn internal(
        cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> AppError {
        AppError {
            source: Some(Arc::from(cause.into())),
            ..AppError::new(Kind::Internal, "internal error; it has been logged")
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Whether this is of `kind`.
    pub fn is(&self, kind: Kind) -> bool {
        self.kind == kind
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The human sentence.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Each bad field with its problem, for validation errors.
    pub fn fields(&self) -> Option<&BTreeMap<String, String>> {
        self.fields.as_ref()
    }

    /// The bad fields, taken out.
    pub fn into_fields(self) -> Option<BTreeMap<String, String>> {
        self.fields
    }

    /// For a 500, its cause and the cause's sources as one line.
    pub fn cause(&self) -> Option<String> {
        self.source.as_deref().map(|c| chain(c))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status());
        if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header(("Retry-After", "2"));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        let mut response = response.json(ErrorBody {
            error: self.code().to_owned(),
            message: self.message.clone(),
            fields: self.fields.clone(),
        });
        response.extensions_mut().insert(ErrorCode(self.code()));
        response
    }
}

/// Each broken rule of a request body as the contract's field path (`profile.age`,
/// `units[2]`) and the rule's sentence; the first broken rule of a field is its entry.
pub fn problems(errors: &validator::ValidationErrors) -> BTreeMap<String, String> {
    fn walk(
        prefix: &str,
        errors: &validator::ValidationErrors,
        out: &mut BTreeMap<String, String>,
    ) {
        use validator::ValidationErrorsKind;
        for (field, kind) in errors.errors() {
            let path = if prefix.is_empty() {
                field.to_string()
            } else {
                format!("{prefix}.{field}")
            };
            match kind {
                ValidationErrorsKind::Field(broken) => {
                    if let Some(first) = broken.first() {
                        let sentence = first.message.as_deref().unwrap_or(&first.code);
                        out.insert(path, sentence.to_owned());
                    }
                }
                ValidationErrorsKind::Struct(inner) => walk(&path, inner, out),
                ValidationErrorsKind::List(items) => {
                    for (i, inner) in items {
                        walk(&format!("{path}[{i}]"), inner, out);
                    }
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", errors, &mut out);
    out
}

/// The broken rules of a body as [`problems`], none when it keeps them all: for a check that
/// adds rules of its own (an instrument's) to the same fields before answering.
pub fn broken_rules(body: &impl validator::Validate) -> BTreeMap<String, String> {
    body.validate()
        .err()
        .map(|e| problems(&e))
        .unwrap_or_default()
}

impl From<validator::ValidationErrors> for AppError {
    fn from(errors: validator::ValidationErrors) -> AppError {
        AppError::invalid(problems(&errors))
    }
}

/// Whether a database error means "try again": locked, busy, or the connection is gone.
fn is_transient(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "database is locked",
        "database is busy",
        "connection",
        "terminating",
        "server closed",
        "read-only",
        "disk is full",
        "disk i/o",
        "readonly",
        // Two PostgreSQL transactions waiting on each other: one is cancelled; its retry
        // goes through.
        "deadlock detected",
        "could not serialize access",
        // A read replica cancelled a report's query to replay the primary's changes.
        "conflict with recovery",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

impl From<DieselError> for AppError {
    fn from(e: DieselError) -> AppError {
        match &e {
            DieselError::NotFound => AppError::not_found("not found"),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::new(Kind::Conflict, "already exists")
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                AppError::new(Kind::ReferenceNotFound, info.message().to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                AppError::unavailable("the database connection was lost")
            }
            DieselError::DatabaseError(_, info) if is_transient(info.message()) => {
                tracing::warn!(error = %info.message(), "database unavailable");
                AppError::unavailable("the database is busy or unavailable; retry shortly")
            }
            _ => AppError::internal(e),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> AppError {
        tracing::warn!(error = %e, "no database connection");
        AppError::unavailable("the database is busy or unavailable; retry shortly")
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> AppError {
        AppError::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_own_code_and_a_client_or_server_status() {
        use Kind::*;
        let all = Kind::ALL;
        let codes: std::collections::BTreeSet<&str> = all.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), all.len(), "two kinds share a code");
        assert_eq!(TokenSpent.status(), StatusCode::CONFLICT);
        assert_eq!(TicketRequired.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(DbUnavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(Internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn an_internal_error_keeps_its_source_and_shows_it_only_in_the_log_text() {
        let io = std::io::Error::other("disk on fire");
        let e = AppError::internal(io);
        assert_eq!(e.cause().as_deref(), Some("disk on fire"));
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(
            e.to_string(),
            "500 internal: internal error; it has been logged (disk on fire)"
        );
        let body = e.error_response();
        assert_eq!(body.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let field = AppError::field_of(Kind::TokenExpired, "token", "expired");
        assert_eq!(
            (field.code(), field.message()),
            ("token_expired", "expired")
        );
        assert_eq!(field.fields().unwrap()["token"], "expired");
        assert!(field.cause().is_none());
    }
}
