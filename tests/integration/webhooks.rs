//! Same-day signals (issue 16): webhooks delivered to a real HTTP receiver on loopback, signed,
//! retried after the receiver was down, never slowing a submission; and the events that fire
//! them (a low response, a suggestion, a tablet gone quiet, a unit's week a grade down).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::both_backends;
use crate::common::*;

const SECRET: &str = "rahasia-webhook-unit-a";

/// One request a receiver took: its headers (names in lower case) and body.
type Taken = (Vec<(String, String)>, String);

/// A webhook receiver on loopback: answers 200 to every POST, or holds the connection
/// without answering when `hang` (a receiver that is up but never replies).
struct Receiver {
    url: String,
    taken: Arc<Mutex<Vec<Taken>>>,
}

impl Receiver {
    fn on(port: u16, hang: bool) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let taken = Arc::new(Mutex::new(Vec::new()));
        let shared = taken.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(1000) {
                let Ok(mut stream) = stream else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut headers = Vec::new();
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some((k, v)) = line.trim_end().split_once(':') {
                            headers.push((k.trim().to_lowercase(), v.trim().to_owned()));
                        }
                    }
                    let length: usize = headers
                        .iter()
                        .find(|(k, _)| k == "content-length")
                        .map_or(0, |(_, v)| v.parse().unwrap());
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    shared
                        .lock()
                        .unwrap()
                        .push((headers, String::from_utf8(body).unwrap()));
                    if hang {
                        std::thread::sleep(Duration::from_secs(30));
                    } else {
                        let _ = stream.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                    }
                });
            }
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/kepuasan"),
            taken,
        }
    }

    fn any(hang: bool) -> Receiver {
        Receiver::on(0, hang)
    }

    /// The bodies taken of an event, waiting up to `within` for at least `n`.
    fn wait_for(&self, event: &str, n: usize, within: Duration) -> Vec<Taken> {
        let started = Instant::now();
        loop {
            let of: Vec<Taken> = self
                .taken
                .lock()
                .unwrap()
                .iter()
                .filter(|(h, _)| h.iter().any(|(k, v)| k == "x-kepuasan-event" && v == event))
                .cloned()
                .collect();
            if of.len() >= n || started.elapsed() > within {
                return of;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn header<'a>(taken: &'a Taken, name: &str) -> &'a str {
    taken
        .0
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The signature a receiver expects, computed here from the secret and the body.
fn signed(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

async fn hook<S>(svc: &S, key: &str, body: Value) -> (u16, Value)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    send(svc, post("/api/v1/webhooks", Some(key), &body)).await
}

async fn deliveries<S>(svc: &S, key: &str, id: &str) -> Vec<Value>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    get_body(svc, &format!("/api/v1/webhooks/{id}/deliveries"), key)
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// A webhook's deliveries once the first has been attempted (or after 20 s, whatever they are).
async fn attempted<S>(svc: &S, key: &str, id: &str) -> Vec<Value>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let started = Instant::now();
    loop {
        let seen = deliveries(svc, key, id).await;
        if seen
            .first()
            .is_some_and(|d| d["attempts"].as_i64() >= Some(1))
            || started.elapsed() > Duration::from_secs(20)
        {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn submit<S>(svc: &S, key: &str, unit: &str, answers: [i64; 9], extra: Value)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let mut body = submission(unit, answers);
    body["channel"] = json!("kiosk");
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, answer) = send(svc, post("/api/v1/responses", Some(key), &body)).await;
    assert_eq!(status, 201, "{answer}");
}

async fn a_low_response_is_delivered_signed_and_a_receiver_that_was_down_gets_it_later(
    app: TestApp,
) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let receiver = Receiver::any(false);
    let (status, created) = hook(
        &svc,
        &w.admin,
        json!({"url": receiver.url, "events": ["response.low", "suggestion.new"], "secret": SECRET, "unit": "unit-a"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert!(
        created.get("secret").is_none(),
        "the secret is never shown: {created}"
    );
    assert_eq!(created["threshold"], 50);
    let id = created["id"].as_str().unwrap().to_owned();

    // A good response at unit-a, a low one at unit-b (not watched), then a low one at unit-a
    // with a suggestion: all ones, its own IKM 1 × 25 = 25, below 50.
    submit(&svc, &w.kiosk_mpp, "unit-a", [4; 9], json!({})).await;
    submit(&svc, &w.kiosk_mpp, "unit-b", [1; 9], json!({})).await;
    let sent = Instant::now();
    submit(
        &svc,
        &w.kiosk_mpp,
        "unit-a",
        [1; 9],
        json!({"suggestion": "Antrean terlalu lama.", "service": "ktp-el"}),
    )
    .await;
    let low = receiver.wait_for("response.low", 1, Duration::from_secs(5));
    assert_eq!(low.len(), 1, "a low response delivered within 5 s");
    assert!(sent.elapsed() < Duration::from_secs(5));
    let (_, body) = &low[0];
    assert_eq!(header(&low[0], "x-kepuasan-signature"), signed(body));
    assert_eq!(header(&low[0], "content-type"), "application/json");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["event"], "response.low");
    assert_eq!(body["unit"], "unit-a");
    assert_eq!(body["unit_name"], "Disdukcapil Jayapura");
    assert_eq!(body["data"]["ikm"], 25.0);
    assert_eq!(body["data"]["threshold"], 50);
    assert_eq!(body["data"]["service"], "ktp-el");
    assert_eq!(
        header(&low[0], "x-kepuasan-delivery"),
        body["id"].as_str().unwrap()
    );
    let suggestion = receiver.wait_for("suggestion.new", 1, Duration::from_secs(5));
    assert_eq!(suggestion.len(), 1);
    let text: Value = serde_json::from_str(&suggestion[0].1).unwrap();
    assert_eq!(text["data"]["text"], "Antrean terlalu lama.");
    // Nothing for the good response or for unit-b: only these two, each once.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(receiver.taken.lock().unwrap().len(), 2);
    let listed = deliveries(&svc, &w.admin, &id).await;
    assert_eq!(listed.len(), 2);
    for d in &listed {
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["last_status"], 200);
    }

    // A receiver that is down: the attempt fails and is recorded; a minute later, with the
    // receiver back, the delivery arrives.
    let port = crate::crash::free_port();
    let (status, down) = hook(
        &svc,
        &w.admin,
        json!({"url": format!("http://127.0.0.1:{port}/kepuasan"), "events": ["response.low"], "secret": SECRET, "unit": "unit-a"}),
    )
    .await;
    assert_eq!(status, 201);
    let down = down["id"].as_str().unwrap().to_owned();
    submit(&svc, &w.kiosk_mpp, "unit-a", [1; 9], json!({})).await;
    let started = Instant::now();
    let failed = loop {
        let listed = deliveries(&svc, &w.admin, &down).await;
        if listed.first().is_some_and(|d| d["attempts"] == 1) {
            break listed[0].clone();
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{listed:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed["status"], "pending");
    assert_eq!(failed["last_error"], "the receiver could not be reached");
    let back = Receiver::on(port, false);
    app.clock.set(at("2025-08-15 03:01:01"));
    let late = back.wait_for("response.low", 1, Duration::from_secs(5));
    assert_eq!(late.len(), 1, "delivered once the receiver is back");
    assert_eq!(header(&late[0], "x-kepuasan-signature"), signed(&late[0].1));
    let listed = deliveries(&svc, &w.admin, &down).await;
    assert_eq!(listed[0]["status"], "delivered", "{listed:?}");
    assert_eq!(listed[0]["attempts"], 2);
}

async fn webhooks_are_checked_scoped_and_removed(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let manager = app.key(kepuasan::auth::Role::Manager, &["unit-a"]);
    let good = json!({"url": "https://skm.example.go.id/hook", "events": ["unit.drop"], "secret": SECRET, "unit": "unit-a"});
    for (change, field) in [
        (json!({"url": "ftp://example.com/x"}), "url"),
        (json!({"url": "https://"}), "url"),
        (json!({"events": ["response.slow"]}), "events"),
        (json!({"events": []}), "events"),
        (json!({"secret": "short"}), "secret"),
        (json!({"threshold": 101}), "threshold"),
    ] {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, err) = hook(&svc, &w.admin, body).await;
        assert_eq!(status, 422, "{err}");
        assert!(err["fields"][field].is_string(), "{field} in {err}");
    }
    // Without a mail server in the settings, nothing can be mailed.
    let mut mailed = good.clone();
    mailed["url"] = json!("mailto:kepala@example.go.id");
    let (status, err) = hook(&svc, &w.admin, mailed).await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["fields"]["url"]
            .as_str()
            .unwrap()
            .contains("KEPUASAN_SMTP_URL"),
        "{err}"
    );
    // A manager watches the units it runs, never every unit, never another's.
    let mut every = good.clone();
    every.as_object_mut().unwrap().remove("unit");
    let (status, err) = hook(&svc, &manager, every.clone()).await;
    assert_eq!(status, 422, "{err}");
    assert!(err["fields"]["unit"].is_string());
    let mut other = good.clone();
    other["unit"] = json!("unit-b");
    assert_eq!(hook(&svc, &manager, other).await.0, 403);
    assert_eq!(hook(&svc, &w.viewer_a, good.clone()).await.0, 403);
    let (status, mine) = hook(&svc, &manager, good.clone()).await;
    assert_eq!(status, 201, "{mine}");
    let (status, all) = hook(&svc, &w.admin, every).await;
    assert_eq!(status, 201, "{all}");
    assert_eq!(all["unit"], Value::Null);
    // Each sees its own: the manager not the administrator's every-unit webhook.
    let seen = get_body(&svc, "/api/v1/webhooks", &manager).await;
    assert_eq!(seen.as_array().unwrap().len(), 1, "{seen}");
    assert_eq!(
        get_body(&svc, "/api/v1/webhooks", &w.admin)
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (status, _) = send(
        &svc,
        get(
            &format!(
                "/api/v1/webhooks/{}/deliveries",
                all["id"].as_str().unwrap()
            ),
            Some(&manager),
        ),
    )
    .await;
    assert_eq!(
        status, 404,
        "the administrator's webhook is not the manager's to read"
    );
    // Removed: listed as inactive, sent nothing more; the change is in the audit log.
    let (status, removed) = send(
        &svc,
        with_key(
            TestRequest::delete().uri(&format!(
                "/api/v1/webhooks/{}",
                mine["id"].as_str().unwrap()
            )),
            Some(&manager),
        ),
    )
    .await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed["active"], false);
    let log = get_body(&svc, "/api/v1/audit?action=webhook", &w.admin).await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "webhook.create").count(),
        2
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "webhook.remove").count(),
        1
    );
    assert!(
        !log.to_string().contains(SECRET),
        "no secret in the audit log"
    );
}

async fn a_quiet_tablet_and_a_week_a_grade_down_fire_their_events(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    // The previous quarter at unit-a: all fours, 100,00, A.
    app.clock.set(at("2025-05-10 02:00:00"));
    for _ in 0..3 {
        submit(&svc, &w.kiosk_mpp, "unit-a", [4; 9], json!({})).await;
    }
    // A Friday in August, 10:00 in Jayapura (01:00 UTC): the tablet reports in.
    app.clock.set(at("2025-08-15 01:00:00"));
    let beat = json!({"device_id": "tablet-lobby", "page_version": "v1", "waiting": 2});
    let (status, _) = send(
        &svc,
        post("/api/v1/kiosks/heartbeat", Some(&w.kiosk_mpp), &beat),
    )
    .await;
    assert_eq!(status, 204);
    let receiver = Receiver::any(false);
    let (status, _) = hook(
        &svc,
        &w.admin,
        json!({"url": receiver.url, "events": ["kiosk.offline", "unit.drop"], "secret": SECRET, "unit": "mpp-jpr"}),
    )
    .await;
    assert_eq!(status, 201);
    // This week, thirty responses of all twos: 50,00, D (below 65,00), three grades down.
    for _ in 0..30 {
        submit(&svc, &w.kiosk_mpp, "unit-a", [2; 9], json!({})).await;
    }
    // Ten minutes of silence in service hours: the tablet is late.
    app.clock.set(at("2025-08-15 01:10:00"));
    let offline = receiver.wait_for("kiosk.offline", 1, Duration::from_secs(5));
    assert_eq!(offline.len(), 1);
    let body: Value = serde_json::from_str(&offline[0].1).unwrap();
    assert_eq!(body["data"]["device_id"], "tablet-lobby");
    assert_eq!(body["data"]["waiting"], 2);
    assert_eq!(
        header(&offline[0], "x-kepuasan-signature"),
        signed(&offline[0].1)
    );
    // unit-a fell, and with it the MPP that pools it; unit-b had no responses this week.
    let drop = receiver.wait_for("unit.drop", 2, Duration::from_secs(5));
    let mut units: Vec<Value> = drop
        .iter()
        .map(|t| serde_json::from_str::<Value>(&t.1).unwrap())
        .collect();
    units.sort_by_key(|b| b["unit"].as_str().unwrap().to_owned());
    assert_eq!(units.len(), 2);
    assert_eq!(units[0]["unit"], "mpp-jpr");
    let body = &units[1];
    assert_eq!(body["unit"], "unit-a");
    assert_eq!(body["data"]["grade"], "D");
    assert_eq!(body["data"]["previous_grade"], "A");
    assert_eq!(body["data"]["respondents"], 30);
    assert_eq!(body["data"]["previous_period"], "2025-Q2");
    // Checked again a minute later: neither fires twice.
    app.clock.set(at("2025-08-15 01:12:00"));
    std::thread::sleep(Duration::from_millis(1500));
    let events: Vec<String> = receiver
        .taken
        .lock()
        .unwrap()
        .iter()
        .map(|t| header(t, "x-kepuasan-event").to_owned())
        .collect();
    assert_eq!(events.len(), 3, "{events:?}");
}

async fn a_submissions_latency_does_not_change_while_deliveries_fail(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut timed = Vec::new();
    for _ in 0..40 {
        let started = Instant::now();
        submit(&svc, &w.kiosk_mpp, "unit-a", [1; 9], json!({})).await;
        timed.push(started.elapsed());
    }
    let before = median(timed);
    // A receiver that takes every delivery and never answers: each attempt waits out the
    // 10-second timeout.
    let hanging = Receiver::any(true);
    let (status, _) = hook(
        &svc,
        &w.admin,
        json!({"url": hanging.url, "events": ["response.low"], "secret": SECRET, "unit": "unit-a"}),
    )
    .await;
    assert_eq!(status, 201);
    let mut timed = Vec::new();
    for _ in 0..40 {
        let started = Instant::now();
        submit(&svc, &w.kiosk_mpp, "unit-a", [1; 9], json!({})).await;
        timed.push(started.elapsed());
    }
    let during = median(timed);
    assert!(
        !hanging
            .wait_for("response.low", 1, Duration::from_secs(5))
            .is_empty(),
        "the receiver was being tried"
    );
    assert!(
        during <= before * 3 + Duration::from_millis(20),
        "median {during:?} while deliveries hang, {before:?} before"
    );
}

/// Waits until the dispatcher's count of units looked at for `unit.drop` stops at a new value
/// (a check ran), at most 10 s; returns it.
fn looked_after(app: &TestApp, before: u64) -> u64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = app.state.signals.units_looked();
        if now > before {
            // Let the check finish its units.
            std::thread::sleep(Duration::from_millis(700));
            let settled = app.state.signals.units_looked();
            if settled == now {
                return now;
            }
            continue;
        }
        assert!(std::time::Instant::now() < deadline, "no check ran");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A nation of 150 units watched for `unit.drop`: each minute's check looks at the units that
/// got responses and the units above them, plus at most 100 others, so that every unit is
/// looked at within the hour, not at every unit every minute.
async fn a_check_looks_at_the_units_with_responses_not_at_every_unit(app: TestApp) {
    let svc = app.service().await;
    let admin = app.admin.clone();
    let add = |code: String, parent: Option<&str>| json!({"code": code, "name": format!("Unit {code}"), "timezone": "Asia/Jakarta", "parent": parent});
    app.clock.set(at("2025-08-15 01:00:00"));
    for body in std::iter::once(add("nasional".into(), None))
        .chain(std::iter::once(add("prov".into(), Some("nasional"))))
        .chain((0..148).map(|i| add(format!("u{i:03}"), Some("prov"))))
    {
        let (status, created) = send(&svc, post("/api/v1/units", Some(&admin), &body)).await;
        assert_eq!(status, 201, "{created}");
    }
    let receiver = Receiver::any(false);
    let (status, _) = hook(
        &svc,
        &admin,
        json!({"url": receiver.url, "events": ["unit.drop"], "secret": SECRET, "unit": "nasional"}),
    )
    .await;
    assert_eq!(status, 201);
    // The first checks look at everyone, at most 100 a minute: 100, then the other 50.
    let mut seen = app.state.signals.units_looked();
    app.clock.set(at("2025-08-15 01:01:00"));
    let first = looked_after(&app, seen) - seen;
    seen += first;
    app.clock.set(at("2025-08-15 01:02:00"));
    let second = looked_after(&app, seen) - seen;
    seen += second;
    assert_eq!((first, second), (100, 50));
    // A response at one unit: the next check looks at it, its province and the nation only.
    submit(&svc, &admin, "u007", [3; 9], json!({})).await;
    std::thread::sleep(Duration::from_millis(800));
    app.clock.set(at("2025-08-15 01:03:00"));
    let third = looked_after(&app, seen) - seen;
    assert_eq!(third, 3);
}

both_backends!(
    a_check_looks_at_the_units_with_responses_not_at_every_unit,
    a_low_response_is_delivered_signed_and_a_receiver_that_was_down_gets_it_later,
    webhooks_are_checked_scoped_and_removed,
    a_quiet_tablet_and_a_week_a_grade_down_fire_their_events,
);

#[actix_web::test]
async fn a_submissions_latency_does_not_change_while_deliveries_fail_sqlite() {
    a_submissions_latency_does_not_change_while_deliveries_fail(TestApp::sqlite()).await;
}

/// A mail as a server took it: the envelope's recipients and the message as sent.
type Mail = (Vec<String>, String);

/// A mail server on loopback that takes every message.
struct SmtpSink {
    port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let shared = mails.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(100) {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut say = |line: &str| stream.write_all(line.as_bytes()).unwrap();
                say("220 sink ESMTP\r\n");
                let (mut to, mut line) = (Vec::new(), String::new());
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        say("250 sink\r\n");
                    } else if upper.starts_with("RCPT TO:") {
                        to.push(line[8..].trim().to_owned());
                        say("250 OK\r\n");
                    } else if upper.starts_with("DATA") {
                        say("354 go on\r\n");
                        let mut message = String::new();
                        loop {
                            line.clear();
                            reader.read_line(&mut line).unwrap();
                            if line == ".\r\n" {
                                break;
                            }
                            message.push_str(&line);
                        }
                        shared
                            .lock()
                            .unwrap()
                            .push((std::mem::take(&mut to), message));
                        say("250 OK queued\r\n");
                    } else if upper.starts_with("QUIT") {
                        say("221 bye\r\n");
                        break;
                    } else {
                        say("250 OK\r\n");
                    }
                }
            }
        });
        SmtpSink { port, mails }
    }
}

#[actix_web::test]
async fn a_daily_summary_is_mailed_through_the_smtp_server_of_the_settings() {
    let sink = SmtpSink::start();
    let app = TestApp::sqlite_with(|s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port));
        s.smtp_from = "skm@dukcapil.example.go.id".into();
    });
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    // Thursday 14 August 2025, noon in Jayapura: three responses of all threes (IKM 3 × 25 =
    // 75,00, C), one with a suggestion.
    app.clock.set(at("2025-08-14 03:00:00"));
    submit(
        &svc,
        &w.kiosk_mpp,
        "unit-a",
        [3; 9],
        json!({"suggestion": "Ruang tunggu panas."}),
    )
    .await;
    submit(&svc, &w.kiosk_mpp, "unit-a", [3; 9], json!({})).await;
    submit(&svc, &w.kiosk_mpp, "unit-a", [3; 9], json!({})).await;
    let manager = app.key(kepuasan::auth::Role::Manager, &["unit-a"]);
    // A posted webhook needs its secret; a mailed summary does not.
    let (status, err) = hook(
        &svc,
        &manager,
        json!({"url": "https://example.go.id/x", "events": ["summary.daily"], "unit": "unit-a"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(err["fields"]["secret"].is_string(), "{err}");
    let (status, err) = hook(
        &svc,
        &manager,
        json!({"url": "mailto:not an address", "events": ["summary.daily"], "unit": "unit-a"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(err["fields"]["url"].is_string(), "{err}");
    let (status, created) = hook(
        &svc,
        &manager,
        json!({"url": "mailto:kepala@dukcapil.example.go.id", "events": ["summary.daily"], "unit": "unit-a"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    // Before 07:00 the next morning nothing is sent; at 07:05 the day's summary is.
    app.clock.set(at("2025-08-14 21:30:00"));
    std::thread::sleep(Duration::from_millis(1200));
    assert!(sink.mails.lock().unwrap().is_empty());
    app.clock.set(at("2025-08-14 22:05:00"));
    let started = Instant::now();
    while sink.mails.lock().unwrap().is_empty() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mails = sink.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "one summary mailed within 5 s");
    let (to, message) = &mails[0];
    assert_eq!(to, &["<kepala@dukcapil.example.go.id>"]);
    // Headers unfolded, as a mail reader reads them.
    let message = message.replace("\r\n ", " ").replace("\r\n", "\n");
    assert!(
        message.contains("From: skm@dukcapil.example.go.id"),
        "{message}"
    );
    assert!(
        message.contains("Subject: Ringkasan harian SKM - Disdukcapil Jayapura - 14-08-2025: IKM 75,00 (C), 3 responden"),
        "{message}"
    );
    for line in [
        "Disdukcapil Jayapura - 14-08-2025 (WIT)",
        "IKM: 75,00 - Mutu C (Kurang baik)",
        "Saran baru: 1",
        "  - \"Ruang tunggu panas.\"",
    ] {
        assert!(message.contains(line), "{line} in {message}");
    }
    // The sink has the mail once the server sent it; the delivery is marked a moment later,
    // when the SMTP exchange ends.
    let id = created["id"].as_str().unwrap();
    let started = Instant::now();
    let mut listed = deliveries(&svc, &w.admin, id).await;
    while listed[0]["status"] != "delivered" && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
        listed = deliveries(&svc, &w.admin, id).await;
    }
    assert_eq!(listed[0]["event"], "summary.daily");
    assert_eq!(listed[0]["status"], "delivered", "{listed:?}");
    // A minute later: still one.
    app.clock.set(at("2025-08-14 22:07:00"));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(sink.mails.lock().unwrap().len(), 1);
}

/// Issue 28: a webhook reaches only the outside world. Every inward destination, in any
/// spelling, and credentials in the URL are refused for a manager and an administrator alike,
/// until the operator opens the receiver with KEPUASAN_WEBHOOK_ALLOW.
async fn every_internal_destination_is_refused_unless_the_operator_allows_it(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let manager = app.key(kepuasan::auth::Role::Manager, &["unit-a"]);
    let inward = [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://172.20.1.1/hook",
        "http://192.168.1.10/hook",
        "http://100.64.1.1/hook",
        "http://localhost:5432/",
        "http://127.0.0.1:5432/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd12:3456::1]/",
        "http://[fe80::1]/",
        "https://user:password@1.1.1.1/hook",
    ];
    for key in [&w.admin, &manager] {
        for url in inward {
            let body =
                json!({"url": url, "events": ["response.low"], "secret": SECRET, "unit": "unit-a"});
            let (status, err) = hook(&svc, key, body).await;
            assert_eq!(status, 422, "{url}: {err}");
            assert!(err["fields"]["url"].is_string(), "{url}: {err}");
        }
    }
    // Nothing was registered, and the audit log holds no credentials.
    assert_eq!(
        get_body(&svc, "/api/v1/webhooks", &w.admin).await,
        json!([])
    );
    let audit = get_body(&svc, "/api/v1/audit", &w.admin).await;
    assert!(!audit.to_string().contains("password@"), "{audit}");

    // The operator opens one receiver network; the rest stay closed.
    let mut state = app.state.clone();
    let mut settings = (*state.settings).clone();
    settings.webhook_allow = kepuasan::domain::destinations::Allow::parse("127.0.0.0/8").unwrap();
    state.settings = Arc::new(settings);
    let opened = actix_web::test::init_service(kepuasan::api::app(state)).await;
    let body = |url: &str| json!({"url": url, "events": ["response.low"], "secret": SECRET, "unit": "unit-a"});
    assert_eq!(
        hook(&opened, &manager, body("http://127.0.0.1:5432/"))
            .await
            .0,
        201
    );
    assert_eq!(
        hook(&opened, &manager, body("http://0x7f000001/")).await.0,
        201
    );
    assert_eq!(
        hook(&opened, &manager, body("http://10.0.0.5/hook"))
            .await
            .0,
        422
    );
    assert_eq!(
        hook(&opened, &manager, body("http://[fd12:3456::1]/"))
            .await
            .0,
        422
    );
}

#[actix_web::test]
async fn every_internal_destination_is_refused_unless_the_operator_allows_it_sqlite() {
    let app = TestApp::sqlite_with(|s| s.webhook_allow = Default::default());
    every_internal_destination_is_refused_unless_the_operator_allows_it(app).await;
}

#[actix_web::test]
async fn every_internal_destination_is_refused_unless_the_operator_allows_it_postgres() {
    if let Some(app) = TestApp::postgres_with(|s| s.webhook_allow = Default::default()) {
        every_internal_destination_is_refused_unless_the_operator_allows_it(app).await;
    }
}

/// Issue 28: the delivery log tells a manager whether and when, never what answered at the
/// address (which would make webhooks a port scanner); an administrator sees the detail.
async fn a_managers_delivery_log_says_delivered_or_not_never_what_answered(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let manager = app.key(kepuasan::auth::Role::Manager, &["unit-a"]);
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (status, created) = hook(
        &svc,
        &manager,
        json!({"url": format!("http://127.0.0.1:{port}/x"), "events": ["response.low"], "secret": SECRET, "unit": "unit-a"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    submit(&svc, &w.kiosk_mpp, "unit-a", [1; 9], json!({})).await;
    let seen = attempted(&svc, &w.admin, &id).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["last_error"], "the receiver could not be reached");
    assert!(seen[0]["next_attempt_at"].is_string(), "{seen:?}");
    let told = deliveries(&svc, &manager, &id).await;
    assert_eq!(told[0]["status"], "pending");
    assert_eq!(told[0]["created_at"], seen[0]["created_at"]);
    for hidden in ["last_status", "last_error", "next_attempt_at"] {
        assert!(told[0][hidden].is_null(), "{hidden}: {told:?}");
    }
}

/// Issue 28: each receiver has its own lane, so a receiver that never answers delays only
/// itself: beside it a healthy receiver gets five events within 15 seconds.
async fn a_healthy_receiver_gets_five_events_within_15_s_beside_a_silent_one(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let (silent, healthy) = (Receiver::any(true), Receiver::any(false));
    for url in [&silent.url, &healthy.url] {
        let body =
            json!({"url": url, "events": ["response.low"], "secret": SECRET, "unit": "unit-a"});
        assert_eq!(hook(&svc, &w.admin, body).await.0, 201);
    }
    for _ in 0..5 {
        submit(&svc, &w.kiosk_mpp, "unit-a", [1; 9], json!({})).await;
    }
    let got = healthy.wait_for("response.low", 5, Duration::from_secs(15));
    assert_eq!(got.len(), 5, "the healthy receiver got {} of 5", got.len());
    assert!(
        !silent
            .wait_for("response.low", 1, Duration::from_secs(5))
            .is_empty(),
        "the silent receiver was tried too"
    );
}

both_backends!(
    a_managers_delivery_log_says_delivered_or_not_never_what_answered,
    a_healthy_receiver_gets_five_events_within_15_s_beside_a_silent_one,
);

/// Issue 28: the destination is judged again at every connection, so a webhook stored before
/// the rules (or a name that has since come to resolve inward) posts nothing inward: an address
/// literal is refused before connecting, a name by the resolver.
async fn a_stored_webhook_that_reaches_inward_is_refused_when_connecting(app: TestApp) {
    use diesel::prelude::*;
    use kepuasan::db::schema::webhooks;
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let receiver = Receiver::any(false);
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    for (id, url) in [
        ("hook-literal", receiver.url.clone()),
        ("hook-name", by_name),
    ] {
        app.state
            .db
            .write_blocking(|c| {
                diesel::insert_into(webhooks::table)
                    .values((
                        webhooks::id.eq(id),
                        webhooks::url.eq(&url),
                        webhooks::events.eq("response.low"),
                        webhooks::secret.eq(SECRET),
                        webhooks::unit_code.eq(Some("unit-a")),
                        webhooks::threshold.eq(50),
                        webhooks::created_at.eq(at("2025-08-01 00:00:00")),
                        webhooks::created_by.eq("before the rules"),
                        webhooks::active.eq(true),
                    ))
                    .execute(c)?;
                Ok(())
            })
            .unwrap();
    }
    submit(&svc, &w.kiosk_mpp, "unit-a", [1; 9], json!({})).await;
    for id in ["hook-literal", "hook-name"] {
        let seen = attempted(&svc, &w.admin, id).await;
        assert_eq!(seen[0]["status"], "pending", "{id}: {seen:?}");
        let error = seen[0]["last_error"].as_str().unwrap_or_default();
        assert!(error.starts_with("refused: the address"), "{id}: {error}");
    }
    assert!(
        receiver
            .wait_for("response.low", 1, Duration::from_secs(1))
            .is_empty(),
        "nothing reached the receiver"
    );
}

#[actix_web::test]
async fn a_stored_webhook_that_reaches_inward_is_refused_when_connecting_sqlite() {
    let app = TestApp::sqlite_with(|s| s.webhook_allow = Default::default());
    a_stored_webhook_that_reaches_inward_is_refused_when_connecting(app).await;
}

#[actix_web::test]
async fn a_stored_webhook_that_reaches_inward_is_refused_when_connecting_postgres() {
    if let Some(app) = TestApp::postgres_with(|s| s.webhook_allow = Default::default()) {
        a_stored_webhook_that_reaches_inward_is_refused_when_connecting(app).await;
    }
}
