//! Populations: how many people a unit served in a period, for the sample-size check and the
//! population-weighted roll-up.

use serde::Deserialize;
use validator::Validate;

use crate::db::DbConn;
use crate::db::queries::{self, Population};
use crate::error::AppError;
use crate::period::Period;

/// Body of `PUT /units/{unit}/populations/{period}`.
#[derive(Debug, Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct PopulationRequest {
    /// People served in the period.
    #[validate(range(min = 1, message = "must be at least 1"))]
    pub population: i64,
}

/// Sets the people a unit served in a period, replacing any earlier figure: the period in the
/// contract's syntax, at least 1 person, a known unit. Used by the API, the command line and
/// population files.
pub fn set_population(
    conn: &mut DbConn,
    unit: &str,
    period: &str,
    body: &PopulationRequest,
    now: chrono::NaiveDateTime,
) -> Result<Population, AppError> {
    let period: Period = period
        .parse()
        .map_err(|e: crate::period::PeriodError| AppError::field("period", e.to_string()))?;
    body.validate()?;
    let unit = &super::unit_code(conn, unit)?;
    let row = Population {
        unit_code: unit.to_owned(),
        period: period.to_string(),
        population: body.population,
        updated_at: now,
    };
    queries::set_population(conn, &row)?;
    Ok(row)
}
