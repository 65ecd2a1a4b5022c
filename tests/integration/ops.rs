//! Operations: readiness, metrics, logs that keep receipt tokens out, and backups.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::both_backends;
use crate::common::*;

async fn readiness_needs_the_database_and_every_migration(app: TestApp) {
    let svc = app.service().await;
    let (status, body) = send(&svc, get("/readyz", None)).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
    // Take the migrations back: the service is alive but not ready.
    let kind = kepuasan::db::DbKind::from_url(&app.state.settings.database_url).unwrap();
    kepuasan::db::revert_all(&kind).unwrap();
    let (status, body) = send(&svc, get("/readyz", None)).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("kepuasan migrate")
    );
    assert_eq!(send(&svc, get("/healthz", None)).await.0, 200);
}

async fn metrics_count_requests_and_submissions_by_channel(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let body = submission("unit-a", [4; 9]);
    for _ in 0..2 {
        send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &body)).await;
    }
    let mut bad = submission("unit-a", [4; 9]);
    bad["answers"]["U1"] = json!(9);
    assert_eq!(
        send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &bad))
            .await
            .0,
        422
    );
    let resp = actix_web::test::call_service(&svc, get("/metrics", None).to_request()).await;
    assert!(
        resp.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(actix_web::test::read_body(resp).await.to_vec()).unwrap();
    for line in [
        "kepuasan_submissions_total{channel=\"kiosk\",outcome=\"created\"} 1",
        "kepuasan_submissions_total{channel=\"kiosk\",outcome=\"duplicate\"} 1",
        "kepuasan_submissions_total{channel=\"kiosk\",outcome=\"refused\"} 1",
        "kepuasan_http_requests_total{method=\"POST\",route=\"/api/v1/responses\",status=\"201\"} 1",
        "kepuasan_http_requests_total{method=\"POST\",route=\"/api/v1/responses\",status=\"422\"} 1",
        "kepuasan_http_request_duration_seconds_count{route=\"/api/v1/responses\"} 3",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
    assert!(text.contains("kepuasan_db_connections{pool=\"write\",state=\"idle\"}"));
}

both_backends!(
    readiness_needs_the_database_and_every_migration,
    metrics_count_requests_and_submissions_by_channel,
);

pub(crate) fn cli(db: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kepuasan"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("KEPUASAN_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The server on `db`, logging JSON at level info to a file: (process, address, log file).
fn json_log_server(
    dir: &tempfile::TempDir,
    db: &str,
) -> (std::process::Child, String, std::path::PathBuf) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let log_path = dir.path().join("server.log");
    let server = Command::new(env!("CARGO_BIN_EXE_kepuasan"))
        .arg("serve")
        .env("DATABASE_URL", db)
        .env("KEPUASAN_BIND", &bind)
        .env("KEPUASAN_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("KEPUASAN_CONFIG")
        .env_remove("KEPUASAN_PUBLIC_URL")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("http://{bind}/healthz")).send().is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, bind, log_path)
}

/// A new database at `db` with an admin key (returned) and the unit `u1`.
fn admin_and_unit(db: &str) -> String {
    let admin = cli(db, &["keys", "create", "--role", "admin"])
        .lines()
        .last()
        .unwrap()
        .to_owned();
    cli(db, &["units", "add", "u1", "--name", "Unit Satu"]);
    admin
}

/// Stops the server and returns its log.
fn stop_and_read(mut server: std::process::Child, log_path: &std::path::Path) -> String {
    std::thread::sleep(Duration::from_millis(200));
    server.kill().unwrap();
    server.wait().unwrap();
    let mut log = String::new();
    std::fs::File::open(log_path)
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    log
}

#[test]
fn a_500_is_logged_once_with_its_cause_and_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bug.db").to_str().unwrap().to_owned();
    let admin = admin_and_unit(&db);
    // A time zone no check would let in, as a hand edit of the database leaves it.
    {
        use diesel::RunQueryDsl;
        let store = kepuasan::db::Db::open(&db).unwrap();
        store
            .write_blocking(|conn| match conn {
                kepuasan::db::DbConn::Sqlite(c) => {
                    diesel::sql_query("UPDATE units SET timezone = 'Mars/Base' WHERE code = 'u1'")
                        .execute(c)
                        .map_err(kepuasan::error::AppError::from)
                }
                kepuasan::db::DbConn::Postgres(_) => unreachable!("a SQLite file"),
            })
            .unwrap();
    }
    let (server, bind, log_path) = json_log_server(&dir, &db);
    let answer = reqwest::blocking::Client::new()
        .get(format!(
            "http://{bind}/api/v1/reports/ikm?unit=u1&period=2025-Q3"
        ))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(answer.status(), 500);
    let request_id = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = answer.json().unwrap();
    assert_eq!(body["error"], "internal");
    assert!(
        !body.to_string().contains("Mars"),
        "the cause stays out of the body: {body}"
    );
    let log = stop_and_read(server, &log_path);
    let errors: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["level"] == "ERROR")
        .collect();
    assert_eq!(errors.len(), 1, "logged once:\n{log}");
    assert_eq!(
        errors[0]["fields"]["request_id"],
        request_id.as_str(),
        "{log}"
    );
    assert!(
        errors[0]["fields"]["cause"]
            .as_str()
            .is_some_and(|c| c.contains("bad time zone")),
        "{log}"
    );
}

#[test]
fn the_server_log_is_json_on_request_and_never_holds_a_receipt_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db").to_str().unwrap().to_owned();
    let admin = admin_and_unit(&db);
    let (server, bind, log_path) = json_log_server(&dir, &db);
    let client = reqwest::blocking::Client::new();
    // Without KEPUASAN_PUBLIC_URL, a receipt asked for at a loopback address is refused, saying
    // why; asked for at the address people reach, it carries that address (issue 29).
    let refused = client
        .post(format!("http://{bind}/api/v1/units/u1/receipt-tokens"))
        .bearer_auth(&admin)
        .json(&json!({}))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 409);
    let said: serde_json::Value = refused.json().unwrap();
    assert!(
        said["message"]
            .as_str()
            .unwrap()
            .contains("KEPUASAN_PUBLIC_URL"),
        "{said}"
    );
    let issued: serde_json::Value = client
        .post(format!("http://{bind}/api/v1/units/u1/receipt-tokens"))
        .header("Host", "skm.dinas.example.go.id")
        .bearer_auth(&admin)
        .json(&json!({}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = issued["token"].as_str().unwrap().to_owned();
    let page = client
        .get(format!("http://{bind}/s/{token}"))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    std::thread::sleep(Duration::from_millis(200));
    let log = stop_and_read(server, &log_path);
    assert!(!log.contains(&token), "the token is in the log:\n{log}");
    assert!(!log.contains(&admin), "the key is in the log");
    let requests: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|v: &serde_json::Value| v["target"] == "kepuasan::http")
        .collect();
    assert!(
        requests
            .iter()
            .any(|r| r["fields"]["path"] == "/s/[token]" && r["fields"]["status"] == 200),
        "{log}"
    );
    // Served without KEPUASAN_PUBLIC_URL, the receipt carries the address it was asked at; the
    // server said when it started that the setting is missing.
    assert!(
        issued["url"]
            .as_str()
            .unwrap()
            .starts_with("http://skm.dinas.example.go.id/s/"),
        "{issued}"
    );
    assert!(
        log.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .any(|v| v["level"] == "WARN"
                && v["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("KEPUASAN_PUBLIC_URL"))),
        "no warning about the public address:\n{log}"
    );
}

#[test]
fn a_backup_is_a_consistent_copy_that_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db").to_str().unwrap().to_owned();
    cli(&db, &["units", "add", "u1", "--name", "Unit Satu"]);
    let copy = dir.path().join("copy's.db");
    let copy = copy.to_str().unwrap();
    cli(&db, &["backup", copy]);
    assert!(cli(copy, &["units", "list"]).contains("\"Unit Satu\""));
    let again = Command::new(env!("CARGO_BIN_EXE_kepuasan"))
        .args(["backup", copy])
        .env("DATABASE_URL", &db)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("cadangan tidak pernah menimpa berkas")
    );
}
