//! `POST /imports`: paper questionnaires from a CSV or XLSX file, checked (dry run) or stored.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::Caller;
use crate::access::{self, Action};
use crate::error::{AppError, ErrorBody};
use crate::import::{self, ImportReport};
use crate::state::AppState;

/// Largest file an import takes.
pub const MAX_FILE: usize = 10 * 1024 * 1024;

/// Query of the import endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check every row and store nothing.
    dry_run: Option<bool>,
    /// Unit of rows that have no `unit` column.
    unit: Option<String>,
}

/// The body is the file itself (CSV, comma or semicolon, UTF-8; or XLSX, first sheet), at most
/// 10 MiB: columns U1..U9, unit, service, date (2025-07-14 or 14/07/2025), and optionally
/// gender, age, education, occupation, suggestion. An admin key, or a counter key of the rows'
/// units.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", params(ImportQuery), security(("bearer" = [])),
    request_body(content = String, description = "The CSV or XLSX file", content_type = "text/csv"),
    responses((status = 200, description = "What was (or, in a dry run, would be) imported, and every bad row with its line and reason", body = Object),
        (status = 403, description = "Neither an admin nor a counter key", body = ErrorBody),
        (status = 413, description = "Larger than 10 MiB, or over a limit of its rows (20,000), columns (100), cells (16 KiB) or the unpacked parts of a workbook", body = ErrorBody),
        (status = 422, description = "Not a readable file", body = ErrorBody),
        (status = 503, description = "Busy with other imports and exports; retry after Retry-After", body = ErrorBody)))]
pub async fn import(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    Caller(caller): Caller,
    query: crate::extract::Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    // Each row's unit is then checked like a live submission's.
    access::role(&caller, Action::ImportPaper)?;
    if body.is_empty() {
        return Err(AppError::field("file", "the request body is empty"));
    }
    // Parsing and checking a file is heavy work: imports take turns with exports.
    let _turn = state.heavy_turn().await?;
    let query = query.into_inner();
    let registry = state.registry.clone();
    let token_settings = state.settings.token_settings();
    let now = state.clock.now();
    let dry_run = query.dry_run.unwrap_or(false);
    let job = move |conn: &mut crate::db::DbConn| -> Result<ImportReport, AppError> {
        import::import(
            conn,
            &registry,
            &token_settings,
            &caller,
            &body,
            query.unit.as_deref(),
            dry_run,
            now,
        )
    };
    let report = if dry_run {
        state.db.read(job).await?
    } else {
        state.db.write(job).await?
    };
    let imported = &state.metrics.imported;
    imported
        .with_label_values(&["imported"])
        .inc_by(report.imported);
    imported
        .with_label_values(&["already_imported"])
        .inc_by(report.already_imported);
    // Each row's problems in the language the page (or client) asks for.
    Ok(HttpResponse::Ok().json(report.localized(crate::extract::language(&req))))
}
