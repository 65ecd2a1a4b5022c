//! The stored tallies on both backends: those written with each response equal those rebuilt
//! from the rows, so reports read from either are identical, including after a unit moves to
//! another time zone and for a database that had rows before it had tallies.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::api::world;
use crate::both_backends;
use crate::common::*;

/// The reports compared: quarters, a range that cuts months, a year and a range of years and
/// quarters, a parent pooling its children, one service, and the numbers without flagged
/// responses.
const REPORTS: &[&str] = &[
    "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3",
    "/api/v1/reports/ikm?unit=unit-a&period=2025-Q2",
    "/api/v1/reports/ikm?unit=unit-a&period=2025-06-28..2025-07-03",
    "/api/v1/reports/ikm?unit=mpp-jpr&period=2025-Q3",
    "/api/v1/reports/ikm?unit=mpp-jpr&period=2025",
    "/api/v1/reports/ikm?unit=mpp-jpr&period=2024-07-01..2025-12-31",
    "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3&service=ktp-el",
    "/api/v1/reports/ikm?unit=mpp-jpr&period=2025-Q3&exclude_flagged=true",
];

async fn reports<S>(svc: &S, key: &str) -> Vec<Value>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let mut out = Vec::new();
    for path in REPORTS {
        let (status, body) = send(svc, get(path, Some(key))).await;
        assert_eq!(status, 200, "{path}: {body}");
        out.push(body);
    }
    out
}

fn dump(app: &TestApp) -> Vec<(Vec<String>, kepuasan::tallies::Bucket)> {
    app.state.db.read_blocking(kepuasan::tallies::dump).unwrap()
}

fn rebuild(app: &TestApp) -> kepuasan::tallies::Rebuilt {
    app.state
        .db
        .write_blocking(|c| kepuasan::tallies::rebuild(c, &app.state.registry, None))
        .unwrap()
}

async fn tallies_written_with_each_response_equal_a_rebuild_from_the_rows(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let mut rng = StdRng::seed_from_u64(2017);
    // 120 responses from late June to August 2025, many near local midnight in Jayapura
    // (UTC+9), with blanks, services, channels, profiles, suggestions and some flagged.
    let mut sent = 0;
    // Local (UTC+9) dates and units of what was sent, to count each report's respondents.
    let mut local_days = Vec::new();
    for i in 0..120 {
        let day = rng.random_range(0..70);
        let base = at("2025-06-25 14:30:00") + chrono::Duration::days(day);
        let when = base + chrono::Duration::minutes(rng.random_range(0..60));
        app.clock.set(when);
        let unit = if rng.random_bool(0.7) {
            "unit-a"
        } else {
            "unit-b"
        };
        let answers: [i64; 9] = std::array::from_fn(|_| rng.random_range(1..=4));
        let mut body = submission(unit, answers);
        if rng.random_bool(0.2) {
            body["answers"]
                .as_object_mut()
                .unwrap()
                .remove(&format!("U{}", rng.random_range(1..=9)));
        }
        if unit == "unit-a" && rng.random_bool(0.5) {
            body["service"] = json!("ktp-el");
        }
        let channel = ["kiosk", "web", "paper"][rng.random_range(0..3)];
        body["channel"] = json!(channel);
        if rng.random_bool(0.8) {
            let gender = ["L", "P"][rng.random_range(0..2)];
            let age = rng.random_range(17..70);
            let education = ["SMA", "S1", "S2"][rng.random_range(0..3)];
            body["profile"] = json!({"gender": gender, "age": age, "education": education});
        }
        if rng.random_bool(0.3) {
            body["suggestion"] = json!(format!("Saran nomor {i}"));
        }
        // Every tenth is a survey done in three seconds: flagged too_fast.
        if i % 10 == 0 {
            let local = when + chrono::Duration::hours(9);
            body["device_id"] = json!("tablet-1");
            body["client_time"] = json!(local.format("%Y-%m-%dT%H:%M:%S+09:00").to_string());
            body["started_at"] = json!(
                (local - chrono::Duration::seconds(3))
                    .format("%Y-%m-%dT%H:%M:%S+09:00")
                    .to_string()
            );
        }
        let (status, answer) = send(&svc, post("/api/v1/responses", Some(&w.admin), &body)).await;
        assert_eq!(status, 201, "{answer}");
        sent += 1;
        local_days.push(((when + chrono::Duration::hours(9)).date(), unit));
        // A retry of the same submission is not counted again.
        if i % 17 == 0 {
            let (status, _) = send(&svc, post("/api/v1/responses", Some(&w.admin), &body)).await;
            assert_eq!(status, 200);
        }
    }
    assert_eq!(app.response_count(), sent);

    let written = dump(&app);
    let before = reports(&svc, &w.admin).await;
    let quality = &before[REPORTS.len() - 1]["quality"];
    assert!(quality["excluded"].as_u64().unwrap() > 0, "{quality}");
    assert_eq!(quality["excluded"], quality["flagged"]);
    let done = rebuild(&app);
    assert_eq!(done.responses, sent as u64);
    assert_eq!(dump(&app), written, "tallies rebuilt from the rows differ");
    assert_eq!(reports(&svc, &w.admin).await, before);

    // Each report counts the responses of its local days, however they fall on months.
    let day = |t: &str| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").unwrap();
    let count = |from: &str, to: &str, unit: Option<&str>| {
        local_days
            .iter()
            .filter(|(d, u)| *d >= day(from) && *d <= day(to) && unit.is_none_or(|x| x == *u))
            .count() as u64
    };
    let q2 = count("2025-04-01", "2025-06-30", Some("unit-a"));
    assert!(q2 > 0);
    assert_eq!(before[1]["respondents"], q2);
    assert_eq!(
        before[0]["respondents"],
        count("2025-07-01", "2025-09-30", Some("unit-a"))
    );
    assert_eq!(
        before[2]["respondents"],
        count("2025-06-28", "2025-07-03", Some("unit-a"))
    );
    assert_eq!(
        before[3]["respondents"],
        count("2025-07-01", "2025-09-30", None)
    );

    // Moving unit-a two hours west moves some responses to other local days; the stored
    // tallies follow at once and still equal a rebuild.
    let (status, body) = send(
        &svc,
        with_key(
            actix_web::test::TestRequest::patch()
                .uri("/api/v1/units/unit-a")
                .set_json(json!({"timezone": "Asia/Jakarta"})),
            Some(&w.admin),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let moved = dump(&app);
    assert_ne!(moved, written, "no response changed its local day");
    rebuild(&app);
    assert_eq!(dump(&app), moved);

    // A database with rows and no tallies (one made before tallies existed) gets them.
    app.state
        .db
        .write_blocking(|c| {
            use diesel::RunQueryDsl;
            diesel::delete(kepuasan::db::schema::tallies::table)
                .execute(c)
                .map_err(kepuasan::error::AppError::from)
        })
        .unwrap();
    let built = app
        .state
        .db
        .write_blocking(|c| kepuasan::tallies::ensure(c, &app.state.registry))
        .unwrap();
    assert!(built);
    assert_eq!(dump(&app), moved);
}

both_backends!(tallies_written_with_each_response_equal_a_rebuild_from_the_rows);

/// Two instances on one PostgreSQL database add the same responses' groups to the same tally
/// rows at once: each waits for the other's lock, and every response is counted once.
#[actix_web::test]
async fn two_instances_adding_to_the_same_tallies_count_every_response_once() {
    let Some(app) = TestApp::postgres() else {
        return;
    };
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let second = kepuasan::server::state((*app.state.settings).clone(), app.clock.clone())
        .expect("a second instance");
    let other = actix_web::test::init_service(kepuasan::api::app(second)).await;
    // 50 of each answer (1 to 4 on every item), half through each instance, all at once.
    let bodies: Vec<Value> = (0..200)
        .map(|i| submission("unit-a", [1 + (i % 4); 9]))
        .collect();
    let (first, second): (Vec<_>, Vec<_>) =
        bodies.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let post_all = |bodies: Vec<(usize, &Value)>| {
        bodies
            .into_iter()
            .map(|(_, b)| post("/api/v1/responses", Some(&w.kiosk_mpp), b))
            .collect::<Vec<_>>()
    };
    let (a, b) = futures::join!(
        futures::future::join_all(post_all(first).into_iter().map(|r| send(&svc, r))),
        futures::future::join_all(post_all(second).into_iter().map(|r| send(&other, r))),
    );
    assert!(a.iter().chain(&b).all(|(s, _)| *s == 201), "{a:?} {b:?}");
    assert_eq!(app.response_count(), 200);
    let written = dump(&app);
    rebuild(&app);
    assert_eq!(dump(&app), written, "tallies rebuilt from the rows differ");
    // Every item averages 2,5: 2,5 × 25 = 62,50.
    assert_eq!(
        unit_a_ikm(&svc, "2025-Q3", &w.admin).await,
        (Some(200), Some(62.5))
    );
}
