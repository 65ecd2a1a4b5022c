//! `GET /reports/ikm`: a unit's IKM report for a period.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::principal;
use crate::auth::Role;
use crate::db::queries;
use crate::error::AppError;
use crate::period::Period;
use crate::reporting::{self, ReportRequest};
use crate::state::AppState;

/// Query of the report endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IkmQuery {
    unit: String,
    period: String,
    service: Option<String>,
    mode: Option<String>,
    instrument: Option<String>,
}

/// Admins see every unit; viewers the units in their scope and their descendants.
pub(super) async fn ikm(
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
    };
    let registry = state.registry.clone();
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
            reporting::unit_report(conn, &registry, &request)
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
