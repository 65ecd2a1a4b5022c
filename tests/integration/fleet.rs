//! The kiosk fleet on both backends: heartbeats, each tablet's state against the replaceable
//! clock in the unit's own service hours, who sees which tablets, retiring one, and metrics.

use kepuasan::auth::Role;
use serde_json::{Value, json};

use crate::api::world;
use crate::both_backends;
use crate::common::*;

fn beat(device: &str, waiting: i64) -> Value {
    json!({
        "device_id": device,
        "page_version": "survey-3f2a9c1b7d0e",
        "waiting": waiting,
        "last_sent_at": "2026-12-01T08:55:00+09:00",
        "clock_offset_ms": 1200,
    })
}

/// (device, state, waiting) of a unit's tablets as `key` sees them.
async fn tablets<S>(svc: &S, unit: &str, key: &str) -> Vec<(String, String, i64)>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let (status, body) = send(svc, get(&format!("/api/v1/kiosks?unit={unit}"), Some(key))).await;
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["device_id"].as_str().unwrap().to_owned(),
                t["state"].as_str().unwrap().to_owned(),
                t["waiting"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn row(device: &str, state: &str, waiting: i64) -> (String, String, i64) {
    (device.to_owned(), state.to_owned(), waiting)
}

async fn a_tablet_goes_late_in_service_hours_and_back_online_and_retires(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    // Tuesday 2026-12-01 00:00 UTC is 09:00 WIT, inside the Jayapura MPP's service hours.
    app.clock.set(at("2026-12-01 00:00:00"));
    let post_beat = |key: &str, body: Value| post("/api/v1/kiosks/heartbeat", Some(key), &body);
    let (status, body) = send(&svc, post_beat(&w.kiosk_mpp, beat("tab-1", 3))).await;
    assert_eq!(status, 204, "{body}");

    // The MPP's tablet serves every unit in it: a viewer of unit A sees it.
    assert_eq!(
        tablets(&svc, "unit-a", &w.viewer_a).await,
        [row("tab-1", "online", 3)]
    );
    let (_, list) = send(
        &svc,
        get("/api/v1/kiosks?unit=mpp-jpr", Some(&w.viewer_mpp)),
    )
    .await;
    let tab = &list[0];
    assert_eq!(
        tab["last_sent_at"], "2026-11-30T23:55:00Z",
        "its own report, in UTC, saying so"
    );
    assert_eq!(tab["clock_offset_ms"], 1200);
    assert_eq!(tab["page_version"], "survey-3f2a9c1b7d0e");
    assert!(tab["key_name"].is_string() && tab["key_id"].is_string());

    // Four minutes of silence: still online. Five: late, in service hours.
    app.clock.set(at("2026-12-01 00:04:59"));
    assert_eq!(
        tablets(&svc, "unit-a", &w.viewer_a).await,
        [row("tab-1", "online", 3)]
    );
    app.clock.set(at("2026-12-01 00:05:00"));
    assert_eq!(
        tablets(&svc, "unit-a", &w.viewer_a).await,
        [row("tab-1", "late", 3)]
    );
    let metrics = String::from_utf8(
        actix_web::test::read_body(
            actix_web::test::call_service(&svc, get("/metrics", None).to_request()).await,
        )
        .await
        .to_vec(),
    )
    .unwrap();
    assert!(
        metrics.contains("kepuasan_kiosks{state=\"late\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kepuasan_kiosks{state=\"online\"} 0"),
        "{metrics}"
    );

    // It sends its queue and says so: online again, its first sighting kept.
    app.clock.set(at("2026-12-01 00:06:00"));
    assert_eq!(
        send(&svc, post_beat(&w.kiosk_mpp, beat("tab-1", 0)))
            .await
            .0,
        204
    );
    let (_, list) = send(&svc, get("/api/v1/kiosks?unit=unit-a", Some(&w.viewer_a))).await;
    assert_eq!(
        (
            &list[0]["state"],
            &list[0]["waiting"],
            &list[0]["first_seen_at"],
            &list[0]["last_seen_at"]
        ),
        (
            &json!("online"),
            &json!(0),
            &json!("2026-12-01T00:00:00Z"),
            &json!("2026-12-01T00:06:00Z")
        )
    );

    // 18:00 WIT: the MPP is closed, a silent tablet is offline, not late.
    app.clock.set(at("2026-12-01 09:00:00"));
    assert_eq!(
        tablets(&svc, "unit-a", &w.viewer_a).await,
        [row("tab-1", "offline", 0)]
    );

    // A kiosk of unit B serves B and the MPP above it, not A; late ones come first.
    let kiosk_b = app.key(Role::Kiosk, &["unit-b"]);
    app.clock.set(at("2026-12-02 00:00:00"));
    assert_eq!(
        send(&svc, post_beat(&kiosk_b, beat("tab-b", 1))).await.0,
        204
    );
    assert_eq!(
        tablets(&svc, "unit-a", &w.viewer_a).await,
        [row("tab-1", "late", 0)]
    );
    assert_eq!(
        tablets(&svc, "mpp-jpr", &w.viewer_mpp).await,
        [row("tab-1", "late", 0), row("tab-b", "online", 1)]
    );

    // Retiring the tablet is revoking its key.
    let (_, list) = send(&svc, get("/api/v1/kiosks?unit=unit-a", Some(&w.admin))).await;
    let key_id = list[0]["key_id"].as_str().unwrap().to_owned();
    let revoke = crate::common::method("delete").uri(&format!("/api/v1/keys/{key_id}"));
    assert_eq!(send(&svc, with_key(revoke, Some(&w.admin))).await.0, 204);
    assert_eq!(
        tablets(&svc, "unit-a", &w.admin).await,
        [row("tab-1", "retired", 0)]
    );

    // What the retired tablet completed before (by its clock, set right by its offset) still
    // arrives, for a week; nothing it completes after.
    let survey = |completed: &str, offset_ms: i64| {
        let mut body = submission("unit-a", [4; 9]);
        body["channel"] = json!("kiosk");
        body["client_time"] = json!(completed);
        body["clock_offset_ms"] = json!(offset_ms);
        post("/api/v1/responses", Some(&w.kiosk_mpp), &body)
    };
    app.clock.set(at("2026-12-02 00:10:00"));
    let (status, body) = send(&svc, survey("2026-12-01T23:59:00Z", 0)).await;
    assert_eq!(
        status, 201,
        "completed a minute before the revocation: {body}"
    );
    // Its clock ran two minutes fast: 00:01 by it was 23:59 by the server.
    assert_eq!(
        send(&svc, survey("2026-12-02T00:01:00Z", 120_000)).await.0,
        201
    );
    let (status, body) = send(&svc, survey("2026-12-02T00:01:00Z", 0)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("key_revoked")),
        "{body}"
    );
    let (status, _) = send(&svc, post_beat(&w.kiosk_mpp, beat("tab-1", 0))).await;
    assert_eq!(status, 401, "a retired tablet's heartbeat is refused");
    app.clock.set(at("2026-12-09 00:00:01"));
    assert_eq!(
        send(&svc, survey("2026-12-01T23:58:00Z", 0)).await.0,
        401,
        "after a week"
    );

    // Out of scope, the wrong role, a bad body.
    let viewer_b = app.key(Role::Viewer, &["unit-b"]);
    assert_eq!(
        send(&svc, get("/api/v1/kiosks?unit=unit-a", Some(&viewer_b)))
            .await
            .0,
        403
    );
    assert_eq!(
        send(&svc, post_beat(&w.counter_a, beat("tab-c", 0)))
            .await
            .0,
        403
    );
    let (status, body) = send(
        &svc,
        post_beat(
            &kiosk_b,
            json!({"device_id": "bad id!", "page_version": "", "waiting": -1}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    for field in ["device_id", "page_version", "waiting"] {
        assert!(body["fields"][field].is_string(), "{field} named: {body}");
    }
}

/// Issue 29: a unit's own service hours decide when a silent tablet is late (an MPP's, for the
/// Dinas in it without hours of their own); "retire" is offered only where the caller may.
async fn service_hours_are_each_units_and_only_who_may_retire_is_offered_it(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let patch = |unit: &str, body: Value| {
        with_key(
            crate::common::method("patch")
                .uri(&format!("/api/v1/units/{unit}"))
                .set_json(body),
            Some(&w.admin),
        )
    };
    // Refused hours name their day.
    let (status, body) = send(
        &svc,
        patch(
            "mpp-jpr",
            json!({"service_hours": {"mon": "17:00-08:00", "noon": "08:00-12:00"}}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["service_hours.mon"].is_string(), "{body}");
    assert!(body["fields"]["service_hours.noon"].is_string(), "{body}");
    // The MPP opens Monday to Friday, 08:00 to 12:00 WIT; unit B also on Saturday morning.
    let weekdays: serde_json::Map<String, Value> = ["mon", "tue", "wed", "thu", "fri"]
        .into_iter()
        .map(|d| (d.to_owned(), json!("08:00-12:00")))
        .collect();
    let (status, body) = send(&svc, patch("mpp-jpr", json!({"service_hours": weekdays}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["service_hours"]["fri"], "08:00-12:00");
    assert!(body["service_hours"]["sat"].is_null(), "{body}");
    let (status, _) = send(
        &svc,
        patch("unit-b", json!({"service_hours": {"sat": "08:00-12:00"}})),
    )
    .await;
    assert_eq!(status, 200);
    let kiosk_b = app.key(Role::Kiosk, &["unit-b"]);
    let post_beat = |key: &str, body: Value| post("/api/v1/kiosks/heartbeat", Some(key), &body);
    // Tuesday 2026-12-01 00:00 UTC is 09:00 WIT.
    app.clock.set(at("2026-12-01 00:00:00"));
    assert_eq!(
        send(&svc, post_beat(&w.kiosk_mpp, beat("tab-1", 0)))
            .await
            .0,
        204
    );
    assert_eq!(
        send(&svc, post_beat(&kiosk_b, beat("tab-b", 0))).await.0,
        204
    );
    app.clock.set(at("2026-12-01 00:30:00"));
    assert_eq!(
        tablets(&svc, "mpp-jpr", &w.admin).await,
        [row("tab-1", "late", 0), row("tab-b", "offline", 0)],
        "09:30 on a Tuesday: the MPP open, unit B (Saturdays only) closed"
    );
    // 12:30 WIT: the MPP has closed (under the old fixed hours it was open until 17:00).
    app.clock.set(at("2026-12-01 03:30:00"));
    assert_eq!(
        tablets(&svc, "mpp-jpr", &w.admin).await,
        [row("tab-1", "offline", 0), row("tab-b", "offline", 0)]
    );
    // Saturday 10:00 WIT: unit B is open, the MPP closed.
    app.clock.set(at("2026-12-05 01:00:00"));
    assert_eq!(
        tablets(&svc, "mpp-jpr", &w.admin).await,
        [row("tab-b", "late", 0), row("tab-1", "offline", 0)]
    );
    // Who is offered "retire": an admin, for every tablet; a viewer never; a manager of unit B
    // for unit B's tablet, not the MPP's.
    let manager_b = app.key(Role::Manager, &["unit-b"]);
    let retirable = |list: &Value| -> Vec<(String, bool)> {
        let mut all: Vec<(String, bool)> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["device_id"].as_str().unwrap().to_owned(),
                    t["retirable"].as_bool().unwrap(),
                )
            })
            .collect();
        all.sort();
        all
    };
    let (_, list) = send(&svc, get("/api/v1/kiosks?unit=unit-b", Some(&w.admin))).await;
    assert_eq!(
        retirable(&list),
        [("tab-1".to_owned(), true), ("tab-b".to_owned(), true)]
    );
    let (_, list) = send(&svc, get("/api/v1/kiosks?unit=unit-b", Some(&manager_b))).await;
    assert_eq!(
        retirable(&list),
        [("tab-1".to_owned(), false), ("tab-b".to_owned(), true)]
    );
    let viewer_b = app.key(Role::Viewer, &["unit-b"]);
    let (_, list) = send(&svc, get("/api/v1/kiosks?unit=unit-b", Some(&viewer_b))).await;
    assert_eq!(
        retirable(&list),
        [("tab-1".to_owned(), false), ("tab-b".to_owned(), false)]
    );
    // What it offers holds: the manager cannot retire the MPP's tablet.
    let tab_1 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["device_id"] == "tab-1")
        .unwrap();
    let revoke = crate::common::method("delete").uri(&format!(
        "/api/v1/keys/{}",
        tab_1["key_id"].as_str().unwrap()
    ));
    assert_eq!(send(&svc, with_key(revoke, Some(&manager_b))).await.0, 403);
}

both_backends!(
    a_tablet_goes_late_in_service_hours_and_back_online_and_retires,
    service_hours_are_each_units_and_only_who_may_retire_is_offered_it,
);
