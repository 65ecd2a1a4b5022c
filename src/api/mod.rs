//! The HTTP API: the route table in one place, request-body limits, and the glue every handler
//! shares (authentication, JSON and query errors in the contract's shape).

pub mod admin;
mod reports;
mod responses;

use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::auth::{self, Principal};
use crate::error::AppError;
use crate::state::AppState;

/// Largest request body accepted.
pub const MAX_BODY: usize = 16 * 1024;

/// Wires the API and pages into an actix app; used by `serve` and by the tests alike.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state))
            .app_data(
                web::JsonConfig::default()
                    .limit(MAX_BODY)
                    .content_type_required(true)
                    .error_handler(json_error),
            )
            .app_data(web::PayloadConfig::default().limit(MAX_BODY))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .route("/healthz", web::get().to(healthz))
            .service(
                web::scope("/api/v1")
                    .route("/instruments", web::get().to(list_instruments))
                    .route("/instruments/{key}", web::get().to(get_instrument))
                    .route("/units", web::post().to(admin::create_unit))
                    .route("/units", web::get().to(admin::list_units))
                    .route("/units/{unit}", web::patch().to(admin::update_unit))
                    .route(
                        "/units/{unit}/services",
                        web::post().to(admin::create_service),
                    )
                    .route(
                        "/units/{unit}/services",
                        web::get().to(admin::list_services),
                    )
                    .route(
                        "/units/{unit}/services/{service}",
                        web::patch().to(admin::update_service),
                    )
                    .route(
                        "/units/{unit}/populations",
                        web::get().to(admin::list_populations),
                    )
                    .route(
                        "/units/{unit}/populations/{period}",
                        web::put().to(admin::set_population),
                    )
                    .route("/keys", web::post().to(admin::create_key))
                    .route("/keys", web::get().to(admin::list_keys))
                    .route("/keys/{id}", web::delete().to(admin::revoke_key))
                    .route("/responses", web::post().to(responses::submit))
                    .route("/reports/ikm", web::get().to(reports::ikm)),
            )
            .default_service(web::to(not_found));
    }
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::not_found(format!(
        "no such endpoint: {} {}",
        req.method(),
        req.path()
    )))
}

/// Liveness.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

#[derive(Serialize)]
struct InstrumentSummary<'a> {
    key: &'a str,
    version: u32,
    title: &'a crate::instrument::Text,
}

async fn list_instruments(state: web::Data<AppState>) -> HttpResponse {
    let list: Vec<InstrumentSummary<'_>> = state
        .registry
        .iter()
        .map(|i| InstrumentSummary {
            key: &i.key,
            version: i.version,
            title: &i.title,
        })
        .collect();
    HttpResponse::Ok().json(list)
}

async fn get_instrument(
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let instrument = state
        .registry
        .get(&key)
        .ok_or_else(|| AppError::not_found(format!("unknown instrument `{key}`")))?;
    Ok(HttpResponse::Ok().json(instrument.as_ref()))
}

/// The caller's key, or 401.
pub(crate) async fn principal(state: &AppState, req: &HttpRequest) -> Result<Principal, AppError> {
    let header = bearer(req)?;
    state
        .db
        .read(move |conn| auth::authenticate(conn, header.as_deref()))
        .await
}

/// The caller's key if one was sent (a wrong one is still 401).
pub(crate) async fn optional_principal(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Option<Principal>, AppError> {
    if req.headers().contains_key("authorization") {
        principal(state, req).await.map(Some)
    } else {
        Ok(None)
    }
}

fn bearer(req: &HttpRequest) -> Result<Option<String>, AppError> {
    req.headers()
        .get("authorization")
        .map(|v| {
            v.to_str()
                .map(str::to_owned)
                .map_err(|_| AppError::unauthorized("the Authorization header is not text"))
        })
        .transpose()
}

/// Field named in a serde message such as "missing field `unit`" or "unknown field `x`".
fn quoted_field(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let app = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            AppError::new(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body is larger than {} KiB", MAX_BODY / 1024),
            )
        }
        JsonPayloadError::ContentType => AppError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_content_type",
            "send the body as Content-Type: application/json",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            let message = e.to_string();
            let field = quoted_field(&message)
                .filter(|_| message.contains("field"))
                .unwrap_or_else(|| "body".to_owned());
            AppError::field(field, message)
        }
        JsonPayloadError::Deserialize(e) => {
            AppError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
        }
        other => AppError::bad_request("bad_body", other.to_string()),
    };
    actix_web::error::InternalError::from_response(
        err,
        actix_web::ResponseError::error_response(&app),
    )
    .into()
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let message = err.to_string();
    let field = quoted_field(&message).unwrap_or_else(|| "query".to_owned());
    let app = AppError::field(field, message);
    actix_web::error::InternalError::from_response(
        err,
        actix_web::ResponseError::error_response(&app),
    )
    .into()
}
