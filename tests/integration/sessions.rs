//! People signing in (issue 15): the session cookie and its attributes, one answer for wrong
//! names and wrong passwords, the limit on failures, CSRF on cookie-authenticated changes,
//! signing out, disabling, idle and absolute expiry, and the audit log of changes.

use std::sync::Arc;

use actix_web::test::{self, TestRequest};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::*;

const PASSWORD: &str = "kopi-tubruk-pagi-hari";

/// Adds a person through the API with the test's admin key.
async fn add_person<S>(svc: &S, admin: &str, name: &str, role: &str, units: &[&str])
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let body = json!({"username": name, "password": PASSWORD, "role": role, "units": units});
    let (status, answer) = send(svc, post("/api/v1/users", Some(admin), &body)).await;
    assert_eq!(status, 201, "{answer}");
}

/// A sign-in from `address`: status, body, and the Set-Cookie header.
async fn sign_in<S>(
    svc: &S,
    name: &str,
    password: &str,
    address: &str,
) -> (u16, Value, String, Option<String>)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    sign_in_as(svc, name, password, None, address).await
}

/// A sign-in with an optional two-step code: status, body, the Set-Cookie header and
/// Retry-After.
async fn sign_in_as<S>(
    svc: &S,
    name: &str,
    password: &str,
    totp: Option<&str>,
    address: &str,
) -> (u16, Value, String, Option<String>)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let mut body = json!({"username": name, "password": password});
    if let Some(code) = totp {
        body["totp"] = json!(code);
    }
    let req = TestRequest::post()
        .uri("/api/v1/sessions")
        .peer_addr(address.parse().unwrap())
        .set_json(body)
        .to_request();
    let resp = test::call_service(svc, req).await;
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (set_cookie, retry) = (
        header("set-cookie").unwrap_or_default(),
        header("retry-after"),
    );
    let body: Value = serde_json::from_slice(&test::read_body(resp).await).unwrap_or(Value::Null);
    (status, body, set_cookie, retry)
}

/// The cookie's `name=value` part of a Set-Cookie header.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

fn with_cookie(req: TestRequest, cookie: &str, csrf: Option<&str>) -> TestRequest {
    let req = req.insert_header(("Cookie", cookie.to_owned()));
    match csrf {
        Some(token) => req.insert_header(("X-CSRF-Token", token.to_owned())),
        None => req,
    }
}

async fn the_session_cookie_is_http_only_strict_and_secure_behind_https(app: TestApp) {
    let svc = app.service().await;
    add_person(&svc, &app.admin, "ani", "admin", &[]).await;
    let (status, body, set_cookie, _) = sign_in(&svc, "ANI", PASSWORD, "10.0.0.1:1000").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["username"], "ani");
    assert_eq!(body["role"], "admin");
    assert_eq!(body["units"], json!([]));
    assert_eq!(body["csrf_token"].as_str().unwrap().len(), 64, "{body}");
    let attributes: Vec<String> = set_cookie
        .split(';')
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    assert!(set_cookie.starts_with("kepuasan_session="), "{set_cookie}");
    for wanted in ["httponly", "samesite=strict", "path=/"] {
        assert!(
            attributes.iter().any(|a| a == wanted),
            "{wanted} in {set_cookie}"
        );
    }
    assert!(
        !attributes.iter().any(|a| a == "secure"),
        "plain http: {set_cookie}"
    );
    // The server keeps only a hash of the cookie's value.
    let secret = cookie_pair(&set_cookie)["kepuasan_session=".len()..].to_owned();
    let stored: Vec<String> = app
        .state
        .db
        .read_blocking(|conn| {
            use diesel::prelude::*;
            use kepuasan::db::schema::sessions;
            Ok(sessions::table.select(sessions::id_hash).load(conn)?)
        })
        .unwrap();
    assert_eq!(stored, vec![kepuasan::auth::sha256_hex(&secret)]);

    let mut state = app.state.clone();
    let mut settings = (*state.settings).clone();
    settings.public_url = "https://skm.example.go.id".into();
    state.settings = Arc::new(settings);
    let secure = test::init_service(kepuasan::api::app(state)).await;
    let (status, _, set_cookie, _) = sign_in(&secure, "ani", PASSWORD, "10.0.0.1:1000").await;
    assert_eq!(status, 201);
    assert!(
        set_cookie
            .split(';')
            .any(|a| a.trim().eq_ignore_ascii_case("secure")),
        "https: {set_cookie}"
    );
}

async fn a_wrong_password_and_an_unknown_name_get_the_same_answer(app: TestApp) {
    let svc = app.service().await;
    add_person(&svc, &app.admin, "budi", "admin", &[]).await;
    let (s1, wrong, c1, _) =
        sign_in(&svc, "budi", "bukan-sandinya-sama-sekali", "10.0.0.2:1").await;
    let (s2, unknown, c2, _) = sign_in(&svc, "tidak-ada", PASSWORD, "10.0.0.3:1").await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(
        wrong, unknown,
        "the same body whether the name exists or not"
    );
    assert!(c1.is_empty() && c2.is_empty(), "no cookie on a failure");
    // The same work: an unknown name is checked against a hash too. Compared over several
    // tries each, interleaved, so that a busy machine slows both alike.
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..4 {
        let t = std::time::Instant::now();
        sign_in(
            &svc,
            "budi",
            "bukan-sandinya-sama-sekali",
            &format!("10.1.0.{i}:1"),
        )
        .await;
        known.push(t.elapsed().as_secs_f64());
        let t = std::time::Instant::now();
        sign_in(
            &svc,
            &format!("orang-{i}"),
            PASSWORD,
            &format!("10.2.0.{i}:1"),
        )
        .await;
        unknown.push(t.elapsed().as_secs_f64());
    }
    known.sort_by(f64::total_cmp);
    unknown.sort_by(f64::total_cmp);
    let ratio = unknown[1] / known[1];
    assert!(
        (0.5..2.0).contains(&ratio),
        "unknown names take {unknown:?} s, known ones {known:?} s"
    );
}

async fn five_failures_for_a_name_or_from_an_address_make_sign_in_wait(app: TestApp) {
    let svc = app.service().await;
    add_person(&svc, &app.admin, "citra", "admin", &[]).await;
    // Five wrong passwords for one name, each from another address.
    for i in 0..5 {
        let (status, _, _, _) =
            sign_in(&svc, "citra", "salah-salah-salah", &format!("10.3.0.{i}:1")).await;
        assert_eq!(status, 401, "failure {}", i + 1);
    }
    // The sixth try waits, even with the right password.
    let (status, body, cookie, retry) = sign_in(&svc, "citra", PASSWORD, "10.3.1.1:1").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "rate_limited");
    assert!(cookie.is_empty());
    let seconds: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=900).contains(&seconds), "{seconds}");
    // Another name from another address is not held up.
    add_person(&svc, &app.admin, "dewi", "admin", &[]).await;
    assert_eq!(sign_in(&svc, "dewi", PASSWORD, "10.3.2.1:1").await.0, 201);

    // Five failures from one address, each for another name, hold up that address.
    for i in 0..5 {
        let (status, ..) = sign_in(
            &svc,
            &format!("tamu-{i}"),
            "salah-salah-salah",
            "10.4.0.1:1",
        )
        .await;
        assert_eq!(status, 401);
    }
    assert_eq!(sign_in(&svc, "dewi", PASSWORD, "10.4.0.1:1").await.0, 429);
    assert_eq!(sign_in(&svc, "dewi", PASSWORD, "10.4.0.2:1").await.0, 201);

    // Fifteen minutes later both may try again.
    app.clock.set(at("2025-08-15 03:15:01"));
    assert_eq!(sign_in(&svc, "citra", PASSWORD, "10.3.1.1:1").await.0, 201);
    assert_eq!(sign_in(&svc, "dewi", PASSWORD, "10.4.0.1:1").await.0, 201);
}

async fn a_cookie_change_needs_its_csrf_token_and_signing_out_ends_the_session(app: TestApp) {
    let svc = app.service().await;
    add_person(&svc, &app.admin, "eko", "admin", &[]).await;
    let (_, body, set_cookie, _) = sign_in(&svc, "eko", PASSWORD, "10.5.0.1:1").await;
    let (cookie, csrf) = (
        cookie_pair(&set_cookie),
        body["csrf_token"].as_str().unwrap().to_owned(),
    );
    let unit = json!({"code": "dukcapil", "name": "Disdukcapil", "timezone": "Asia/Jakarta"});

    // Reading needs no token.
    let (status, me) = send(
        &svc,
        with_cookie(TestRequest::get().uri("/api/v1/me"), &cookie, None),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "eko");
    assert_eq!(me["csrf_token"], csrf.as_str());
    // A change without the token, or with another, is refused and changes nothing.
    for token in [None, Some("0".repeat(64))] {
        let req = with_cookie(
            TestRequest::post().uri("/api/v1/units").set_json(&unit),
            &cookie,
            token.as_deref(),
        );
        let (status, body) = send(&svc, req).await;
        assert_eq!(status, 403, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("X-CSRF-Token"),
            "{body}"
        );
    }
    let (_, units) = send(&svc, get("/api/v1/units", Some(&app.admin))).await;
    assert_eq!(units.as_array().unwrap().len(), 0);
    let req = with_cookie(
        TestRequest::post().uri("/api/v1/units").set_json(&unit),
        &cookie,
        Some(&csrf),
    );
    let (status, body) = send(&svc, req).await;
    assert_eq!(status, 201, "{body}");

    // Signing out needs the token too; then the cookie is refused.
    let (status, _) = send(
        &svc,
        with_cookie(
            TestRequest::delete().uri("/api/v1/sessions/current"),
            &cookie,
            None,
        ),
    )
    .await;
    assert_eq!(status, 403);
    let resp = test::call_service(
        &svc,
        with_cookie(
            TestRequest::delete().uri("/api/v1/sessions/current"),
            &cookie,
            Some(&csrf),
        )
        .to_request(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 204);
    let removal = resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        removal.to_ascii_lowercase().contains("max-age=0"),
        "{removal}"
    );
    for req in [
        with_cookie(TestRequest::get().uri("/api/v1/units"), &cookie, None),
        with_cookie(
            TestRequest::get().uri("/api/v1/sessions/current"),
            &cookie,
            None,
        ),
    ] {
        let (status, body) = send(&svc, req).await;
        assert_eq!(status, 401, "{body}");
    }
}

async fn a_disabled_person_is_refused_at_once_and_sessions_expire(app: TestApp) {
    let svc = app.service().await;
    add_person(&svc, &app.admin, "fajar", "admin", &[]).await;
    let (_, signed_in, set_cookie, _) = sign_in(&svc, "fajar", PASSWORD, "10.6.0.1:1").await;
    let cookie = cookie_pair(&set_cookie);
    let units = || with_cookie(TestRequest::get().uri("/api/v1/units"), &cookie, None);
    assert_eq!(send(&svc, units()).await.0, 200);
    // No one disables themselves (and perhaps the last administrator with them).
    let (status, body) = send(
        &svc,
        with_cookie(
            TestRequest::patch()
                .uri("/api/v1/users/fajar")
                .set_json(json!({"disabled": true})),
            &cookie,
            signed_in["csrf_token"].as_str(),
        ),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["disabled"].is_string(), "{body}");
    assert_eq!(send(&svc, units()).await.0, 200, "still signed in");
    let (status, _) = send(
        &svc,
        with_key(
            TestRequest::patch()
                .uri("/api/v1/users/fajar")
                .set_json(json!({"disabled": true})),
            Some(&app.admin),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        send(&svc, units()).await.0,
        401,
        "refused at the next request"
    );
    assert_eq!(sign_in(&svc, "fajar", PASSWORD, "10.6.0.1:1").await.0, 401);

    // Idle for 8 hours: ended.
    add_person(&svc, &app.admin, "gita", "admin", &[]).await;
    let (_, _, set_cookie, _) = sign_in(&svc, "gita", PASSWORD, "10.6.0.2:1").await;
    let gita = cookie_pair(&set_cookie);
    let ask = |cookie: &str| with_cookie(TestRequest::get().uri("/api/v1/units"), cookie, None);
    app.clock.set(at("2025-08-15 10:59:00"));
    assert_eq!(send(&svc, ask(&gita)).await.0, 200, "7 h 59 min idle");
    app.clock.set(at("2025-08-15 19:00:00"));
    assert_eq!(send(&svc, ask(&gita)).await.0, 401, "8 h 1 min idle");

    // Busy, but seven days after sign-in: ended.
    let (_, _, set_cookie, _) = sign_in(&svc, "gita", PASSWORD, "10.6.0.2:1").await;
    let busy = cookie_pair(&set_cookie);
    let start = at("2025-08-15 19:00:00");
    for hours in (6..168).step_by(6) {
        app.clock.set(start + chrono::TimeDelta::hours(hours));
        assert_eq!(send(&svc, ask(&busy)).await.0, 200, "after {hours} h");
    }
    app.clock.set(start + chrono::TimeDelta::hours(168));
    assert_eq!(send(&svc, ask(&busy)).await.0, 401, "seven days");
}

async fn every_change_is_in_the_audit_log_without_secrets(app: TestApp) {
    let svc = app.service().await;
    add_person(&svc, &app.admin, "hana", "admin", &[]).await;
    let (_, body, set_cookie, _) = sign_in(&svc, "hana", PASSWORD, "10.7.0.1:1").await;
    let (cookie, csrf) = (
        cookie_pair(&set_cookie),
        body["csrf_token"].as_str().unwrap().to_owned(),
    );
    let change = |req: TestRequest| with_cookie(req, &cookie, Some(&csrf));
    let unit = json!({"code": "samsat", "name": "Samsat", "timezone": "Asia/Jakarta"});
    assert_eq!(
        send(
            &svc,
            change(TestRequest::post().uri("/api/v1/units").set_json(&unit))
        )
        .await
        .0,
        201
    );
    let rename = json!({"name": "Samsat Kota", "city": "Bandung"});
    assert_eq!(
        send(
            &svc,
            change(
                TestRequest::patch()
                    .uri("/api/v1/units/samsat")
                    .set_json(&rename)
            )
        )
        .await
        .0,
        200
    );
    let (status, key) = send(
        &svc,
        change(
            TestRequest::post()
                .uri("/api/v1/keys")
                .set_json(json!({"role": "kiosk", "units": ["samsat"]})),
        ),
    )
    .await;
    assert_eq!(status, 201);
    let secret = key["secret"].as_str().unwrap().to_owned();

    let (status, log) = send(&svc, get("/api/v1/audit", Some(&app.admin))).await;
    assert_eq!(status, 200, "{log}");
    let entries = log.as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    // Newest first: the key, the rename, the unit, and the person the admin key added.
    assert_eq!(
        actions,
        ["key.create", "unit.update", "unit.create", "user.add"]
    );
    assert_eq!(entries[0]["actor"], "user:hana");
    assert_eq!(entries[0]["unit_code"], "samsat");
    let before: Value = serde_json::from_str(entries[1]["before"].as_str().unwrap()).unwrap();
    let after: Value = serde_json::from_str(entries[1]["after"].as_str().unwrap()).unwrap();
    assert_eq!(
        (before["name"].as_str(), after["name"].as_str()),
        (Some("Samsat"), Some("Samsat Kota"))
    );
    assert_eq!(
        (before["city"].as_str(), after["city"].as_str()),
        (None, Some("Bandung"))
    );
    assert!(entries[3]["actor"].as_str().unwrap().starts_with("key:"));
    let text = log.to_string();
    for secret in [secret.as_str(), PASSWORD, "argon2", &csrf] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }

    // Filters: by unit, by actor, by action prefix.
    let (_, by_unit) = send(&svc, get("/api/v1/audit?unit=samsat", Some(&app.admin))).await;
    assert_eq!(by_unit.as_array().unwrap().len(), 3);
    let (_, by_actor) = send(
        &svc,
        get(
            "/api/v1/audit?actor=user:hana&action=unit",
            Some(&app.admin),
        ),
    )
    .await;
    let actions: Vec<&str> = by_actor
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["unit.update", "unit.create"]);
    // Only administrators read it.
    let (status, _) = send(
        &svc,
        with_cookie(TestRequest::get().uri("/api/v1/audit"), &cookie, None),
    )
    .await;
    assert_eq!(status, 200);
    let viewer = app.key(kepuasan::auth::Role::Viewer, &["samsat"]);
    assert_eq!(send(&svc, get("/api/v1/audit", Some(&viewer))).await.0, 403);
}

async fn a_manager_runs_their_units_and_nothing_else(app: TestApp) {
    let svc = app.service().await;
    crate::api::world(&app, &svc).await;
    add_person(&svc, &app.admin, "kepala-a", "manager", &["unit-a"]).await;
    let (_, body, set_cookie, _) = sign_in(&svc, "kepala-a", PASSWORD, "10.8.0.1:1").await;
    let (cookie, csrf) = (
        cookie_pair(&set_cookie),
        body["csrf_token"].as_str().unwrap().to_owned(),
    );
    let change = |req: TestRequest| with_cookie(req, &cookie, Some(&csrf));
    let service = json!({"code": "kia", "name": "Kartu Identitas Anak"});
    for (unit, expected) in [("unit-a", 201), ("unit-b", 403)] {
        let req = TestRequest::post()
            .uri(&format!("/api/v1/units/{unit}/services"))
            .set_json(&service);
        assert_eq!(
            send(&svc, change(req)).await.0,
            expected,
            "service of {unit}"
        );
        let req = TestRequest::post()
            .uri("/api/v1/keys")
            .set_json(json!({"role": "kiosk", "units": [unit]}));
        assert_eq!(
            send(&svc, change(req)).await.0,
            expected,
            "kiosk key of {unit}"
        );
        let req = TestRequest::put()
            .uri(&format!("/api/v1/units/{unit}/populations/2025-Q3"))
            .set_json(json!({"population": 5000}));
        assert_eq!(
            send(&svc, change(req)).await.0,
            if expected == 201 { 200 } else { 403 },
            "population of {unit}"
        );
        let settings = json!({"address": "Jl. Raya Abepura No. 1", "head_name": "Drs. Yohanes", "head_id": "19700101 199503 1 002"});
        let req = TestRequest::patch()
            .uri(&format!("/api/v1/units/{unit}"))
            .set_json(&settings);
        let (status, body) = send(&svc, change(req)).await;
        assert_eq!(
            status,
            if expected == 201 { 200 } else { 403 },
            "settings of {unit}: {body}"
        );
    }
    // The settings were stored, the NIP without its spaces.
    let (_, units) = send(&svc, get("/api/v1/units", Some(&app.admin))).await;
    let a = units
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "unit-a")
        .unwrap();
    assert_eq!(a["head_id"], "197001011995031002");
    assert_eq!(a["address"], "Jl. Raya Abepura No. 1");
    // Moving the unit or changing its time zone is an administrator's.
    let req = TestRequest::patch()
        .uri("/api/v1/units/unit-a")
        .set_json(json!({"timezone": "Asia/Jakarta"}));
    let (status, body) = send(&svc, change(req)).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("timezone"),
        "{body}"
    );
    // An admin key is out of reach, and so is another manager.
    let req = TestRequest::post()
        .uri("/api/v1/keys")
        .set_json(json!({"role": "admin"}));
    assert_eq!(send(&svc, change(req)).await.0, 403);
    let req = TestRequest::post().uri("/api/v1/users").set_json(
        json!({"username": "kepala-lain", "password": PASSWORD, "role": "manager", "units": ["unit-a"]}),
    );
    assert_eq!(send(&svc, change(req)).await.0, 403);
    // A viewer of their unit they may add; of another unit not.
    for (unit, expected) in [("unit-a", 201), ("unit-b", 403)] {
        let req = TestRequest::post().uri("/api/v1/users").set_json(
            json!({"username": format!("staf-{unit}"), "password": PASSWORD, "role": "viewer", "units": [unit]}),
        );
        assert_eq!(
            send(&svc, change(req)).await.0,
            expected,
            "viewer of {unit}"
        );
    }
    // A bad NIP is named.
    let req = TestRequest::patch()
        .uri("/api/v1/units/unit-a")
        .set_json(json!({"head_id": "1234"}));
    let (status, body) = send(&svc, change(req)).await;
    assert_eq!(status, 422);
    assert!(body["fields"]["head_id"].is_string(), "{body}");
}

async fn a_logo_is_a_png_or_an_svg_of_at_most_512_kib(app: TestApp) {
    let svc = app.service().await;
    crate::api::world(&app, &svc).await;
    let put = |body: Vec<u8>, content_type: &str| {
        with_key(
            TestRequest::put()
                .uri("/api/v1/units/unit-a/logo")
                .insert_header(("Content-Type", content_type.to_owned()))
                .set_payload(body),
            Some(&app.admin),
        )
    };
    let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle cx="32" cy="32" r="30" fill="#1a5fb4"/></svg>"##.to_vec();
    assert_eq!(send(&svc, put(svg.clone(), "image/svg+xml")).await.0, 204);
    let resp = test::call_service(
        &svc,
        get("/api/v1/units/unit-a/logo", Some(&app.admin)).to_request(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers().get("content-type").unwrap(), "image/svg+xml");
    assert_eq!(test::read_body(resp).await.to_vec(), svg);

    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(8, 8)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(send(&svc, put(png, "image/png")).await.0, 204);

    let (status, body) = send(&svc, put(b"not a picture".to_vec(), "image/png")).await;
    assert_eq!(status, 422);
    assert!(body["fields"]["logo"].is_string(), "{body}");
    let (status, body) = send(&svc, put(b"GIF89a".to_vec(), "image/gif")).await;
    assert_eq!(status, 415, "{body}");
    let (status, body) = send(&svc, put(vec![b' '; 512 * 1024 + 1], "image/svg+xml")).await;
    assert_eq!(status, 413, "{body}");
    // The logo's change is audited by its size and hash, never its bytes.
    let (_, log) = send(
        &svc,
        get("/api/v1/audit?action=unit.logo", Some(&app.admin)),
    )
    .await;
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let after: Value = serde_json::from_str(entries[1]["after"].as_str().unwrap()).unwrap();
    assert_eq!(after["content_type"], "image/svg+xml");
    assert_eq!(after["size"], svg.len());
}

both_backends!(
    the_session_cookie_is_http_only_strict_and_secure_behind_https,
    a_wrong_password_and_an_unknown_name_get_the_same_answer,
    five_failures_for_a_name_or_from_an_address_make_sign_in_wait,
    a_cookie_change_needs_its_csrf_token_and_signing_out_ends_the_session,
    a_disabled_person_is_refused_at_once_and_sessions_expire,
    every_change_is_in_the_audit_log_without_secrets,
    a_manager_runs_their_units_and_nothing_else,
    a_logo_is_a_png_or_an_svg_of_at_most_512_kib,
);

/// The code an authenticator app with this secret shows at `at` (UTC).
fn code(secret: &str, at: &str) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    let totp = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        None,
        String::new(),
    )
    .unwrap();
    totp.generate(crate::common::at(at).and_utc().timestamp() as u64)
}

/// Begins two-step sign-in for the signed-in person of `cookie`: the new secret.
async fn begin_totp<S>(svc: &S, cookie: &str, csrf: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let (status, enrolment) = send(
        svc,
        with_cookie(
            TestRequest::post().uri("/api/v1/sessions/current/totp"),
            cookie,
            Some(csrf),
        ),
    )
    .await;
    assert_eq!(status, 201, "{enrolment}");
    enrolment["secret"].as_str().unwrap().to_owned()
}

/// Signs in with the test password and an optional two-step code: status, body and cookie.
async fn sign_in_with_code<S>(
    svc: &S,
    name: &str,
    totp: Option<&str>,
    address: &str,
) -> (u16, Value, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let (status, body, set_cookie, _) = sign_in_as(svc, name, PASSWORD, totp, address).await;
    let cookie = if set_cookie.is_empty() {
        String::new()
    } else {
        cookie_pair(&set_cookie)
    };
    (status, body, cookie)
}

async fn two_step_sign_in_needs_the_current_code_once_and_can_be_reset(app: TestApp) {
    let svc = app.service().await;
    add_person(&svc, &app.admin, "indah", "admin", &[]).await;
    let (_, body, cookie) = sign_in_with_code(&svc, "indah", None, "10.9.0.1:1").await;
    assert_eq!(body["totp"], false);
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    let ask = |method: TestRequest| with_cookie(method, &cookie, Some(&csrf));
    // Begun: a secret, its otpauth address and QR code; it does not count until confirmed.
    let (status, enrolment) = send(
        &svc,
        ask(TestRequest::post().uri("/api/v1/sessions/current/totp")),
    )
    .await;
    assert_eq!(status, 201, "{enrolment}");
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert!(
        enrolment["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/"),
        "{enrolment}"
    );
    assert!(enrolment["qr_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(
        sign_in_with_code(&svc, "indah", None, "10.9.0.1:1").await.0,
        201,
        "not yet on"
    );
    // A wrong code does not confirm it; the current one does.
    let confirm = |code: String| {
        ask(TestRequest::put()
            .uri("/api/v1/sessions/current/totp")
            .set_json(json!({"code": code})))
    };
    let (status, body) = send(&svc, confirm("000000".into())).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["code"].is_string());
    let now = "2025-08-15 03:00:00";
    let (status, body) = send(&svc, confirm(code(&secret, now))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["totp"], true);

    // From now on the password alone is not enough, a wrong code counts as a failure, and the
    // right code counts once.
    app.clock.set(at("2025-08-15 03:01:00"));
    let later = code(&secret, "2025-08-15 03:01:00");
    let (status, body, cookie) = sign_in_with_code(&svc, "indah", None, "10.9.0.2:1").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("totp_required")),
        "{body}"
    );
    assert!(cookie.is_empty());
    let wrong = if later == "123456" {
        "654321"
    } else {
        "123456"
    };
    let (status, body, _) = sign_in_with_code(&svc, "indah", Some(wrong), "10.9.0.2:1").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("totp_required")),
        "{body}"
    );
    let (status, body, cookie) = sign_in_with_code(&svc, "indah", Some(&later), "10.9.0.2:1").await;
    assert_eq!(status, 201, "{body}");
    assert!(!cookie.is_empty());
    assert_eq!(body["totp"], true);
    let (status, _, _) = sign_in_with_code(&svc, "indah", Some(&later), "10.9.0.3:1").await;
    assert_eq!(status, 401, "the same code a second time");
    // A code of the step before still counts (a clock a little behind), two steps before not.
    app.clock.set(at("2025-08-15 03:02:00"));
    let behind = code(&secret, "2025-08-15 03:01:35");
    assert_eq!(
        sign_in_with_code(&svc, "indah", Some(&behind), "10.9.0.4:1")
            .await
            .0,
        201
    );
    let old = code(&secret, "2025-08-15 03:00:50");
    assert_eq!(
        sign_in_with_code(&svc, "indah", Some(&old), "10.9.0.5:1")
            .await
            .0,
        401
    );

    // Lost phone: an administrator resets it; the password alone signs in again. Audited.
    let reset = with_key(
        TestRequest::patch()
            .uri("/api/v1/users/indah")
            .set_json(json!({"totp": false})),
        Some(&app.admin),
    );
    let (status, body) = send(&svc, reset).await;
    assert_eq!(
        (status, body["totp"].as_bool()),
        (200, Some(false)),
        "{body}"
    );
    assert_eq!(
        sign_in_with_code(&svc, "indah", None, "10.9.0.6:1").await.0,
        201
    );
    let (_, log) = send(
        &svc,
        get("/api/v1/audit?actor=user:indah", Some(&app.admin)),
    )
    .await;
    assert_eq!(log[0]["action"], "user.totp_enable");
    assert!(
        !log.to_string().contains(&secret),
        "the secret is not in the audit log"
    );
    let (_, log) = send(
        &svc,
        get("/api/v1/audit?action=user.totp_reset", Some(&app.admin)),
    )
    .await;
    assert_eq!(log.as_array().unwrap().len(), 1);
}

async fn with_require_totp_an_administrator_sets_it_up_before_anything_else(app: TestApp) {
    let mut state = app.state.clone();
    let mut settings = (*state.settings).clone();
    settings.require_totp = true;
    state.settings = Arc::new(settings);
    let svc = test::init_service(kepuasan::api::app(state)).await;
    add_person(&svc, &app.admin, "joko", "admin", &[]).await;
    crate::api::world(&app, &svc).await;
    add_person(&svc, &app.admin, "kepala", "manager", &["unit-a"]).await;
    // A manager is not held.
    let (status, body, cookie) = sign_in_with_code(&svc, "kepala", None, "10.10.0.1:1").await;
    assert_eq!(
        (status, body["totp_setup_required"].as_bool()),
        (201, Some(false))
    );
    assert_eq!(
        send(
            &svc,
            with_cookie(TestRequest::get().uri("/api/v1/units"), &cookie, None)
        )
        .await
        .0,
        200
    );
    // An administrator without it signs in, and may only set it up.
    let (status, body, cookie) = sign_in_with_code(&svc, "joko", None, "10.10.0.2:1").await;
    assert_eq!(
        (status, body["totp_setup_required"].as_bool()),
        (201, Some(true)),
        "{body}"
    );
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    let (status, body) = send(
        &svc,
        with_cookie(TestRequest::get().uri("/api/v1/units"), &cookie, None),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("two-step"),
        "{body}"
    );
    let secret = &begin_totp(&svc, &cookie, &csrf).await;
    let confirm = TestRequest::put()
        .uri("/api/v1/sessions/current/totp")
        .set_json(json!({"code": code(secret, "2025-08-15 03:00:00")}));
    assert_eq!(
        send(&svc, with_cookie(confirm, &cookie, Some(&csrf)))
            .await
            .0,
        200
    );
    let (status, me) = send(
        &svc,
        with_cookie(
            TestRequest::get().uri("/api/v1/sessions/current"),
            &cookie,
            None,
        ),
    )
    .await;
    assert_eq!(
        (status, me["totp_setup_required"].as_bool()),
        (200, Some(false))
    );
    assert_eq!(
        send(
            &svc,
            with_cookie(TestRequest::get().uri("/api/v1/units"), &cookie, None)
        )
        .await
        .0,
        200
    );
}

both_backends!(
    two_step_sign_in_needs_the_current_code_once_and_can_be_reset,
    with_require_totp_an_administrator_sets_it_up_before_anything_else,
);

/// A sign-in from `address` carrying the `Cookie` header `cookies` (none when empty): status
/// and every Set-Cookie header.
async fn sign_in_carrying<S>(
    svc: &S,
    name: &str,
    password: &str,
    address: &str,
    cookies: &str,
) -> (u16, Vec<String>)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let mut req = TestRequest::post()
        .uri("/api/v1/sessions")
        .peer_addr(address.parse().unwrap())
        .set_json(json!({"username": name, "password": password}));
    if !cookies.is_empty() {
        req = req.insert_header(("Cookie", cookies.to_owned()));
    }
    let resp = test::call_service(svc, req.to_request()).await;
    let set: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    (resp.status().as_u16(), set)
}

/// Issue 28: the limit is taken before the password is checked, so a burst gets no more tries
/// than the limit, whether it guesses passwords or two-step codes.
async fn a_burst_of_sixty_wrong_passwords_or_a_hundred_codes_checks_at_most_five(app: TestApp) {
    let svc = app.service().await;
    add_person(&svc, &app.admin, "joko", "admin", &[]).await;
    let burst = (0..60).map(|_| sign_in(&svc, "joko", "salah-salah-salah", "10.20.0.1:1"));
    let statuses: Vec<u16> = futures::future::join_all(burst)
        .await
        .into_iter()
        .map(|(status, ..)| status)
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let waited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, waited), (5, 55), "{statuses:?}");

    // Two-step codes: the right password, a hundred wrong codes at once.
    add_person(&svc, &app.admin, "kartika", "admin", &[]).await;
    let (_, body, cookie) = sign_in_with_code(&svc, "kartika", None, "10.21.0.1:1").await;
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    let secret = begin_totp(&svc, &cookie, &csrf).await;
    let right = code(&secret, "2025-08-15 03:00:00");
    let (status, _) = send(
        &svc,
        with_cookie(
            TestRequest::put()
                .uri("/api/v1/sessions/current/totp")
                .set_json(json!({"code": right})),
            &cookie,
            Some(&csrf),
        ),
    )
    .await;
    assert_eq!(status, 200);
    app.clock.set(at("2025-08-15 03:05:00"));
    let now = code(&secret, "2025-08-15 03:05:00");
    let guesses: Vec<String> = (0..100)
        .map(|i| format!("{:06}", (i * 7919) % 1_000_000))
        .filter(|g| *g != now)
        .collect();
    let burst = guesses
        .iter()
        .map(|g| sign_in_with_code(&svc, "kartika", Some(g), "10.21.0.2:1"));
    let statuses: Vec<u16> = futures::future::join_all(burst)
        .await
        .into_iter()
        .map(|(status, ..)| status)
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
}

/// Issue 28: five wrong passwords from anywhere hold up unknown browsers for that name, never
/// the browser the person signed in with before (OWASP's device cookies); that browser is
/// limited on its own.
async fn the_right_password_from_a_browser_that_signed_in_before_gets_in_during_an_attack(
    app: TestApp,
) {
    let svc = app.service().await;
    add_person(&svc, &app.admin, "lestari", "admin", &[]).await;
    let (status, set) = sign_in_carrying(&svc, "lestari", PASSWORD, "10.30.0.1:1", "").await;
    assert_eq!(status, 201);
    let device = set
        .iter()
        .find(|c| c.starts_with("kepuasan_device="))
        .expect("a device cookie");
    let attributes: Vec<String> = device
        .split(';')
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    for wanted in ["httponly", "samesite=strict", "path=/api/v1/sessions"] {
        assert!(
            attributes.iter().any(|a| a == wanted),
            "{wanted} in {device}"
        );
    }
    let device = cookie_pair(device);
    // The attack, from addresses that change every time.
    for i in 0..12 {
        let (status, _) = sign_in_carrying(
            &svc,
            "lestari",
            "tebak-tebak-tebak",
            &format!("10.31.{i}.1:1"),
            "",
        )
        .await;
        assert_eq!(status, if i < 5 { 401 } else { 429 }, "try {i}");
    }
    // An unknown browser waits, even with the right password.
    let (status, _) = sign_in_carrying(&svc, "lestari", PASSWORD, "10.30.0.1:1", "").await;
    assert_eq!(status, 429);
    // A device cookie of another person, or a forged one, counts for nothing.
    let forged = device.replacen("kepuasan_device=d1.", "kepuasan_device=d1.x", 1);
    assert_eq!(
        sign_in_carrying(&svc, "lestari", PASSWORD, "10.30.0.1:1", &forged)
            .await
            .0,
        429
    );
    // The person's own browser gets in.
    let (status, _) = sign_in_carrying(&svc, "lestari", PASSWORD, "10.30.0.1:1", &device).await;
    assert_eq!(status, 201);
    // That browser has five tries of its own, then waits too.
    for i in 0..6 {
        let (status, _) =
            sign_in_carrying(&svc, "lestari", "salah-ketik-lagi", "10.30.0.1:1", &device).await;
        assert_eq!(status, if i < 5 { 401 } else { 429 }, "try {i}");
    }
}

both_backends!(
    a_burst_of_sixty_wrong_passwords_or_a_hundred_codes_checks_at_most_five,
    the_right_password_from_a_browser_that_signed_in_before_gets_in_during_an_attack,
);
