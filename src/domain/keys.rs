//! API keys for devices and integrations: creating one (with a kiosk's enrolment address),
//! and the view of a key that never shows its secret.

use serde::{Deserialize, Serialize};
use validator::Validate;

use super::audit::{self, What};
use crate::auth::{self, NewKey, Principal, Role};
use crate::db::DbConn;
use crate::db::queries;
use crate::error::AppError;

/// Body of `POST /keys`.
#[derive(Debug, Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// `admin`, `viewer`, `counter` or `kiosk`.
    #[validate(custom(function = "super::rules::role"))]
    pub role: String,
    /// Units in scope (none for an admin).
    #[serde(default)]
    #[validate(custom(function = "super::rules::codes"))]
    pub units: Vec<String>,
    /// Holder.
    #[serde(default)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    pub name: Option<String>,
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

/// Creates a key, recorded in the audit log as `actor`'s; its secret is in the answer and
/// nowhere else. A kiosk key comes with the address that enrols a tablet under `public_url`,
/// and that address as a QR code.
pub fn create_key(
    conn: &mut DbConn,
    actor: &Principal,
    body: CreateKeyRequest,
    public_url: &str,
    now: chrono::NaiveDateTime,
) -> Result<KeyView, AppError> {
    body.validate()?;
    crate::db::write_tx(conn, |conn| {
        let view = create(conn, body, public_url, now)?;
        let what = What {
            action: "key.create",
            target: &view.id,
            unit: view.units.first().map(String::as_str),
        };
        audit::record(conn, actor, what, None, Some(&view), now)?;
        Ok(view)
    })
}

/// Revokes a key that `may_revoke` allows, recorded in the audit log as `actor`'s; 404 for an
/// unknown key.
pub fn revoke_key(
    conn: &mut DbConn,
    actor: &Principal,
    id: &str,
    now: chrono::NaiveDateTime,
    may_revoke: impl FnOnce(&mut DbConn, &queries::ApiKey) -> Result<(), AppError>,
) -> Result<(), AppError> {
    crate::db::write_tx(conn, |conn| {
        let key = queries::find_key(conn, id)?.ok_or_else(|| AppError::not_found("unknown key"))?;
        may_revoke(conn, &key)?;
        queries::revoke_key(conn, id, now)?;
        let after = queries::find_key(conn, id)?.map(|k| KeyView::of(k, None));
        let before = KeyView::of(key, None);
        let what = What {
            action: "key.revoke",
            target: id,
            unit: before.units.first().map(String::as_str),
        };
        audit::record(
            conn,
            actor,
            what,
            Some(&before),
            after.as_ref().map(|a| a as _),
            now,
        )
    })
}

fn create(
    conn: &mut DbConn,
    body: CreateKeyRequest,
    public_url: &str,
    now: chrono::NaiveDateTime,
) -> Result<KeyView, AppError> {
    let role: Role = body
        .role
        .parse()
        .map_err(|e: String| AppError::field("role", e))?;
    let new = NewKey {
        role,
        units: body.units,
        name: body.name.unwrap_or_default(),
    };
    let (row, secret) = auth::create_key(conn, &new, now)?;
    let mut view = KeyView::of(row, Some(secret.clone()));
    if role == Role::Kiosk {
        let url = kiosk_enrol_url(public_url, &secret);
        view.enrol_qr_svg = Some(crate::tokens::qr(&url).map_err(AppError::internal)?.0);
        view.enrol_url = Some(url);
    }
    Ok(view)
}

/// The address that enrols a kiosk tablet with a kiosk key: the kiosk page keeps the key from
/// the fragment, which the browser never sends to the server.
pub fn kiosk_enrol_url(public_url: &str, secret: &str) -> String {
    format!("{}/kiosk#key={secret}", public_url.trim_end_matches('/'))
}
