//! The kiosk fleet over HTTP: tablets send heartbeats; admins and a unit's viewers list the
//! unit's tablets with their state and backlog. Retiring a tablet is revoking its key
//! (`DELETE /api/v1/keys/{id}`).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use validator::Validate;

use super::Caller;
use crate::access::{self, Action};
use crate::domain::kiosks::{self, Heartbeat, KioskView};
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

/// Records a tablet's heartbeat.
#[utoipa::path(post, path = "/api/v1/kiosks/heartbeat", tag = "kiosks", request_body = Heartbeat, security(("bearer" = [])),
    responses((status = 204, description = "Recorded"), (status = 403, description = "Not a kiosk key", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn heartbeat(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: crate::extract::Json<Heartbeat>,
) -> Result<HttpResponse, AppError> {
    access::role(&caller, Action::ReportDevice)?;
    let beat = body.into_inner();
    beat.validate()?;
    let now = state.clock.now();
    state
        .db
        .write(move |conn| kiosks::record(conn, &caller, &beat, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Query of the list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KiosksQuery {
    /// The unit whose tablets to list (those of kiosk keys at, above or below it).
    unit: String,
}

/// Lists a unit's tablets, late ones first.
#[utoipa::path(get, path = "/api/v1/kiosks", tag = "kiosks", params(KiosksQuery), security(("bearer" = [])),
    responses((status = 200, description = "The unit's tablets: state (online, late, offline, retired), backlog, last heartbeat", body = [KioskView]),
        (status = 403, description = "Not an admin or a viewer of the unit", body = ErrorBody), (status = 404, description = "Unknown unit", body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    query: crate::extract::Query<KiosksQuery>,
) -> Result<HttpResponse, AppError> {
    let given = query.into_inner().unit;
    let now = state.clock.now();
    let tablets = state
        .db
        .read(move |conn| {
            let unit = access::unit(conn, &caller, Action::ReadUnit, &given)?;
            let mut tablets = kiosks::list(conn, &unit, now)?;
            // Offered "retire" only where the caller may revoke the tablet's key.
            let manages = access::role(&caller, Action::Manage).is_ok();
            let all = crate::db::queries::list_units(conn)?;
            let index = access::UnitIndex::of(&all);
            for t in &mut tablets {
                t.retirable = manages
                    && t.state != kiosks::KioskState::Retired
                    && access::holds_key(&caller, &index, crate::auth::Role::Kiosk, &t.key_units);
            }
            Ok(tablets)
        })
        .await?;
    Ok(HttpResponse::Ok().json(tablets))
}
