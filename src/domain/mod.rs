//! The domain layer: the rules for changing units, services, API keys, populations and the
//! people who sign in, and the kiosk fleet's heartbeats, called alike by the HTTP handlers,
//! the command line, imports and the demo. It never sees a request:
//! callers pass plain values and a connection, and get [`AppError`] back, whose kinds the API
//! turns into statuses in `error.rs`. Follow-up plans (`followup`), submissions (`collect`),
//! receipt tokens (`tokens`) and reports (`reporting`) are domain modules of their own.

pub mod keys;
pub mod kiosks;
pub mod populations;
pub mod rules;
pub mod units;
pub mod users;

use crate::db::{DbConn, queries};
use crate::error::AppError;

/// The stored code of the unit a caller names, which may be written in other case (codes are
/// stored in lower case: `DUKCAPIL` names `dukcapil`); 404 when there is no such unit.
pub fn unit_code(conn: &mut DbConn, given: &str) -> Result<String, AppError> {
    queries::find_unit(conn, given)?
        .map(|u| u.code)
        .ok_or_else(|| AppError::not_found(format!("unknown unit `{given}`")))
}
