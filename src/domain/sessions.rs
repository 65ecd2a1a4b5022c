//! Signed-in sessions of people: starting one from a user name and password, the cookie's
//! secret (stored only as a hash), its CSRF token, its idle and absolute expiry, signing out,
//! and the limit on failed sign-ins: by device for a browser the person signed in with before,
//! by name and by address for any other.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use validator::Validate;

use super::users::UserView;
use crate::auth::{Origin, Principal, new_secret, sha256_hex};
use crate::db::DbConn;
use crate::db::schema::{sessions, sign_in_failures, users};
use crate::error::AppError;

/// The session cookie's name.
pub const COOKIE: &str = "kepuasan_session";
/// The device cookie's name: set at each sign-in, sent back only to sign-in.
pub const DEVICE_COOKIE: &str = "kepuasan_device";
/// How long a device cookie lasts from the last sign-in that set it.
pub const DEVICE_DAYS: i64 = 180;
/// The header a cookie-authenticated change must carry.
pub const CSRF_HEADER: &str = "X-CSRF-Token";
/// A session ends after this long without a request.
pub const IDLE: TimeDelta = TimeDelta::hours(8);
/// A session ends this long after sign-in, however busy.
pub const ABSOLUTE: TimeDelta = TimeDelta::days(7);
/// Failed sign-ins are counted over this window.
pub const FAILURE_WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Failures within the window, for one name or one address, after which sign-in waits.
pub const MAX_FAILURES: usize = 5;

/// Body of `POST /api/v1/sessions`.
#[derive(Debug, Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The user name (any case).
    #[validate(length(min = 1, max = 64, message = "must be 1 to 64 characters"))]
    pub username: String,
    /// The password.
    #[validate(length(min = 1, max = 1024, message = "must be 1 to 1024 characters"))]
    pub password: String,
    /// The six-digit code of the person's authenticator app, when two-step sign-in is on.
    #[serde(default)]
    #[validate(length(max = 10, message = "must be the six-digit code"))]
    pub totp: Option<String>,
}

/// A signed-in person as the API answers: who, what they may do, and the token their changes
/// carry in `X-CSRF-Token`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// The user name.
    pub username: String,
    /// admin, manager or viewer.
    pub role: String,
    /// The units a manager or viewer works for.
    pub units: Vec<String>,
    /// Send it as `X-CSRF-Token` with every request that changes something.
    pub csrf_token: String,
    /// When the session ends at the latest (UTC, without a zone suffix).
    #[schema(value_type = String)]
    pub expires_at: NaiveDateTime,
    /// Whether two-step sign-in (TOTP) is on for this person.
    pub totp: bool,
    /// True when the server requires administrators to use two-step sign-in and this one has
    /// not set it up: until they do, the session may only set it up or sign out.
    pub totp_setup_required: bool,
}

/// Whether a person must set up two-step sign-in before doing anything else.
pub fn must_set_up_totp(require_totp: bool, role: &str, totp: bool) -> bool {
    require_totp && role == "admin" && !totp
}

/// A session found from its cookie: the person and the session's stored hash.
#[derive(Debug, Clone)]
pub struct Found {
    /// The person, as stored now (a disabled person is never found).
    pub user: crate::db::queries::User,
    /// The hash of the cookie's secret, the session's key.
    pub id_hash: String,
    /// Sign-in time.
    pub created_at: NaiveDateTime,
    /// Last request.
    pub last_seen_at: NaiveDateTime,
}

impl Found {
    /// The signed-in person as a caller.
    pub fn principal(&self) -> Result<Principal, AppError> {
        Ok(Principal {
            key_id: format!("user:{}", self.user.username),
            role: self.user.role.parse().map_err(AppError::internal)?,
            units: serde_json::from_str(&self.user.units).map_err(AppError::internal)?,
            last_used_at: Some(self.last_seen_at),
            origin: Origin::Session {
                username: self.user.username.clone(),
                id_hash: self.id_hash.clone(),
            },
        })
    }

    /// The answer for this session, given the cookie's secret.
    pub fn view(&self, secret: &str, require_totp: bool) -> SessionView {
        let totp = self.user.totp_confirmed_at.is_some();
        SessionView {
            username: self.user.username.clone(),
            role: self.user.role.clone(),
            units: serde_json::from_str(&self.user.units).unwrap_or_default(),
            csrf_token: csrf_token(secret),
            expires_at: self.created_at + ABSOLUTE,
            totp,
            totp_setup_required: must_set_up_totp(require_totp, &self.user.role, totp),
        }
    }

    /// Whether this session may only set up two-step sign-in (and sign out) for now.
    pub fn held_for_totp(&self, require_totp: bool) -> bool {
        must_set_up_totp(
            require_totp,
            &self.user.role,
            self.user.totp_confirmed_at.is_some(),
        )
    }
}

/// The CSRF token of a session: derived from the cookie's secret, which scripts cannot read
/// (the cookie is HttpOnly) and other sites cannot send (it is SameSite=Strict), so it needs
/// no storage and survives a page reload through `GET /api/v1/sessions/current`.
pub fn csrf_token(secret: &str) -> String {
    sha256_hex(&format!("kepuasan-csrf:{secret}"))
}

/// Whether a header value is this session's CSRF token. The hashes of the two are compared,
/// so the time a wrong guess takes tells nothing about the token's characters.
pub fn csrf_matches(secret: &str, given: Option<&str>) -> bool {
    given.is_some_and(|g| sha256_hex(g) == sha256_hex(&csrf_token(secret)))
}

/// Who a sign-in try counts against. A browser with a device cookie that this person signed
/// in with before (OWASP's "device cookies") counts against that device alone; any other
/// browser counts against the person's name and the caller's address, shared by every unknown
/// browser. So a guesser can lock out unknown browsers for a name, never the person's own.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The user name as given.
    pub username: String,
    /// The keyed hash of the caller's address.
    pub address_hash: String,
    /// The hash of the device cookie's id, when the browser has a valid one for this name.
    pub device_hash: Option<String>,
}

/// Seconds until this try may be made, when any of its counts has [`MAX_FAILURES`] failures
/// within [`FAILURE_WINDOW`]; `None` when it may be made now.
fn wait(conn: &mut DbConn, attempt: &Attempt, now: NaiveDateTime) -> Result<Option<u64>, AppError> {
    let since = now - FAILURE_WINDOW;
    let name = normal(&attempt.username);
    let mut longest = None;
    for count in 0..3 {
        let query = sign_in_failures::table
            .filter(sign_in_failures::at.gt(since))
            .select(sign_in_failures::at)
            .order(sign_in_failures::at.desc())
            .limit(MAX_FAILURES as i64)
            .into_boxed();
        let query = match (count, &attempt.device_hash) {
            (0, Some(device)) => query.filter(sign_in_failures::device_hash.eq(device)),
            (1, None) => query
                .filter(sign_in_failures::username.eq(&name))
                .filter(sign_in_failures::device_hash.is_null()),
            (2, None) => query
                .filter(sign_in_failures::address_hash.eq(&attempt.address_hash))
                .filter(sign_in_failures::device_hash.is_null()),
            _ => continue,
        };
        let times: Vec<NaiveDateTime> = query.load(conn)?;
        if times.len() >= MAX_FAILURES {
            // The window frees a try when the oldest of the last five leaves it.
            let free_at = times[MAX_FAILURES - 1] + FAILURE_WINDOW;
            let seconds = (free_at - now).num_seconds().max(1) as u64;
            longest = Some(longest.map_or(seconds, |l: u64| l.max(seconds)));
        }
    }
    Ok(longest)
}

/// Takes one try for `attempt`, counted as a failure from the start: in one transaction the
/// counts are read and, below their limits, a failure is written, so however many tries arrive
/// at once no count gets more than [`MAX_FAILURES`]. On PostgreSQL, where other connections and
/// instances write alongside, the name, address and device are locked for the transaction.
/// Returns the failure's id (to [`forgive`] when the try succeeds), or the seconds to wait.
pub fn reserve(
    conn: &mut DbConn,
    attempt: &Attempt,
    now: NaiveDateTime,
) -> Result<Result<String, u64>, AppError> {
    crate::db::write_tx(conn, |conn| {
        if let DbConn::Postgres(pg) = conn {
            let keys = [
                Some(format!("name|{}", normal(&attempt.username))),
                Some(format!("address|{}", attempt.address_hash)),
                attempt.device_hash.as_ref().map(|d| format!("device|{d}")),
            ];
            for key in keys.into_iter().flatten() {
                diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 1420170002))")
                    .bind::<diesel::sql_types::Text, _>(key)
                    .execute(pg)?;
            }
        }
        if let Some(seconds) = wait(conn, attempt, now)? {
            return Ok(Err(seconds));
        }
        diesel::delete(
            sign_in_failures::table.filter(sign_in_failures::at.le(now - FAILURE_WINDOW)),
        )
        .execute(conn)?;
        let id = uuid::Uuid::new_v4().to_string();
        diesel::insert_into(sign_in_failures::table)
            .values((
                sign_in_failures::id.eq(&id),
                sign_in_failures::username.eq(normal(&attempt.username)),
                sign_in_failures::address_hash.eq(&attempt.address_hash),
                sign_in_failures::device_hash.eq(&attempt.device_hash),
                sign_in_failures::at.eq(now),
            ))
            .execute(conn)?;
        Ok(Ok(id))
    })
}

/// Takes back the failure a try was counted as, when it was not one (the right password, or
/// the right password waiting for its two-step code).
pub fn forgive(conn: &mut DbConn, failure_id: &str) -> Result<(), AppError> {
    diesel::delete(sign_in_failures::table.find(failure_id)).execute(conn)?;
    Ok(())
}

/// Starts a session for a person whose password was right; returns the cookie's secret (never
/// stored) and the answer. The failures of the browser's own device cookie are forgotten;
/// those of unknown browsers stay until the window passes them, so a guesser's count is not
/// reset by the person signing in.
pub fn start(
    conn: &mut DbConn,
    user: &UserView,
    device_hash: Option<&str>,
    require_totp: bool,
    now: NaiveDateTime,
) -> Result<(String, SessionView), AppError> {
    let secret = new_secret();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(sha256_hex(&secret)),
            sessions::username.eq(&user.username),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
        ))
        .execute(conn)?;
    if let Some(device) = device_hash {
        diesel::delete(sign_in_failures::table.filter(sign_in_failures::device_hash.eq(device)))
            .execute(conn)?;
    }
    let view = SessionView {
        username: user.username.clone(),
        role: user.role.clone(),
        units: user.units.clone(),
        csrf_token: csrf_token(&secret),
        expires_at: now + ABSOLUTE,
        totp: user.totp,
        totp_setup_required: must_set_up_totp(require_totp, &user.role, user.totp),
    };
    Ok((secret, view))
}

/// The live session of a cookie's secret: not signed out, not idle for [`IDLE`], not older
/// than [`ABSOLUTE`], and its person not disabled. Read on every request, so that disabling a
/// person or signing out takes effect at once.
pub fn find(
    conn: &mut DbConn,
    secret: &str,
    now: NaiveDateTime,
) -> Result<Option<Found>, AppError> {
    let row: Option<(
        String,
        NaiveDateTime,
        NaiveDateTime,
        crate::db::queries::User,
    )> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id_hash.eq(sha256_hex(secret)))
        .filter(sessions::ended_at.is_null())
        .filter(users::disabled_at.is_null())
        .select((
            sessions::id_hash,
            sessions::created_at,
            sessions::last_seen_at,
            crate::db::queries::User::as_select(),
        ))
        .first(conn)
        .optional()?;
    Ok(row
        .filter(|(_, created, seen, _)| now - *seen < IDLE && now - *created < ABSOLUTE)
        .map(|(id_hash, created_at, last_seen_at, user)| Found {
            user,
            id_hash,
            created_at,
            last_seen_at,
        }))
}

/// Writes down a session's last request (callers do it at most once a minute).
pub fn touch(conn: &mut DbConn, id_hash: &str, now: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(sessions::table.find(id_hash))
        .set(sessions::last_seen_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Ends the session with this stored hash (signing out); whether it was live.
pub fn end(conn: &mut DbConn, id_hash: &str, now: NaiveDateTime) -> Result<bool, AppError> {
    Ok(diesel::update(
        sessions::table
            .find(id_hash)
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(Some(now)))
    .execute(conn)?
        == 1)
}

/// Ends every session of a person (when they are disabled or their password is reset).
pub fn end_all(conn: &mut DbConn, username: &str, now: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(
        sessions::table
            .filter(sessions::username.eq(normal(username)))
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}

/// A user name as stored: trimmed and in lower case.
fn normal(username: &str) -> String {
    username.trim().to_ascii_lowercase()
}
