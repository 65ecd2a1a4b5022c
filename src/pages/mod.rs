//! The respondent pages: the MPP exit kiosk (`/kiosk`), the receipt survey (`/s/{token}`) and
//! the open link (`/u/{unit}`). Their assets are compiled into the binary; a page fetches
//! nothing from anywhere but this server. [`sheet`] renders the printable A4 sheet of QR slips;
//! [`verify`] the public page behind a printed report's verification code; [`public`] the published
//! results and badge of units that switch them on; `/dashboard`
//! is the IKM dashboard for unit heads and administrators.

pub mod public;
pub mod sheet;
pub mod templates;
pub mod verify;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use crate::db::queries;
use crate::error::{AppError, Kind};
use crate::state::AppState;
use crate::tokens;

// Each page's script is served with the shared helpers (`common.js`) in front of it: one
// request a page, which matters on a slow phone link.
const SURVEY_JS: &str = concat!(
    include_str!("assets/common.js"),
    "\n",
    include_str!("assets/survey.js")
);
const SURVEY_CSS: &str = include_str!("assets/survey.css");
const DASHBOARD_JS: &str = concat!(
    include_str!("assets/common.js"),
    "\n",
    include_str!("assets/dashboard.js")
);
const DASHBOARD_CSS: &str = include_str!("assets/dashboard.css");
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the page routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/kiosk", web::get().to(kiosk))
        .route("/s/{token}", web::get().to(receipt))
        .route("/u/{unit}", web::get().to(open_link))
        .route("/verify/{code}", web::get().to(verify::show))
        .route("/dashboard", web::get().to(dashboard))
        .route("/p/{unit}", web::get().to(public::page))
        .route("/p/{unit}/badge.svg", web::get().to(public::badge))
        .route(
            "/assets/dashboard.js",
            web::get().to(|| async { asset(DASHBOARD_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/assets/dashboard.css",
            web::get().to(|| async { asset(DASHBOARD_CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/assets/survey.js",
            web::get().to(|| async { asset(SURVEY_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/assets/survey.css",
            web::get().to(|| async { asset(SURVEY_CSS, "text/css; charset=utf-8") }),
        );
}

/// A server-rendered HTML page with the pages' security and caching headers.
pub(crate) fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

fn asset(body: &'static str, content_type: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// JSON safe inside an HTML `<script>` element: `<`, `>` and `&` (which JSON has only inside
/// strings) become `\u003c`, `\u003e` and `\u0026`, so no data can close the element or open
/// a comment (`<!--<script` would otherwise swallow the rest of the page).
pub(crate) fn embeddable_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The page shell: the configuration travels as JSON data, never as inline script.
fn page(config: &Value) -> Result<HttpResponse, AppError> {
    shell("Survei Kepuasan Masyarakat", "survey", config)
}

/// The survey page answering `status`: a receipt that cannot open its survey says why.
fn page_with(status: StatusCode, config: &Value) -> Result<HttpResponse, AppError> {
    let mut response = page(config)?;
    *response.status_mut() = status;
    Ok(response)
}

/// The IKM dashboard for unit heads and administrators (it signs in with a viewer or admin
/// key kept for the browser session only).
async fn dashboard() -> Result<HttpResponse, AppError> {
    shell("Dasbor IKM", "dashboard", &json!({}))
}

/// A page that loads `/assets/{assets}.css` and `/assets/{assets}.js`.
fn shell(title: &str, assets: &str, config: &Value) -> Result<HttpResponse, AppError> {
    let config = embeddable_json(config);
    let body = templates::render("app.html", minijinja::context! { title, assets, config })?;
    Ok(html(StatusCode::OK, body))
}

#[derive(serde::Deserialize)]
struct KioskQuery {
    idle: Option<u32>,
}

async fn kiosk(query: web::Query<KioskQuery>) -> Result<HttpResponse, AppError> {
    let idle = query.idle.unwrap_or(45).clamp(5, 600);
    page(&json!({"mode": "kiosk", "idle_seconds": idle}))
}

fn active_services(services: Vec<queries::Service>) -> Value {
    services
        .into_iter()
        .filter(|s| s.active)
        .map(|s| json!({"code": s.code, "name": s.name}))
        .collect()
}

/// Why a receipt's survey does not open: 404 for a token this server never issued (unknown)
/// or whose signature is false (forged), 410 for one that was valid (expired, or spent by its
/// response). The page says which, and what to do instead.
fn closed(status: StatusCode, screen: &str, unit_name: Option<&str>) -> (StatusCode, Value) {
    let mut config = json!({"mode": "phone", "screen": screen});
    if let Some(name) = unit_name {
        config["unit_name"] = json!(name);
    }
    (status, config)
}

async fn receipt(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let settings = state.settings.token_settings();
    let now = state.clock.now();
    let secrets = state.secrets.clone();
    let (status, config) = state
        .db
        .read(move |conn| {
            let unknown = || closed(StatusCode::NOT_FOUND, "unknown", None);
            let Some(unit) = tokens::unit_of(conn, &token)? else { return Ok(unknown()) };
            let Some(found) = queries::find_unit(conn, &unit)?.filter(|u| u.active) else { return Ok(unknown()) };
            let tz = crate::period::parse_timezone(&found.timezone).ok_or_else(|| AppError::internal("bad time zone"))?;
            let today = chrono::TimeZone::from_utc_datetime(&tz, &now).date_naive();
            let accepted = match tokens::accept(conn, &settings, &token, &found.code, today, now) {
                Ok(a) => a,
                Err(e) if e.is(Kind::TokenExpired) => return Ok(closed(StatusCode::GONE, "expired", Some(&found.name))),
                Err(e) if e.status().is_client_error() => return Ok(closed(StatusCode::NOT_FOUND, "forged", None)),
                Err(e) => return Err(e),
            };
            if tokens::is_spent(conn, &accepted.spend_key)? {
                return Ok(closed(StatusCode::GONE, "spent", Some(&found.name)));
            }
            let service_name = match &accepted.claims.service {
                Some(code) => queries::find_service(conn, &found.code, code)?.map(|s| s.name),
                None => None,
            };
            let services = if accepted.claims.service.is_some() { json!([]) } else { active_services(queries::list_services(conn, &found.code)?) };
            Ok((StatusCode::OK, json!({"mode": "phone", "token": token, "unit": found.code, "unit_name": found.name,
                "service": accepted.claims.service, "service_name": service_name, "services": services,
                "ticket": secrets.issue_ticket(&found.code, now)})))
        })
        .await?;
    page_with(status, &config)
}

async fn open_link(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let now = state.clock.now();
    let secrets = state.secrets.clone();
    let config = state
        .db
        .read(move |conn| {
            match queries::find_unit(conn, &code)? {
                Some(unit) if unit.active && unit.open_link => {
                    let services = active_services(queries::list_services(conn, &unit.code)?);
                    // The form ticket: an open-link response needs the page it was answered on.
                    let ticket = secrets.issue_ticket(&unit.code, now);
                    Ok(json!({"mode": "phone", "unit": unit.code, "unit_name": unit.name, "services": services, "ticket": ticket}))
                }
                _ => Ok(json!({"mode": "phone", "screen": "invalid"})),
            }
        })
        .await?;
    page(&config)
}
