//! Receipt tokens over HTTP: `POST /units/{unit}/receipt-tokens` (a counter system asks for a
//! survey link per receipt) and `POST /units/{unit}/receipt-sheets` (a printable A4 sheet of
//! QR slips for a unit whose receipts cannot print one).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use validator::Validate;

use super::{IssuesTokens, UnitScope};
use crate::error::{AppError, ErrorBody};
use crate::pages::sheet;
use crate::state::AppState;
use crate::tokens::{self, IssuedToken};

/// Body of the request: both fields optional.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReceiptTokenRequest {
    /// Service of the transaction.
    #[serde(default)]
    #[validate(custom(function = "crate::domain::rules::code"))]
    pub service: Option<String>,
    /// The unit's ticket or transaction number.
    #[serde(default)]
    #[validate(custom(function = "tokens::transaction"))]
    pub transaction: Option<String>,
}

/// Body of a sheet request.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReceiptSheetRequest {
    /// Service the slips are for; any service of the unit when absent.
    #[serde(default)]
    #[validate(custom(function = "crate::domain::rules::code"))]
    pub service: Option<String>,
    /// How many slips, 1 to 120 (12 to an A4 page); 24 by default.
    #[serde(default)]
    #[validate(range(min = 1, max = sheet::MAX_COUNT, message = "must be between 1 and 120"))]
    pub count: Option<u32>,
    /// Language printed first: `id` (default) or `en`.
    #[serde(default)]
    #[validate(custom(function = "crate::domain::rules::lang"))]
    pub lang: Option<String>,
    /// Days the slips stay valid, 1 to 365; `KEPUASAN_TOKEN_DAYS` (14) by default. A sheet
    /// handed out over a quarter needs about 100.
    #[serde(default)]
    #[validate(range(min = 1, max = sheet::MAX_DAYS, message = "must be between 1 and 365"))]
    pub days: Option<u32>,
}

/// Issues a one-use receipt token with its survey URL and QR code.
#[utoipa::path(post, path = "/api/v1/units/{unit}/receipt-tokens", tag = "receipts", request_body = ReceiptTokenRequest,
    params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 201, description = "Issued", body = IssuedToken), (status = 403, description = "Not a counter of this unit", body = ErrorBody),
        (status = 409, description = "KEPUASAN_PUBLIC_URL is not set and the request came to a loopback address, which no phone can open", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn issue(
    state: web::Data<AppState>,
    scope: UnitScope<IssuesTokens>,
    req: actix_web::HttpRequest,
    body: crate::extract::Json<ReceiptTokenRequest>,
) -> Result<HttpResponse, AppError> {
    let UnitScope { caller, unit, .. } = scope;
    let body = body.into_inner();
    body.validate()?;
    let now = state.clock.now();
    let settings = state.settings.clone();
    let base = crate::extract::printed_base(&req, &settings)?;
    let issued = state
        .db
        .write(move |conn| {
            tokens::find_target(conn, &unit, body.service.as_deref())?;
            let mut issuer = settings.issuer(Some(&caller.key_id), now);
            issuer.public_url = &base;
            tokens::issue(
                conn,
                &issuer,
                &unit,
                body.service.as_deref(),
                body.transaction.as_deref(),
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(issued))
}

/// Issues `count` one-use tokens and returns them as a printable A4 page of QR slips.
#[utoipa::path(post, path = "/api/v1/units/{unit}/receipt-sheets", tag = "receipts", request_body = ReceiptSheetRequest,
    params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 201, description = "An HTML page sized for A4, 12 slips to a page, each with its own token", content_type = "text/html"),
        (status = 403, description = "Not a counter of this unit", body = ErrorBody),
        (status = 409, description = "KEPUASAN_PUBLIC_URL is not set and the request came to a loopback address, which no phone can open", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn sheet(
    state: web::Data<AppState>,
    scope: UnitScope<IssuesTokens>,
    req: actix_web::HttpRequest,
    body: crate::extract::Json<ReceiptSheetRequest>,
) -> Result<HttpResponse, AppError> {
    let UnitScope { caller, unit, .. } = scope;
    let body = body.into_inner();
    body.validate()?;
    let count = body.count.unwrap_or(sheet::DEFAULT_COUNT);
    let lang = match body.lang.as_deref() {
        Some("en") => crate::instrument::Lang::En,
        _ => crate::instrument::Lang::Id,
    };
    let now = state.clock.now();
    let settings = state.settings.clone();
    let base = crate::extract::printed_base(&req, &settings)?;
    let html = state
        .db
        .write(move |conn| {
            let mut issuer = settings.issuer(Some(&caller.key_id), now);
            issuer.public_url = &base;
            if let Some(days) = body.days {
                issuer.valid_days = days;
            }
            sheet::issue(conn, &issuer, &unit, body.service.as_deref(), count, lang)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(html))
}

/// A unit's signing secret, for a queue system that mints receipt tokens itself.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SigningSecret {
    /// The unit.
    pub unit: String,
    /// The secret: give it to the queue system and keep it nowhere else.
    pub signing_secret: String,
}

/// A unit's receipt-token signing secret, derived from the server's master secret: a queue
/// system that prints receipts signs their tokens with it (docs/api.md). Asking is recorded in
/// the audit log, the secret never.
#[utoipa::path(post, path = "/api/v1/units/{unit}/signing-secret", tag = "receipts",
    params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 200, description = "The unit's signing secret", body = SigningSecret),
        (status = 403, description = "Not an administrator or a manager of the unit", body = ErrorBody),
        (status = 409, description = "The server has no KEPUASAN_SECRET to derive it from", body = ErrorBody)))]
pub async fn signing_secret(
    state: web::Data<AppState>,
    scope: super::UnitScope<super::Manages>,
) -> Result<HttpResponse, AppError> {
    let master = state.settings.secret.clone().ok_or_else(|| {
        AppError::new(
            crate::error::Kind::Conflict,
            "the server has no KEPUASAN_SECRET; signing secrets derive from it",
        )
    })?;
    let unit = scope.unit.clone();
    let secret = SigningSecret {
        signing_secret: crate::tokens::unit_secret(&master, &unit),
        unit: unit.clone(),
    };
    let what = super::admin::Audit::unit("unit.signing_secret", &unit);
    let secret = super::admin::audited(
        &state,
        scope.caller,
        what,
        super::admin::none,
        move |_, _| Ok(secret),
    )
    .await?;
    Ok(HttpResponse::Ok().json(secret))
}
