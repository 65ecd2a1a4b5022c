//! People and the audit log: administrators (and unit managers, for their units' viewers)
//! add, change, disable and reset people; administrators read and filter the audit log.

use actix_web::{HttpResponse, web};
use validator::Validate;

use super::{Admin, Caller};
use crate::domain::audit::{self, AuditQuery, Entry};
use crate::domain::users::{self, NewUser, UserChange, UserView};
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/users", tag = "people", request_body = NewUser, security(("bearer" = [])),
    responses((status = 201, description = "Added", body = UserView),
        (status = 403, description = "Not an administrator, or a manager adding anyone but a viewer of their units", body = ErrorBody),
        (status = 409, description = "The user name is taken", body = ErrorBody),
        (status = 422, description = "Invalid field (a short or common password, a role, units)", body = ErrorBody)))]
pub async fn add(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: crate::extract::Json<NewUser>,
) -> Result<HttpResponse, AppError> {
    crate::access::role(&caller, crate::access::Action::Manage)?;
    let (body, now) = (body.into_inner(), state.clock.now());
    let user = state
        .db
        .write(move |conn| users::add(conn, &caller, body, now))
        .await?;
    Ok(HttpResponse::Created().json(user))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "people", security(("bearer" = [])),
    responses((status = 200, description = "Every person for an administrator; the people of their units for a manager", body = [UserView])))]
pub async fn list(
    state: web::Data<AppState>,
    Caller(caller): Caller,
) -> Result<HttpResponse, AppError> {
    crate::access::role(&caller, crate::access::Action::Manage)?;
    let people = state
        .db
        .read(move |conn| users::list(conn, &caller))
        .await?;
    Ok(HttpResponse::Ok().json(people))
}

#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "people", request_body = UserChange,
    params(("username" = String, Path, description = "User name")), security(("bearer" = [])),
    responses((status = 200, description = "Changed; disabling or a new password ends the person's sessions", body = UserView),
        (status = 403, description = "A manager changing anyone but a viewer of their units", body = ErrorBody),
        (status = 404, description = "Unknown user", body = ErrorBody)))]
pub async fn change(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<String>,
    body: crate::extract::Json<UserChange>,
) -> Result<HttpResponse, AppError> {
    crate::access::role(&caller, crate::access::Action::Manage)?;
    let (name, body, now) = (path.into_inner(), body.into_inner(), state.clock.now());
    let user = state
        .db
        .write(move |conn| users::change(conn, &caller, &name, body, now))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "people", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, description = "Administrative changes, newest first, without secrets", body = [Entry]),
        (status = 403, description = "Not an administrator", body = ErrorBody)))]
pub async fn audit_log(
    state: web::Data<AppState>,
    _admin: Admin,
    query: crate::extract::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    query.validate()?;
    let entries = state.db.read(move |conn| audit::list(conn, &query)).await?;
    Ok(HttpResponse::Ok().json(entries))
}
