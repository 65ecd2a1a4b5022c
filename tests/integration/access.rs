//! The access policy, route by route: every registered route asked by every role, in and out
//! of its scope, and by no key at all. The table below is written from the roles as the
//! contract states them (admin everything; viewer reads its units; counter issues receipts and
//! enters paper; kiosk submits and reports its heartbeat; any key lists its units and their
//! services), not from the code.

use actix_web::test::TestRequest;
use kepuasan::auth::Role;
use serde_json::json;

use crate::both_backends;
use crate::common::*;

/// Who may call a route.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// Anyone, without a key.
    Public,
    /// Any valid key.
    AnyKey,
    /// Admin keys only.
    Admin,
    /// Admins, and keys of these roles whose scope covers unit A.
    Scoped(&'static [Role]),
    /// Admins, and keys of these roles whatever their units (the rows are checked one by one).
    Roles(&'static [Role]),
}

/// Every route of `kepuasan::api::ROUTES`, with the path it is asked at and who may call it.
fn table(plan: &str) -> Vec<(&'static str, &'static str, String, Who)> {
    use Role::*;
    let a = "unit-a";
    vec![
        (
            "post",
            "/responses",
            "/api/v1/responses".into(),
            Who::Scoped(&[Counter, Kiosk]),
        ),
        (
            "get",
            "/instruments",
            "/api/v1/instruments".into(),
            Who::Public,
        ),
        (
            "get",
            "/instruments/{key}",
            "/api/v1/instruments/skm-2017".into(),
            Who::Public,
        ),
        ("post", "/units", "/api/v1/units".into(), Who::Admin),
        ("get", "/units", "/api/v1/units".into(), Who::AnyKey),
        (
            "patch",
            "/units/{unit}",
            format!("/api/v1/units/{a}"),
            Who::Admin,
        ),
        (
            "post",
            "/units/{unit}/services",
            format!("/api/v1/units/{a}/services"),
            Who::Admin,
        ),
        (
            "get",
            "/units/{unit}/services",
            format!("/api/v1/units/{a}/services"),
            Who::Scoped(&[Viewer, Counter, Kiosk]),
        ),
        (
            "patch",
            "/units/{unit}/services/{service}",
            format!("/api/v1/units/{a}/services/ktp-el"),
            Who::Admin,
        ),
        (
            "get",
            "/units/{unit}/populations",
            format!("/api/v1/units/{a}/populations"),
            Who::Scoped(&[Viewer]),
        ),
        (
            "put",
            "/units/{unit}/populations/{period}",
            format!("/api/v1/units/{a}/populations/2025-Q3"),
            Who::Admin,
        ),
        (
            "post",
            "/populations",
            "/api/v1/populations".into(),
            Who::Admin,
        ),
        (
            "post",
            "/units/{unit}/follow-ups",
            format!("/api/v1/units/{a}/follow-ups"),
            Who::Scoped(&[Viewer]),
        ),
        (
            "get",
            "/units/{unit}/follow-ups",
            format!("/api/v1/units/{a}/follow-ups"),
            Who::Scoped(&[Viewer]),
        ),
        (
            "patch",
            "/follow-ups/{id}",
            format!("/api/v1/follow-ups/{plan}"),
            Who::Scoped(&[Viewer]),
        ),
        ("post", "/keys", "/api/v1/keys".into(), Who::Admin),
        ("get", "/keys", "/api/v1/keys".into(), Who::Admin),
        ("get", "/me", "/api/v1/me".into(), Who::AnyKey),
        (
            "delete",
            "/keys/{id}",
            "/api/v1/keys/no-such-key".into(),
            Who::Admin,
        ),
        (
            "post",
            "/units/{unit}/receipt-tokens",
            format!("/api/v1/units/{a}/receipt-tokens"),
            Who::Scoped(&[Counter]),
        ),
        (
            "post",
            "/units/{unit}/receipt-sheets",
            format!("/api/v1/units/{a}/receipt-sheets"),
            Who::Scoped(&[Counter]),
        ),
        (
            "post",
            "/imports",
            "/api/v1/imports?dry_run=true".into(),
            Who::Roles(&[Counter]),
        ),
        (
            "get",
            "/reports/ikm",
            format!("/api/v1/reports/ikm?unit={a}&period=2025-Q3"),
            Who::Scoped(&[Viewer]),
        ),
        (
            "get",
            "/reports/ikm/chart/{kind}",
            format!("/api/v1/reports/ikm/chart/items?unit={a}&period=2025-Q3"),
            Who::Scoped(&[Viewer]),
        ),
        (
            "post",
            "/kiosks/heartbeat",
            "/api/v1/kiosks/heartbeat".into(),
            Who::Roles(&[Kiosk]),
        ),
        (
            "get",
            "/kiosks",
            format!("/api/v1/kiosks?unit={a}"),
            Who::Scoped(&[Viewer]),
        ),
    ]
}

/// A request a caller allowed to make it would have accepted: a valid body for the route.
fn request(method: &str, route: &str, uri: &str, role: Option<Role>) -> TestRequest {
    let json_body = match route {
        "/responses" => {
            let mut body = submission("unit-a", [4, 4, 3, 4, 3, 4, 4, 3, 4]);
            body["channel"] = json!(match role {
                Some(Role::Kiosk) => "kiosk",
                Some(Role::Counter) => "paper",
                _ => "kiosk",
            });
            Some(body)
        }
        "/units" => Some(
            json!({"code": format!("new-{}", role.map_or("none", |r| r.as_str())), "name": "Unit baru", "timezone": "Asia/Jakarta"}),
        ),
        "/units/{unit}" => Some(json!({"name": "Disdukcapil Jayapura"})),
        "/units/{unit}/services" => Some(
            json!({"code": format!("s-{}", role.map_or("none", |r| r.as_str())), "name": "Layanan"}),
        ),
        "/units/{unit}/services/{service}" => Some(json!({"name": "KTP-el"})),
        "/units/{unit}/populations/{period}" => Some(json!({"population": 1200})),
        "/units/{unit}/follow-ups" if method == "post" => Some(
            json!({"period": "2025-Q3", "item": "U3", "action": "Papan alur", "owner": "Kasi", "due": "2025-09-30"}),
        ),
        "/follow-ups/{id}" => Some(json!({"status": "in_progress"})),
        "/keys" if method == "post" => Some(json!({"role": "viewer", "units": ["unit-a"]})),
        "/units/{unit}/receipt-tokens" => Some(json!({})),
        "/units/{unit}/receipt-sheets" => Some(json!({"count": 1})),
        "/kiosks/heartbeat" => {
            Some(json!({"device_id": "tab-1", "page_version": "v1", "waiting": 0}))
        }
        _ => None,
    };
    let request = crate::common::method(method).uri(uri);
    match (json_body, route) {
        (Some(body), _) => request.set_json(body),
        (None, "/populations") => request
            .insert_header(("Content-Type", "text/csv"))
            .set_payload("unit,period,population\nunit-a,2025-Q3,1200\n"),
        (None, "/imports") => request
            .insert_header(("Content-Type", "text/csv"))
            .set_payload(
                "unit,date,U1,U2,U3,U4,U5,U6,U7,U8,U9\nunit-a,2025-08-01,4,4,3,4,3,4,4,3,4\n",
            ),
        (None, _) => request,
    }
}

async fn every_route_answers_every_role_as_the_policy_says(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let plan = json!({"period": "2025-Q3", "item": "U3", "action": "Papan alur", "owner": "Kasi", "due": "2025-09-30"});
    let (status, created) = send(
        &svc,
        post("/api/v1/units/unit-a/follow-ups", Some(&w.admin), &plan),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let table = table(created["id"].as_str().unwrap());

    // The table covers every registered route, once.
    let mut listed: Vec<(String, String)> = table
        .iter()
        .map(|(m, r, _, _)| ((*m).to_owned(), format!("/api/v1{r}")))
        .collect();
    let mut routes: Vec<(String, String)> = kepuasan::api::ROUTES
        .iter()
        .map(|(m, r)| ((*m).to_owned(), (*r).to_owned()))
        .collect();
    listed.sort();
    routes.sort();
    assert_eq!(listed, routes, "the table and the route table differ");

    // Keys in scope (unit A or the MPP above it) and out of it (unit B, A's sibling).
    let callers: Vec<(&str, Option<Role>, bool, Option<String>)> = vec![
        ("no key", None, false, None),
        ("admin", Some(Role::Admin), true, Some(w.admin.clone())),
        (
            "viewer of A",
            Some(Role::Viewer),
            true,
            Some(w.viewer_a.clone()),
        ),
        (
            "viewer of the MPP",
            Some(Role::Viewer),
            true,
            Some(w.viewer_mpp.clone()),
        ),
        (
            "viewer of B",
            Some(Role::Viewer),
            false,
            Some(app.key(Role::Viewer, &["unit-b"])),
        ),
        (
            "counter of A",
            Some(Role::Counter),
            true,
            Some(w.counter_a.clone()),
        ),
        (
            "counter of B",
            Some(Role::Counter),
            false,
            Some(app.key(Role::Counter, &["unit-b"])),
        ),
        (
            "kiosk of the MPP",
            Some(Role::Kiosk),
            true,
            Some(w.kiosk_mpp.clone()),
        ),
        (
            "kiosk of B",
            Some(Role::Kiosk),
            false,
            Some(app.key(Role::Kiosk, &["unit-b"])),
        ),
    ];
    let mut checked = 0;
    for (method, route, uri, who) in &table {
        for (name, role, in_scope, key) in &callers {
            let allowed = match (who, role) {
                (Who::Public, _) => true,
                (_, None) => false,
                (_, Some(Role::Admin)) => true,
                (Who::AnyKey, Some(_)) => true,
                (Who::Admin, Some(_)) => false,
                (Who::Scoped(roles), Some(r)) => roles.contains(r) && *in_scope,
                (Who::Roles(roles), Some(r)) => roles.contains(r),
            };
            let req = with_key(request(method, route, uri, *role), key.as_deref());
            let (status, body) = send(&svc, req).await;
            let context = format!("{method} {uri} by {name}: {status} {body}");
            if allowed {
                assert!(
                    status < 400 || (status == 404 && *method == "delete"),
                    "should be allowed: {context}"
                );
            } else if role.is_none() {
                assert_eq!(status, 401, "{context}");
                assert_eq!(body["error"], "unauthorized", "{context}");
            } else {
                assert_eq!(status, 403, "{context}");
                assert_eq!(body["error"], "forbidden", "{context}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 26 * 9);

    // 403 against 404: a role that may never read reports is refused before the unit is
    // looked up; a role that may is told the unit does not exist; a unit outside the scope
    // is 403.
    let unknown = "/api/v1/reports/ikm?unit=no-such-unit&period=2025-Q3";
    assert_eq!(send(&svc, get(unknown, Some(&w.kiosk_mpp))).await.0, 403);
    assert_eq!(send(&svc, get(unknown, Some(&w.viewer_a))).await.0, 404);
    assert_eq!(send(&svc, get(unknown, Some(&w.admin))).await.0, 404);
    let (status, _) = send(
        &svc,
        get(
            "/api/v1/reports/ikm?unit=unit-b&period=2025-Q3",
            Some(&w.viewer_a),
        ),
    )
    .await;
    assert_eq!(status, 403);
}

both_backends!(every_route_answers_every_role_as_the_policy_says,);
