//! The full report on both backends: breakdowns, suggestions, trend and roll-ups, with
//! numbers worked out by hand from the responses each test sends.

use serde_json::{Value, json};

use crate::api::world;
use crate::both_backends;
use crate::common::*;

/// Sends `n` submissions of the same answers.
async fn submit_n<S>(svc: &S, key: &str, body: &Value, n: usize)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    for _ in 0..n {
        let mut body = body.clone();
        body["submission_id"] = json!(uuid::Uuid::new_v4().to_string());
        let (status, answer) = send(svc, post("/api/v1/responses", Some(key), &body)).await;
        assert_eq!(status, 201, "{answer}");
    }
}

/// unit, service, respondents, IKM, grade.
type ServiceRow<'a> = (Option<&'a str>, Option<&'a str>, u64, f64, &'a str);

fn with(mut body: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

async fn the_full_report_breaks_down_by_service_channel_and_child_with_a_trend(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    // 2025-Q2: three all-2 responses at unit-a: IKM 2 × 25 = 50,00.
    app.clock.set(at("2025-05-10 02:00:00"));
    submit_n(&svc, &w.admin, &submission("unit-a", [2; 9]), 3).await;
    // 2025-Q3 (2025-08-15 03:00 UTC = 12:00 WIT): unit-a two all-4 kiosk responses for
    // ktp-el, one with a suggestion; unit-b two all-2 paper questionnaires.
    app.clock.set(at("2025-08-15 03:00:00"));
    let kiosk = with(
        submission("unit-a", [4; 9]),
        json!({"service": "ktp-el", "channel": "kiosk"}),
    );
    submit_n(&svc, &w.kiosk_mpp, &kiosk, 1).await;
    submit_n(
        &svc,
        &w.kiosk_mpp,
        &with(
            kiosk,
            json!({"suggestion": "Antrean cepat, petugas ramah."}),
        ),
        1,
    )
    .await;
    let paper = with(submission("unit-b", [2; 9]), json!({"channel": "paper"}));
    submit_n(&svc, &w.admin, &paper, 2).await;

    let r = send(
        &svc,
        get(
            "/api/v1/reports/ikm?unit=mpp-jpr&period=2025-Q3",
            Some(&w.viewer_mpp),
        ),
    )
    .await
    .1;
    // Pooled: (100 + 100 + 50 + 50) / 4 = 75,00, C.
    assert_eq!(
        (
            r["respondents"].as_u64(),
            r["ikm"].as_f64(),
            r["grade"].as_str()
        ),
        (Some(4), Some(75.0), Some("C")),
        "{r}"
    );
    let services: Vec<ServiceRow> = r["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["unit"].as_str(),
                s["code"].as_str(),
                s["respondents"].as_u64().unwrap(),
                s["ikm"].as_f64().unwrap(),
                s["grade"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        services,
        [
            (Some("unit-a"), Some("ktp-el"), 2, 100.0, "A"),
            (Some("unit-b"), None, 2, 50.0, "D")
        ]
    );
    assert_eq!(r["services"][0]["name"], "KTP-el");
    let channels: Vec<(&str, u64, f64)> = r["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap(),
                c["respondents"].as_u64().unwrap(),
                c["ikm"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(channels, [("kiosk", 2, 100.0), ("paper", 2, 50.0)]);
    assert_eq!(
        r["suggestions"],
        json!([{"date": "2025-08-15", "unit": "unit-a", "service": "ktp-el", "channel": "kiosk",
                "text": "Antrean cepat, petugas ramah."}])
    );
    // Children ranked by IKM; no populations yet, so no weighted roll-up.
    let children: Vec<(&str, u64, Option<f64>)> = r["rollup"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap(),
                c["respondents"].as_u64().unwrap(),
                c["ikm"].as_f64(),
            )
        })
        .collect();
    assert_eq!(
        children,
        [("unit-a", 2, Some(100.0)), ("unit-b", 2, Some(50.0))]
    );
    assert!(r["rollup"]["population_weighted"].is_null());
    assert!(r["rollup"]["rule"].as_str().unwrap().contains("pooled"));

    // Trend: 2024-Q3, 2024-Q4, 2025-Q1 empty; 2025-Q2 50,00 (3); 2025-Q3 75,00 (4).
    let trend = r["trend"].as_array().unwrap();
    let periods: Vec<&str> = trend
        .iter()
        .map(|t| t["period"].as_str().unwrap())
        .collect();
    assert_eq!(
        periods,
        ["2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3"]
    );
    assert_eq!(
        (trend[3]["respondents"].as_u64(), trend[3]["ikm"].as_f64()),
        (Some(3), Some(50.0))
    );
    assert!(trend[2]["ikm"].is_null() && trend[3]["change"].is_null());
    assert_eq!(trend[4]["change"].as_f64(), Some(25.0));
    // Welch: Q3 scores 100, 100, 50, 50 (mean 75, s² = 4 × 625 / 3 = 833,33; /4 = 208,33);
    // Q2 scores 50, 50, 50 (s² = 0). t = 25 / √208,33 = 1,7321, df = 3, p ≈ 0,18.
    let welch = &trend[4]["comparison"];
    assert!(
        (welch["t"].as_f64().unwrap() - 1.7321).abs() < 1e-3,
        "{welch}"
    );
    assert!((welch["df"].as_f64().unwrap() - 3.0).abs() < 1e-9);
    let p = welch["p"].as_f64().unwrap();
    assert!((0.15..0.22).contains(&p), "p = {p}");
    assert_eq!(trend[4]["significant"], json!(false));

    // Populations: unit-a served 100, unit-b 300: (100 × 100 + 300 × 50) / 400 = 62,50, D.
    for (unit, n) in [("unit-a", 100), ("unit-b", 300)] {
        let (status, _) = send(
            &svc,
            actix_web::test::TestRequest::put()
                .uri(&format!("/api/v1/units/{unit}/populations/2025-Q3"))
                .insert_header(("Authorization", format!("Bearer {}", w.admin)))
                .set_json(json!({"population": n})),
        )
        .await;
        assert_eq!(status, 200);
    }
    let r = send(
        &svc,
        get(
            "/api/v1/reports/ikm?unit=mpp-jpr&period=2025-Q3",
            Some(&w.admin),
        ),
    )
    .await
    .1;
    let weighted = &r["rollup"]["population_weighted"];
    assert_eq!(
        (
            weighted["ikm"].as_f64(),
            weighted["grade"].as_str(),
            weighted["population"].as_u64()
        ),
        (Some(62.5), Some("D"), Some(400)),
        "{weighted}"
    );
    assert_eq!(r["ikm"].as_f64(), Some(75.0), "the headline stays pooled");
    assert_eq!(r["rollup"]["children"][1]["population"].as_u64(), Some(300));

    // A unit without children has no roll-up; its own services only, without a unit column.
    let a = send(
        &svc,
        get(
            "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3",
            Some(&w.admin),
        ),
    )
    .await
    .1;
    assert!(a["rollup"].is_null());
    assert!(a["services"][0].get("unit").is_none());
    assert_eq!(a["respondents"].as_u64(), Some(2));
}

both_backends!(the_full_report_breaks_down_by_service_channel_and_child_with_a_trend,);
