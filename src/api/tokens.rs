//! `POST /units/{unit}/receipt-tokens`: a counter system asks for a survey link per receipt.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::principal;
use crate::auth::Role;
use crate::db::queries;
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;
use crate::tokens::{self, IssuedToken};

/// Body of the request: both fields optional.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptTokenRequest {
    /// Service of the transaction.
    #[serde(default)]
    pub service: Option<String>,
    /// The unit's ticket or transaction number.
    #[serde(default)]
    pub transaction: Option<String>,
}

/// Issues a one-use receipt token with its survey URL and QR code.
#[utoipa::path(post, path = "/api/v1/units/{unit}/receipt-tokens", tag = "receipts", request_body = ReceiptTokenRequest,
    params(("unit" = String, Path, description = "Unit code")), security(("bearer" = [])),
    responses((status = 201, description = "Issued", body = IssuedToken), (status = 403, description = "Not a counter of this unit", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn issue(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ReceiptTokenRequest>,
) -> Result<HttpResponse, AppError> {
    let caller = principal(&state, &req).await?;
    let unit = path.into_inner();
    let body = body.into_inner();
    if let Some(t) = &body.transaction {
        let claims = tokens::Claims {
            unit: "u".into(),
            service: None,
            transaction: Some(t.clone()),
            issued: chrono::NaiveDate::MIN,
        };
        tokens::check_claims(&claims).map_err(|e| {
            AppError::field(
                "transaction",
                e.trim_start_matches("transaction: ").to_owned(),
            )
        })?;
    }
    let now = state.clock.now();
    let (days, public_url) = (state.settings.token_days, state.settings.public_url.clone());
    let issued = state
        .db
        .write(move |conn| {
            let all = queries::list_units(conn)?;
            if !all.iter().any(|u| u.code == unit) {
                return Err(AppError::not_found(format!("unknown unit `{unit}`")));
            }
            let allowed = caller.role == Role::Admin
                || (caller.role == Role::Counter && caller.covers(&all, &unit));
            if !allowed {
                return Err(AppError::forbidden(format!(
                    "only a counter key of unit {unit} issues its receipt tokens"
                )));
            }
            if let Some(service) = &body.service {
                if queries::find_service(conn, &unit, service)?.is_none() {
                    return Err(AppError::field(
                        "service",
                        format!("unknown service `{service}` of unit {unit}"),
                    ));
                }
            }
            tokens::issue(
                conn,
                &unit,
                body.service.as_deref(),
                body.transaction.as_deref(),
                &caller.key_id,
                now,
                days,
                &public_url,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(issued))
}
