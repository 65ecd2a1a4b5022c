//! TestApp: the real state and routes over a fresh SQLite file or a fresh PostgreSQL database
//! (a copy of a migrated template database).

use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test;
use chrono::NaiveDateTime;
use diesel::{Connection, RunQueryDsl};
use kepuasan::auth::{NewKey, Role, create_key};
use kepuasan::config::Settings;
use kepuasan::state::{AppState, FixedClock};
use serde_json::Value;

/// Whether tests that need PostgreSQL or Chromium must run rather than skip.
pub fn require_all() -> bool {
    std::env::var("KEPUASAN_REQUIRE_ALL").is_ok_and(|v| v == "1")
}

/// The PostgreSQL server the tests use.
pub fn pg_base() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Whether this is the full run (`scripts/test`, and so CI, set `KEPUASAN_FULL=1`): the fault,
/// process and browser tests take minutes between them, so a plain `cargo test` (the quick loop
/// of a change) leaves them out, saying so; `scripts/test` always runs them.
pub fn full_run() -> bool {
    std::env::var("KEPUASAN_FULL").is_ok_and(|v| v == "1")
}

/// Leaves the calling test out of a quick run (see [`full_run`]); true when it should stop.
pub fn quick_run_skips(what: &str) -> bool {
    if full_run() {
        return false;
    }
    skip(&format!(
        "{what} runs in the full run: scripts/test (KEPUASAN_FULL=1)"
    ));
    true
}

/// Skips (or, under KEPUASAN_REQUIRE_ALL=1, fails) with a reason.
pub fn skip(reason: &str) {
    assert!(!require_all(), "KEPUASAN_REQUIRE_ALL=1 but {reason}");
    println!("SKIPPED: {reason}");
}

/// A PostgreSQL database made for one test and dropped after it.
pub struct PgDatabase {
    pub url: String,
    name: String,
}

impl PgDatabase {
    /// An empty database (for the tests of the migrations themselves).
    pub fn create() -> Option<PgDatabase> {
        PgDatabase::make(None)
    }

    /// A database with every migration applied: a copy of the migrated template ([`template`]),
    /// which takes a fraction of the time the migrations do.
    pub fn migrated() -> Option<PgDatabase> {
        let Some(template) = template() else {
            skip(&format!("PostgreSQL is not reachable at {}", pg_base()));
            return None;
        };
        PgDatabase::make(Some(&template))
    }

    fn make(template: Option<&str>) -> Option<PgDatabase> {
        let base = pg_base();
        let mut admin = match diesel::PgConnection::establish(&base) {
            Ok(c) => c,
            Err(e) => {
                skip(&format!("PostgreSQL is not reachable at {base}: {e}"));
                return None;
            }
        };
        let name = format!("kepuasan_test_{}", uuid::Uuid::new_v4().simple());
        let from = template.map_or_else(String::new, |t| format!(" TEMPLATE {t}"));
        diesel::sql_query(format!("CREATE DATABASE {name}{from}"))
            .execute(&mut admin)
            .expect("create test database");
        Some(PgDatabase {
            url: pg_url(&name),
            name,
        })
    }
}

/// The URL of a database on the tests' PostgreSQL server.
fn pg_url(name: &str) -> String {
    let base = pg_base();
    let (prefix, _) = base.rsplit_once('/').expect("URL with a database");
    format!("{prefix}/{name}")
}

/// The migrated database every PostgreSQL test's own is copied from, as crates.io's tests do:
/// named for the migrations it holds (a changed migration makes a new one), built once by
/// whichever test process comes first (the others wait on an advisory lock, then find it), and
/// published by a rename only when complete. `None` when PostgreSQL is not reachable.
fn template() -> Option<String> {
    static TEMPLATE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let mut admin = diesel::PgConnection::establish(&pg_base()).ok()?;
            let name = format!("kepuasan_template_{}", &migrations_digest()[..16]);
            diesel::sql_query("SELECT pg_advisory_lock(726300117)")
                .execute(&mut admin)
                .expect("lock");
            #[derive(diesel::QueryableByName)]
            struct Found {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let found: Found = diesel::sql_query(format!(
                "SELECT COUNT(*) AS n FROM pg_database WHERE datname = '{name}'"
            ))
            .get_result(&mut admin)
            .expect("look for the template");
            if found.n == 0 {
                let building = format!("{name}_building");
                for sql in [
                    format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
                    format!("CREATE DATABASE {building}"),
                ] {
                    diesel::sql_query(sql)
                        .execute(&mut admin)
                        .expect("template");
                }
                let kind = kepuasan::db::DbKind::from_url(&pg_url(&building)).expect("a URL");
                kepuasan::db::migrate(&kind).expect("migrate the template");
                diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .execute(&mut admin)
                    .expect("publish the template");
            }
            diesel::sql_query("SELECT pg_advisory_unlock(726300117)")
                .execute(&mut admin)
                .expect("unlock");
            Some(name)
        })
        .clone()
}

/// A digest of the PostgreSQL migrations: their paths and contents.
fn migrations_digest() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("migrations") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut all = String::new();
    for path in files {
        all.push_str(&path.strip_prefix(&root).unwrap().display().to_string());
        all.push_str(&std::fs::read_to_string(&path).expect("a migration"));
    }
    kepuasan::auth::sha256_hex(&all)
}

impl PgDatabase {
    /// Drops the database now, cutting every connection to it.
    pub fn drop_now(&self) {
        if let Ok(mut admin) = diesel::PgConnection::establish(&pg_base()) {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = diesel::sql_query(sql).execute(&mut admin);
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        self.drop_now();
    }
}

/// Where a test's database lives.
#[allow(dead_code, reason = "held only for its Drop")]
pub enum Place {
    Sqlite(tempfile::TempDir),
    Postgres(PgDatabase),
}

pub struct TestApp {
    pub state: AppState,
    pub clock: Arc<FixedClock>,
    pub admin: String,
    /// Keeps the database alive until the test ends; dropped with it.
    pub _place: Place,
}

pub fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("test time")
}

impl TestApp {
    fn build_with(url: String, place: Place, change: impl FnOnce(&mut Settings)) -> TestApp {
        let clock = Arc::new(FixedClock::at(at("2025-08-15 03:00:00")));
        let mut settings = Settings {
            database_url: url,
            bind: "127.0.0.1:0".into(),
            survey_defs: None,
            secret: Some("integration-test-master-secret".into()),
            // As a deployment sets KEPUASAN_PUBLIC_URL (the default address, said to be chosen).
            public_url_configured: true,
            // Webhook receivers of the tests listen on loopback; the names of the tests that
            // check scopes and fields resolve nowhere.
            webhook_allow: kepuasan::domain::destinations::Allow::parse(
                "127.0.0.1,skm.example.go.id,example.go.id",
            )
            .unwrap(),
            ..Default::default()
        };
        change(&mut settings);
        let state = kepuasan::server::state(settings, clock.clone()).expect("state");
        state.start_signals();
        let (_, admin) = state
            .db
            .write_blocking(|c| {
                create_key(
                    c,
                    &NewKey {
                        role: Role::Admin,
                        units: vec![],
                        name: "test admin".into(),
                    },
                    at("2025-01-01 00:00:00"),
                )
            })
            .unwrap();
        TestApp {
            state,
            clock,
            admin,
            _place: place,
        }
    }

    pub fn sqlite() -> TestApp {
        TestApp::sqlite_with(|_| {})
    }

    /// A SQLite app with some settings changed.
    pub fn sqlite_with(change: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.db").to_str().unwrap().to_owned();
        TestApp::build_with(path, Place::Sqlite(dir), change)
    }

    pub fn postgres() -> Option<TestApp> {
        TestApp::postgres_with(|_| {})
    }

    /// A PostgreSQL app with some settings changed.
    pub fn postgres_with(change: impl FnOnce(&mut Settings)) -> Option<TestApp> {
        let db = PgDatabase::migrated()?;
        Some(TestApp::build_with(
            db.url.clone(),
            Place::Postgres(db),
            change,
        ))
    }

    pub async fn service(
        &self,
    ) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>
    {
        test::init_service(kepuasan::api::app(self.state.clone())).await
    }

    /// Creates a key directly and returns its secret.
    pub fn key(&self, role: Role, units: &[&str]) -> String {
        let new = NewKey {
            role,
            units: units.iter().map(|u| (*u).to_owned()).collect(),
            name: format!("test {role}"),
        };
        self.state
            .db
            .write_blocking(|c| create_key(c, &new, at("2025-01-01 00:00:00")))
            .unwrap()
            .1
    }

    pub fn response_count(&self) -> i64 {
        self.state
            .db
            .read_blocking(kepuasan::db::queries::count_responses)
            .unwrap()
    }
}

/// The codes of a report's notices.
pub fn notice_codes(report: &Value) -> Vec<String> {
    report["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The service under test, as helpers take it.
pub trait Svc:
    Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>
{
}

impl<S> Svc for S where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>
{
}

/// Sends a request and returns status and JSON body (Null when the body is empty).
pub async fn send<S>(app: &S, req: test::TestRequest) -> (u16, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status().as_u16();
    let bytes = test::read_body(resp).await;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, body)
}

/// The JSON body a GET with `key` answers, whatever its status (a report, say).
pub async fn get_body<S>(app: &S, path: &str, key: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    send(app, get(path, Some(key))).await.1
}

/// Unit A's respondents and IKM in a period, as the JSON report gives them.
pub async fn unit_a_ikm<S>(app: &S, period: &str, key: &str) -> (Option<u64>, Option<f64>)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let path = format!("/api/v1/reports/ikm?unit=unit-a&period={period}");
    let r = get_body(app, &path, key).await;
    (r["respondents"].as_u64(), r["ikm"].as_f64())
}

/// An empty request of an HTTP method named in lower case, as `kepuasan::api::ROUTES` names it.
pub fn method(name: &str) -> test::TestRequest {
    match name {
        "get" => test::TestRequest::get(),
        "post" => test::TestRequest::post(),
        "put" => test::TestRequest::put(),
        "patch" => test::TestRequest::patch(),
        "delete" => test::TestRequest::delete(),
        other => panic!("method {other}"),
    }
}

pub fn get(path: &str, key: Option<&str>) -> test::TestRequest {
    with_key(test::TestRequest::get().uri(path), key)
}

pub fn post(path: &str, key: Option<&str>, body: &Value) -> test::TestRequest {
    with_key(test::TestRequest::post().uri(path).set_json(body), key)
}

pub fn with_key(req: test::TestRequest, key: Option<&str>) -> test::TestRequest {
    match key {
        Some(k) => req.insert_header(("Authorization", format!("Bearer {k}"))),
        None => req,
    }
}

/// The configuration a page embeds for its script (`<script id="kepuasan-config">`): on the
/// survey pages, the unit, its services and the form ticket.
pub async fn page_config<S>(app: &S, path: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let (status, config) = page_status_and_config(app, path).await;
    assert_eq!(status, 200, "{path}");
    config
}

/// A page's status and the configuration it embeds, whatever the status.
pub async fn page_status_and_config<S>(app: &S, path: &str) -> (u16, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    page_config_of(app, get(path, None)).await
}

/// The status and embedded configuration of the page a request asks for.
pub async fn page_config_of<S>(app: &S, req: test::TestRequest) -> (u16, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let (status, page) = send(app, req).await;
    let html = page.as_str().expect("a page").to_owned();
    let start = html
        .find("id=\"kepuasan-config\">")
        .expect("the page's configuration")
        + "id=\"kepuasan-config\">".len();
    let end = start
        + html[start..]
            .find("</script>")
            .expect("the end of the configuration");
    (
        status,
        serde_json::from_str(&html[start..end]).expect("JSON configuration"),
    )
}

/// Lets `unit` take responses through its open link (`/u/{unit}`).
pub async fn allow_open_link<S>(app: &S, admin: &str, unit: &str)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let patch = test::TestRequest::patch()
        .uri(&format!("/api/v1/units/{unit}"))
        .set_json(serde_json::json!({"open_link": true}));
    let (status, body) = send(app, with_key(patch, Some(admin))).await;
    assert_eq!(status, 200, "{body}");
}

/// A submission through the open link of `unit`, with the form ticket of the page `/u/{unit}`.
pub async fn open_link_submission<S>(app: &S, unit: &str, answers: [i64; 9]) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    // Each phone loads the page from an address of its own (form tickets are limited per
    // address and minute).
    let phone: std::net::SocketAddr = format!(
        "127.{}.{}.{}:40000",
        rand_octet(),
        rand_octet(),
        rand_octet()
    )
    .parse()
    .unwrap();
    let (status, config) =
        page_config_of(app, get(&format!("/u/{unit}"), None).peer_addr(phone)).await;
    assert_eq!(status, 200);
    let mut body = submission(unit, answers);
    body["channel"] = Value::from("web");
    body["ticket"] = config["ticket"].clone();
    assert!(body["ticket"].is_string(), "no ticket in {config}");
    body
}

fn rand_octet() -> u8 {
    (uuid::Uuid::new_v4().as_u128() % 250) as u8 + 1
}

/// A complete valid submission.
pub fn submission(unit: &str, answers: [i64; 9]) -> Value {
    let codes = ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"];
    let answers: serde_json::Map<String, Value> = codes
        .iter()
        .zip(answers)
        .map(|(c, v)| ((*c).to_owned(), Value::from(v)))
        .collect();
    serde_json::json!({
        "submission_id": uuid::Uuid::new_v4().to_string(),
        "unit": unit,
        "instrument": "skm-2017",
        "channel": "kiosk",
        "answers": answers,
    })
}

/// Runs an async test body against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::common::TestApp::sqlite()).await;
                }
                #[actix_web::test]
                async fn postgres() {
                    if let Some(app) = $crate::common::TestApp::postgres() {
                        super::$name(app).await;
                    }
                }
            }
        )*
    };
}
