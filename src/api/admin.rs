//! Administration endpoints: units, services, API keys and populations. Admins change
//! anything; a unit's manager runs their units (see `access.rs`). Every change is written to
//! the audit log in its own transaction.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::{Admin, Caller, ListsServices, Manages, Reads, UnitScope};
use crate::access::{self, Action};
use crate::auth::{Principal, Role};
use crate::db::DbConn;
use crate::db::queries::{self, Population, Service, Unit};
use crate::domain::audit::{self, What};
use crate::domain::keys::{self, CreateKeyRequest, KeyView};
use crate::domain::logos;
use crate::domain::ombudsman::{self, Assessment, AssessmentRequest};
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
    Admin(caller): Admin,
    body: crate::extract::Json<CreateUnitRequest>,
) -> Result<HttpResponse, AppError> {
    let target = body.code.to_ascii_lowercase();
    let unit = audited(
        &state,
        caller,
        Audit::unit("unit.create", &target),
        none,
        move |conn, now| units::create_unit(conn, &body, now),
    )
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
    let index = access::UnitIndex::of(&all);
    let visible: Vec<&Unit> = all
        .iter()
        .filter(|u| access::sees(&caller, &index, &u.code))
        .collect();
    Ok(HttpResponse::Ok().json(visible))
}

#[utoipa::path(patch, path = "/api/v1/units/{unit}", tag = "units", request_body = UpdateUnitRequest, params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = Unit), (status = 404, description = "Unknown unit", body = ErrorBody)))]
pub async fn update_unit(
    state: web::Data<AppState>,
    scope: UnitScope<Manages>,
    body: crate::extract::Json<UpdateUnitRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let structural = body.structural_fields();
    if scope.caller.role != Role::Admin && !structural.is_empty() {
        return Err(AppError::forbidden(format!(
            "only an administrator may change {}; a unit's manager changes its name, address, city and head",
            structural.join(", ")
        )));
    }
    let registry = state.registry.clone();
    let code = scope.unit.clone();
    let before = code.clone();
    let unit = audited(
        &state,
        scope.caller,
        Audit::unit("unit.update", &scope.unit),
        move |conn| queries::find_unit(conn, &before),
        move |conn, _| units::update_unit(conn, &registry, &code, body),
    )
    .await?;
    state.directory.forget();
    Ok(HttpResponse::Ok().json(unit))
}

#[utoipa::path(post, path = "/api/v1/units/{unit}/services", tag = "units", request_body = CreateServiceRequest, params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 201, description = "Created", body = Service), (status = 409, description = "The code is taken", body = ErrorBody)))]
pub async fn create_service(
    state: web::Data<AppState>,
    scope: UnitScope<Manages>,
    body: crate::extract::Json<CreateServiceRequest>,
) -> Result<HttpResponse, AppError> {
    let unit = scope.unit.clone();
    let target = format!("{}/{}", scope.unit, body.code.to_ascii_lowercase());
    let service = audited(
        &state,
        scope.caller,
        Audit::of("service.create", target, &unit),
        none,
        move |conn, now| units::create_service(conn, &unit, &body, now),
    )
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
    unit_list(&state, scope.unit, queries::list_services).await
}

/// Answers with what `read` lists of a unit.
async fn unit_list<T: Serialize + Send + 'static>(
    state: &AppState,
    unit: String,
    read: fn(&mut DbConn, &str) -> Result<Vec<T>, AppError>,
) -> Result<HttpResponse, AppError> {
    let rows = state.db.read(move |conn| read(conn, &unit)).await?;
    Ok(HttpResponse::Ok().json(rows))
}

#[utoipa::path(patch, path = "/api/v1/units/{unit}/services/{service}", tag = "units", request_body = UpdateServiceRequest, params(("unit" = String, Path, description = "Unit code"), ("service" = String, Path, description = "Service code")), security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = Service)))]
pub async fn update_service(
    state: web::Data<AppState>,
    scope: UnitScope<Manages>,
    path: web::Path<(String, String)>,
    body: crate::extract::Json<UpdateServiceRequest>,
) -> Result<HttpResponse, AppError> {
    let (_, code) = path.into_inner();
    let body = body.into_inner();
    let unit = scope.unit.clone();
    let (unit_before, code_before) = (unit.clone(), code.clone());
    let target = format!("{unit}/{code}");
    let service = audited(
        &state,
        scope.caller,
        Audit::of("service.update", target, &scope.unit),
        move |conn| queries::find_service(conn, &unit_before, &code_before),
        move |conn, _| units::update_service(conn, &unit, &code, body),
    )
    .await?;
    state.directory.forget();
    Ok(HttpResponse::Ok().json(service))
}

#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = CreateKeyRequest, security(("bearer" = [])),
    responses((status = 201, description = "Created; `secret` is shown only here", body = KeyView),
        (status = 403, description = "A manager asking for a key that is not a kiosk or counter key of their units", body = ErrorBody),
        (status = 409, description = "A kiosk key while KEPUASAN_PUBLIC_URL is not set and the request came to a loopback address", body = ErrorBody)))]
pub async fn create_key(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: actix_web::HttpRequest,
    body: crate::extract::Json<CreateKeyRequest>,
) -> Result<HttpResponse, AppError> {
    access::role(&caller, Action::Manage)?;
    let (body, now) = (body.into_inner(), state.clock.now());
    // A kiosk key comes with the address that enrols a tablet: one a tablet can open.
    let public_url = if body.role == "kiosk" {
        crate::extract::printed_base(&req, &state.settings)?
    } else {
        state.settings.public_url.clone()
    };
    let view = state
        .db
        .write(move |conn| {
            crate::db::write_tx(conn, |conn| {
                if caller.role != Role::Admin {
                    if !matches!(body.role.as_str(), "kiosk" | "counter") {
                        return Err(AppError::forbidden(
                            "a unit's manager makes kiosk and counter keys only",
                        ));
                    }
                    for unit in &body.units {
                        access::unit(conn, &caller, Action::Manage, unit)?;
                    }
                }
                keys::create_key(conn, &caller, body, &public_url, now)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Whether `caller` may see and revoke `key` ([`access::holds_key`]).
fn holds(caller: &Principal, index: &access::UnitIndex, key: &queries::ApiKey) -> bool {
    let units: Vec<String> = serde_json::from_str(&key.units).unwrap_or_default();
    // A stored role that does not read is held by no one but an admin.
    let role = key.role.parse().unwrap_or(Role::Admin);
    access::holds_key(caller, index, role, &units)
}

#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", security(("bearer" = [])),
    responses((status = 200, description = "Keys, never their secrets: every key for an admin, the keys of their units for a manager", body = [KeyView])))]
pub async fn list_keys(
    state: web::Data<AppState>,
    Caller(caller): Caller,
) -> Result<HttpResponse, AppError> {
    access::role(&caller, Action::Manage)?;
    let (keys, all) = state
        .db
        .read(|conn| Ok((queries::list_keys(conn)?, queries::list_units(conn)?)))
        .await?;
    let index = access::UnitIndex::of(&all);
    Ok(HttpResponse::Ok().json(
        keys.into_iter()
            .filter(|k| holds(&caller, &index, k))
            .map(|k| KeyView::of(k, None))
            .collect::<Vec<_>>(),
    ))
}

/// Who is calling: for a key its role, units and holder, never its secret; for a signed-in
/// person their name, role, units and CSRF token. The dashboard asks it to offer what only an
/// administrator or a manager may do.
#[utoipa::path(get, path = "/api/v1/me", tag = "keys", security(("bearer" = [])),
    responses((status = 200, description = "The calling key (KeyView) or person (SessionView)", body = KeyView), (status = 401, description = "No key or session, or an unknown or revoked key", body = ErrorBody)))]
pub async fn me(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    Caller(caller): Caller,
) -> Result<HttpResponse, AppError> {
    if let crate::auth::Origin::Session { .. } = caller.origin {
        return super::sessions::current(state, req).await;
    }
    let key = state
        .db
        .read(move |conn| queries::find_key(conn, &caller.key_id))
        .await?
        .ok_or_else(|| AppError::unauthorized("unknown or revoked key"))?;
    Ok(HttpResponse::Ok().json(KeyView::of(key, None)))
}

#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys", params(("id" = String, Path, description = "Key id")), security(("bearer" = [])),
    responses((status = 204, description = "Revoked"), (status = 403, description = "A key of another unit, for a manager", body = ErrorBody), (status = 404, description = "Unknown key", body = ErrorBody)))]
pub async fn revoke_key(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    access::role(&caller, Action::Manage)?;
    let now = state.clock.now();
    let id = path.into_inner();
    state
        .db
        .write(move |conn| {
            keys::revoke_key(conn, &caller, &id, now, |conn, key| {
                let all = queries::list_units(conn)?;
                if holds(&caller, &access::UnitIndex::of(&all), key) {
                    Ok(())
                } else {
                    Err(AppError::forbidden(format!(
                        "this {} {} cannot revoke a key of units it does not manage",
                        caller.role,
                        caller.kind()
                    )))
                }
            })
        })
        .await?;
    state.directory.forget();
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(put, path = "/api/v1/units/{unit}/populations/{period}", tag = "units", request_body = PopulationRequest, params(("unit" = String, Path, description = "Unit code"), ("period" = String, Path, description = "Period, e.g. 2025-Q3")), security(("bearer" = [])),
    responses((status = 200, description = "Set", body = Population)))]
pub async fn set_population(
    state: web::Data<AppState>,
    scope: UnitScope<Manages>,
    path: web::Path<(String, String)>,
    body: crate::extract::Json<PopulationRequest>,
) -> Result<HttpResponse, AppError> {
    let (_, period) = path.into_inner();
    let body = body.into_inner();
    let unit = scope.unit.clone();
    let (unit_before, period_before) = (unit.clone(), period.clone());
    let target = format!("{unit}/{period}");
    let row = audited(
        &state,
        scope.caller,
        Audit::of("population.set", target, &unit),
        move |conn| queries::find_population(conn, &unit_before, &period_before),
        move |conn, now| populations::set_population(conn, &unit, &period, &body, now),
    )
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
    Caller(caller): Caller,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    access::role(&caller, Action::Manage)?;
    let who = caller.clone();
    let report = audited(
        &state,
        caller,
        Audit::of("populations.import", "file".to_owned(), ""),
        none,
        move |conn, now| crate::import::populations(conn, &who, &body, now),
    )
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[utoipa::path(get, path = "/api/v1/units/{unit}/populations", tag = "units", params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 200, description = "Populations by period", body = [Population]), (status = 404, description = "Unknown unit", body = ErrorBody)))]
pub async fn list_populations(
    state: web::Data<AppState>,
    scope: UnitScope<Reads>,
) -> Result<HttpResponse, AppError> {
    unit_list(&state, scope.unit, queries::list_populations).await
}

/// An audited change's description, owned so it can travel to the database thread.
pub(crate) struct Audit {
    action: &'static str,
    target: String,
    unit: Option<String>,
}

impl Audit {
    /// A change to a unit itself.
    pub(crate) fn unit(action: &'static str, unit: &str) -> Audit {
        Audit::of(action, unit.to_owned(), unit)
    }

    /// A change to `target`, which belongs to `unit` (none when empty).
    pub(crate) fn of(action: &'static str, target: String, unit: &str) -> Audit {
        Audit {
            action,
            target,
            unit: (!unit.is_empty()).then(|| unit.to_owned()),
        }
    }
}

/// Nothing before: a creation.
pub(crate) fn none(_: &mut DbConn) -> Result<Option<()>, AppError> {
    Ok(None)
}

/// Makes a change on the write connection and records it in the audit log, in one
/// transaction; `before` reads the record as it was.
pub(crate) async fn audited<B, T>(
    state: &AppState,
    caller: Principal,
    audit: Audit,
    before: impl FnOnce(&mut DbConn) -> Result<Option<B>, AppError> + Send + 'static,
    change: impl FnOnce(&mut DbConn, chrono::NaiveDateTime) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError>
where
    B: Serialize + Send + 'static,
    T: Serialize + Send + 'static,
{
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            let what = What {
                action: audit.action,
                target: &audit.target,
                unit: audit.unit.as_deref(),
            };
            audit::change(conn, &caller, what, now, before, |conn| change(conn, now))
        })
        .await
}

#[utoipa::path(put, path = "/api/v1/units/{unit}/logo", tag = "units", params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    request_body(content = Vec<u8>, description = "The logo for the unit's reports: PNG or SVG, at most 512 KiB", content_type = "image/png"),
    responses((status = 204, description = "Set"), (status = 413, description = "Larger than 512 KiB", body = ErrorBody),
        (status = 415, description = "Neither image/png nor image/svg+xml", body = ErrorBody), (status = 422, description = "Not a readable image", body = ErrorBody)))]
pub async fn put_logo(
    state: web::Data<AppState>,
    scope: UnitScope<Manages>,
    req: actix_web::HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    // Read one byte past the limit, so that a logo over it is named as such.
    let body = match body.to_bytes_limited(logos::MAX_LOGO + 1).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return Err(logos::Logo::too_large()),
        Err(e) => return Err(AppError::new(crate::error::Kind::BadBody, e.to_string())),
    };
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    // Checking decodes the picture: off the request workers, in a turn for heavy work, and
    // within a time budget (the size limits bound its memory).
    let turn = state.heavy_turn().await?;
    let checking = web::block(move || {
        let _turn = turn;
        logos::Logo::check(&content_type, body.to_vec())
    });
    let logo = tokio::time::timeout(logos::CHECK_TIME, checking)
        .await
        .map_err(|_| {
            AppError::field(
                "logo",
                "the picture takes too long to read; simplify it or send a PNG",
            )
        })?
        .map_err(AppError::internal)??;
    let (unit, now) = (scope.unit.clone(), state.clock.now());
    state
        .db
        .write(move |conn| {
            crate::db::write_tx(conn, |conn| {
                let was = units::set_logo(conn, &unit, &logo, now)?;
                let what = What {
                    action: "unit.logo",
                    target: &unit,
                    unit: Some(&unit),
                };
                audit::record(
                    conn,
                    &scope.caller,
                    what,
                    was.as_ref().map(|w| w as _),
                    Some(&logo),
                    now,
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/units/{unit}/logo", tag = "units", params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 200, description = "The logo (image/png or image/svg+xml)"), (status = 404, description = "Unknown unit, or no logo", body = ErrorBody)))]
pub async fn get_logo(
    state: web::Data<AppState>,
    scope: UnitScope<Reads>,
) -> Result<HttpResponse, AppError> {
    let unit = scope.unit;
    let (content_type, bytes) = state
        .db
        .read(move |conn| units::logo_of(conn, &unit))
        .await?
        .ok_or_else(|| AppError::not_found("this unit has no logo"))?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        // An SVG is shown as an image, never run as a document with scripts.
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .body(bytes))
}

/// Records a unit's Ombudsman assessment for a year, as the Ombudsman published it (or
/// corrects it). Reports, the dashboard and the public page show it beside the IKM.
#[utoipa::path(put, path = "/api/v1/units/{unit}/ombudsman/{year}", tag = "units", request_body = AssessmentRequest,
    params(("unit" = String, Path, description = "Unit code"), ("year" = i32, Path, description = "The year assessed")), security(("bearer" = [])),
    responses((status = 200, description = "Recorded", body = Assessment), (status = 403, description = "Not an administrator or the unit's manager", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn put_ombudsman(
    state: web::Data<AppState>,
    scope: UnitScope<Manages>,
    path: web::Path<(String, String)>,
    body: crate::extract::Json<AssessmentRequest>,
) -> Result<HttpResponse, AppError> {
    use validator::Validate;
    let (_, year) = path.into_inner();
    let year: i32 = year
        .parse()
        .map_err(|_| AppError::field("year", "must be a year such as 2025"))?;
    let body = body.into_inner();
    body.validate()?;
    let unit = scope.unit.clone();
    let actor = scope.caller.actor();
    let (before_unit, target) = (unit.clone(), format!("{unit}/{year}"));
    let assessment = audited(
        &state,
        scope.caller,
        Audit::of("ombudsman.record", target, &unit),
        move |conn| {
            Ok(ombudsman::list(conn, &before_unit)?
                .into_iter()
                .find(|a| a.year == year))
        },
        move |conn, now| ombudsman::record(conn, &unit, year, &body, &actor, now),
    )
    .await?;
    Ok(HttpResponse::Ok().json(assessment))
}

/// A unit's Ombudsman assessments, newest year first.
#[utoipa::path(get, path = "/api/v1/units/{unit}/ombudsman", tag = "units", params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 200, description = "Assessments", body = [Assessment]), (status = 403, description = "Outside the caller's units", body = ErrorBody)))]
pub async fn list_ombudsman(
    state: web::Data<AppState>,
    scope: UnitScope<Reads>,
) -> Result<HttpResponse, AppError> {
    unit_list(&state, scope.unit, ombudsman::list).await
}
