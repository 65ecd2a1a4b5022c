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
    /// json (default), csv, xlsx, pdf or docx (the report document to edit before signing);
    /// the other formats come as a download.
    format: Option<String>,
    /// CSV: `comma` (default, decimal points) or `semicolon` (decimal commas).
    delimiter: Option<String>,
    /// Language of an export's headings: id (default) or en.
    lang: Option<String>,
    /// PDF and DOCX: the document's number (nomor surat), at most 100 characters; a blank line to
    /// write it on when absent.
    number: Option<String>,
}

impl IkmQuery {
    fn lang(&self) -> Result<Lang, AppError> {
        parse_lang(self.lang.as_deref())
    }

    fn request(&self) -> Result<ReportRequest, AppError> {
        let period = parse_period(&self.period)?;
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

/// The `lang` parameter: id (the default) or en.
fn parse_lang(lang: Option<&str>) -> Result<Lang, AppError> {
    match lang {
        None | Some("id") => Ok(Lang::Id),
        Some("en") => Ok(Lang::En),
        Some(_) => Err(AppError::field("lang", "must be id or en")),
    }
}

/// The `period` parameter.
fn parse_period(period: &str) -> Result<Period, AppError> {
    period
        .parse()
        .map_err(|e: crate::period::PeriodError| AppError::field("period", e.to_string()))
}

/// Admins see every unit; viewers the units in their scope and their descendants.
#[utoipa::path(get, path = "/api/v1/reports/ikm", tag = "reports", params(IkmQuery), security(("bearer" = [])),
    responses((status = 200, description = "The report: unit, period, from, to, timezone, instrument, mode, respondents, items (code, name, answered, total, distribution, nrr, ikm, grade), index, ikm, grade, performance, priorities, statistics, sample, calculation, notices, profile, services, channels, suggestions, trend, rollup, quality; with format=csv|xlsx|pdf|docx the export as a download", body = Object),
        (status = 403, description = "Outside the key's units", body = ErrorBody), (status = 422, description = "Invalid parameter", body = ErrorBody),
        (status = 503, description = "Busy with other exports, imports and long reports; retry after Retry-After", body = ErrorBody)))]
pub async fn ikm(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    query: crate::extract::Query<IkmQuery>,
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
        number: match query.number.as_deref().map(str::trim) {
            Some(n) if n.chars().count() > 100 => {
                return Err(AppError::field("number", "must be at most 100 characters"));
            }
            Some(n) if !n.is_empty() => Some(n.to_owned()),
            _ => None,
        },
        ..Default::default()
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
    let job = move |conn: &mut DbConn, freshness| {
        let mut request = request.clone();
        request.unit = access::unit(conn, &caller, Action::ReadUnit, &request.unit)?;
        if format == Format::Json {
            let mut report = reporting::unit_report(conn, &registry, &rules, &request)?;
            reporting::note_freshness(&mut report, freshness);
            return Ok((report, Vec::new()));
        }
        let context = export::ExportContext {
            now,
            public_url: &settings.public_url,
            freshness,
        };
        export::build(
            conn, &registry, &rules, &request, format, &options, &context,
        )
    };
    // A document records its verification code: a write, on the primary. Everything else
    // reads from the replica when there is one.
    let (report, bytes) = if format.is_document() {
        state
            .db
            .write(move |conn| job(conn, crate::db::Freshness::PRIMARY))
            .await?
    } else {
        state.db.read_report(job).await?
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
    query: crate::extract::Query<IkmQuery>,
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
        .read_report(move |conn, _| {
            let mut request = request.clone();
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

/// Query of the narrative endpoints.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NarrativeQuery {
    /// The document's language: id (default) or en; each language keeps its own texts.
    lang: Option<String>,
}

/// What a unit writes: for each chapter named, its text, or `null` (or a blank text) to go
/// back to the template's paragraph. Chapters not named are left as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NarrativeRequest {
    /// Chapter (introduction, method, results, analysis, conclusion) to its text, at most
    /// 12,000 characters; paragraphs are separated by a blank line.
    #[schema(value_type = Object)]
    chapters: std::collections::BTreeMap<String, Option<String>>,
}

/// One chapter's narrative as the report prints it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct NarrativeChapter {
    /// The chapter.
    chapter: export::narrative::Chapter,
    /// Its heading in the document.
    heading: String,
    /// The text the report prints: the unit's when it wrote one, the template's otherwise.
    text: String,
    /// The template's paragraph, written from this period's numbers.
    template: String,
    /// Whether the unit wrote its own text.
    edited: bool,
    /// When the unit's text was saved (UTC).
    updated_at: Option<chrono::NaiveDateTime>,
    /// Who saved it.
    updated_by: Option<String>,
}

/// A unit's report narrative for a period.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Narrative {
    /// Unit code.
    unit: String,
    /// Period.
    period: String,
    /// Language: id or en.
    lang: String,
    /// The chapters in the report's order.
    chapters: Vec<NarrativeChapter>,
}

/// The narrative of a unit's report for a period: the templates written from its numbers and
/// the texts the unit saved.
fn narrative_of(
    conn: &mut DbConn,
    state: &AppState,
    unit: &str,
    period: Period,
    lang: Lang,
) -> Result<Narrative, AppError> {
    use crate::export::narrative::{self, Chapter};
    let request = ReportRequest {
        unit: unit.to_owned(),
        period,
        service: None,
        mode: None,
        instrument: None,
        exclude_flagged: false,
    };
    let report = reporting::unit_report(conn, &state.registry, &state.settings.flags, &request)?;
    let written = crate::domain::narratives::written(conn, unit, &report.period, lang)?;
    let chapters = Chapter::ALL
        .into_iter()
        .map(|chapter| {
            let template = narrative::generated(&report, chapter, lang);
            let mine = written.iter().find(|w| w.chapter == chapter);
            NarrativeChapter {
                chapter,
                heading: chapter.heading(lang),
                text: mine.map_or_else(|| template.clone(), |w| w.body.clone()),
                template,
                edited: mine.is_some(),
                updated_at: mine.map(|w| w.updated_at),
                updated_by: mine.map(|w| w.updated_by.clone()),
            }
        })
        .collect();
    Ok(Narrative {
        unit: report.unit,
        period: report.period,
        lang: if lang == Lang::Id { "id" } else { "en" }.to_owned(),
        chapters,
    })
}

/// The narrative of a unit's report: a paragraph per chapter, the unit's own text where it
/// wrote one, the template's (written from the numbers) elsewhere. The PDF and DOCX print it.
#[utoipa::path(get, path = "/api/v1/units/{unit}/report-narrative/{period}", tag = "reports",
    params(("unit" = String, Path, description = "Unit code"), ("period" = String, Path, description = "Period, as in the report"), NarrativeQuery), security(("bearer" = [])),
    responses((status = 200, description = "The chapters", body = Narrative), (status = 403, description = "Outside the caller's units", body = ErrorBody),
        (status = 422, description = "Invalid parameter", body = ErrorBody)))]
pub async fn narrative(
    state: web::Data<AppState>,
    scope: super::UnitScope<super::Reads>,
    path: web::Path<(String, String)>,
    query: crate::extract::Query<NarrativeQuery>,
) -> Result<HttpResponse, AppError> {
    let (period, lang) = narrative_asked(path, &query)?;
    answer_narrative(state, scope.unit, period, lang).await
}

/// The period of a narrative route's path and the language of its query.
fn narrative_asked(
    path: web::Path<(String, String)>,
    query: &NarrativeQuery,
) -> Result<(Period, Lang), AppError> {
    let (_, period) = path.into_inner();
    Ok((parse_period(&period)?, parse_lang(query.lang.as_deref())?))
}

/// The narrative as the report prints it now, as the answer.
async fn answer_narrative(
    state: web::Data<AppState>,
    unit: String,
    period: Period,
    lang: Lang,
) -> Result<HttpResponse, AppError> {
    let shared = state.clone();
    let view = state
        .db
        .read(move |conn| narrative_of(conn, &shared, &unit, period, lang))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Saves a unit's own text for chapters of its report (the unit's staff draft it, its head
/// signs the document); `null` gives a chapter back to the template. Audited.
#[utoipa::path(put, path = "/api/v1/units/{unit}/report-narrative/{period}", tag = "reports", request_body = NarrativeRequest,
    params(("unit" = String, Path, description = "Unit code"), ("period" = String, Path, description = "Period, as in the report"), NarrativeQuery), security(("bearer" = [])),
    responses((status = 200, description = "Saved; the chapters as the report now prints them", body = Narrative), (status = 403, description = "Outside the caller's units", body = ErrorBody),
        (status = 422, description = "Unknown chapter or text too long, named in fields", body = ErrorBody)))]
pub async fn save_narrative(
    state: web::Data<AppState>,
    scope: super::UnitScope<super::Reads>,
    path: web::Path<(String, String)>,
    query: crate::extract::Query<NarrativeQuery>,
    body: crate::extract::Json<NarrativeRequest>,
) -> Result<HttpResponse, AppError> {
    use crate::domain::narratives::{self, Chapter};
    let (period, lang) = narrative_asked(path, &query)?;
    let mut changes = std::collections::BTreeMap::new();
    for (key, text) in body.into_inner().chapters {
        let field = format!("chapters.{key}");
        let chapter = Chapter::parse(&key).ok_or_else(|| {
            AppError::field(
                &field,
                "not a chapter; use introduction, method, results, analysis or conclusion",
            )
        })?;
        if text
            .as_deref()
            .is_some_and(|t| t.trim().chars().count() > narratives::MAX_CHARS)
        {
            return Err(AppError::field(
                &field,
                format!("must be at most {} characters", narratives::MAX_CHARS),
            ));
        }
        changes.insert(chapter, text);
    }
    if changes.is_empty() {
        return Err(AppError::field("chapters", "name at least one chapter"));
    }
    let unit = scope.unit.clone();
    let actor = scope.caller.actor();
    let key = period.to_string();
    let what = super::admin::Audit::of("narrative.save", format!("{unit}/{key}"), &unit);
    let (before_unit, before_key) = (unit.clone(), key.clone());
    super::admin::audited(
        &state,
        scope.caller,
        what,
        move |conn| {
            let was = narratives::written(conn, &before_unit, &before_key, lang)?;
            Ok(Some(was))
        },
        move |conn, now| narratives::save(conn, &unit, &key, lang, &changes, &actor, now),
    )
    .await?;
    answer_narrative(state, scope.unit, period, lang).await
}
