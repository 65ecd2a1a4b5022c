//! The HTTP API on SQLite and PostgreSQL: roles, idempotency, periods, bad input.

use actix_web::test::TestRequest;
use kepuasan::auth::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::*;

/// An MPP in Jayapura (WIT) with two child units, one service, and keys of every role.
pub(crate) struct World {
    pub admin: String,
    pub viewer_a: String,
    pub viewer_mpp: String,
    pub kiosk_mpp: String,
    pub counter_a: String,
}

pub(crate) async fn world<S>(app: &TestApp, svc: &S) -> World
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let admin = app.admin.clone();
    for body in [
        json!({"code": "mpp-jpr", "name": "MPP Kota Jayapura", "timezone": "Asia/Jayapura"}),
        json!({"code": "unit-a", "name": "Disdukcapil Jayapura", "timezone": "Asia/Jayapura", "parent": "mpp-jpr"}),
        json!({"code": "unit-b", "name": "Samsat Jayapura", "timezone": "Asia/Jayapura", "parent": "mpp-jpr"}),
    ] {
        let (status, created) = send(svc, post("/api/v1/units", Some(&admin), &body)).await;
        assert_eq!(status, 201, "{created}");
    }
    let (status, _) = send(
        svc,
        post(
            "/api/v1/units/unit-a/services",
            Some(&admin),
            &json!({"code": "ktp-el", "name": "KTP-el"}),
        ),
    )
    .await;
    assert_eq!(status, 201);
    World {
        viewer_a: app.key(Role::Viewer, &["unit-a"]),
        viewer_mpp: app.key(Role::Viewer, &["mpp-jpr"]),
        kiosk_mpp: app.key(Role::Kiosk, &["mpp-jpr"]),
        counter_a: app.key(Role::Counter, &["unit-a"]),
        admin,
    }
}

const REPORT_A: &str = "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3";
const REPORT_B: &str = "/api/v1/reports/ikm?unit=unit-b&period=2025-Q3";

async fn each_role_gets_exactly_what_it_should(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let unit_body = json!({"code": "unit-x", "name": "X", "timezone": "Asia/Jakarta"});
    // (request builder, expected status for admin, viewer_a, viewer_mpp, kiosk_mpp, counter_a, no key)
    type Make = Box<dyn Fn(Option<&str>) -> TestRequest>;
    let cases: Vec<(&str, Make, [u16; 6])> = vec![
        (
            "create unit",
            Box::new(move |k| post("/api/v1/units", k, &unit_body)),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "list keys",
            Box::new(|k| get("/api/v1/keys", k)),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "create key",
            Box::new(|k| {
                post(
                    "/api/v1/keys",
                    k,
                    &json!({"role": "viewer", "units": ["unit-b"]}),
                )
            }),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "report of A",
            Box::new(|k| get(REPORT_A, k)),
            [200, 200, 200, 403, 403, 401],
        ),
        (
            "report of B",
            Box::new(|k| get(REPORT_B, k)),
            [200, 403, 200, 403, 403, 401],
        ),
        (
            "services of A",
            Box::new(|k| get("/api/v1/units/unit-a/services", k)),
            [200, 200, 200, 200, 200, 401],
        ),
        (
            "submit to A",
            Box::new(|k| post("/api/v1/responses", k, &submission("unit-a", [4; 9]))),
            // A counter key's responses are paper questionnaires: channel `kiosk` conflicts.
            [201, 403, 403, 201, 422, 401],
        ),
        (
            "who am I",
            Box::new(|k| get("/api/v1/me", k)),
            [200, 200, 200, 200, 200, 401],
        ),
        (
            "set population",
            Box::new(|k| {
                with_key(
                    TestRequest::put()
                        .uri("/api/v1/units/unit-a/populations/2025-Q3")
                        .set_json(json!({"population": 500})),
                    k,
                )
            }),
            [200, 403, 403, 403, 403, 401],
        ),
    ];
    let keys = [
        Some(w.admin.as_str()),
        Some(&w.viewer_a),
        Some(&w.viewer_mpp),
        Some(&w.kiosk_mpp),
        Some(&w.counter_a),
        None,
    ];
    for (name, make, expected) in &cases {
        for (key, want) in keys.iter().zip(expected) {
            let (status, body) = send(&svc, make(*key)).await;
            assert_eq!(
                status,
                *want,
                "{name} with key #{:?}: {body}",
                keys.iter().position(|k| k == key)
            );
            if status >= 400 {
                assert!(
                    body["error"].is_string() && body["message"].is_string(),
                    "{name}: {body}"
                );
            }
        }
    }
    // A key tells its own role, units and holder, never its secret.
    let me = send(&svc, get("/api/v1/me", Some(&w.viewer_a))).await.1;
    assert_eq!(
        (&me["role"], &me["units"], me.get("secret")),
        (&json!("viewer"), &json!(["unit-a"]), None),
        "{me}"
    );
    // Use is recorded; a revoked key gets 401.
    let keys_list = send(&svc, get("/api/v1/keys", Some(&w.admin))).await.1;
    let used = |units: Value, role: &str| {
        let keys = keys_list.as_array().unwrap();
        keys.iter()
            .find(|k| k["units"] == units && k["role"] == role)
            .unwrap()["last_used_at"]
            .clone()
    };
    assert_eq!(
        used(json!([]), "admin"),
        json!("2025-08-15T03:00:00"),
        "{keys_list}"
    );
    assert_eq!(
        used(json!(["unit-a"]), "counter"),
        json!("2025-08-15T03:00:00")
    );
    assert_eq!(used(json!(["unit-b"]), "viewer"), Value::Null, "never used");
    assert!(
        keys_list
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("secret").is_none()),
        "secrets never listed"
    );
    let viewer_id = keys_list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["units"] == json!(["unit-a"]) && k["role"] == "viewer")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        keys_list
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("secret").is_none()),
        "secrets never listed"
    );
    let (status, _) = send(
        &svc,
        with_key(
            TestRequest::delete().uri(&format!("/api/v1/keys/{viewer_id}")),
            Some(&w.admin),
        ),
    )
    .await;
    assert_eq!(status, 204);
    // A revoked key and an unknown one are told apart by their codes (issue 14: a kiosk forgets
    // its key only when the server says it is unknown or revoked; it used to be `unauthorized`).
    let (status, body) = send(&svc, get(REPORT_A, Some(&w.viewer_a))).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("key_revoked")));
    let (status, body) = send(&svc, get(REPORT_A, Some("kp_not-a-key"))).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("key_unknown")));
}

async fn a_resent_submission_counts_once_and_a_reused_id_conflicts(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let body = submission("unit-a", [4, 3, 3, 4, 4, 4, 4, 3, 3]);
    let (status, first) = send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &body)).await;
    assert_eq!((status, first["status"].as_str()), (201, Some("created")));
    let (status, again) = send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &body)).await;
    assert_eq!(
        (status, again["submission_id"].clone()),
        (200, first["submission_id"].clone())
    );
    let mut other = body.clone();
    other["answers"]["U1"] = json!(1);
    let (status, conflict) =
        send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &other)).await;
    assert_eq!(
        (status, conflict["error"].as_str()),
        (409, Some("submission_id_conflict"))
    );
    assert_eq!(app.response_count(), 1);
}

async fn fifty_concurrent_submissions_with_one_id_store_one_response(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let body = submission("unit-a", [3; 9]);
    let requests =
        (0..50).map(|_| send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &body)));
    let results = futures::future::join_all(requests).await;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let repeats = results.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(
        (created, repeats),
        (1, 49),
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert_eq!(app.response_count(), 1);
    let mut other = body.clone();
    other["answers"]["U9"] = json!(4);
    let (status, _) = send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &other)).await;
    assert_eq!(status, 409);
    assert_eq!(app.response_count(), 1);
}

async fn report_ikm(
    svc: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    key: &str,
    unit: &str,
    period: &str,
) -> Value {
    let (status, body) = send(
        svc,
        get(
            &format!("/api/v1/reports/ikm?unit={unit}&period={period}"),
            Some(key),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn responses_count_in_the_quarter_of_their_units_local_time(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    // 2025-03-31 23:30 WIT = 14:30 UTC: Q1. 2025-04-01 00:30 WIT = 2025-03-31 15:30 UTC: Q2.
    app.clock.set(at("2025-03-31 14:30:00"));
    let (status, _) = send(
        &svc,
        post(
            "/api/v1/responses",
            Some(&w.kiosk_mpp),
            &submission("unit-a", [4; 9]),
        ),
    )
    .await;
    assert_eq!(status, 201);
    app.clock.set(at("2025-03-31 15:30:00"));
    let mut late = submission("unit-a", [2; 9]);
    late["client_time"] = json!("2025-03-31T23:59:00+09:00"); // a client clock never decides the period
    let (status, _) = send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &late)).await;
    assert_eq!(status, 201);
    let q1 = report_ikm(&svc, &w.admin, "unit-a", "2025-Q1").await;
    assert_eq!(
        (q1["respondents"].as_u64(), q1["ikm"].as_f64()),
        (Some(1), Some(100.0))
    );
    assert_eq!(
        (
            q1["from"].as_str(),
            q1["to"].as_str(),
            q1["timezone"].as_str()
        ),
        (
            Some("2025-01-01"),
            Some("2025-03-31"),
            Some("Asia/Jayapura")
        )
    );
    let q2 = report_ikm(&svc, &w.admin, "unit-a", "2025-Q2").await;
    assert_eq!(
        (
            q2["respondents"].as_u64(),
            q2["ikm"].as_f64(),
            q2["grade"].as_str()
        ),
        (Some(1), Some(50.0), Some("D"))
    );
    // The day range form and the month form agree with the quarter.
    let april = report_ikm(&svc, &w.admin, "unit-a", "2025-04-01..2025-04-30").await;
    assert_eq!(april["respondents"].as_u64(), Some(1));
    let march = report_ikm(&svc, &w.admin, "unit-a", "2025-03").await;
    assert_eq!(march["respondents"].as_u64(), Some(1));
}

async fn a_parent_pools_children_each_cut_at_its_own_midnight(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    // A Jakarta (WIB, UTC+7) unit under the Jayapura MPP. 2025-06-30 16:30 UTC is
    // 2025-07-01 01:30 WIT (Q3 for unit-a) but 2025-06-30 23:30 WIB (Q2 for unit-c).
    let (status, _) = send(&svc, post("/api/v1/units", Some(&w.admin), &json!({"code": "unit-c", "name": "C", "timezone": "Asia/Jakarta", "parent": "mpp-jpr"}))).await;
    assert_eq!(status, 201);
    app.clock.set(at("2025-06-30 16:30:00"));
    for unit in ["unit-a", "unit-c"] {
        let (status, _) = send(
            &svc,
            post(
                "/api/v1/responses",
                Some(&w.admin),
                &submission(unit, [3; 9]),
            ),
        )
        .await;
        assert_eq!(status, 201);
    }
    let q3 = report_ikm(&svc, &w.viewer_mpp, "mpp-jpr", "2025-Q3").await;
    assert_eq!(q3["respondents"].as_u64(), Some(1));
    let q2 = report_ikm(&svc, &w.viewer_mpp, "mpp-jpr", "2025-Q2").await;
    assert_eq!(
        (q2["respondents"].as_u64(), q2["ikm"].as_f64()),
        (Some(1), Some(75.0))
    );
    let units: Vec<&str> = q3["units_included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(units, ["mpp-jpr", "unit-a", "unit-b", "unit-c"]);
}

async fn the_report_carries_sample_adequacy_and_suppresses_small_profile_cells(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    // Six respondents: five women, one man. The man's cell (1 < 5) is suppressed, and the
    // women's with it: 6 − 5 would give it away (issue 29).
    for i in 0..6 {
        let mut body = submission("unit-a", [4, 4, 4, 4, 3, 3, 3, 3, 3]);
        body["profile"] = json!({"gender": if i == 0 { "L" } else { "P" }, "age": 30, "education": "SMA", "occupation": "Swasta"});
        body["service"] = json!("ktp-el");
        let (status, b) = send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &body)).await;
        assert_eq!(status, 201, "{b}");
    }
    let (status, _) = send(
        &svc,
        with_key(
            TestRequest::put()
                .uri("/api/v1/units/unit-a/populations/2025-Q3")
                .set_json(json!({"population": 50})),
            Some(&w.admin),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let r = report_ikm(&svc, &w.viewer_a, "unit-a", "2025-Q3").await;
    // (4 × 4 + 5 × 3) / 9 = 31/9 = 3,4444; × 25 = 86,11 (B).
    assert_eq!(
        (
            r["ikm"].as_f64(),
            r["grade"].as_str(),
            r["performance"].as_str()
        ),
        (Some(86.11), Some("B"), Some("Baik"))
    );
    assert_eq!(
        (
            r["sample"]["population"].as_u64(),
            r["sample"]["minimum"].as_u64(),
            r["sample"]["adequate"].as_bool()
        ),
        (Some(50), Some(44), Some(false))
    );
    let gender = r["profile"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "gender")
        .unwrap();
    let cell = |c: &str| {
        gender["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["category"] == c)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            cell("L")["suppressed"].as_bool(),
            cell("L")["respondents"].clone()
        ),
        (Some(true), Value::Null)
    );
    assert_eq!(
        (
            cell("P")["suppressed"].as_bool(),
            cell("P")["respondents"].clone(),
            cell("P")["ikm"].clone()
        ),
        (Some(true), Value::Null, Value::Null)
    );
    let service_only = send(
        &svc,
        get(
            "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3&service=ktp-el&mode=form-0.111",
            Some(&w.admin),
        ),
    )
    .await
    .1;
    assert_eq!(
        (
            service_only["respondents"].as_u64(),
            service_only["mode"].as_str()
        ),
        (Some(6), Some("form-0.111"))
    );
}

/// Bad input of every kind: a 4xx in the contract's shape naming the field, nothing stored.
async fn bad_input_gets_a_clear_4xx_and_changes_nothing(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let k = Some(w.kiosk_mpp.as_str());
    let good = submission("unit-a", [4; 9]);
    let with = |path: &str, value: Value| {
        let mut b = good.clone();
        let mut target = &mut b;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            target = &mut target[*part];
        }
        target[parts[parts.len() - 1]] = value;
        b
    };
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("unit");
    let json_cases: Vec<(&str, Value, u16, &str)> = vec![
        ("answer 0", with("answers.U3", json!(0)), 422, "answers.U3"),
        ("answer 5", with("answers.U3", json!(5)), 422, "answers.U3"),
        (
            "answer text",
            with("answers.U1", json!("4")),
            422,
            "answers.U1",
        ),
        (
            "unknown item",
            with("answers.U10", json!(4)),
            422,
            "answers.U10",
        ),
        (
            "unknown unit",
            with("unit", json!("no-such-unit")),
            422,
            "unit",
        ),
        (
            "unknown service",
            with("service", json!("no-such-service")),
            422,
            "service",
        ),
        (
            "unknown instrument",
            with("instrument", json!("skm-1999")),
            422,
            "instrument",
        ),
        ("bad channel", with("channel", json!("fax")), 422, "channel"),
        (
            "bad id",
            with("submission_id", json!("not-a-uuid")),
            422,
            "submission_id",
        ),
        (
            "bad profile",
            with("profile", json!({"education": "PhD"})),
            422,
            "profile.education",
        ),
        (
            "forbidden profile field",
            with("profile", json!({"religion": "x"})),
            422,
            "profile.religion",
        ),
        (
            "age out of range",
            with("profile", json!({"age": 300})),
            422,
            "profile.age",
        ),
        (
            "long suggestion",
            with("suggestion", json!("a".repeat(2001))),
            422,
            "suggestion",
        ),
        (
            "bad client time",
            with("client_time", json!("yesterday")),
            422,
            "client_time",
        ),
        ("unknown field", with("name", json!("Budi")), 422, "name"),
        ("missing field", missing, 422, "unit"),
        ("no answers", with("answers", json!({})), 422, "answers"),
    ];
    for (name, body, want, field) in json_cases {
        let (status, resp) = send(&svc, post("/api/v1/responses", k, &body)).await;
        assert_eq!(status, want, "{name}: {resp}");
        assert!(
            resp["error"].is_string() && resp["message"].is_string(),
            "{name}: {resp}"
        );
        assert!(
            resp["fields"][field].is_string(),
            "{name}: field {field} not named in {resp}"
        );
    }
    let raw = |bytes: Vec<u8>, content_type: &str| {
        with_key(
            TestRequest::post()
                .uri("/api/v1/responses")
                .insert_header(("Content-Type", content_type.to_owned()))
                .set_payload(bytes),
            k,
        )
    };
    let big = serde_json::to_vec(&with("suggestion", json!("x".repeat(17 * 1024)))).unwrap();
    let raw_cases: Vec<(&str, TestRequest, u16, &str)> = vec![
        (
            "malformed JSON",
            raw(b"{\"submission_id\": ".to_vec(), "application/json"),
            400,
            "malformed_json",
        ),
        (
            "wrong content type",
            raw(serde_json::to_vec(&good).unwrap(), "text/plain"),
            415,
            "unsupported_content_type",
        ),
        (
            "17 KiB body",
            raw(big, "application/json"),
            413,
            "body_too_large",
        ),
        (
            "invalid UTF-8",
            raw(b"{\"unit\": \"\xff\xfe\"}".to_vec(), "application/json"),
            400,
            "malformed_json",
        ),
    ];
    for (name, req, want, code) in raw_cases {
        let (status, resp) = send(&svc, req).await;
        assert_eq!(
            (status, resp["error"].as_str()),
            (want, Some(code)),
            "{name}: {resp}"
        );
    }
    let (status, resp) = send(
        &svc,
        get(
            "/api/v1/reports/ikm?unit=unit-a&period=2025-Q9",
            Some(&w.admin),
        ),
    )
    .await;
    assert_eq!(
        (status, resp["fields"]["period"].is_string()),
        (422, true),
        "{resp}"
    );
    let (status, resp) = send(&svc, get("/api/v1/reports/ikm?unit=unit-a", Some(&w.admin))).await;
    assert_eq!(status, 422, "{resp}");
    let (status, resp) = send(
        &svc,
        post(
            "/api/v1/units",
            Some(&w.admin),
            &json!({"code": "z", "name": "Z", "timezone": "Mars/Olympus"}),
        ),
    )
    .await;
    assert_eq!(
        (status, resp["fields"]["timezone"].is_string()),
        (422, true)
    );
    assert_eq!(app.response_count(), 0, "nothing was stored");

    // SQL-looking text is stored verbatim and harmlessly.
    let sneaky = "Robert'); DROP TABLE responses;-- \"%_\\";
    let (status, _) = send(
        &svc,
        post("/api/v1/responses", k, &with("suggestion", json!(sneaky))),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(app.response_count(), 1);
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
    assert_eq!(rows[0].suggestion.as_deref(), Some(sneaky));
}

async fn instruments_are_served_in_both_languages(app: TestApp) {
    let svc = app.service().await;
    let (status, skm) = send(&svc, get("/api/v1/instruments/skm-2017", None)).await;
    assert_eq!(status, 200);
    assert_eq!(skm["items"].as_array().unwrap().len(), 9);
    assert_eq!(skm["items"][3]["answers"][3]["id"], "Gratis");
    assert_eq!(skm["items"][3]["answers"][3]["en"], "Free");
    let (status, missing) = send(&svc, get("/api/v1/instruments/nope", None)).await;
    assert_eq!(
        (status, missing["error"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = send(&svc, get("/healthz", None)).await;
    assert_eq!(status, 200);
}

async fn an_open_link_unit_takes_web_responses_without_a_key(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let mut body = submission("unit-b", [3; 9]);
    body["channel"] = json!("web");
    let (status, _) = send(&svc, post("/api/v1/responses", None, &body)).await;
    assert_eq!(status, 401, "closed until the unit allows an open link");
    allow_open_link(&svc, &w.admin, "unit-b").await;
    // Without the form ticket of the survey page, refused; with it, stored once.
    let (status, refused) = send(&svc, post("/api/v1/responses", None, &body)).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (422, Some("ticket_required"))
    );
    let body = open_link_submission(&svc, "unit-b", [3; 9]).await;
    assert_eq!(
        send(&svc, post("/api/v1/responses", None, &body)).await.0,
        201
    );
    // The same submission again is the same response; another with the same form is not.
    assert_eq!(
        send(&svc, post("/api/v1/responses", None, &body)).await.0,
        200
    );
    let mut again = body.clone();
    again["submission_id"] = json!(uuid::Uuid::new_v4().to_string());
    let (status, spent) = send(&svc, post("/api/v1/responses", None, &again)).await;
    assert_eq!(
        (status, spent["error"].as_str()),
        (409, Some("ticket_spent"))
    );
    let deactivate = with_key(
        TestRequest::patch()
            .uri("/api/v1/units/unit-b")
            .set_json(json!({"active": false})),
        Some(&w.admin),
    );
    assert_eq!(send(&svc, deactivate).await.0, 200);
    let (status, resp) = send(
        &svc,
        post("/api/v1/responses", None, &submission("unit-b", [3; 9])),
    )
    .await;
    assert_eq!((status, resp["fields"]["unit"].is_string()), (422, true));
}

async fn the_openapi_document_describes_every_endpoint(app: TestApp) {
    let svc = app.service().await;
    let (status, doc) = send(&svc, get("/openapi.json", None)).await;
    assert_eq!(status, 200);
    // Every route the server registers is documented, and everything documented is served:
    // the API's routes (one table, kepuasan::api::ROUTES) and the operational ones.
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    let mut served: Vec<(String, String)> = kepuasan::api::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    for path in ["/healthz", "/readyz", "/metrics"] {
        served.push(("get".to_owned(), path.to_owned()));
    }
    documented.sort();
    served.sort();
    assert_eq!(documented, served);
    assert_eq!(served.len(), 50);
    for (method, path) in [
        ("get", "/api/v1/kiosks"),
        ("post", "/api/v1/sessions"),
        ("delete", "/api/v1/sessions/current"),
        ("get", "/api/v1/audit"),
        ("put", "/api/v1/units/{unit}/logo"),
    ] {
        assert!(
            documented.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} is documented"
        );
    }
    // And each is served: no documented route answers the router's own 404.
    for (method, path) in &served {
        let uri = path.replace('{', "x").replace('}', "");
        let (status, body) = send(&svc, crate::common::method(method).uri(&uri)).await;
        assert!(
            !(status == 404
                && body["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("no such endpoint"))),
            "{method} {path} is documented but not served"
        );
    }
    assert!(doc["components"]["schemas"]["SubmissionRequest"]["properties"]["answers"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Every answer carries a request id, and unknown paths get the contract's 404 shape.
    let resp = actix_web::test::call_service(&svc, get("/nowhere", None).to_request()).await;
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(
        resp.headers().get("x-request-id").map(|v| v.len()),
        Some(32)
    );
}

/// A database that goes away gives 503 with Retry-After, not 500.
#[actix_web::test]
async fn a_vanished_database_gives_503_with_retry_after() {
    let Some(app) = TestApp::postgres() else {
        return;
    };
    let svc = app.service().await;
    let Place::Postgres(db) = &app._place else {
        unreachable!("a PostgreSQL app")
    };
    db.drop_now();
    let resp =
        actix_web::test::call_service(&svc, get("/api/v1/units", Some(&app.admin)).to_request())
            .await;
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    let body: Value = actix_web::test::read_body_json(resp).await;
    assert_eq!(body["error"], "db_unavailable");
}

async fn suspicious_responses_are_flagged_counted_and_can_be_left_out(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let mut sent = 0;
    let mut submit = |answers: [i64; 9], device: &str, seconds: i64| {
        let mut body = submission("unit-a", answers);
        body["device_id"] = json!(device);
        body["client_time"] = json!("2025-08-15T11:00:00+09:00");
        body["started_at"] = json!(format!(
            "2025-08-15T10:{:02}:{:02}+09:00",
            59 - seconds / 60,
            (60 - seconds % 60) % 60
        ));
        sent += 1;
        body
    };
    // Device 1: seven different surveys within the same minute, each taking 90 s by its clock:
    // the seventh exceeds 6 per minute.
    for i in 0..7 {
        let mut answers = [3; 9];
        answers[i] = 4;
        let (status, _) = send(
            &svc,
            post(
                "/api/v1/responses",
                Some(&w.kiosk_mpp),
                &submit(answers, "tablet-1", 90),
            ),
        )
        .await;
        assert_eq!(status, 201);
    }
    // Device 2: a survey done in 4 seconds, then the very same answers again.
    for _ in 0..2 {
        let (status, _) = send(
            &svc,
            post(
                "/api/v1/responses",
                Some(&w.kiosk_mpp),
                &submit([1; 9], "tablet-2", 4),
            ),
        )
        .await;
        assert_eq!(status, 201);
    }
    assert_eq!(sent, 9);
    assert_eq!(
        app.response_count(),
        9,
        "flagged responses are stored, never dropped"
    );
    let all = send(
        &svc,
        get(
            "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3",
            Some(&w.admin),
        ),
    )
    .await
    .1;
    let q = &all["quality"];
    assert_eq!(
        (
            q["rate"].as_u64(),
            q["too_fast"].as_u64(),
            q["repeat"].as_u64()
        ),
        (Some(1), Some(2), Some(1)),
        "{q}"
    );
    assert_eq!(
        (
            q["flagged"].as_u64(),
            q["included"].as_u64(),
            q["excluded"].as_u64()
        ),
        (Some(3), Some(9), Some(0))
    );
    assert!(q["rule"].as_str().unwrap().contains("10 s"));
    assert_eq!(all["respondents"].as_u64(), Some(9));
    let clean = send(
        &svc,
        get(
            "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3&exclude_flagged=true",
            Some(&w.admin),
        ),
    )
    .await
    .1;
    assert_eq!(
        (
            clean["respondents"].as_u64(),
            clean["quality"]["excluded"].as_u64()
        ),
        (Some(6), Some(3))
    );
    // Six surveys of (eight 3s and one 4): (6 × 9 × 3 + 6) / 54 = 3,1111; × 25 = 77,78.
    assert_eq!(clean["ikm"].as_f64(), Some(77.78));
}

/// Every JSON body is checked by its rules before anything is written: one bad field of each
/// body is named in a 422 with its sentence, and a body with several bad fields names each.
async fn every_json_body_names_each_bad_field(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let plan = json!({"period": "2025-Q3", "item": "U3", "action": "Papan alur", "owner": "Kasi", "due": "2025-09-30"});
    let (status, created) = send(
        &svc,
        post("/api/v1/units/unit-a/follow-ups", Some(&w.admin), &plan),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let plan_id = created["id"].as_str().unwrap().to_owned();
    let mut bad_submission = submission("unit-a", [4; 9]);
    bad_submission["submission_id"] = json!("not-a-uuid");
    let cases: Vec<(&str, String, Value, &[&str])> = vec![
        (
            "post",
            "/api/v1/units".into(),
            json!({"code": "bad code", "name": "X", "timezone": "WITA"}),
            &["code", "timezone"],
        ),
        (
            "patch",
            "/api/v1/units/unit-a".into(),
            json!({"timezone": "Jakarta"}),
            &["timezone"],
        ),
        (
            "post",
            "/api/v1/units/unit-a/services".into(),
            json!({"code": "ok", "name": "   "}),
            &["name"],
        ),
        (
            "patch",
            "/api/v1/units/unit-a/services/ktp-el".into(),
            json!({"name": ""}),
            &["name"],
        ),
        (
            "put",
            "/api/v1/units/unit-a/populations/2025-Q3".into(),
            json!({"population": 0}),
            &["population"],
        ),
        (
            "post",
            "/api/v1/units/unit-a/follow-ups".into(),
            json!({"period": "2025-Q5", "item": "U3", "action": "x", "owner": "y", "due": "31/12/2025"}),
            &["due", "period"],
        ),
        (
            "patch",
            format!("/api/v1/follow-ups/{plan_id}"),
            json!({"status": "finished"}),
            &["status"],
        ),
        (
            "post",
            "/api/v1/keys".into(),
            json!({"role": "viewer", "units": ["unit a"]}),
            &["units"],
        ),
        (
            "post",
            "/api/v1/units/unit-a/receipt-tokens".into(),
            json!({"transaction": "#1 of today"}),
            &["transaction"],
        ),
        (
            "post",
            "/api/v1/units/unit-a/receipt-sheets".into(),
            json!({"count": 0, "lang": "jv"}),
            &["count", "lang"],
        ),
        (
            "post",
            "/api/v1/responses".into(),
            bad_submission,
            &["submission_id"],
        ),
    ];
    for (method, uri, body, named) in cases {
        let request = crate::common::method(method).uri(&uri).set_json(&body);
        let (status, answer) = send(&svc, with_key(request, Some(&w.admin))).await;
        assert_eq!(status, 422, "{method} {uri}: {answer}");
        assert_eq!(
            answer["error"], "validation_failed",
            "{method} {uri}: {answer}"
        );
        let fields: Vec<&str> = answer["fields"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(fields, named, "{method} {uri}: {answer}");
        for field in named {
            assert!(
                answer["fields"][field]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
        }
    }
    let units = get_body(&svc, "/api/v1/units", &w.admin).await;
    assert_eq!(units.as_array().unwrap().len(), 3, "nothing was created");
}

both_backends!(
    every_json_body_names_each_bad_field,
    suspicious_responses_are_flagged_counted_and_can_be_left_out,
    the_openapi_document_describes_every_endpoint,
    each_role_gets_exactly_what_it_should,
    a_resent_submission_counts_once_and_a_reused_id_conflicts,
    fifty_concurrent_submissions_with_one_id_store_one_response,
    responses_count_in_the_quarter_of_their_units_local_time,
    a_parent_pools_children_each_cut_at_its_own_midnight,
    the_report_carries_sample_adequacy_and_suppresses_small_profile_cells,
    bad_input_gets_a_clear_4xx_and_changes_nothing,
    instruments_are_served_in_both_languages,
    an_open_link_unit_takes_web_responses_without_a_key,
);
