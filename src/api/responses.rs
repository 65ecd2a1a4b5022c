//! `POST /responses`: a respondent's submission from a kiosk, a receipt, an open link or paper.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::collect::{self, SubmissionRequest, SubmissionResponse};
use crate::db::{Offline, Source};
use crate::error::{AppError, ErrorBody, Kind};
use crate::state::AppState;

/// 201 for a new submission, 200 for a repeat of a stored one, 409 for a reused id.
#[utoipa::path(post, path = "/api/v1/responses", tag = "responses", request_body = SubmissionRequest, security((), ("bearer" = [])),
    responses((status = 201, description = "Stored", body = SubmissionResponse), (status = 200, description = "Already stored (same content)", body = SubmissionResponse),
        (status = 409, description = "The id was used for other content", body = ErrorBody), (status = 422, description = "Invalid field", body = ErrorBody),
        (status = 429, description = "Too many responses without a key from this address in the last minute; retry after Retry-After", body = ErrorBody),
        (status = 503, description = "Database busy; retry", body = ErrorBody)))]
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: crate::extract::Json<SubmissionRequest>,
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
    // Without a key, the client's address (a keyed hash of it, different each day) is what the
    // server knows of the sender: more than the limit a minute is refused.
    // A person signed in (a unit head entering a paper questionnaire) is known by the session.
    let person = match super::session_secret(&req) {
        Some(_) if !req.headers().contains_key("authorization") => {
            Some(super::principal(&state, &req).await?)
        }
        _ => None,
    };
    let anonymous = person.is_none() && !req.headers().contains_key("authorization");
    let address = anonymous.then(|| {
        let ip = crate::extract::client_address(&req, &state.settings.trust_proxy);
        state
            .secrets
            .address_hash(ip.as_deref().unwrap_or("unknown"), now.date())
    });
    if let Some(address) = &address
        && state.windows.hit(&format!("addr:{address}"), now) > state.settings.anonymous_per_minute
    {
        counter.with_label_values(&[channel, "refused"]).inc();
        return Err(AppError::rate_limited(
            "too many survey responses from this address in the last minute; try again shortly",
            60,
        ));
    }
    let secrets = state.secrets.clone();
    // Authenticate and check: in memory when the directory knows the key, unit and service,
    // otherwise on a reading connection.
    let header = super::bearer(&req)?;
    let directory = state.directory.clone();
    // When the survey was completed, by the server's clock: the device's clock set right by the
    // offset it measured. A retired tablet still delivers what it completed before.
    let delivery =
        crate::domain::rules::utc(body.client_time.as_deref()).map(|t| crate::auth::Delivery {
            completed: t - chrono::TimeDelta::milliseconds(body.clock_offset_ms.unwrap_or(0)),
            received: now,
        });
    let signed_in = person.is_some();
    let check = move |conn: &mut dyn Source| {
        let caller = match &person {
            Some(p) => Some(p.clone()),
            None => header
                .as_deref()
                .map(|h| crate::auth::authenticate_submission(conn, &directory, Some(h), delivery))
                .transpose()?,
        };
        let checker = collect::Checker {
            directory: &directory,
            registry: &registry,
            tokens: &token_settings,
            secrets: Some(&secrets),
            address: address.as_deref(),
        };
        let prepared = checker.prepare(conn, caller.as_ref(), &body, now, now)?;
        Ok::<_, AppError>((caller, prepared))
    };
    let checked = match check(&mut Offline) {
        Err(e) if e.is(Kind::NeedsDatabase) => state.db.read(move |conn| check(conn)).await,
        other => other,
    };
    let result = match checked {
        Err(e) => Err(e),
        Ok((caller, mut prepared)) => {
            if let Some(caller) = &caller {
                let per_minute = state.settings.key_per_minute;
                key_rate(&state.windows, per_minute, caller, &mut prepared, now);
                if !signed_in {
                    super::record_use(&state, caller).await;
                }
            }
            let stored = crate::signals::Stored {
                submission_id: prepared.row.submission_id.clone(),
                unit: prepared.row.unit_code.clone(),
                service: prepared.row.service_code.clone(),
                channel: prepared.row.channel.clone(),
                answers: prepared.row.answers.clone(),
                suggestion: prepared.row.suggestion.clone(),
                received_at: now,
            };
            let result = match &state.writer {
                // Group commit: join the writer's next batch.
                Some(writer) => writer.store(prepared, now).await,
                // Otherwise a durable transaction of its own.
                None => {
                    state
                        .db
                        .write(move |conn| {
                            collect::store_batch(conn, &rules, &[(prepared, now)])?
                                .pop()
                                .expect("one result a submission")
                        })
                        .await
                }
            };
            // A new response, durable: the webhooks hear of it, without waiting for them.
            if let Ok(true) = result {
                state.signals.stored(stored);
            }
            result
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

/// Flags `rate` on a kiosk's submission when its key sent more than `per_minute` in the last
/// minute, whatever device ids the submissions carried.
fn key_rate(
    windows: &crate::abuse::Windows,
    per_minute: u32,
    caller: &crate::auth::Principal,
    prepared: &mut collect::Prepared,
    now: chrono::NaiveDateTime,
) {
    if caller.role == crate::auth::Role::Kiosk
        && windows.hit(&format!("key:{}", caller.key_id), now) > per_minute
    {
        prepared.rate = true;
    }
}
