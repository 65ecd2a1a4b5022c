//! The domain layer: the rules for changing units, services, API keys, populations and the
//! people who sign in, and the kiosk fleet's heartbeats, called alike by the HTTP handlers,
//! the command line, imports and the demo. It never sees a request:
//! callers pass plain values and a connection, and get [`AppError`] back, whose kinds the API
//! turns into statuses in `error.rs`. Follow-up plans (`followup`), submissions (`collect`),
//! receipt tokens (`tokens`) and reports (`reporting`) are domain modules of their own.

pub mod audit;
pub mod destinations;
pub mod hours;
pub mod keys;
pub mod kiosks;
pub mod logos;
pub mod narratives;
pub mod ombudsman;
pub mod passwords;
pub mod populations;
pub mod rules;
pub mod sessions;
pub mod twostep;
pub mod units;
pub mod users;

pub use crate::db::queries::unit_code;
