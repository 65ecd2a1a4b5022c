//! Signing in and out: `POST /sessions` checks a user name and password and sets the session
//! cookie; `GET /sessions/current` says who is signed in (and the CSRF token again, for a
//! page that was reloaded); `DELETE /sessions/current` signs out.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, web};
use validator::Validate;

use super::{Caller, session_secret};
use crate::auth::Origin;
use crate::domain::sessions::{self, SessionView, SignIn};
use crate::domain::{passwords, twostep, users};
use crate::error::{AppError, ErrorBody, Kind};
use crate::state::AppState;

/// The one answer to a wrong name or password, whichever it was.
const WRONG: &str = "the user name or password is wrong";

/// A cookie of ours: HttpOnly, SameSite=Strict, Secure behind https, for `path`.
fn strict_cookie(
    state: &AppState,
    (name, value): (&'static str, String),
    path: &'static str,
    max_age: chrono::TimeDelta,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path(path)
        .secure(state.settings.public_url.starts_with("https://"))
        .max_age(actix_web::cookie::time::Duration::seconds(
            max_age.num_seconds(),
        ))
        .finish()
}

/// The session cookie; `secret` empty and `max_age` zero remove it.
fn cookie(state: &AppState, secret: &str, max_age: chrono::TimeDelta) -> Cookie<'static> {
    strict_cookie(state, (sessions::COOKIE, secret.to_owned()), "/", max_age)
}

/// The device cookie: set at each sign-in for the browser it came from, sent back only to
/// sign-in, so that this browser's failed tries are counted apart from unknown browsers'.
fn device_cookie(state: &AppState, username: &str) -> Cookie<'static> {
    strict_cookie(
        state,
        (
            sessions::DEVICE_COOKIE,
            state.secrets.device_cookie(username),
        ),
        "/api/v1/sessions",
        chrono::TimeDelta::days(sessions::DEVICE_DAYS),
    )
}

#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = SignIn,
    responses((status = 201, description = "Signed in; the `kepuasan_session` cookie is set (HttpOnly, SameSite=Strict), and the `kepuasan_device` cookie that lets this browser sign in while unknown browsers wait", body = SessionView),
        (status = 401, description = "Wrong user name or password (one answer for both), or `totp_required`: the right password, the two-step code missing or wrong", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody),
        (status = 429, description = "Five failures within 15 minutes for this browser (one that signed in as this person before), or for this name or address from unknown browsers; retry after Retry-After", body = ErrorBody),
        (status = 503, description = "Too many sign-ins are being checked at once; retry after Retry-After", body = ErrorBody)))]
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: crate::extract::Json<SignIn>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    body.validate()?;
    let now = state.clock.now();
    let address =
        crate::extract::client_address(&req, &state.settings.trust_proxy).unwrap_or_default();
    let attempt = sessions::Attempt {
        username: body.username.clone(),
        address_hash: state.secrets.address_hash(&address, now.date()),
        device_hash: req
            .cookie(sessions::DEVICE_COOKIE)
            .and_then(|c| state.secrets.device_of(c.value(), &body.username)),
    };
    // A flood past what the password threads can take is refused before it costs a write.
    if !state.passwords.has_room() {
        return Err(passwords::Checker::busy());
    }
    // The try is counted as a failure before the password is checked, and the person's hash
    // read with it; the connection is given back before hashing.
    let (taken, name) = (attempt.clone(), body.username.clone());
    let (reserved, stored) = state
        .db
        .write(move |conn| {
            let reserved = sessions::reserve(conn, &taken, now)?;
            let stored = match reserved {
                Ok(_) => users::stored(conn, &name)?,
                Err(_) => None,
            };
            Ok((reserved, stored))
        })
        .await?;
    let failure = reserved.map_err(|seconds| {
        AppError::rate_limited(
            "too many failed sign-ins for this name or from this address; wait and try again",
            seconds,
        )
    })?;
    let db = state.db.clone();
    let forgive = |failure: String| async move {
        db.write(move |conn| sessions::forgive(conn, &failure))
            .await
    };
    // The password, and the two-step code when one came, are checked on the password threads.
    let (person, password, code) = (stored.clone(), body.password, body.totp.clone());
    let checked = state
        .passwords
        .run(move || {
            let hash = person.as_ref().map(|u| u.password_hash.as_str());
            let right = passwords::matches(hash, &password)?;
            let step = match (&person, &code) {
                (Some(u), Some(code)) if right => twostep::matching_step(u, code, now)?,
                _ => None,
            };
            Ok::<_, AppError>((right, step))
        })
        .await;
    let (right, step) = match checked {
        Ok(checked) => checked?,
        Err(busy) => {
            // Not checked: not a failure either.
            forgive(failure).await?;
            return Err(busy);
        }
    };
    let Some(user) = users::admitted(stored, right) else {
        return Err(AppError::unauthorized(WRONG));
    };
    if user.totp {
        // The password was right; the code must be too, and each code counts once.
        if body.totp.is_none() {
            forgive(failure).await?;
            return Err(AppError::new(
                Kind::TotpRequired,
                "two-step sign-in is on: send the six-digit code of the authenticator app as `totp`",
            ));
        }
        let name = user.username.clone();
        let right = match step {
            Some(step) => {
                state
                    .db
                    .write(move |conn| twostep::spend_step(conn, &name, step))
                    .await?
            }
            None => false,
        };
        if !right {
            return Err(AppError::new(
                Kind::TotpRequired,
                "the code is wrong or already used; type the newest one",
            ));
        }
    }
    let require = state.settings.require_totp;
    let device = attempt.device_hash;
    let (secret, view) = state
        .db
        .write(move |conn| {
            crate::db::write_tx(conn, |conn| {
                sessions::forgive(conn, &failure)?;
                sessions::start(conn, &user, device.as_deref(), require, now)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .cookie(cookie(&state, &secret, sessions::ABSOLUTE))
        .cookie(device_cookie(&state, &view.username))
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
    body: crate::extract::Json<twostep::Confirm>,
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
