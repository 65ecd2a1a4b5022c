//! The respondent pages: the MPP exit kiosk (`/kiosk`), the receipt survey (`/s/{token}`) and
//! the open link (`/u/{unit}`). Their assets are compiled into the binary; a page fetches
//! nothing from anywhere but this server. [`sheet`] renders the printable A4 sheet of QR slips;
//! [`verify`] the public page behind a printed report's verification code; [`public`] the published
//! results and badge of units that switch them on; `/dashboard`
//! is the IKM dashboard for unit heads and administrators; `/admin` the administration pages.

pub mod offline;
pub mod public;
pub mod sheet;
pub mod static_files;
pub mod templates;
pub mod verify;

use actix_web::http::header::HeaderValue;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::db::queries;
use crate::error::{AppError, Kind};
use crate::state::AppState;
use crate::tokens;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the page routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    offline::configure(cfg);
    cfg.route("/kiosk", web::get().to(kiosk))
        .route("/s/{token}", web::get().to(receipt))
        .route("/u/{unit}", web::get().to(open_link))
        .route("/verify/{code}", web::get().to(verify::show))
        .route("/dashboard", web::get().to(dashboard))
        .route("/admin", web::get().to(admin))
        .route("/p/{unit}", web::get().to(public::page))
        .route("/p/{unit}/badge.svg", web::get().to(public::badge))
        .route("/p/{unit}/tv", web::get().to(public::tv))
        .route("/assets/{name}", web::get().to(static_files::serve));
}

/// A server-rendered HTML page with the pages' security and caching headers.
pub(crate) fn html(status: StatusCode, body: String) -> HttpResponse {
    html_under(status, body, CSP.to_owned()).map_into_boxed_body()
}

/// An HTML page under its own Content-Security-Policy (one that allows its inline script by
/// hash), its body still a string to encode.
fn html_under(status: StatusCode, body: String, csp: String) -> HttpResponse<String> {
    let mut response = HttpResponse::with_body(status, body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp).expect("a policy of header characters"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
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

/// The survey page answering `status`; a receipt that cannot open its survey says why. The
/// configuration travels as JSON data, never as inline script; a page with a survey to show
/// carries its instrument too, so a phone on a slow link waits for one request, not two.
///
/// `start` is the page's own path: a page with a survey links the web app manifest that
/// installs it. The phone's pages carry their script and style inline, so a first visit on a
/// slow link waits for one answer, not two in a row; the kiosk links them, cached for a year.
fn page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    start: &str,
    mut config: Value,
) -> Result<HttpResponse, AppError> {
    let open = config.get("screen").is_none();
    if config.get("settle_ms").is_none() {
        config["settle_ms"] = json!(state.settings.settle_ms);
    }
    if open {
        let key = config["instrument"].as_str().unwrap_or(DEFAULT_INSTRUMENT);
        let instrument = state
            .registry
            .get(key)
            .ok_or_else(|| AppError::internal(format!("the instrument `{key}` is not loaded")))?;
        config["survey"] = serde_json::to_value(instrument.as_ref()).map_err(AppError::internal)?;
    }
    let manifest = open.then(|| format!("/manifest.webmanifest?start={start}"));
    let carry = if config["mode"] == "kiosk" {
        Carry::Linked
    } else {
        Carry::Inline
    };
    let (body, csp) = shell(
        "Survei Kepuasan Masyarakat",
        "survey",
        carry,
        manifest,
        &config,
    )?;
    Ok(static_files::encoded(req, html_under(status, body, csp)))
}

/// How a page carries its script and style.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Carry {
    /// Linked by their versioned addresses.
    Linked,
    /// Inside the page, the script allowed by its hash.
    Inline,
}

/// The instrument the respondent pages ask.
const DEFAULT_INSTRUMENT: &str = "skm-2017";

/// The IKM dashboard for unit heads and administrators (it signs in with a viewer or admin
/// key kept for the browser session only).
async fn dashboard() -> Result<HttpResponse, AppError> {
    let (body, csp) = shell("Dasbor IKM", "dashboard", Carry::Linked, None, &json!({}))?;
    Ok(html_under(StatusCode::OK, body, csp).map_into_boxed_body())
}

/// The administration pages: people sign in with a user name and password.
async fn admin(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    // The public address: the embed snippet of a unit's published results carries it; and
    // whether notifications can be mailed (a mail server is set).
    let config = json!({
        "public_url": state.settings.public_url.trim_end_matches('/'),
        "mail": state.settings.smtp_url.is_some(),
    });
    let (body, csp) = shell("Administrasi SKM", "admin", Carry::Linked, None, &config)?;
    Ok(html_under(StatusCode::OK, body, csp).map_into_boxed_body())
}

/// A page with the script and style `assets` (`survey`: `/assets/survey.HASH.js` and `.css`),
/// and the Content-Security-Policy it runs under.
fn shell(
    title: &str,
    assets: &str,
    carry: Carry,
    manifest: Option<String>,
    config: &Value,
) -> Result<(String, String), AppError> {
    let config = embeddable_json(config);
    let (js, css) = (
        static_files::named(assets, "js"),
        static_files::named(assets, "css"),
    );
    let inline = carry == Carry::Inline;
    let body = templates::render(
        "app.html",
        minijinja::context! {
            title, manifest, config, inline,
            script => js.url(), style => css.url(),
            script_text => inline.then(|| minijinja::Value::from_safe_string(js.body().to_owned())),
            style_text => inline.then(|| minijinja::Value::from_safe_string(css.body().to_owned())),
        },
    )?;
    let csp = if inline {
        CSP.replacen(
            "script-src 'self'",
            &format!("script-src 'self' {}", js.csp_hash()),
            1,
        )
    } else {
        CSP.to_owned()
    };
    Ok((body, csp))
}

#[derive(serde::Deserialize)]
struct KioskQuery {
    idle: Option<u32>,
    /// This tablet's pause for taps after a screen change (milliseconds, at most 3000), where
    /// it needs another than the server's `KEPUASAN_SETTLE_MS`.
    settle: Option<u32>,
}

async fn kiosk(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: crate::extract::Query<KioskQuery>,
) -> Result<HttpResponse, AppError> {
    let idle = query.idle.unwrap_or(45).clamp(5, 600);
    let mut config = json!({"mode": "kiosk", "idle_seconds": idle,
        "version": format!("survey-{}", static_files::named("survey", "js").version())});
    if let Some(settle) = query.settle {
        config["settle_ms"] = json!(settle.min(3000));
    }
    page(&state, &req, StatusCode::OK, "/kiosk", config)
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
/// A form ticket for a survey page of `unit`, unless the client's address has had its share of
/// them in the last minute (`KEPUASAN_ANONYMOUS_PER_MINUTE`, as for submissions): then the page
/// goes without one, and takes one when it sends (a flood of page loads gets no tickets; a
/// person behind a busy address gets theirs a little later).
fn ticket_for(
    state: &AppState,
    req: &HttpRequest,
    unit: &str,
    now: chrono::NaiveDateTime,
) -> Option<String> {
    let address = crate::extract::client_address(req, &state.settings.trust_proxy);
    let hash = state
        .secrets
        .address_hash(address.as_deref().unwrap_or("unknown"), now.date());
    (state.windows.hit(&format!("ticket:{hash}"), now) <= state.settings.anonymous_per_minute)
        .then(|| state.secrets.issue_ticket(unit, now))
}

fn closed(status: StatusCode, screen: &str, unit_name: Option<&str>) -> (StatusCode, Value) {
    let mut config = json!({"mode": "phone", "screen": screen});
    if let Some(name) = unit_name {
        config["unit_name"] = json!(name);
    }
    (status, config)
}

async fn receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let start = format!("/s/{token}");
    let settings = state.settings.token_settings();
    let now = state.clock.now();
    let (status, mut config) = state
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
                "service": accepted.claims.service, "service_name": service_name, "services": services})))
        })
        .await?;
    if let Some(unit) = config["unit"].as_str().map(str::to_owned) {
        config["ticket"] = json!(ticket_for(&state, &req, &unit, now));
    }
    page(&state, &req, status, &start, config)
}

async fn open_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let start = format!("/u/{code}");
    let now = state.clock.now();
    let mut config = state
        .db
        .read(move |conn| {
            // Why there is no survey here, when there is none: a unit that takes surveys at
            // its kiosk and on receipts only, one that no longer takes any, or no such unit.
            match queries::find_unit(conn, &code)? {
                Some(unit) if unit.active && unit.open_link => {
                    let services = active_services(queries::list_services(conn, &unit.code)?);
                    Ok(json!({"mode": "phone", "unit": unit.code, "unit_name": unit.name, "services": services}))
                }
                Some(unit) if unit.active => Ok(json!({"mode": "phone", "screen": "noLink", "unit_name": unit.name})),
                Some(unit) => Ok(json!({"mode": "phone", "screen": "closed", "unit_name": unit.name})),
                None => Ok(json!({"mode": "phone", "screen": "unknownLink"})),
            }
        })
        .await?;
    // The form ticket: an open-link response needs the page it was answered on.
    if let Some(unit) = config["unit"].as_str().map(str::to_owned) {
        config["ticket"] = json!(ticket_for(&state, &req, &unit, now));
    }
    page(&state, &req, StatusCode::OK, &start, config)
}
