//! Two-step sign-in (TOTP, RFC 6238: HMAC-SHA1, six digits, 30-second steps, one step of
//! clock drift either way): a person begins it and confirms it with a first code; from then
//! on signing in needs a code as well as the password, and each code counts once. An
//! administrator (or the person's manager) can reset it for someone who lost their phone.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Secret, TOTP};
use validator::Validate;

use super::users::UserView;
use crate::auth::{Principal, sha256_hex};
use crate::db::{DbConn, queries, write_tx};
use crate::error::{AppError, Kind};

/// The issuer authenticator apps show beside the person's name.
pub const ISSUER: &str = "kepuasan SKM";
/// Seconds a code lasts.
const STEP: u64 = 30;

/// What a person needs to set up their authenticator app: the secret, as text and as the
/// `otpauth://` address in a QR code. Shown to them once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// The secret in base32, for typing into an app.
    pub secret: String,
    /// The `otpauth://totp/...` address.
    pub otpauth_url: String,
    /// That address as a QR code (SVG).
    pub qr_svg: String,
}

/// Body of `PUT /api/v1/sessions/current/totp`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// The six-digit code the app shows now.
    #[validate(length(min = 6, max = 10, message = "must be the six-digit code"))]
    pub code: String,
}

fn totp(secret: &str, username: &str) -> Result<TOTP, AppError> {
    let bytes = Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|e| AppError::internal(format!("a stored TOTP secret: {e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        bytes,
        Some(ISSUER.to_owned()),
        username.to_owned(),
    )
    .map_err(|e| AppError::internal(e.to_string()))
}

/// Begins two-step sign-in for a person: a new secret, not yet counting. 409 when theirs is
/// already confirmed (an administrator resets it first).
pub fn begin(conn: &mut DbConn, username: &str) -> Result<Enrolment, AppError> {
    write_tx(conn, |conn| {
        let mut user = queries::find_user(conn, username)?
            .ok_or_else(|| AppError::not_found(format!("unknown user `{username}`")))?;
        if user.totp_confirmed_at.is_some() {
            return Err(AppError::new(
                Kind::Conflict,
                "two-step sign-in is already on; an administrator can reset it",
            ));
        }
        let secret = Secret::Raw(rand::random::<[u8; 20]>().to_vec()).to_encoded();
        let Secret::Encoded(secret) = secret else {
            return Err(AppError::internal("a TOTP secret that did not encode"));
        };
        let url = totp(&secret, username)?.get_url();
        user.totp_secret = Some(secret.clone());
        user.totp_confirmed_at = None;
        user.totp_last_step = None;
        queries::update_user(conn, &user)?;
        Ok(Enrolment {
            qr_svg: crate::tokens::qr(&url).map_err(AppError::internal)?.0,
            otpauth_url: url,
            secret,
        })
    })
}

/// The time step whose code `code` is, at `now` or one step either side, for a person with
/// two-step sign-in; `None` when it is none of them. Pure work (no connection): sign-in runs it
/// on the password threads, then [`spend_step`].
pub fn matching_step(
    user: &queries::User,
    code: &str,
    now: NaiveDateTime,
) -> Result<Option<i64>, AppError> {
    let Some(secret) = user.totp_secret.as_deref() else {
        return Ok(None);
    };
    let totp = totp(secret, &user.username)?;
    let at = u64::try_from(now.and_utc().timestamp()).unwrap_or(0);
    let given = sha256_hex(code.trim());
    Ok([at.saturating_sub(STEP), at, at + STEP]
        .into_iter()
        .find(|time| sha256_hex(&totp.generate(*time)) == given)
        .map(|time| (time / STEP) as i64))
}

/// Marks a step's code used, when no code of that step or a later one was: whether it counts.
/// One conditional update, so two sign-ins racing with the same code count it once.
pub fn spend_step(conn: &mut DbConn, username: &str, step: i64) -> Result<bool, AppError> {
    use crate::db::schema::users;
    use diesel::prelude::*;
    let spent = diesel::update(
        users::table.find(username).filter(
            users::totp_last_step
                .is_null()
                .or(users::totp_last_step.lt(step)),
        ),
    )
    .set(users::totp_last_step.eq(Some(step)))
    .execute(conn)?;
    Ok(spent == 1)
}

/// Whether `code` is the person's code at `now` (or one step either side) and was not used
/// before; a code that counts marks its step used.
pub fn accept(
    conn: &mut DbConn,
    user: &mut queries::User,
    code: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let Some(step) = matching_step(user, code, now)? else {
        return Ok(false);
    };
    let spent = spend_step(conn, &user.username, step)?;
    if spent {
        user.totp_last_step = Some(step);
    }
    Ok(spent)
}

/// Confirms a person's new secret with a first code: from now on it counts. Audited.
pub fn confirm(
    conn: &mut DbConn,
    actor: &Principal,
    username: &str,
    code: &str,
    now: NaiveDateTime,
) -> Result<UserView, AppError> {
    write_tx(conn, |conn| {
        let mut user = queries::find_user(conn, username)?
            .ok_or_else(|| AppError::not_found(format!("unknown user `{username}`")))?;
        if user.totp_secret.is_none() {
            return Err(AppError::field("code", "begin two-step sign-in first"));
        }
        let before = UserView::of(user.clone());
        if !accept(conn, &mut user, code, now)? {
            return Err(AppError::field(
                "code",
                "the code is wrong or already used; type the newest one",
            ));
        }
        user.totp_confirmed_at = Some(now);
        queries::update_user(conn, &user)?;
        let after = UserView::of(user);
        super::users::record(conn, actor, "user.totp_enable", Some(&before), &after, now)?;
        Ok(after)
    })
}
