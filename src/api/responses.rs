//! `POST /responses`: a respondent's submission from a kiosk, a receipt, an open link or paper.

use actix_web::{HttpRequest, HttpResponse, web};

use super::optional_principal;
use crate::collect::{self, SubmissionRequest, SubmissionResponse};
use crate::db::{Offline, Source};
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

/// 201 for a new submission, 200 for a repeat of a stored one, 409 for a reused id.
#[utoipa::path(post, path = "/api/v1/responses", tag = "responses", request_body = SubmissionRequest, security((), ("bearer" = [])),
    responses((status = 201, description = "Stored", body = SubmissionResponse), (status = 200, description = "Already stored (same content)", body = SubmissionResponse),
        (status = 409, description = "The id was used for other content", body = ErrorBody), (status = 422, description = "Invalid field", body = ErrorBody),
        (status = 503, description = "Database busy; retry", body = ErrorBody)))]
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<SubmissionRequest>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let registry = state.registry.clone();
    let token_settings = state.settings.token_settings();
    let rules = state.settings.flags;
    let body = body.into_inner();
    let id = body.submission_id.to_ascii_lowercase();
    // Count by the channels the contract knows; anything else is refused by the checks.
    let channel: &'static str = match body.channel.as_str() {
        "kiosk" => "kiosk",
        "qr" => "qr",
        "web" => "web",
        "paper" => "paper",
        _ => "other",
    };
    let counter = state.metrics.submissions.clone();
    let result = match &state.writer {
        // Group commit: authenticate and check (in memory when the directory knows the key,
        // unit and service; otherwise on a reading connection), then join the writer's next
        // batch.
        Some(writer) => {
            let header = super::bearer(&req)?;
            let directory = state.directory.clone();
            let check = move |conn: &mut dyn Source| {
                let caller = header
                    .as_deref()
                    .map(|h| crate::auth::authenticate(conn, &directory, Some(h)))
                    .transpose()?;
                let checker = collect::Checker {
                    directory: &directory,
                    registry: &registry,
                    tokens: &token_settings,
                };
                let prepared = checker.prepare(conn, caller.as_ref(), &body, now, now)?;
                Ok::<_, AppError>((caller, prepared))
            };
            let checked = match check(&mut Offline) {
                Err(e) if e.is_needs_database() => state.db.read(move |conn| check(conn)).await,
                other => other,
            };
            match checked {
                Ok((caller, prepared)) => {
                    if let Some(caller) = &caller {
                        super::record_use(&state, caller).await;
                    }
                    writer.store(prepared, now).await
                }
                Err(e) => Err(e),
            }
        }
        None => {
            let caller = optional_principal(&state, &req).await?;
            let directory = state.directory.clone();
            state
                .db
                .write(move |conn| {
                    let checker = collect::Checker {
                        directory: &directory,
                        registry: &registry,
                        tokens: &token_settings,
                    };
                    checker.submit(conn, &rules, caller.as_ref(), &body, now)
                })
                .await
        }
    };
    let outcome = match &result {
        Ok(true) => "created",
        Ok(false) => "duplicate",
        Err(_) => "refused",
    };
    counter.with_label_values(&[channel, outcome]).inc();
    let new = result?;
    let answer = SubmissionResponse {
        submission_id: id,
        status: if new { "created" } else { "duplicate" }.to_owned(),
    };
    Ok(if new {
        HttpResponse::Created().json(answer)
    } else {
        HttpResponse::Ok().json(answer)
    })
}
