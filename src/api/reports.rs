//! `GET /reports/ikm`: a unit's IKM report for a period, as JSON or as a CSV, XLSX or PDF
//! download.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::principal;
use crate::auth::Role;
use crate::db::queries;
use crate::error::{AppError, ErrorBody};
use crate::export::{self, ExportOptions, Format};
use crate::instrument::Lang;
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
    /// json (default), csv, xlsx or pdf; the other formats come as a download.
    format: Option<String>,
    /// CSV: `comma` (default, decimal points) or `semicolon` (decimal commas).
    delimiter: Option<String>,
    /// Language of an export's headings: id (default) or en.
    lang: Option<String>,
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
    let format: Format = match query.format.as_deref() {
        None => Format::Json,
        Some(f) => f
            .parse()
            .map_err(|e: String| AppError::field("format", e))?,
    };
    let semicolon = match query.delimiter.as_deref() {
        None | Some("comma") => false,
        Some("semicolon") => true,
        Some(_) => return Err(AppError::field("delimiter", "must be comma or semicolon")),
    };
    let lang = match query.lang.as_deref() {
        None | Some("id") => Lang::Id,
        Some("en") => Lang::En,
        Some(_) => return Err(AppError::field("lang", "must be id or en")),
    };
    let options = ExportOptions {
        lang,
        semicolon,
        grade_boundaries: Vec::new(),
        verify_url: None,
    };
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
    let settings = state.settings.clone();
    let now = state.clock.now();
    let job = move |conn: &mut crate::db::DbConn| {
        match caller.role {
            Role::Admin => {}
            Role::Viewer => {
                let all = queries::list_units(conn)?;
                if all.iter().any(|u| u.code == request.unit) && !caller.covers(&all, &request.unit)
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
        if format == Format::Json {
            let report = reporting::unit_report(conn, &registry, &rules, &request)?;
            return Ok((report, Vec::new()));
        }
        let context = reporting::ExportContext {
            now,
            public_url: &settings.public_url,
        };
        reporting::export(
            conn, &registry, &rules, &request, format, &options, &context,
        )
    };
    // A PDF records its verification code: a write.
    let (report, bytes) = if format == Format::Pdf {
        state.db.write(job).await?
    } else {
        state.db.read(job).await?
    };
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(report));
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, format.content_type()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}\"",
                export::file_name(&report, format)
            ),
        ))
        .body(bytes))
}
