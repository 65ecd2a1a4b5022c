//! Receipt tokens over HTTP on both backends: one receipt, one response.

use kepuasan::auth::Role;
use kepuasan::tokens::{Claims, mint_offline, unit_secret};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::*;

async fn setup<S>(app: &TestApp, svc: &S) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    for body in [
        json!({"code": "unit-a", "name": "Disdukcapil", "timezone": "Asia/Makassar"}),
        json!({"code": "unit-b", "name": "Samsat", "timezone": "Asia/Makassar"}),
    ] {
        assert_eq!(
            send(svc, post("/api/v1/units", Some(&app.admin), &body))
                .await
                .0,
            201
        );
    }
    assert_eq!(
        send(
            svc,
            post(
                "/api/v1/units/unit-a/services",
                Some(&app.admin),
                &json!({"code": "ktp-el", "name": "KTP-el"})
            )
        )
        .await
        .0,
        201
    );
    app.key(Role::Counter, &["unit-a"])
}

/// A token of unit A, issued by `counter` with no service.
async fn issue_token<S>(svc: &S, counter: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let (status, issued) = send(
        svc,
        post(
            "/api/v1/units/unit-a/receipt-tokens",
            Some(counter),
            &json!({}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    issued["token"].as_str().unwrap().to_owned()
}

/// The master secret offline signing secrets derive from.
fn master_secret(app: &TestApp) -> String {
    app.state
        .settings
        .secret
        .clone()
        .expect("tests set a master secret")
}

fn with_token(unit: &str, token: &str) -> Value {
    let mut body = submission(unit, [4, 4, 3, 4, 4, 4, 4, 3, 4]);
    body["channel"] = json!("qr");
    body["token"] = json!(token);
    body
}

async fn a_server_token_is_spent_by_the_first_response_only(app: TestApp) {
    let svc = app.service().await;
    let counter = setup(&app, &svc).await;
    let (status, issued) = send(
        &svc,
        post(
            "/api/v1/units/unit-a/receipt-tokens",
            Some(&counter),
            &json!({"service": "ktp-el", "transaction": "A-0231"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let token = issued["token"].as_str().unwrap();
    assert!(
        issued["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/s/{token}"))
    );
    assert!(issued["qr_svg"].as_str().unwrap().contains("<svg"));
    assert!(
        issued["qr_png_base64"]
            .as_str()
            .unwrap()
            .starts_with("iVBORw0KGgo"),
        "a PNG"
    );
    let first = with_token("unit-a", token);
    let (status, _) = send(&svc, post("/api/v1/responses", None, &first)).await;
    assert_eq!(status, 201);
    assert_eq!(
        send(&svc, post("/api/v1/responses", None, &first)).await.0,
        200,
        "a retry of the same submission is fine"
    );
    let (status, body) = send(
        &svc,
        post("/api/v1/responses", None, &with_token("unit-a", token)),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (409, Some("token_spent")));
    assert_eq!(app.response_count(), 1);
    // The receipt's service is filled in.
    let rows = app
        .state
        .db
        .read_blocking(|c| {
            kepuasan::db::queries::responses_between(
                c,
                "unit-a",
                (at("2000-01-01 00:00:00"), at("2100-01-01 00:00:00")),
                None,
                i64::MAX,
            )
        })
        .unwrap();
    assert_eq!(rows[0].service_code.as_deref(), Some("ktp-el"));
}

async fn forged_expired_and_other_unit_tokens_are_refused(app: TestApp) {
    let svc = app.service().await;
    let counter = setup(&app, &svc).await;
    let token = issue_token(&svc, &counter).await;
    let forged = format!("{}x", &token[..token.len() - 1]);
    let cases = [
        (with_token("unit-a", &forged), "invalid_token"),
        (with_token("unit-a", "k1.bm90aGluZw.AAAA"), "invalid_token"),
        (with_token("unit-b", &token), "token_other_unit"),
    ];
    for (body, code) in cases {
        let (status, resp) = send(&svc, post("/api/v1/responses", None, &body)).await;
        assert_eq!(
            (status, resp["error"].as_str()),
            (422, Some(code)),
            "{resp}"
        );
        assert!(resp["fields"]["token"].is_string());
    }
    app.clock.set(at("2025-08-29 03:00:01")); // 14 days and a second after issue
    let (status, resp) = send(
        &svc,
        post("/api/v1/responses", None, &with_token("unit-a", &token)),
    )
    .await;
    assert_eq!(
        (status, resp["error"].as_str()),
        (422, Some("token_expired"))
    );
    assert_eq!(app.response_count(), 0);
    // Only a counter of the unit (or an admin) issues its tokens.
    let other_counter = app.key(Role::Counter, &["unit-b"]);
    assert_eq!(
        send(
            &svc,
            post(
                "/api/v1/units/unit-a/receipt-tokens",
                Some(&other_counter),
                &json!({})
            )
        )
        .await
        .0,
        403
    );
    let kiosk = app.key(Role::Kiosk, &["unit-a"]);
    assert_eq!(
        send(
            &svc,
            post(
                "/api/v1/units/unit-a/receipt-tokens",
                Some(&kiosk),
                &json!({})
            )
        )
        .await
        .0,
        403
    );
    let (status, resp) = send(
        &svc,
        post(
            "/api/v1/units/unit-a/receipt-tokens",
            Some(&counter),
            &json!({"service": "nope"}),
        ),
    )
    .await;
    assert_eq!((status, resp["fields"]["service"].is_string()), (422, true));
}

async fn sixty_four_concurrent_submissions_with_one_token_accept_exactly_one(app: TestApp) {
    let svc = app.service().await;
    let counter = setup(&app, &svc).await;
    let token = issue_token(&svc, &counter).await;
    let bodies: Vec<Value> = (0..64).map(|_| with_token("unit-a", &token)).collect();
    // 64 phones, each from an address of its own (one address may send 30 a minute).
    let results = futures::future::join_all(bodies.iter().enumerate().map(|(i, b)| {
        let phone: std::net::SocketAddr = format!("127.0.1.{}:40000", i + 1).parse().unwrap();
        send(&svc, post("/api/v1/responses", None, b).peer_addr(phone))
    }))
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        63,
        "{statuses:?}"
    );
    assert_eq!(app.response_count(), 1);
}

async fn offline_tokens_minted_with_the_units_secret_are_accepted_once(app: TestApp) {
    let svc = app.service().await;
    setup(&app, &svc).await;
    let master = master_secret(&app);
    // The clock is 2025-08-15 03:00 UTC, 11:00 WITA.
    let claims = |issued: &str, unit: &str| Claims {
        unit: unit.into(),
        service: Some("ktp-el".into()),
        transaction: Some("B-77".into()),
        issued: chrono::NaiveDate::parse_from_str(issued, "%Y-%m-%d").unwrap(),
    };
    let token = mint_offline(
        &unit_secret(&master, "unit-a"),
        &claims("2025-08-10", "unit-a"),
    )
    .unwrap();
    assert_eq!(
        send(
            &svc,
            post("/api/v1/responses", None, &with_token("unit-a", &token))
        )
        .await
        .0,
        201
    );
    let (status, resp) = send(
        &svc,
        post("/api/v1/responses", None, &with_token("unit-a", &token)),
    )
    .await;
    assert_eq!((status, resp["error"].as_str()), (409, Some("token_spent")));
    let wrong_key = mint_offline(
        &unit_secret(&master, "unit-b"),
        &claims("2025-08-10", "unit-a"),
    )
    .unwrap();
    assert_eq!(
        send(
            &svc,
            post("/api/v1/responses", None, &with_token("unit-a", &wrong_key))
        )
        .await
        .1["error"],
        "invalid_token"
    );
    let old = mint_offline(
        &unit_secret(&master, "unit-a"),
        &claims("2025-07-31", "unit-a"),
    )
    .unwrap();
    assert_eq!(
        send(
            &svc,
            post("/api/v1/responses", None, &with_token("unit-a", &old))
        )
        .await
        .1["error"],
        "token_expired"
    );
    let still_valid = mint_offline(
        &unit_secret(&master, "unit-a"),
        &claims("2025-08-01", "unit-a"),
    )
    .unwrap();
    assert_eq!(
        send(
            &svc,
            post(
                "/api/v1/responses",
                None,
                &with_token("unit-a", &still_valid)
            )
        )
        .await
        .0,
        201,
        "day 14 is still valid"
    );
}

/// The tokens printed on a sheet, in order.
/// The codes printed on a sheet's slips, as a person reads them (`7KQ2-M9XD-3P`).
fn sheet_tokens(html: &str) -> Vec<String> {
    html.split("<b class=\"token\">")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect()
}

async fn a_receipt_sheet_prints_fourteen_usable_one_use_tokens_on_two_pages(app: TestApp) {
    let svc = app.service().await;
    let counter = setup(&app, &svc).await;
    let (status, html) = send(
        &svc,
        post(
            "/api/v1/units/unit-a/receipt-sheets",
            Some(&counter),
            &json!({"service": "ktp-el", "count": 14}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{html}");
    let html = html.as_str().expect("an HTML page, not JSON");
    assert!(html.contains("size:A4"), "sized for A4");
    assert!(html.contains("<html lang=\"id\">") && html.contains("Pindai dengan ponsel Anda"));
    assert!(html.contains("Disdukcapil") && html.contains("KTP-el"));
    // 12 slips to a page: 14 slips take two pages, each with its own QR code.
    assert_eq!(html.matches("<section class=\"page\">").count(), 2);
    assert_eq!(html.matches("<svg").count(), 14);
    let tokens = sheet_tokens(html);
    assert_eq!(tokens.len(), 14);
    let distinct: std::collections::BTreeSet<&String> = tokens.iter().collect();
    assert_eq!(distinct.len(), 14, "every slip has its own token");
    // Issued 2025-08-15 03:00 UTC = 11:00 WITA; valid 14 days.
    assert!(
        html.contains("Berlaku s.d. 29-08-2025"),
        "expiry in local time"
    );
    // Issue 29: each slip carries an address to type without a camera: a short code of ten
    // characters no one misreads (no I, L, O or U), in groups.
    for code in &tokens {
        assert_eq!(code.len(), 12, "{code}");
        assert!(
            code.chars()
                .all(|c| c == '-' || "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c)),
            "{code}"
        );
    }
    assert!(html.contains("Tanpa kamera? Buka "), "{html}");
    // Typed as printed, the address opens the survey; typed in small letters without dashes,
    // it is the same receipt, spent by the first response.
    let typed = tokens[3].to_lowercase().replace('-', "");
    let (status, page) = send(&svc, get(&format!("/s/{}", tokens[3]), None)).await;
    assert_eq!(status, 200, "{page}");
    let (status, _) = send(
        &svc,
        post("/api/v1/responses", None, &with_token("unit-a", &tokens[3])),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = send(
        &svc,
        post("/api/v1/responses", None, &with_token("unit-a", &typed)),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (409, Some("token_spent")));
    assert_eq!(
        send(
            &svc,
            post(
                "/api/v1/responses",
                None,
                &with_token("unit-a", &tokens[13])
            )
        )
        .await
        .0,
        201
    );
    assert_eq!(app.response_count(), 2);
    // A sheet handed out over a quarter: its slips valid 100 days, from 15 August.
    let (status, html) = send(
        &svc,
        post(
            "/api/v1/units/unit-a/receipt-sheets",
            Some(&counter),
            &json!({"count": 1, "days": 100}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{html}");
    assert!(
        html.as_str().unwrap().contains("Berlaku s.d. 23-11-2025"),
        "{html}"
    );
}

async fn a_receipt_sheet_refuses_other_units_and_bad_counts(app: TestApp) {
    let svc = app.service().await;
    let counter = setup(&app, &svc).await;
    let other = app.key(Role::Counter, &["unit-b"]);
    let kiosk = app.key(Role::Kiosk, &["unit-a"]);
    for key in [&other, &kiosk] {
        let (status, body) = send(
            &svc,
            post(
                "/api/v1/units/unit-a/receipt-sheets",
                Some(key),
                &json!({"count": 2}),
            ),
        )
        .await;
        assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    }
    for (body, field) in [
        (json!({"count": 0}), "count"),
        (json!({"count": 121}), "count"),
        (json!({"service": "nope"}), "service"),
        (json!({"lang": "fr"}), "lang"),
        (json!({"days": 0}), "days"),
        (json!({"days": 366}), "days"),
    ] {
        let (status, answer) = send(
            &svc,
            post("/api/v1/units/unit-a/receipt-sheets", Some(&counter), &body),
        )
        .await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(answer["fields"][field].is_string(), "{answer}");
    }
    let (status, body) = send(
        &svc,
        post(
            "/api/v1/units/nowhere/receipt-sheets",
            Some(&counter),
            &json!({}),
        ),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    let count: i64 = app
        .state
        .db
        .read_blocking(|c| {
            use diesel::prelude::*;
            Ok(kepuasan::db::schema::receipt_tokens::table
                .count()
                .get_result(c)?)
        })
        .unwrap();
    assert_eq!(count, 0, "a refused sheet issues nothing");
}

async fn a_new_kiosk_key_comes_with_its_enrolment_address_and_qr(app: TestApp) {
    let svc = app.service().await;
    setup(&app, &svc).await;
    let (status, body) = send(
        &svc,
        post(
            "/api/v1/keys",
            Some(&app.admin),
            &json!({"role": "kiosk", "units": ["unit-a"], "name": "tablet exit 1"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let secret = body["secret"].as_str().unwrap();
    assert_eq!(
        body["enrol_url"].as_str(),
        Some(format!("http://127.0.0.1:8080/kiosk#key={secret}").as_str())
    );
    assert!(body["enrol_qr_svg"].as_str().unwrap().contains("<svg"));
    let (_, viewer) = send(
        &svc,
        post(
            "/api/v1/keys",
            Some(&app.admin),
            &json!({"role": "viewer", "units": ["unit-a"]}),
        ),
    )
    .await;
    assert!(viewer.get("enrol_url").is_none(), "only kiosks enrol");
}

/// A receipt whose survey cannot open says why, with its own status: 404 for a token this
/// server never issued or whose signature is false, 410 for one that expired or was used.
async fn a_closed_receipt_page_says_why_with_its_own_status(app: TestApp) {
    let svc = app.service().await;
    let counter = setup(&app, &svc).await;
    let master = master_secret(&app);
    let token = issue_token(&svc, &counter).await;
    let (status, open) = page_status_and_config(&svc, &format!("/s/{token}")).await;
    assert_eq!((status, open["unit"].as_str()), (200, Some("unit-a")));
    let claims = Claims {
        unit: "unit-a".into(),
        service: None,
        transaction: Some("C-1".into()),
        issued: chrono::NaiveDate::from_ymd_opt(2025, 8, 14).unwrap(),
    };
    let forged = mint_offline(&unit_secret("not the master secret", "unit-a"), &claims).unwrap();
    let genuine = mint_offline(&unit_secret(&master, "unit-a"), &claims).unwrap();
    let altered = format!("{}x", &token[..token.len() - 1]);
    for (path, want, screen) in [
        ("/s/nothing-like-a-token".to_owned(), 404, "unknown"),
        (format!("/s/{altered}"), 404, "unknown"),
        (format!("/s/{forged}"), 404, "forged"),
        (format!("/s/{genuine}"), 200, ""),
    ] {
        let (status, config) = page_status_and_config(&svc, &path).await;
        assert_eq!(status, want, "{path}: {config}");
        if !screen.is_empty() {
            assert_eq!(config["screen"], screen, "{path}");
            assert!(
                config.get("token").is_none(),
                "{path}: a closed page carries no token"
            );
        }
    }
    // Used: 410, naming the unit.
    let (status, _) = send(
        &svc,
        post("/api/v1/responses", None, &with_token("unit-a", &genuine)),
    )
    .await;
    assert_eq!(status, 201);
    let (status, config) = page_status_and_config(&svc, &format!("/s/{genuine}")).await;
    assert_eq!((status, config["screen"].as_str()), (410, Some("spent")));
    assert_eq!(config["unit_name"], "Disdukcapil");
    // Expired: 410 too, and not the same page.
    app.clock.set(at("2025-08-29 03:00:01"));
    let (status, config) = page_status_and_config(&svc, &format!("/s/{token}")).await;
    assert_eq!((status, config["screen"].as_str()), (410, Some("expired")));
}

both_backends!(
    a_closed_receipt_page_says_why_with_its_own_status,
    a_receipt_sheet_prints_fourteen_usable_one_use_tokens_on_two_pages,
    a_receipt_sheet_refuses_other_units_and_bad_counts,
    a_new_kiosk_key_comes_with_its_enrolment_address_and_qr,
    a_server_token_is_spent_by_the_first_response_only,
    forged_expired_and_other_unit_tokens_are_refused,
    sixty_four_concurrent_submissions_with_one_token_accept_exactly_one,
    offline_tokens_minted_with_the_units_secret_are_accepted_once,
);

/// Issue 29: without KEPUASAN_PUBLIC_URL, receipt QR codes and kiosk enrolment codes made at
/// /admin carry the address /admin was opened at, unless that is a loopback address, which no
/// phone or tablet can open: then they are refused with the reason, as the command line does.
async fn printed_addresses_follow_the_page_or_are_refused_at_a_loopback_one(app: TestApp) {
    use actix_web::test::TestRequest;
    let svc = app.service().await;
    let counter = setup(&app, &svc).await;
    let at = |host: &str, path: &str, key: &str, body: Value| {
        with_key(
            TestRequest::post()
                .uri(path)
                .insert_header(("Host", host.to_owned()))
                .set_json(body),
            Some(key),
        )
    };
    for loopback in ["127.0.0.1:8080", "localhost:8080", "[::1]:8080"] {
        for (path, key, body) in [
            ("/api/v1/units/unit-a/receipt-tokens", &counter, json!({})),
            (
                "/api/v1/units/unit-a/receipt-sheets",
                &counter,
                json!({"count": 1}),
            ),
            (
                "/api/v1/keys",
                &app.admin,
                json!({"role": "kiosk", "units": ["unit-a"]}),
            ),
        ] {
            let (status, said) = send(&svc, at(loopback, path, key, body)).await;
            assert_eq!(status, 409, "{loopback} {path}: {said}");
            assert!(
                said["message"]
                    .as_str()
                    .unwrap()
                    .contains("KEPUASAN_PUBLIC_URL"),
                "{said}"
            );
        }
    }
    let host = "skm.dinas.example.go.id";
    let (status, token) = send(
        &svc,
        at(
            host,
            "/api/v1/units/unit-a/receipt-tokens",
            &counter,
            json!({}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{token}");
    assert!(
        token["url"]
            .as_str()
            .unwrap()
            .starts_with("http://skm.dinas.example.go.id/s/"),
        "{token}"
    );
    let (status, kiosk) = send(
        &svc,
        at(
            host,
            "/api/v1/keys",
            &app.admin,
            json!({"role": "kiosk", "units": ["unit-a"]}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{kiosk}");
    assert!(
        kiosk["enrol_url"]
            .as_str()
            .unwrap()
            .starts_with("http://skm.dinas.example.go.id/kiosk#key="),
        "{kiosk}"
    );
    let sheet = actix_web::test::call_service(
        &svc,
        at(
            host,
            "/api/v1/units/unit-a/receipt-sheets",
            &counter,
            json!({"count": 1}),
        )
        .to_request(),
    )
    .await;
    assert_eq!(sheet.status().as_u16(), 201);
    let html = String::from_utf8(actix_web::test::read_body(sheet).await.to_vec()).unwrap();
    assert!(
        html.contains("skm.dinas.example.go.id/s/"),
        "the sheet's address"
    );
    // A key that enrols nothing needs no address.
    let (status, _) = send(
        &svc,
        at(
            "127.0.0.1:8080",
            "/api/v1/keys",
            &app.admin,
            json!({"role": "viewer", "units": ["unit-a"]}),
        ),
    )
    .await;
    assert_eq!(status, 201);
}

#[actix_web::test]
async fn printed_addresses_follow_the_page_or_are_refused_at_a_loopback_one_sqlite() {
    let app = TestApp::sqlite_with(|s| s.public_url_configured = false);
    printed_addresses_follow_the_page_or_are_refused_at_a_loopback_one(app).await;
}

#[actix_web::test]
async fn printed_addresses_follow_the_page_or_are_refused_at_a_loopback_one_postgres() {
    if let Some(app) = TestApp::postgres_with(|s| s.public_url_configured = false) {
        printed_addresses_follow_the_page_or_are_refused_at_a_loopback_one(app).await;
    }
}
