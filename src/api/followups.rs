//! Follow-up plans over HTTP: a unit head (a viewer of the unit) or an admin adds, lists and
//! updates the unit's rencana tindak lanjut.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::admin::{Audit, audited, none};
use super::{Caller, Reads, UnitScope};
use crate::access::{self, Action};
use crate::error::{AppError, ErrorBody};
use crate::followup::{
    self, FollowUp, NewFollowUpRequest, NoteRequest, SuggestionNote, UpdateFollowUpRequest,
};
use crate::state::AppState;
use validator::Validate;

/// Query of the list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FollowUpQuery {
    /// Only this period's plans.
    period: Option<String>,
}

/// Adds a plan to a unit.
#[utoipa::path(post, path = "/api/v1/units/{unit}/follow-ups", tag = "follow-ups", request_body = NewFollowUpRequest,
    params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 201, description = "Added", body = FollowUp), (status = 403, description = "Not an admin or a viewer of the unit", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    scope: UnitScope<Reads>,
    body: crate::extract::Json<NewFollowUpRequest>,
) -> Result<HttpResponse, AppError> {
    let unit = scope.unit.clone();
    let body = body.into_inner();
    let instrument = state
        .registry
        .get("skm-2017")
        .cloned()
        .ok_or_else(|| AppError::internal("the skm-2017 instrument is missing"))?;
    let what = Audit::of("followup.create", format!("{unit}/{}", body.item), &unit);
    let row = audited(&state, scope.caller, what, none, move |conn, now| {
        followup::create(conn, &instrument, &unit, &body, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(row))
}

/// A unit's plans.
#[utoipa::path(get, path = "/api/v1/units/{unit}/follow-ups", tag = "follow-ups", params(("unit" = String, Path, description = "Unit code"), FollowUpQuery), security(("bearer" = [])),
    responses((status = 200, description = "Plans by period and item", body = [FollowUp]), (status = 403, description = "Not an admin or a viewer of the unit", body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    scope: UnitScope<Reads>,
    query: crate::extract::Query<FollowUpQuery>,
) -> Result<HttpResponse, AppError> {
    let unit = scope.unit;
    let period = match &query.period {
        None => None,
        Some(p) => Some(
            p.parse::<crate::period::Period>()
                .map_err(|e| AppError::field("period", e.to_string()))?
                .to_string(),
        ),
    };
    let rows = state
        .db
        .read(move |conn| followup::list(conn, &unit, period.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Changes a plan: its status as work goes on, or any other field.
#[utoipa::path(patch, path = "/api/v1/follow-ups/{id}", tag = "follow-ups", request_body = UpdateFollowUpRequest,
    params(("id" = String, Path, description = "Plan id")), security(("bearer" = [])),
    responses((status = 200, description = "Changed", body = FollowUp), (status = 404, description = "Unknown plan", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn update(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<String>,
    body: crate::extract::Json<UpdateFollowUpRequest>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let body = body.into_inner();
    let who = caller.clone();
    let found = state
        .db
        .read({
            let id = id.clone();
            move |conn| {
                let found = followup::find(conn, &id)?
                    .ok_or_else(|| AppError::not_found("unknown follow-up"))?;
                access::unit(conn, &who, Action::ReadUnit, &found.unit_code)?;
                Ok(found)
            }
        })
        .await?;
    let what = Audit::of("followup.update", id.clone(), &found.unit_code);
    let row = audited(
        &state,
        caller,
        what,
        {
            let id = id.clone();
            move |conn| followup::find(conn, &id)
        },
        move |conn, now| followup::update(conn, &id, &body, now),
    )
    .await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Notes a suggestion: the item it is about, free tags, and the unit's follow-up plan that
/// acts on it ("ditindaklanjuti"; the public page then shows the suggestion with the plan).
#[utoipa::path(patch, path = "/api/v1/suggestions/{id}", tag = "follow-ups", request_body = NoteRequest,
    params(("id" = String, Path, description = "The id of the response carrying the suggestion (`suggestions[].id` of a report)")), security(("bearer" = [])),
    responses((status = 200, description = "Noted", body = SuggestionNote), (status = 403, description = "Not an admin or a viewer of the unit", body = ErrorBody),
        (status = 404, description = "No such suggestion", body = ErrorBody), (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn note_suggestion(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<String>,
    body: crate::extract::Json<NoteRequest>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let body = body.into_inner();
    body.validate()?;
    let who = caller.clone();
    let asked = id.clone();
    let (unit, instrument) = state
        .db
        .read(move |conn| {
            let (unit, instrument) = followup::suggestion_of(conn, &asked)?;
            access::unit(conn, &who, Action::ReadUnit, &unit)?;
            Ok((unit, instrument))
        })
        .await?;
    let instrument = state
        .registry
        .get(&instrument)
        .cloned()
        .ok_or_else(|| AppError::internal("the suggestion's instrument is missing"))?;
    let actor = caller.actor();
    let what = Audit::of("suggestion.note", id.clone(), &unit);
    let note = audited(&state, caller, what, none, move |conn, now| {
        followup::note(conn, &instrument, &id, &unit, &body, &actor, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(note))
}
