//! Application errors and how each becomes an HTTP response, in one place.
//!
//! Policy: every client mistake is a 4xx with a stable snake_case `error` code, a sentence in
//! `message`, and `fields` naming each bad field. A busy or unreachable database is 503 with
//! Retry-After so clients retry. Anything else is a bug: 500 `internal`, logged with its
//! request id, with a generic body. Bodies are `{"error", "message", "fields"?}`.

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

/// An error with its HTTP status and stable code.
#[derive(Debug, Clone)]
pub struct AppError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code.
    pub code: &'static str,
    /// A human sentence.
    pub message: String,
    /// Field path to problem, for validation errors.
    pub fields: Option<BTreeMap<String, String>>,
    /// For a 500, the cause: logged with the request id, never sent to the client.
    pub cause: Option<String>,
    /// Seconds the client should wait before trying again (`Retry-After`), for a 429 or 503.
    pub retry_after: Option<u64>,
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
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            status,
            code,
            message: message.into(),
            fields: None,
            cause: None,
            retry_after: None,
        }
    }

    /// 422: fields that fail validation.
    pub fn invalid(fields: BTreeMap<String, String>) -> AppError {
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        AppError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation_failed",
            message: format!("invalid field(s): {}", names.join(", ")),
            fields: Some(fields),
            cause: None,
            retry_after: None,
        }
    }

    /// 422 for one field.
    pub fn field(field: impl Into<String>, problem: impl Into<String>) -> AppError {
        AppError::invalid(BTreeMap::from([(field.into(), problem.into())]))
    }

    /// 413 for one field: an upload over one of its limits, named in the problem.
    pub fn too_large(field: impl Into<String>, problem: impl Into<String>) -> AppError {
        let problem = problem.into();
        AppError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "too_large",
            message: problem.clone(),
            fields: Some(BTreeMap::from([(field.into(), problem)])),
            cause: None,
            retry_after: None,
        }
    }

    /// 400: a request that cannot be read.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404.
    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    /// 401: no key, an unknown key or a revoked key.
    pub fn unauthorized(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: a valid key that may not do this.
    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// Work run without a connection ([`crate::db::Offline`]) needed one. Never answered: the
    /// caller runs the work again with a connection.
    pub fn needs_database() -> AppError {
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "needs_database",
            "needs the database",
        )
    }

    /// Whether this is [`AppError::needs_database`].
    pub fn is_needs_database(&self) -> bool {
        self.code == "needs_database"
    }

    /// 409.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::CONFLICT, code, message)
    }

    /// 503: the database is busy or unreachable; retry shortly.
    pub fn unavailable(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::SERVICE_UNAVAILABLE, "db_unavailable", message)
    }

    /// 503: heavy work (imports, exports, long reports) is at its limit; retry after `seconds`.
    pub fn busy(message: impl Into<String>, seconds: u64) -> AppError {
        AppError {
            retry_after: Some(seconds),
            ..AppError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
        }
    }

    /// 429: too many requests from one client; retry after `seconds`.
    pub fn rate_limited(message: impl Into<String>, seconds: u64) -> AppError {
        AppError {
            retry_after: Some(seconds),
            ..AppError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
        }
    }

    /// 500: a bug. The cause is kept, not logged here: the request log writes it once, with
    /// the request id, where the error becomes a response (the command line prints it); the
    /// body stays generic.
    pub fn internal(cause: impl fmt::Display) -> AppError {
        AppError {
            cause: Some(cause.to_string()),
            ..AppError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; it has been logged",
            )
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )?;
        match &self.cause {
            Some(cause) => write!(f, " ({cause})"),
            None => Ok(()),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header(("Retry-After", "2"));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        let mut response = response.json(ErrorBody {
            error: self.code.to_owned(),
            message: self.message.clone(),
            fields: self.fields.clone(),
        });
        response.extensions_mut().insert(ErrorCode(self.code));
        response
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
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

impl From<DieselError> for AppError {
    fn from(e: DieselError) -> AppError {
        match &e {
            DieselError::NotFound => AppError::not_found("not found"),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::conflict("conflict", "already exists")
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "reference_not_found",
                    info.message().to_owned(),
                )
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
