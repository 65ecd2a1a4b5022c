//! Administration endpoints: units, services, API keys and populations.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::principal;
use crate::auth::{self, NewKey, Role};
use crate::db::DbConn;
use crate::db::queries::{self, Population, Service, Unit};
use crate::error::{AppError, ErrorBody};
use crate::period::{Period, parse_timezone};
use crate::state::AppState;

/// Checks a unit or service code: 1 to 64 letters, digits, '.', '_' or '-'.
pub fn check_code(field: &str, code: &str) -> Result<(), AppError> {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::field(
            field,
            "must be 1 to 64 letters, digits, '.', '_' or '-'",
        ))
    }
}

fn check_name(field: &str, name: &str) -> Result<(), AppError> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(AppError::field(field, "must be 1 to 200 characters"));
    }
    Ok(())
}

fn check_timezone(tz: &str) -> Result<(), AppError> {
    parse_timezone(tz).map(|_| ()).ok_or_else(|| {
        AppError::field(
            "timezone",
            format!("`{tz}` is not an IANA time zone such as Asia/Jakarta"),
        )
    })
}

/// Body of `POST /units`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnitRequest {
    /// Stable code.
    pub code: String,
    /// Name.
    pub name: String,
    /// IANA time zone.
    pub timezone: String,
    /// Parent unit code.
    #[serde(default)]
    pub parent: Option<String>,
    /// Allow an open survey link.
    #[serde(default)]
    pub open_link: bool,
    /// Publish its results (a public page and an embeddable badge).
    #[serde(default)]
    pub public_results: bool,
}

/// Creates a unit (shared by the API and the command line).
pub fn create_unit_in(
    conn: &mut crate::db::DbConn,
    body: &CreateUnitRequest,
    now: chrono::NaiveDateTime,
) -> Result<Unit, AppError> {
    check_code("code", &body.code)?;
    check_name("name", &body.name)?;
    check_timezone(&body.timezone)?;
    // Unit codes are lower case: `DUKCAPIL` and `dukcapil` are one unit.
    let code = body.code.to_ascii_lowercase();
    let parent = match &body.parent {
        Some(parent) => Some(
            queries::find_unit(conn, parent)?
                .ok_or_else(|| AppError::field("parent", format!("unknown unit `{parent}`")))?
                .code,
        ),
        None => None,
    };
    if queries::find_unit(conn, &code)?.is_some() {
        return Err(AppError::conflict(
            "unit_exists",
            format!("unit `{code}` already exists"),
        ));
    }
    let unit = Unit {
        code,
        name: body.name.trim().to_owned(),
        timezone: body.timezone.clone(),
        parent_code: parent,
        open_link: body.open_link,
        active: true,
        created_at: now,
        public_results: body.public_results,
    };
    queries::insert_unit(conn, &unit)?;
    Ok(unit)
}

#[utoipa::path(post, path = "/api/v1/units", tag = "units", request_body = CreateUnitRequest, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = Unit), (status = 409, description = "The code is taken", body = ErrorBody), (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn create_unit(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<CreateUnitRequest>,
) -> Result<HttpResponse, AppError> {
    principal(&state, &req).await?.require_admin()?;
    let now = state.clock.now();
    let unit = state
        .db
        .write(move |conn| crate::db::write_tx(conn, |conn| create_unit_in(conn, &body, now)))
        .await?;
    Ok(HttpResponse::Created().json(unit))
}

#[utoipa::path(get, path = "/api/v1/units", tag = "units", security(("bearer" = [])),
    responses((status = 200, description = "Units the key can see", body = [Unit])))]
pub async fn list_units(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let caller = principal(&state, &req).await?;
    let all = state.db.read(queries::list_units).await?;
    let visible: Vec<&Unit> = all
        .iter()
        .filter(|u| caller.role == Role::Admin || caller.covers(&all, &u.code))
        .collect();
    Ok(HttpResponse::Ok().json(visible))
}

/// Body of `PATCH /units/{unit}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUnitRequest {
    /// New name.
    pub name: Option<String>,
    /// New IANA time zone: the unit's responses are counted again on their new local days.
    pub timezone: Option<String>,
    /// New parent; `null` makes it a top unit.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub parent: Option<Option<String>>,
    /// Allow an open survey link.
    pub open_link: Option<bool>,
    /// Whether the unit takes responses.
    pub active: Option<bool>,
    /// Publish its results.
    pub public_results: Option<bool>,
}

/// Changes a unit (shared by the API and the command line), in one transaction: a new time
/// zone recounts its tallies; a new parent is checked against cycles under the tree lock.
pub fn update_unit_in(
    conn: &mut crate::db::DbConn,
    registry: &crate::instrument::Registry,
    code: &str,
    body: UpdateUnitRequest,
) -> Result<Unit, AppError> {
    crate::db::write_tx(conn, |conn| {
        if body.parent.is_some() {
            queries::lock_tree(conn)?;
        }
        let mut unit = queries::find_unit(conn, code)?
            .ok_or_else(|| AppError::not_found(format!("unknown unit `{code}`")))?;
        if let Some(name) = body.name {
            check_name("name", &name)?;
            unit.name = name.trim().to_owned();
        }
        let mut moved = false;
        if let Some(tz) = body.timezone {
            check_timezone(&tz)?;
            moved = tz != unit.timezone;
            unit.timezone = tz;
        }
        if let Some(parent) = body.parent {
            let parent = match parent {
                None => None,
                Some(p) => {
                    let all = queries::list_units(conn)?;
                    let found = queries::find_unit(conn, &p)?
                        .ok_or_else(|| AppError::field("parent", format!("unknown unit `{p}`")))?;
                    if queries::subtree(&all, &unit.code)
                        .iter()
                        .any(|u| u.code == found.code)
                    {
                        return Err(AppError::field(
                            "parent",
                            "a unit cannot be placed under itself or its own descendant",
                        ));
                    }
                    Some(found.code)
                }
            };
            unit.parent_code = parent;
        }
        if let Some(open) = body.open_link {
            unit.open_link = open;
        }
        if let Some(active) = body.active {
            unit.active = active;
        }
        if let Some(public) = body.public_results {
            unit.public_results = public;
        }
        queries::update_unit(conn, &unit)?;
        if moved {
            // Its responses now fall on other local days: count them again.
            crate::tallies::rebuild_in_tx(conn, registry, Some(&unit.code))?;
        }
        Ok(unit)
    })
}

/// Distinguishes an absent field from an explicit null.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[utoipa::path(patch, path = "/api/v1/units/{unit}", tag = "units", request_body = UpdateUnitRequest, params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = Unit), (status = 404, description = "Unknown unit", body = ErrorBody)))]
pub async fn update_unit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<UpdateUnitRequest>,
) -> Result<HttpResponse, AppError> {
    principal(&state, &req).await?.require_admin()?;
    let code = path.into_inner();
    let body = body.into_inner();
    let registry = state.registry.clone();
    let unit = state
        .db
        .write(move |conn| update_unit_in(conn, &registry, &code, body))
        .await?;
    state.directory.forget();
    Ok(HttpResponse::Ok().json(unit))
}

/// Body of `POST /units/{unit}/services`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceRequest {
    /// Code, unique within the unit.
    pub code: String,
    /// Name.
    pub name: String,
}

/// Creates a service of a unit (shared by the API and the command line).
pub fn create_service_in(
    conn: &mut crate::db::DbConn,
    unit: &str,
    body: &CreateServiceRequest,
    now: chrono::NaiveDateTime,
) -> Result<Service, AppError> {
    check_code("code", &body.code)?;
    check_name("name", &body.name)?;
    let unit = &super::unit_code(conn, unit)?;
    if queries::find_service(conn, unit, &body.code)?.is_some() {
        return Err(AppError::conflict(
            "service_exists",
            format!("service `{}` of unit {unit} already exists", body.code),
        ));
    }
    let service = Service {
        unit_code: unit.to_owned(),
        code: body.code.clone(),
        name: body.name.trim().to_owned(),
        active: true,
        created_at: now,
    };
    queries::insert_service(conn, &service)?;
    Ok(service)
}

#[utoipa::path(post, path = "/api/v1/units/{unit}/services", tag = "units", request_body = CreateServiceRequest, params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 201, description = "Created", body = Service), (status = 409, description = "The code is taken", body = ErrorBody)))]
pub async fn create_service(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<CreateServiceRequest>,
) -> Result<HttpResponse, AppError> {
    principal(&state, &req).await?.require_admin()?;
    let now = state.clock.now();
    let unit = path.into_inner();
    let service = state
        .db
        .write(move |conn| {
            crate::db::write_tx(conn, |conn| create_service_in(conn, &unit, &body, now))
        })
        .await?;
    Ok(HttpResponse::Created().json(service))
}

/// Services are public to any key that covers the unit (kiosks list them for respondents).
#[utoipa::path(get, path = "/api/v1/units/{unit}/services", tag = "units", params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 200, description = "The unit's services", body = [Service])))]
pub async fn list_services(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let caller = principal(&state, &req).await?;
    let unit = path.into_inner();
    let services = state
        .db
        .read(move |conn| {
            let unit = super::unit_code(conn, &unit)?;
            let all = queries::list_units(conn)?;
            if caller.role != Role::Admin && !caller.covers(&all, &unit) {
                return Err(AppError::forbidden(format!(
                    "this key does not cover unit {unit}"
                )));
            }
            queries::list_services(conn, &unit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(services))
}

/// Body of `PATCH /units/{unit}/services/{service}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceRequest {
    name: Option<String>,
    active: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/units/{unit}/services/{service}", tag = "units", request_body = UpdateServiceRequest, params(("unit" = String, Path, description = "Unit code"), ("service" = String, Path, description = "Service code")), security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = Service)))]
pub async fn update_service(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<UpdateServiceRequest>,
) -> Result<HttpResponse, AppError> {
    principal(&state, &req).await?.require_admin()?;
    let (unit, code) = path.into_inner();
    let body = body.into_inner();
    let service = state
        .db
        .write(move |conn| {
            let mut service = queries::find_service(conn, &unit, &code)?.ok_or_else(|| {
                AppError::not_found(format!("unknown service `{code}` of unit {unit}"))
            })?;
            if let Some(name) = body.name {
                check_name("name", &name)?;
                service.name = name.trim().to_owned();
            }
            if let Some(active) = body.active {
                service.active = active;
            }
            queries::update_service(conn, &service)?;
            Ok(service)
        })
        .await?;
    state.directory.forget();
    Ok(HttpResponse::Ok().json(service))
}

/// Body of `POST /keys`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    role: String,
    #[serde(default)]
    units: Vec<String>,
    #[serde(default)]
    name: Option<String>,
}

/// A key as listed: never the secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    /// Public id.
    pub id: String,
    /// Role.
    pub role: String,
    /// Units in scope.
    pub units: Vec<String>,
    /// Holder.
    pub name: String,
    /// Created (UTC, without a zone suffix).
    #[schema(value_type = String)]
    pub created_at: chrono::NaiveDateTime,
    /// Last used (UTC, without a zone suffix).
    #[schema(value_type = Option<String>)]
    pub last_used_at: Option<chrono::NaiveDateTime>,
    /// Revoked (UTC, without a zone suffix).
    #[schema(value_type = Option<String>)]
    pub revoked_at: Option<chrono::NaiveDateTime>,
    /// The secret, present only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// For a new kiosk key: the address that enrols a tablet (open it once on the tablet, or
    /// scan `enrol_qr_svg` with it). The key travels in the URL fragment, which browsers never
    /// send to a server, so it stays out of access logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrol_url: Option<String>,
    /// The QR code of `enrol_url` as SVG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrol_qr_svg: Option<String>,
}

impl KeyView {
    /// The listing view of a stored key.
    pub fn of(key: queries::ApiKey, secret: Option<String>) -> KeyView {
        KeyView {
            id: key.id,
            role: key.role,
            units: serde_json::from_str(&key.units).unwrap_or_default(),
            name: key.name,
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
            secret,
            enrol_url: None,
            enrol_qr_svg: None,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = CreateKeyRequest, security(("bearer" = [])),
    responses((status = 201, description = "Created; `secret` is shown only here", body = KeyView)))]
pub async fn create_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<CreateKeyRequest>,
) -> Result<HttpResponse, AppError> {
    principal(&state, &req).await?.require_admin()?;
    let role: Role = body
        .role
        .parse()
        .map_err(|e: String| AppError::field("role", e))?;
    let new = NewKey {
        role,
        units: body.units.clone(),
        name: body.name.clone().unwrap_or_default(),
    };
    let now = state.clock.now();
    let (row, secret) = state
        .db
        .write(move |conn| auth::create_key(conn, &new, now))
        .await?;
    let mut view = KeyView::of(row, Some(secret.clone()));
    if role == Role::Kiosk {
        let url = crate::pages::kiosk_enrol_url(&state.settings.public_url, &secret);
        view.enrol_qr_svg = Some(crate::tokens::qr(&url).map_err(AppError::internal)?.0);
        view.enrol_url = Some(url);
    }
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", security(("bearer" = [])),
    responses((status = 200, description = "Keys, never their secrets", body = [KeyView])))]
pub async fn list_keys(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    principal(&state, &req).await?.require_admin()?;
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
pub async fn me(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let caller = principal(&state, &req).await?;
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
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    principal(&state, &req).await?.require_admin()?;
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

/// Body of `PUT /units/{unit}/populations/{period}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PopulationRequest {
    population: i64,
}

#[utoipa::path(put, path = "/api/v1/units/{unit}/populations/{period}", tag = "units", request_body = PopulationRequest, params(("unit" = String, Path, description = "Unit code"), ("period" = String, Path, description = "Period, e.g. 2025-Q3")), security(("bearer" = [])),
    responses((status = 200, description = "Set", body = Population)))]
pub async fn set_population(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<PopulationRequest>,
) -> Result<HttpResponse, AppError> {
    principal(&state, &req).await?.require_admin()?;
    let (unit, period) = path.into_inner();
    let (population, now) = (body.population, state.clock.now());
    let row = state
        .db
        .write(move |conn| set_population_in(conn, &unit, &period, population, now))
        .await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Sets the people a unit served in a period, replacing any earlier figure: the period in the
/// contract's syntax, at least 1 person, a known unit. Used by the API, the command line and
/// population files.
pub fn set_population_in(
    conn: &mut DbConn,
    unit: &str,
    period: &str,
    population: i64,
    now: chrono::NaiveDateTime,
) -> Result<Population, AppError> {
    let period: Period = period
        .parse()
        .map_err(|e: crate::period::PeriodError| AppError::field("period", e.to_string()))?;
    if population < 1 {
        return Err(AppError::field("population", "must be at least 1"));
    }
    let unit = &super::unit_code(conn, unit)?;
    let row = Population {
        unit_code: unit.to_owned(),
        period: period.to_string(),
        population,
        updated_at: now,
    };
    queries::set_population(conn, &row)?;
    Ok(row)
}

/// Sets many populations from a CSV file (columns `unit`, `period`, `population`); every
/// good row is set and every bad row named.
#[utoipa::path(post, path = "/api/v1/populations", tag = "units", security(("bearer" = [])),
    request_body(content = String, description = "CSV with columns unit, period, population", content_type = "text/csv"),
    responses((status = 200, description = "How many were set, and every bad row with its line and reason", body = Object),
        (status = 422, description = "Not a readable file", body = ErrorBody)))]
pub async fn import_populations(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    principal(&state, &req).await?.require_admin()?;
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
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let caller = principal(&state, &req).await?;
    let unit = path.into_inner();
    let rows = state
        .db
        .read(move |conn| {
            let unit = super::unit_code(conn, &unit)?;
            let all = queries::list_units(conn)?;
            if caller.role != Role::Admin
                && !(caller.role == Role::Viewer && caller.covers(&all, &unit))
            {
                return Err(AppError::forbidden(format!(
                    "this key cannot read unit {unit}"
                )));
            }
            queries::list_populations(conn, &unit)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}
