//! `GET /reports/ikm`: a unit's IKM report for a period, as JSON or as a CSV, XLSX or PDF
//! download.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::Caller;
use crate::access::{self, Action};
use crate::db::DbConn;
use crate::error::{AppError, ErrorBody};
use crate::export::{self, ExportOptions, Format, chart};
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
    /// PDF: the document's number (nomor surat), at most 100 characters; a blank line to
    /// write it on when absent.
    number: Option<String>,
}

impl IkmQuery {
    fn lang(&self) -> Result<Lang, AppError> {
        match self.lang.as_deref() {
            None | Some("id") => Ok(Lang::Id),
            Some("en") => Ok(Lang::En),
            Some(_) => Err(AppError::field("lang", "must be id or en")),
        }
    }

    fn request(&self) -> Result<ReportRequest, AppError> {
        let period: Period = self
            .period
            .parse()
            .map_err(|e: crate::period::PeriodError| AppError::field("period", e.to_string()))?;
        Ok(ReportRequest {
            unit: self.unit.clone(),
            period,
            service: self.service.clone(),
            mode: self.mode.clone(),
            instrument: self.instrument.clone(),
            exclude_flagged: self.exclude_flagged.unwrap_or(false),
        })
    }
}

/// Admins see every unit; viewers the units in their scope and their descendants.
#[utoipa::path(get, path = "/api/v1/reports/ikm", tag = "reports", params(IkmQuery), security(("bearer" = [])),
    responses((status = 200, description = "The report: unit, period, from, to, timezone, instrument, mode, respondents, items (code, name, answered, total, distribution, nrr, ikm, grade), index, ikm, grade, performance, priorities, statistics, sample, calculation, notices, profile, services, channels, suggestions, trend, rollup, quality; with format=csv|xlsx|pdf the export as a download", body = Object),
        (status = 403, description = "Outside the key's units", body = ErrorBody), (status = 422, description = "Invalid parameter", body = ErrorBody),
        (status = 503, description = "Busy with other exports, imports and long reports; retry after Retry-After", body = ErrorBody)))]
pub async fn ikm(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    query: web::Query<IkmQuery>,
) -> Result<HttpResponse, AppError> {
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
    let options = ExportOptions {
        lang: query.lang()?,
        semicolon,
        grade_boundaries: Vec::new(),
        verify_url: None,
        printed_at: None,
        number: match query.number.as_deref().map(str::trim) {
            Some(n) if n.chars().count() > 100 => {
                return Err(AppError::field("number", "must be at most 100 characters"));
            }
            Some(n) if !n.is_empty() => Some(n.to_owned()),
            _ => None,
        },
        letterhead: None,
    };
    let request = query.request()?;
    // Exports and reports over more than a year are heavy: they take turns.
    let _turn = if format != Format::Json || request.period.is_long() {
        Some(state.heavy_turn().await?)
    } else {
        None
    };
    let registry = state.registry.clone();
    let rules = state.settings.flags;
    let settings = state.settings.clone();
    let now = state.clock.now();
    let job = move |conn: &mut DbConn| {
        let mut request = request;
        request.unit = access::unit(conn, &caller, Action::ReadUnit, &request.unit)?;
        if format == Format::Json {
            let report = reporting::unit_report(conn, &registry, &rules, &request)?;
            return Ok((report, Vec::new()));
        }
        let context = export::ExportContext {
            now,
            public_url: &settings.public_url,
        };
        export::build(
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

/// A chart of the report as SVG: `items` (each item's IKM, coloured by grade, with the grade
/// boundaries) or `trend` (the IKM over the previous periods and this one).
#[utoipa::path(get, path = "/api/v1/reports/ikm/chart/{kind}", tag = "reports", params(("kind" = String, Path, description = "items or trend"), IkmQuery), security(("bearer" = [])),
    responses((status = 200, description = "The chart", content_type = "image/svg+xml"),
        (status = 403, description = "Outside the key's units", body = ErrorBody), (status = 422, description = "Invalid parameter", body = ErrorBody),
        (status = 503, description = "Busy with other exports, imports and long reports; retry after Retry-After", body = ErrorBody)))]
pub async fn chart(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    kind: web::Path<String>,
    query: web::Query<IkmQuery>,
) -> Result<HttpResponse, AppError> {
    let kind = kind.into_inner();
    let kind = match kind.as_str() {
        "items" => chart::Kind::Items,
        "trend" => chart::Kind::Trend,
        "daily" => chart::Kind::Daily,
        _ => {
            return Err(AppError::not_found(format!(
                "no chart `{kind}`; use items, trend or daily"
            )));
        }
    };
    let query = query.into_inner();
    if query.format.is_some() || query.delimiter.is_some() {
        return Err(AppError::field("format", "a chart is always SVG"));
    }
    let lang = query.lang()?;
    let request = query.request()?;
    // Charts over more than a year are heavy: they take turns.
    let _turn = if request.period.is_long() {
        Some(state.heavy_turn().await?)
    } else {
        None
    };
    let registry = state.registry.clone();
    let rules = state.settings.flags;
    let svg = state
        .db
        .read(move |conn| {
            let mut request = request;
            request.unit = access::unit(conn, &caller, Action::ReadUnit, &request.unit)?;
            let report = reporting::unit_report(conn, &registry, &rules, &request)?;
            let instrument = registry
                .get(&report.report.instrument)
                .ok_or_else(|| AppError::internal("instrument vanished"))?;
            chart::of_report(&report, kind, lang, &instrument.grade_boundaries())
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(svg))
}
