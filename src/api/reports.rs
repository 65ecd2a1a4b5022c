//! `GET /reports/ikm`: a unit's IKM report for a period.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::principal;
use crate::auth::Role;
use crate::db::queries;
use crate::error::{AppError, ErrorBody};
use crate::period::Period;
use crate::reporting::{self, ReportRequest};
use crate::state::AppState;

/// Query of the report endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IkmQuery {
    /// Unit code.
    unit: String,
    /// Period: 2025, 2025-S1, 2025-Q3, 2025-07 or 2025-07-01..2025-09-30.
    period: String,
    /// One service only.
    service: Option<String>,
    /// Mode: exact (default) or form-0.111.
    mode: Option<String>,
    /// Instrument key, skm-2017 by default.
    instrument: Option<String>,
    /// Leave responses with quality flags (too_fast, rate, repeat) out of the numbers.
    exclude_flagged: Option<bool>,
}

/// Admins see every unit; viewers the units in their scope and their descendants.
#[utoipa::path(get, path = "/api/v1/reports/ikm", tag = "reports", params(IkmQuery), security(("bearer" = [])),
    responses((status = 200, description = "The report: unit, period, from, to, timezone, instrument, mode, respondents, items (code, name, answered, total, distribution, nrr, ikm, grade), index, ikm, grade, performance, priorities, statistics, sample, calculation, notices, profile", body = Object),
        (status = 403, description = "Outside the key's units", body = ErrorBody), (status = 422, description = "Invalid parameter", body = ErrorBody)))]
pub async fn ikm(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<IkmQuery>,
) -> Result<HttpResponse, AppError> {
    let caller = principal(&state, &req).await?;
    let query = query.into_inner();
    let period: Period = query
        .period
        .parse()
        .map_err(|e: crate::period::PeriodError| AppError::field("period", e.to_string()))?;
    let request = ReportRequest {
        unit: query.unit,
        period,
        service: query.service,
        mode: query.mode,
        instrument: query.instrument,
        exclude_flagged: query.exclude_flagged.unwrap_or(false),
    };
    let registry = state.registry.clone();
    let rules = state.settings.flags;
    let report = state
        .db
        .read(move |conn| {
            match caller.role {
                Role::Admin => {}
                Role::Viewer => {
                    let all = queries::list_units(conn)?;
                    if all.iter().any(|u| u.code == request.unit)
                        && !caller.covers(&all, &request.unit)
                    {
                        return Err(AppError::forbidden(format!(
                            "this key cannot read the reports of unit {}",
                            request.unit
                        )));
                    }
                }
                other => {
                    return Err(AppError::forbidden(format!(
                        "a {other} key cannot read reports"
                    )));
                }
            }
            reporting::unit_report(conn, &registry, &rules, &request)
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
