//! Webhooks over HTTP: administrators, and managers for the units they run, register, list and
//! remove them, and read what was delivered (`signals` does the rest).

use actix_web::{HttpResponse, web};
use validator::Validate;

use super::Caller;
use super::admin::{Audit, audited, none};
use crate::access::{self, Action};
use crate::error::{AppError, ErrorBody};
use crate::signals::{self, Delivery, NewWebhook, Webhook};
use crate::state::AppState;

/// Registers a webhook. Each delivery is a JSON POST signed with
/// `X-Kepuasan-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>`.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook, security(("bearer" = [])),
    responses((status = 201, description = "Registered; the secret is never shown again", body = Webhook),
        (status = 403, description = "Not an administrator or the unit's manager", body = ErrorBody),
        (status = 422, description = "Invalid field; `url` also when it holds credentials or reaches a private, local or special network (see KEPUASAN_WEBHOOK_ALLOW)", body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: crate::extract::Json<NewWebhook>,
) -> Result<HttpResponse, AppError> {
    access::role(&caller, Action::Manage)?;
    let mut body = body.into_inner();
    body.validate()?;
    let mail = state.settings.smtp_url.is_some();
    signals::admissible(&caller, &body, mail)?;
    // Only the outside world, unless the operator opened the receiver; the name is resolved
    // off the request workers.
    if !body.url.starts_with("mailto:") {
        let (url, allow) = (body.url.clone(), state.settings.webhook_allow.clone());
        web::block(move || crate::domain::destinations::check(&url, &allow))
            .await
            .map_err(AppError::internal)?
            .map_err(|why| AppError::field("url", why))?;
    }
    // The unit as stored (codes are case-insensitive), and one the caller runs.
    if let Some(unit) = &body.unit {
        let (who, asked) = (caller.clone(), unit.clone());
        body.unit = Some(
            state
                .db
                .read(move |conn| access::unit(conn, &who, Action::Manage, &asked))
                .await?,
        );
    }
    let what = Audit::of(
        "webhook.create",
        body.url.clone(),
        body.unit.as_deref().unwrap_or(""),
    );
    let who = caller.clone();
    let hook = audited(&state, caller, what, none, move |conn, now| {
        signals::create(conn, &who, &body, mail, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(hook))
}

/// The webhooks the caller may see: all for an administrator, a manager's units' for a manager.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, description = "Newest first, removed ones included", body = [Webhook]),
        (status = 403, description = "Not an administrator or a manager", body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    Caller(caller): Caller,
) -> Result<HttpResponse, AppError> {
    access::role(&caller, Action::Manage)?;
    let hooks = state
        .db
        .read(move |conn| signals::list(conn, &caller))
        .await?;
    Ok(HttpResponse::Ok().json(hooks))
}

/// Removes a webhook: nothing more is sent to it, and what was waiting is given up.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "Webhook id")), security(("bearer" = [])),
    responses((status = 200, description = "Removed", body = Webhook), (status = 404, description = "No such webhook the caller may see", body = ErrorBody)))]
pub async fn remove(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    access::role(&caller, Action::Manage)?;
    let id = path.into_inner();
    let who = caller.clone();
    let (before_who, before_id) = (caller.clone(), id.clone());
    let what = Audit::of("webhook.remove", id.clone(), "");
    let hook = audited(
        &state,
        caller,
        what,
        move |conn| signals::find(conn, &before_who, &before_id).map(Some),
        move |conn, _| signals::remove(conn, &who, &id),
    )
    .await?;
    Ok(HttpResponse::Ok().json(hook))
}

/// A webhook's deliveries, newest first (at most 100): each event, its attempts, the
/// receiver's last answer and the body sent.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path, description = "Webhook id")), security(("bearer" = [])),
    responses((status = 200, description = "Deliveries", body = [Delivery]), (status = 404, description = "No such webhook the caller may see", body = ErrorBody)))]
pub async fn deliveries(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    access::role(&caller, Action::Manage)?;
    let id = path.into_inner();
    let rows = state
        .db
        .read(move |conn| signals::deliveries(conn, &caller, &id))
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}
