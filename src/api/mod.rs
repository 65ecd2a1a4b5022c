//! The HTTP API: the route table in one place, request-body limits, and the glue every handler
//! shares (authentication, JSON and query errors in the contract's shape).

pub mod admin;
pub mod followups;
pub mod imports;
pub mod kiosks;
pub mod people;
pub mod reports;
pub mod responses;
pub mod sessions;
pub mod tokens;
pub mod webhooks;

use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::auth::{self, Principal};
use crate::domain::sessions as session;
use crate::error::{AppError, ErrorBody, Kind};
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
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics))
            .route("/openapi.json", web::get().to(openapi_json))
            .service(api_scope())
            .configure(crate::pages::configure)
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
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Readiness: the database answers and every embedded migration is applied. 503 with
/// Retry-After otherwise, so a load balancer sends traffic elsewhere.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "Ready"), (status = 503, description = "Database unreachable or migrations pending", body = ErrorBody)))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let pending = state.db.read(crate::db::pending_migrations).await?;
    if pending > 0 {
        return Err(AppError::unavailable(format!(
            "{pending} migration(s) pending; run `kepuasan migrate`"
        )));
    }
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"status": "ready", "database": "ok", "migrations": "current"})))
}

/// Prometheus metrics in the text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // Tablets by state, counted when scraped; a database in trouble leaves the last counts.
    let now = state.clock.now();
    if let Ok(counts) = state
        .db
        .read(move |conn| crate::domain::kiosks::count_by_state(conn, now))
        .await
    {
        for (kiosk_state, n) in counts {
            state
                .metrics
                .kiosks
                .with_label_values(&[kiosk_state.as_str()])
                .set(n);
        }
    }
    for (pool, idle, in_use) in state.db.pool_state() {
        let gauge = &state.metrics.db_connections;
        gauge
            .with_label_values(&[pool, "idle"])
            .set(i64::from(idle));
        gauge
            .with_label_values(&[pool, "in_use"])
            .set(i64::from(in_use));
    }
    HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .body(state.metrics.render())
}

#[derive(Serialize)]
struct InstrumentSummary<'a> {
    key: &'a str,
    version: u32,
    title: &'a crate::instrument::Text,
}

#[utoipa::path(get, path = "/api/v1/instruments", tag = "instruments", responses((status = 200, description = "Instrument keys, versions and titles", body = [Object])))]
pub async fn list_instruments(state: web::Data<AppState>) -> HttpResponse {
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

#[utoipa::path(get, path = "/api/v1/instruments/{key}", tag = "instruments", params(("key" = String, Path, description = "Instrument key, e.g. skm-2017")),
    responses((status = 200, description = "Items, questions, answer labels (id, en), grades, modes and profile fields", body = Object), (status = 404, description = "Unknown instrument", body = ErrorBody)))]
pub async fn get_instrument(
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let instrument = state
        .registry
        .get(&key)
        .ok_or_else(|| AppError::not_found(format!("unknown instrument `{key}`")))?;
    Ok(HttpResponse::Ok().json(instrument.as_ref()))
}

/// The whole application, middleware included: what `serve` runs and what the tests drive.
pub fn app(
    state: AppState,
) -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // The first middleware wrapped is the innermost: an error is said in the asker's language
    // before it is compressed.
    actix_web::App::new()
        .wrap(actix_web::middleware::from_fn(localize))
        // Pages, scripts and reports go compressed (brotli or gzip) to any client that says it
        // takes them; the kiosk's and the phone's slow links are what it is for.
        .wrap(actix_web::middleware::Compress::default())
        .wrap(actix_web::middleware::from_fn(request_id))
        .wrap(actix_web::middleware::from_fn(default_policy))
        .wrap(actix_web::middleware::from_fn(path_rule))
        // Every answer: never sniffed as another type; a page's address (a receipt token is one)
        // never sent on as a Referer.
        .wrap(
            actix_web::middleware::DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("Referrer-Policy", "no-referrer")),
        )
        .configure(configure(state))
}

/// A request path fit for the log: a receipt token (`/s/{token}`) is a bearer secret and is
/// never written down.
pub fn loggable_path(path: &str) -> String {
    match path.strip_prefix("/s/") {
        Some(_) => "/s/[token]".to_owned(),
        None => path.to_owned(),
    }
}

/// Gives every request an id, returned in `X-Request-Id`, logs the request (method, path
/// without query or token, status, duration) and the cause of any 500 with it.
/// The Content-Security-Policy of an HTML or SVG answer that sets none of its own (a receipt
/// sheet, a badge, an error page): nothing runs, nothing loads but inline styles and data:
/// pictures, and no other site frames it.
pub const DEFAULT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Whether a request path holds a control character, as a byte or percent-encoded (`%00`).
fn control_in_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        b < 0x20
            || (b == b'%'
                && matches!(bytes.get(i + 1), Some(b'0' | b'1'))
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// The text rule for paths: no unit, service, token or page has a control character in its
/// name, and PostgreSQL cannot even look one up (U+0000), so such a path is a 404 before it
/// reaches a handler.
pub async fn path_rule(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse, actix_web::Error> {
    if control_in_path(req.path()) {
        let response = actix_web::ResponseError::error_response(&AppError::not_found(
            "no such path: it holds a control character",
        ));
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// An error answer in the language the request asks for ([`crate::extract::language`]):
/// its message and each field's problem in Bahasa Indonesia for the pages and any client
/// that puts `id` first in `Accept-Language`; the same code, status and headers.
pub async fn localize(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse, actix_web::Error> {
    let lang = crate::extract::language(req.request());
    let res = next.call(req).await?;
    if lang == crate::instrument::Lang::En {
        return Ok(res.map_into_boxed_body());
    }
    let Some(error) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .map(|e| e.localized(lang))
    else {
        return Ok(res.map_into_boxed_body());
    };
    let (req, old) = res.into_parts();
    // The error stays attached, so the request log still finds a 500's cause.
    let mut answer = HttpResponse::from_error(error);
    // Headers the handler gave the answer (Retry-After, Set-Cookie ...), but none that
    // describe the old body.
    use actix_web::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
    for (name, value) in old.headers() {
        if ![CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE].contains(name)
            && !answer.headers().contains_key(name)
        {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(actix_web::dev::ServiceResponse::new(req, answer).map_into_boxed_body())
}

/// Gives every HTML and SVG answer a Content-Security-Policy: its own, or [`DEFAULT_POLICY`].
pub async fn default_policy(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse, actix_web::Error> {
    use actix_web::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderValue};
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let markup = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html") || t.starts_with("image/svg+xml"));
    if markup && !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_POLICY),
        );
    }
    Ok(res.map_into_boxed_body())
}

pub async fn request_id(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse, actix_web::Error> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (method, path) = (req.method().clone(), loggable_path(req.path()));
    let started = std::time::Instant::now();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let mut res = next.call(req).await?;
    if let Some(m) = metrics {
        let status = res.status().as_u16().to_string();
        if res.status().is_client_error() || res.status() == 503 {
            let reason = res
                .response()
                .extensions()
                .get::<crate::error::ErrorCode>()
                .map_or("other", |c| c.0);
            m.refusals.with_label_values(&[&status, reason]).inc();
        }
        m.requests
            .with_label_values(&[method.as_str(), &route, &status])
            .inc();
        m.latency
            .with_label_values(&[&route])
            .observe(started.elapsed().as_secs_f64());
    }
    tracing::info!(
        target: "kepuasan::http",
        request_id = %id,
        %method,
        %path,
        status = res.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    if res.status().is_server_error() {
        let error = res
            .response()
            .error()
            .and_then(|e| e.as_error::<AppError>());
        // A refusal to queue (busy, with Retry-After) is the server holding its bounds, not a
        // fault: counted in the metrics, not written to the log once a request in a flood.
        if error.is_none_or(|e| e.kind() != Kind::Busy) {
            let cause = error.and_then(AppError::cause);
            tracing::error!(request_id = %id, %method, %path, cause = cause.as_deref().unwrap_or("unknown"), "internal error");
        }
    }
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&id) {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            value,
        );
    }
    Ok(res.map_into_boxed_body())
}

/// The caller: a bearer key, or else a signed-in person's session cookie; 401 with neither.
/// A cookie-authenticated request that changes anything must carry the session's
/// `X-CSRF-Token` (403 without it), so that no other page can act in the person's name.
pub(crate) async fn principal(state: &AppState, req: &HttpRequest) -> Result<Principal, AppError> {
    let header = bearer(req)?;
    if header.is_none()
        && let Some(secret) = session_secret(req)
    {
        let now = state.clock.now();
        let found = state
            .db
            .read(move |conn| session::find(conn, &secret, now).map(|f| f.map(|f| (f, secret))))
            .await?
            .ok_or_else(|| AppError::unauthorized("the session has ended; sign in again"))?;
        let (found, secret) = found;
        if found.held_for_totp(state.settings.require_totp)
            && !req.path().starts_with("/api/v1/sessions/current")
        {
            return Err(AppError::forbidden(
                "this server requires administrators to use two-step sign-in: set it up first",
            ));
        }
        if !req.method().is_safe() {
            let given = req
                .headers()
                .get(session::CSRF_HEADER)
                .and_then(|v| v.to_str().ok());
            if !session::csrf_matches(&secret, given) {
                return Err(AppError::forbidden(format!(
                    "a change made with a session cookie needs its {} header",
                    session::CSRF_HEADER
                )));
            }
        }
        let principal = found.principal()?;
        record_use(state, &principal).await;
        return Ok(principal);
    }
    let directory = state.directory.clone();
    let principal = state
        .db
        .read(move |conn| auth::authenticate(conn, &directory, header.as_deref()))
        .await?;
    record_use(state, &principal).await;
    Ok(principal)
}

/// The session cookie's secret, if the request carries one.
pub(crate) fn session_secret(req: &HttpRequest) -> Option<String> {
    req.cookie(session::COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// A request made with a valid key of any role. A handler that takes one answers 401 without
/// it; what the key may do to a unit it asks [`crate::access`].
pub struct Caller(pub Principal);

/// A request made with an admin key: 401 without a key, 403 with a key of another role.
pub struct Admin(pub Principal);

type Extracted<T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, AppError>>>>;

impl actix_web::FromRequest for Caller {
    type Error = AppError;
    type Future = Extracted<Caller>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| AppError::internal("no application state"))?;
            principal(state, &req).await.map(Caller)
        })
    }
}

impl actix_web::FromRequest for Admin {
    type Error = AppError;
    type Future = Extracted<Admin>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            let Caller(caller) = caller.await?;
            crate::access::role(&caller, crate::access::Action::Administer)?;
            Ok(Admin(caller))
        })
    }
}

/// What a route with a `{unit}` in its path does to that unit: [`UnitScope`] checks it.
pub trait UnitAction {
    /// The action, as [`crate::access`] knows it.
    const ACTION: crate::access::Action;
}

/// Reads a unit: its populations and follow-up plans (and plans them).
pub struct Reads;
impl UnitAction for Reads {
    const ACTION: crate::access::Action = crate::access::Action::ReadUnit;
}

/// Runs a unit: services, keys, populations, settings.
pub struct Manages;
impl UnitAction for Manages {
    const ACTION: crate::access::Action = crate::access::Action::Manage;
}

/// Lists a unit's services.
pub struct ListsServices;
impl UnitAction for ListsServices {
    const ACTION: crate::access::Action = crate::access::Action::ListServices;
}

/// Issues a unit's receipt tokens and sheets.
pub struct IssuesTokens;
impl UnitAction for IssuesTokens {
    const ACTION: crate::access::Action = crate::access::Action::IssueTokens;
}

/// The unit a route's `{unit}` names, resolved to its stored code, on which the caller's key
/// may take `A`'s action: 401 without a valid key, and 403 or 404 as [`crate::access`] rules.
pub struct UnitScope<A> {
    /// The caller.
    pub caller: Principal,
    /// The unit's stored code.
    pub unit: String,
    action: std::marker::PhantomData<A>,
}

impl<A: UnitAction + 'static> actix_web::FromRequest for UnitScope<A> {
    type Error = AppError;
    type Future = Extracted<UnitScope<A>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        let given = req.match_info().get("unit").map(str::to_owned);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let Caller(caller) = caller.await?;
            let (Some(given), Some(state)) = (given, state) else {
                return Err(AppError::internal("a unit route without {unit} or state"));
            };
            let who = caller.clone();
            let unit = state
                .db
                .read(move |conn| crate::access::unit(conn, &who, A::ACTION, &given))
                .await?;
            Ok(UnitScope {
                caller,
                unit,
                action: std::marker::PhantomData,
            })
        })
    }
}

/// Writes down a key's or a session's last use, at most once a minute each (a session's is
/// what its idle expiry counts from).
pub(crate) async fn record_use(state: &AppState, principal: &Principal) {
    let now = state.clock.now();
    if let auth::Origin::Session { id_hash, .. } = &principal.origin {
        if principal.use_is_stale(now) {
            let id_hash = id_hash.clone();
            if let Err(e) = state
                .db
                .write(move |conn| session::touch(conn, &id_hash, now))
                .await
            {
                tracing::warn!(error = %e, "could not record a session's last use");
            }
        }
        return;
    }
    if principal.use_is_stale(now) {
        // Bookkeeping, at most once a minute per key: a failure is logged, never returned.
        let id = principal.key_id.clone();
        match state
            .db
            .write(move |conn| crate::db::queries::touch_key(conn, &id, now))
            .await
        {
            Ok(()) => state.directory.used(&principal.key_id, now),
            Err(e) => tracing::warn!(error = %e, "could not record a key's last use"),
        }
    }
}

/// The Authorization header, if any, as text.
pub(crate) fn bearer(req: &HttpRequest) -> Result<Option<String>, AppError> {
    req.headers()
        .get("authorization")
        .map(|v| {
            v.to_str()
                .map(str::to_owned)
                .map_err(|_| AppError::unauthorized("the Authorization header is not text"))
        })
        .transpose()
}

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let app = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            AppError::new(
                Kind::BodyTooLarge,
                format!("the body is larger than {} KiB", MAX_BODY / 1024),
            )
        }
        JsonPayloadError::ContentType => AppError::new(
            Kind::UnsupportedContentType,
            "send the body as Content-Type: application/json",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => crate::extract::deserialize_error(e),
        JsonPayloadError::Deserialize(e) => AppError::new(
            Kind::MalformedJson,
            format!("the body is not valid JSON: {e}"),
        ),
        other => AppError::new(Kind::BadBody, other.to_string()),
    };
    actix_web::error::InternalError::from_response(
        err,
        actix_web::ResponseError::error_response(&app),
    )
    .into()
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let message = err.to_string();
    let field = crate::extract::quoted_field(&message).unwrap_or_else(|| "query".to_owned());
    let app = AppError::field(field, message);
    actix_web::error::InternalError::from_response(
        err,
        actix_web::ResponseError::error_response(&app),
    )
    .into()
}

/// One route: added to the scope, with a payload limit of its own when one is given.
macro_rules! route {
    ($scope:expr, $method:ident, $path:literal, $handler:path) => {
        $scope.route($path, web::$method().to($handler))
    };
    ($scope:expr, $method:ident, $path:literal, $handler:path, $limit:expr) => {
        $scope.service(
            web::resource($path)
                .app_data(web::PayloadConfig::default().limit($limit))
                .route(web::$method().to($handler)),
        )
    };
}

/// The route table of `/api/v1`, written once: each line registers its handler and puts the
/// handler's `#[utoipa::path]` into the OpenAPI document, and [`ROUTES`] lists them for the
/// test that holds the two together.
macro_rules! api_routes {
    ($($method:ident $path:literal => $handler:path $([payload $limit:expr])?),* $(,)?) => {
        /// Every route under `/api/v1` as (method, path), in the order they are tried.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), concat!("/api/v1", $path))),*];

        /// The `/api/v1` scope.
        fn api_scope() -> actix_web::Scope {
            let scope = web::scope("/api/v1");
            $(let scope = route!(scope, $method, $path, $handler $(, $limit)?);)*
            scope
        }

        /// The OpenAPI document of every endpoint.
        #[derive(utoipa::OpenApi)]
        #[openapi(
            info(title = "kepuasan", description = "Survei Kepuasan Masyarakat collection and the IKM of PermenPAN-RB 14/2017. See docs/api.md for how kiosks, receipt printers and queue systems integrate."),
            paths(healthz, readyz, metrics, $($handler),*),
            modifiers(&BearerAuth),
        )]
        pub struct ApiDoc;
    };
}

// Routes are tried in order, the dynamic ones by regular expression: the submission route, the
// busiest by far, comes first.
api_routes! {
    post "/responses" => responses::submit,
    get "/instruments" => list_instruments,
    get "/instruments/{key}" => get_instrument,
    post "/units" => admin::create_unit,
    get "/units" => admin::list_units,
    patch "/units/{unit}" => admin::update_unit,
    post "/units/{unit}/services" => admin::create_service,
    get "/units/{unit}/services" => admin::list_services,
    patch "/units/{unit}/services/{service}" => admin::update_service,
    get "/units/{unit}/populations" => admin::list_populations,
    put "/units/{unit}/populations/{period}" => admin::set_population,
    post "/populations" => admin::import_populations,
    post "/units/{unit}/follow-ups" => followups::create,
    get "/units/{unit}/follow-ups" => followups::list,
    patch "/follow-ups/{id}" => followups::update,
    patch "/suggestions/{id}" => followups::note_suggestion,
    post "/keys" => admin::create_key,
    get "/keys" => admin::list_keys,
    get "/me" => admin::me,
    delete "/keys/{id}" => admin::revoke_key,
    post "/units/{unit}/receipt-tokens" => tokens::issue,
    post "/units/{unit}/receipt-sheets" => tokens::sheet,
    post "/units/{unit}/signing-secret" => tokens::signing_secret,
    post "/imports" => imports::import [payload imports::MAX_FILE],
    get "/reports/ikm" => reports::ikm,
    get "/reports/ikm/chart/{kind}" => reports::chart,
    get "/units/{unit}/report-narrative/{period}" => reports::narrative,
    put "/units/{unit}/report-narrative/{period}" => reports::save_narrative,
    post "/kiosks/heartbeat" => kiosks::heartbeat,
    get "/kiosks" => kiosks::list,
    post "/sessions" => sessions::sign_in,
    get "/sessions/current" => sessions::current,
    delete "/sessions/current" => sessions::sign_out,
    post "/sessions/current/totp" => sessions::begin_totp,
    put "/sessions/current/totp" => sessions::confirm_totp,
    post "/users" => people::add,
    get "/users" => people::list,
    patch "/users/{username}" => people::change,
    get "/audit" => people::audit_log,
    put "/units/{unit}/logo" => admin::put_logo,
    get "/units/{unit}/logo" => admin::get_logo,
    put "/units/{unit}/ombudsman/{year}" => admin::put_ombudsman,
    get "/units/{unit}/ombudsman" => admin::list_ombudsman,
    post "/webhooks" => webhooks::create,
    get "/webhooks" => webhooks::list,
    delete "/webhooks/{id}" => webhooks::remove,
    get "/webhooks/{id}/deliveries" => webhooks::deliveries,
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi_json() -> HttpResponse {
    use utoipa::OpenApi;
    HttpResponse::Ok().json(ApiDoc::openapi())
}
