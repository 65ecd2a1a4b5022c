//! The domain layer: the rules for changing units, services, API keys and populations, called
//! alike by the HTTP handlers, the command line, imports and the demo. It never sees a request:
//! callers pass plain values and a connection, and get [`AppError`] back, whose kinds the API
//! turns into statuses in `error.rs`. Follow-up plans (`followup`), submissions (`collect`),
//! receipt tokens (`tokens`) and reports (`reporting`) are domain modules of their own.

pub mod keys;
pub mod populations;
pub mod units;

use crate::db::{DbConn, queries};
use crate::error::AppError;
use crate::period::parse_timezone;

/// The stored code of the unit a caller names, which may be written in other case (codes are
/// stored in lower case: `DUKCAPIL` names `dukcapil`); 404 when there is no such unit.
pub fn unit_code(conn: &mut DbConn, given: &str) -> Result<String, AppError> {
    queries::find_unit(conn, given)?
        .map(|u| u.code)
        .ok_or_else(|| AppError::not_found(format!("unknown unit `{given}`")))
}

/// Checks a unit or service code: 1 to 64 letters, digits, '.', '_' or '-'.
pub fn check_code(field: &str, code: &str) -> Result<(), AppError> {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::field(
            field,
            "must be 1 to 64 letters, digits, '.', '_' or '-'",
        ))
    }
}

pub fn check_name(field: &str, name: &str) -> Result<(), AppError> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(AppError::field(field, "must be 1 to 200 characters"));
    }
    Ok(())
}

pub fn check_timezone(tz: &str) -> Result<(), AppError> {
    parse_timezone(tz).map(|_| ()).ok_or_else(|| {
        AppError::field(
            "timezone",
            format!("`{tz}` is not an IANA time zone such as Asia/Jakarta"),
        )
    })
}
