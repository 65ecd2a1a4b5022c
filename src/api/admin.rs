//! Administration endpoints: units, services, API keys and populations.

use actix_web::{HttpResponse, web};

use super::{Admin, Caller, ListsServices, Reads, UnitScope};
use crate::access;
use crate::db::queries::{self, Population, Service, Unit};
use crate::domain::keys::{self, CreateKeyRequest, KeyView};
use crate::domain::populations::{self, PopulationRequest};
use crate::domain::units::{
    self, CreateServiceRequest, CreateUnitRequest, UpdateServiceRequest, UpdateUnitRequest,
};
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/units", tag = "units", request_body = CreateUnitRequest, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = Unit), (status = 409, description = "The code is taken", body = ErrorBody), (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn create_unit(
    state: web::Data<AppState>,
    _admin: Admin,
    body: web::Json<CreateUnitRequest>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let unit = state
        .db
        .write(move |conn| crate::db::write_tx(conn, |conn| units::create_unit(conn, &body, now)))
        .await?;
    Ok(HttpResponse::Created().json(unit))
}

#[utoipa::path(get, path = "/api/v1/units", tag = "units", security(("bearer" = [])),
    responses((status = 200, description = "Units the key can see", body = [Unit])))]
pub async fn list_units(
    state: web::Data<AppState>,
    Caller(caller): Caller,
) -> Result<HttpResponse, AppError> {
    let all = state.db.read(queries::list_units).await?;
    let visible: Vec<&Unit> = all
        .iter()
        .filter(|u| access::sees(&caller, &all, &u.code))
        .collect();
    Ok(HttpResponse::Ok().json(visible))
}

#[utoipa::path(patch, path = "/api/v1/units/{unit}", tag = "units", request_body = UpdateUnitRequest, params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = Unit), (status = 404, description = "Unknown unit", body = ErrorBody)))]
pub async fn update_unit(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<String>,
    body: web::Json<UpdateUnitRequest>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let body = body.into_inner();
    let registry = state.registry.clone();
    let unit = state
        .db
        .write(move |conn| units::update_unit(conn, &registry, &code, body))
        .await?;
    state.directory.forget();
    Ok(HttpResponse::Ok().json(unit))
}

#[utoipa::path(post, path = "/api/v1/units/{unit}/services", tag = "units", request_body = CreateServiceRequest, params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 201, description = "Created", body = Service), (status = 409, description = "The code is taken", body = ErrorBody)))]
pub async fn create_service(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<String>,
    body: web::Json<CreateServiceRequest>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let unit = path.into_inner();
    let service = state
        .db
        .write(move |conn| {
            crate::db::write_tx(conn, |conn| units::create_service(conn, &unit, &body, now))
        })
        .await?;
    Ok(HttpResponse::Created().json(service))
}

/// Services are public to any key that covers the unit (kiosks list them for respondents).
#[utoipa::path(get, path = "/api/v1/units/{unit}/services", tag = "units", params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 200, description = "The unit's services", body = [Service])))]
pub async fn list_services(
    state: web::Data<AppState>,
    scope: UnitScope<ListsServices>,
) -> Result<HttpResponse, AppError> {
    let unit = scope.unit;
    let services = state
        .db
        .read(move |conn| queries::list_services(conn, &unit))
        .await?;
    Ok(HttpResponse::Ok().json(services))
}

#[utoipa::path(patch, path = "/api/v1/units/{unit}/services/{service}", tag = "units", request_body = UpdateServiceRequest, params(("unit" = String, Path, description = "Unit code"), ("service" = String, Path, description = "Service code")), security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = Service)))]
pub async fn update_service(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<(String, String)>,
    body: web::Json<UpdateServiceRequest>,
) -> Result<HttpResponse, AppError> {
    let (unit, code) = path.into_inner();
    let body = body.into_inner();
    let service = state
        .db
        .write(move |conn| units::update_service(conn, &unit, &code, body))
        .await?;
    state.directory.forget();
    Ok(HttpResponse::Ok().json(service))
}

#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = CreateKeyRequest, security(("bearer" = [])),
    responses((status = 201, description = "Created; `secret` is shown only here", body = KeyView)))]
pub async fn create_key(
    state: web::Data<AppState>,
    _admin: Admin,
    body: web::Json<CreateKeyRequest>,
) -> Result<HttpResponse, AppError> {
    let (body, now) = (body.into_inner(), state.clock.now());
    let public_url = state.settings.public_url.clone();
    let view = state
        .db
        .write(move |conn| keys::create_key(conn, body, &public_url, now))
        .await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", security(("bearer" = [])),
    responses((status = 200, description = "Keys, never their secrets", body = [KeyView])))]
pub async fn list_keys(
    state: web::Data<AppState>,
    _admin: Admin,
) -> Result<HttpResponse, AppError> {
    let keys = state.db.read(queries::list_keys).await?;
    Ok(HttpResponse::Ok().json(
        keys.into_iter()
            .map(|k| KeyView::of(k, None))
            .collect::<Vec<_>>(),
    ))
}

/// The key making the request: its role, units and holder, never its secret. The dashboard
/// asks it to offer an administrator what only an administrator may do.
#[utoipa::path(get, path = "/api/v1/me", tag = "keys", security(("bearer" = [])),
    responses((status = 200, description = "The calling key", body = KeyView), (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody)))]
pub async fn me(
    state: web::Data<AppState>,
    Caller(caller): Caller,
) -> Result<HttpResponse, AppError> {
    let key = state
        .db
        .read(move |conn| queries::find_key(conn, &caller.key_id))
        .await?
        .ok_or_else(|| AppError::unauthorized("unknown or revoked key"))?;
    Ok(HttpResponse::Ok().json(KeyView::of(key, None)))
}

#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys", params(("id" = String, Path, description = "Key id")), security(("bearer" = [])),
    responses((status = 204, description = "Revoked"), (status = 404, description = "Unknown key", body = ErrorBody)))]
pub async fn revoke_key(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let id = path.into_inner();
    let found = state
        .db
        .write(move |conn| queries::revoke_key(conn, &id, now))
        .await?;
    state.directory.forget();
    if found {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(AppError::not_found("unknown key"))
    }
}

#[utoipa::path(put, path = "/api/v1/units/{unit}/populations/{period}", tag = "units", request_body = PopulationRequest, params(("unit" = String, Path, description = "Unit code"), ("period" = String, Path, description = "Period, e.g. 2025-Q3")), security(("bearer" = [])),
    responses((status = 200, description = "Set", body = Population)))]
pub async fn set_population(
    state: web::Data<AppState>,
    _admin: Admin,
    path: web::Path<(String, String)>,
    body: web::Json<PopulationRequest>,
) -> Result<HttpResponse, AppError> {
    let (unit, period) = path.into_inner();
    let (body, now) = (body.into_inner(), state.clock.now());
    let row = state
        .db
        .write(move |conn| populations::set_population(conn, &unit, &period, &body, now))
        .await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Sets many populations from a CSV file (columns `unit`, `period`, `population`); every
/// good row is set and every bad row named.
#[utoipa::path(post, path = "/api/v1/populations", tag = "units", security(("bearer" = [])),
    request_body(content = String, description = "CSV with columns unit, period, population", content_type = "text/csv"),
    responses((status = 200, description = "How many were set, and every bad row with its line and reason", body = Object),
        (status = 422, description = "Not a readable file", body = ErrorBody)))]
pub async fn import_populations(
    state: web::Data<AppState>,
    _admin: Admin,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let report = state
        .db
        .write(move |conn| crate::import::populations(conn, &body, now))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[utoipa::path(get, path = "/api/v1/units/{unit}/populations", tag = "units", params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 200, description = "Populations by period", body = [Population]), (status = 404, description = "Unknown unit", body = ErrorBody)))]
pub async fn list_populations(
    state: web::Data<AppState>,
    scope: UnitScope<Reads>,
) -> Result<HttpResponse, AppError> {
    let unit = scope.unit;
    let rows = state
        .db
        .read(move |conn| queries::list_populations(conn, &unit))
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}
