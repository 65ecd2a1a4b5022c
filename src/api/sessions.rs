//! Signing in and out: `POST /sessions` checks a user name and password and sets the session
//! cookie; `GET /sessions/current` says who is signed in (and the CSRF token again, for a
//! page that was reloaded); `DELETE /sessions/current` signs out.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, web};
use validator::Validate;

use super::{Caller, session_secret};
use crate::auth::Origin;
use crate::domain::sessions::{self, SessionView, SignIn};
use crate::domain::{twostep, users};
use crate::error::{AppError, ErrorBody, Kind};
use crate::state::AppState;

/// The one answer to a wrong name or password, whichever it was.
const WRONG: &str = "the user name or password is wrong";

/// The session cookie with its attributes; `secret` empty and `max_age` zero remove it.
fn cookie(state: &AppState, secret: &str, max_age: chrono::TimeDelta) -> Cookie<'static> {
    Cookie::build(sessions::COOKIE, secret.to_owned())
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(state.settings.public_url.starts_with("https://"))
        .max_age(actix_web::cookie::time::Duration::seconds(
            max_age.num_seconds(),
        ))
        .finish()
}

#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = SignIn,
    responses((status = 201, description = "Signed in; the `kepuasan_session` cookie is set (HttpOnly, SameSite=Strict)", body = SessionView),
        (status = 401, description = "Wrong user name or password (one answer for both), or `totp_required`: the right password, the two-step code missing or wrong", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody),
        (status = 429, description = "Five failures for this name or address within 15 minutes; retry after Retry-After", body = ErrorBody)))]
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<SignIn>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    body.validate()?;
    let now = state.clock.now();
    let address =
        super::responses::client_address(&req, state.settings.trust_proxy).unwrap_or_default();
    let address_hash = state.secrets.address_hash(&address, now.date());
    let (name, hash) = (body.username.clone(), address_hash.clone());
    if let Some(seconds) = state
        .db
        .read(move |conn| sessions::wait(conn, &name, &hash, now))
        .await?
    {
        return Err(AppError::rate_limited(
            "too many failed sign-ins for this name or from this address; wait and try again",
            seconds,
        ));
    }
    let (name, password) = (body.username.clone(), body.password);
    let user = state
        .db
        .read(move |conn| users::verify(conn, &name, &password))
        .await?;
    let db = state.db.clone();
    let failed = |name: String, hash: String| async move {
        db.write(move |conn| sessions::record_failure(conn, &name, &hash, now))
            .await
    };
    let Some(user) = user else {
        failed(body.username, address_hash).await?;
        return Err(AppError::unauthorized(WRONG));
    };
    if user.totp {
        // The password was right; the code must be too, and each code counts once.
        let Some(code) = body.totp else {
            return Err(AppError::new(
                Kind::TotpRequired,
                "two-step sign-in is on: send the six-digit code of the authenticator app as `totp`",
            ));
        };
        let name = user.username.clone();
        let right = state
            .db
            .write(move |conn| {
                let mut stored = crate::db::queries::find_user(conn, &name)?
                    .ok_or_else(|| AppError::unauthorized(WRONG))?;
                twostep::accept(conn, &mut stored, &code, now)
            })
            .await?;
        if !right {
            failed(body.username, address_hash).await?;
            return Err(AppError::new(
                Kind::TotpRequired,
                "the code is wrong or already used; type the newest one",
            ));
        }
    }
    let require = state.settings.require_totp;
    let (secret, view) = state
        .db
        .write(move |conn| sessions::start(conn, &user, require, now))
        .await?;
    Ok(HttpResponse::Created()
        .cookie(cookie(&state, &secret, sessions::ABSOLUTE))
        .json(view))
}

#[utoipa::path(get, path = "/api/v1/sessions/current", tag = "sessions",
    responses((status = 200, description = "The signed-in person and their CSRF token", body = SessionView),
        (status = 401, description = "No live session", body = ErrorBody)))]
pub async fn current(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let secret = session_secret(&req).ok_or_else(|| AppError::unauthorized("not signed in"))?;
    let now = state.clock.now();
    let require = state.settings.require_totp;
    let view = state
        .db
        .read(move |conn| Ok(sessions::find(conn, &secret, now)?.map(|f| f.view(&secret, require))))
        .await?
        .ok_or_else(|| AppError::unauthorized("the session has ended; sign in again"))?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "sessions",
    responses((status = 204, description = "Signed out; the cookie is removed"),
        (status = 401, description = "No live session (a key has none)", body = ErrorBody),
        (status = 403, description = "Without the session's X-CSRF-Token", body = ErrorBody)))]
pub async fn sign_out(
    state: web::Data<AppState>,
    Caller(caller): Caller,
) -> Result<HttpResponse, AppError> {
    let Origin::Session { id_hash, .. } = caller.origin else {
        return Err(AppError::unauthorized(
            "not signed in: a key has no session to end (revoke the key instead)",
        ));
    };
    let now = state.clock.now();
    state
        .db
        .write(move |conn| sessions::end(conn, &id_hash, now))
        .await?;
    Ok(HttpResponse::NoContent()
        .cookie(cookie(&state, "", chrono::TimeDelta::zero()))
        .finish())
}

/// The signed-in person's user name; 401 for a key, which has no session.
fn person(caller: &crate::auth::Principal) -> Result<String, AppError> {
    match &caller.origin {
        Origin::Session { username, .. } => Ok(username.clone()),
        _ => Err(AppError::unauthorized(
            "not signed in: two-step sign-in belongs to a person's session",
        )),
    }
}

#[utoipa::path(post, path = "/api/v1/sessions/current/totp", tag = "sessions",
    responses((status = 201, description = "A new secret for the person's authenticator app, shown once; it counts once confirmed", body = twostep::Enrolment),
        (status = 401, description = "No live session", body = ErrorBody),
        (status = 409, description = "Two-step sign-in is already on", body = ErrorBody)))]
pub async fn begin_totp(
    state: web::Data<AppState>,
    Caller(caller): Caller,
) -> Result<HttpResponse, AppError> {
    let name = person(&caller)?;
    let enrolment = state
        .db
        .write(move |conn| twostep::begin(conn, &name))
        .await?;
    Ok(HttpResponse::Created().json(enrolment))
}

#[utoipa::path(put, path = "/api/v1/sessions/current/totp", tag = "sessions", request_body = twostep::Confirm,
    responses((status = 200, description = "Two-step sign-in is on from now", body = users::UserView),
        (status = 401, description = "No live session", body = ErrorBody),
        (status = 422, description = "A wrong or used code", body = ErrorBody)))]
pub async fn confirm_totp(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: web::Json<twostep::Confirm>,
) -> Result<HttpResponse, AppError> {
    let name = person(&caller)?;
    let body = body.into_inner();
    body.validate()?;
    let now = state.clock.now();
    let user = state
        .db
        .write(move |conn| twostep::confirm(conn, &caller, &name, &body.code, now))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}
