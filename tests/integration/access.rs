//! The access policy, route by route: every registered route asked by every role, in and out
//! of its scope, by keys and by people signed in with a session cookie (sending its CSRF
//! token), and by no one at all. The table below is written from the roles as the contract
//! and issue 15 state them (admin everything; manager runs its units: services, kiosk and
//! counter keys, receipt sheets, populations, paper, settings and its viewers; viewer reads
//! its units; counter issues receipts and enters paper; kiosk submits and reports its
//! heartbeat; any key lists its units and their services), not from the code.

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
    /// People signed in, whatever their role; a key has no session (401).
    Session,
    /// Admin keys and keys of these roles: devices, never a person (403).
    Devices(&'static [Role]),
}

/// Every route of `kepuasan::api::ROUTES`, with the path it is asked at and who may call it.
fn table(
    plan: &str,
    webhook: &str,
    suggestion: &str,
) -> Vec<(&'static str, &'static str, String, Who)> {
    use Role::*;
    let a = "unit-a";
    vec![
        (
            "post",
            "/responses",
            "/api/v1/responses".into(),
            Who::Scoped(&[Counter, Kiosk, Manager]),
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
            Who::Scoped(&[Manager]),
        ),
        (
            "post",
            "/units/{unit}/services",
            format!("/api/v1/units/{a}/services"),
            Who::Scoped(&[Manager]),
        ),
        (
            "get",
            "/units/{unit}/services",
            format!("/api/v1/units/{a}/services"),
            Who::Scoped(&[Viewer, Manager, Counter, Kiosk]),
        ),
        (
            "patch",
            "/units/{unit}/services/{service}",
            format!("/api/v1/units/{a}/services/ktp-el"),
            Who::Scoped(&[Manager]),
        ),
        (
            "get",
            "/units/{unit}/populations",
            format!("/api/v1/units/{a}/populations"),
            Who::Scoped(&[Viewer, Manager]),
        ),
        (
            "put",
            "/units/{unit}/populations/{period}",
            format!("/api/v1/units/{a}/populations/2025-Q3"),
            Who::Scoped(&[Manager]),
        ),
        (
            "post",
            "/populations",
            "/api/v1/populations".into(),
            Who::Roles(&[Manager]),
        ),
        (
            "post",
            "/units/{unit}/follow-ups",
            format!("/api/v1/units/{a}/follow-ups"),
            Who::Scoped(&[Viewer, Manager]),
        ),
        (
            "get",
            "/units/{unit}/follow-ups",
            format!("/api/v1/units/{a}/follow-ups"),
            Who::Scoped(&[Viewer, Manager]),
        ),
        (
            "patch",
            "/follow-ups/{id}",
            format!("/api/v1/follow-ups/{plan}"),
            Who::Scoped(&[Viewer, Manager]),
        ),
        (
            "patch",
            "/suggestions/{id}",
            format!("/api/v1/suggestions/{suggestion}"),
            Who::Scoped(&[Viewer, Manager]),
        ),
        (
            "post",
            "/keys",
            "/api/v1/keys".into(),
            Who::Scoped(&[Manager]),
        ),
        (
            "get",
            "/keys",
            "/api/v1/keys".into(),
            Who::Roles(&[Manager]),
        ),
        ("get", "/me", "/api/v1/me".into(), Who::AnyKey),
        (
            "delete",
            "/keys/{id}",
            "/api/v1/keys/no-such-key".into(),
            Who::Roles(&[Manager]),
        ),
        (
            "post",
            "/units/{unit}/receipt-tokens",
            format!("/api/v1/units/{a}/receipt-tokens"),
            Who::Scoped(&[Counter, Manager]),
        ),
        (
            "post",
            "/units/{unit}/receipt-sheets",
            format!("/api/v1/units/{a}/receipt-sheets"),
            Who::Scoped(&[Counter, Manager]),
        ),
        (
            "post",
            "/imports",
            "/api/v1/imports?dry_run=true".into(),
            Who::Roles(&[Counter, Manager]),
        ),
        (
            "get",
            "/reports/ikm",
            format!("/api/v1/reports/ikm?unit={a}&period=2025-Q3"),
            Who::Scoped(&[Viewer, Manager]),
        ),
        (
            "get",
            "/reports/ikm/chart/{kind}",
            format!("/api/v1/reports/ikm/chart/items?unit={a}&period=2025-Q3"),
            Who::Scoped(&[Viewer, Manager]),
        ),
        (
            "put",
            "/units/{unit}/ombudsman/{year}",
            format!("/api/v1/units/{a}/ombudsman/2025"),
            Who::Scoped(&[Manager]),
        ),
        (
            "get",
            "/units/{unit}/ombudsman",
            format!("/api/v1/units/{a}/ombudsman"),
            Who::Scoped(&[Viewer, Manager]),
        ),
        (
            "post",
            "/webhooks",
            "/api/v1/webhooks".into(),
            Who::Scoped(&[Manager]),
        ),
        (
            "get",
            "/webhooks",
            "/api/v1/webhooks".into(),
            Who::Roles(&[Manager]),
        ),
        (
            "delete",
            "/webhooks/{id}",
            "/api/v1/webhooks/no-such-webhook".into(),
            Who::Roles(&[Manager]),
        ),
        (
            "get",
            "/webhooks/{id}/deliveries",
            format!("/api/v1/webhooks/{webhook}/deliveries"),
            Who::Roles(&[Manager]),
        ),
        (
            "get",
            "/units/{unit}/report-narrative/{period}",
            format!("/api/v1/units/{a}/report-narrative/2025-Q3"),
            Who::Scoped(&[Viewer, Manager]),
        ),
        (
            "put",
            "/units/{unit}/report-narrative/{period}",
            format!("/api/v1/units/{a}/report-narrative/2025-Q3"),
            Who::Scoped(&[Viewer, Manager]),
        ),
        (
            "post",
            "/kiosks/heartbeat",
            "/api/v1/kiosks/heartbeat".into(),
            Who::Devices(&[Kiosk]),
        ),
        (
            "get",
            "/kiosks",
            format!("/api/v1/kiosks?unit={a}"),
            Who::Scoped(&[Viewer, Manager]),
        ),
        (
            "post",
            "/units/{unit}/signing-secret",
            format!("/api/v1/units/{a}/signing-secret"),
            Who::Scoped(&[Manager]),
        ),
        ("post", "/sessions", "/api/v1/sessions".into(), Who::Public),
        (
            "get",
            "/sessions/current",
            "/api/v1/sessions/current".into(),
            Who::Session,
        ),
        (
            "post",
            "/users",
            "/api/v1/users".into(),
            Who::Scoped(&[Manager]),
        ),
        (
            "get",
            "/users",
            "/api/v1/users".into(),
            Who::Roles(&[Manager]),
        ),
        (
            "patch",
            "/users/{username}",
            "/api/v1/users/staf-a".into(),
            Who::Scoped(&[Manager]),
        ),
        ("get", "/audit", "/api/v1/audit".into(), Who::Admin),
        (
            "put",
            "/units/{unit}/logo",
            format!("/api/v1/units/{a}/logo"),
            Who::Scoped(&[Manager]),
        ),
        (
            "get",
            "/units/{unit}/logo",
            format!("/api/v1/units/{a}/logo"),
            Who::Scoped(&[Viewer, Manager]),
        ),
        (
            "post",
            "/sessions/current/totp",
            "/api/v1/sessions/current/totp".into(),
            Who::Session,
        ),
        (
            "put",
            "/sessions/current/totp",
            "/api/v1/sessions/current/totp".into(),
            Who::Session,
        ),
        // Last: it ends the session of every person who asks.
        (
            "delete",
            "/sessions/current",
            "/api/v1/sessions/current".into(),
            Who::Session,
        ),
    ]
}

/// A different number each call, for codes and names that must not repeat.
fn fresh() -> usize {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

const PASSWORD: &str = "kopi-tubruk-pagi-hari";

/// How a caller proves who it is.
enum Credential {
    None,
    Key(String),
    /// A session cookie and its CSRF token.
    Session(String, String),
}

/// A request a caller allowed to make it would have accepted: a valid body for the route.
fn request(method: &str, route: &str, uri: &str, role: Option<Role>) -> TestRequest {
    let json_body = match route {
        "/responses" => {
            let mut body = submission("unit-a", [4, 4, 3, 4, 3, 4, 4, 3, 4]);
            body["channel"] = json!(match role {
                Some(Role::Kiosk) => "kiosk",
                Some(Role::Counter | Role::Manager) => "paper",
                _ => "kiosk",
            });
            Some(body)
        }
        "/units" => Some(
            json!({"code": format!("new-{}", fresh()), "name": "Unit baru", "timezone": "Asia/Jakarta"}),
        ),
        "/units/{unit}" => Some(json!({"name": "Disdukcapil Jayapura"})),
        "/units/{unit}/services" => {
            Some(json!({"code": format!("s-{}", fresh()), "name": "Layanan"}))
        }
        "/units/{unit}/services/{service}" => Some(json!({"name": "KTP-el"})),
        "/units/{unit}/populations/{period}" => Some(json!({"population": 1200})),
        "/units/{unit}/follow-ups" if method == "post" => Some(
            json!({"period": "2025-Q3", "item": "U3", "action": "Papan alur", "owner": "Kasi", "due": "2025-09-30"}),
        ),
        "/follow-ups/{id}" => Some(json!({"status": "in_progress"})),
        "/suggestions/{id}" => Some(json!({"category": "U3", "tags": ["antrean"]})),
        "/units/{unit}/ombudsman/{year}" => Some(
            json!({"score": 85.98, "zone": "green", "category": "Kualitas Tertinggi", "source": "Laporan Penilaian Kepatuhan 2025"}),
        ),
        "/webhooks" if method == "post" => Some(
            json!({"url": "http://127.0.0.1:9/hook", "events": ["response.low"], "secret": "a-secret-of-16-chars", "unit": "unit-a"}),
        ),
        "/units/{unit}/report-narrative/{period}" if method == "put" => {
            Some(json!({"chapters": {"analysis": "Antrean pagi dipecah."}}))
        }
        "/keys" if method == "post" => Some(json!({"role": "kiosk", "units": ["unit-a"]})),
        "/sessions" if method == "post" => {
            Some(json!({"username": "kepala-a", "password": PASSWORD}))
        }
        "/users" if method == "post" => Some(
            json!({"username": format!("baru-{}", fresh()), "password": PASSWORD, "role": "viewer", "units": ["unit-a"]}),
        ),
        "/users/{username}" => Some(json!({"units": ["unit-a"]})),
        "/sessions/current/totp" if method == "put" => Some(json!({"code": "000000"})),
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
        (None, "/units/{unit}/logo") if method == "put" => request
            .insert_header(("Content-Type", "image/svg+xml"))
            .set_payload(r#"<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>"#),
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
    let hook = json!({"url": "http://127.0.0.1:9/hook", "events": ["unit.drop"], "secret": "a-secret-of-16-chars", "unit": "unit-a"});
    let (status, webhook) = send(&svc, post("/api/v1/webhooks", Some(&w.admin), &hook)).await;
    assert_eq!(status, 201, "{webhook}");
    let mut said = submission("unit-a", [3; 9]);
    said["suggestion"] = json!("Loket ditambah.");
    let (status, _) = send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &said)).await;
    assert_eq!(status, 201);
    let table = table(
        created["id"].as_str().unwrap(),
        webhook["id"].as_str().unwrap(),
        said["submission_id"].as_str().unwrap(),
    );

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

    // People: a manager of A, a manager of B, an administrator, and a viewer of A whom the
    // managers change; each signed in, with the cookie and CSRF token of their session.
    for (name, role, units) in [
        ("kepala-a", "manager", vec!["unit-a"]),
        ("kepala-b", "manager", vec!["unit-b"]),
        ("ketua", "admin", vec![]),
        ("staf-a", "viewer", vec!["unit-a"]),
    ] {
        let body = json!({"username": name, "password": PASSWORD, "role": role, "units": units});
        let (status, created) = send(&svc, post("/api/v1/users", Some(&w.admin), &body)).await;
        assert_eq!(status, 201, "{created}");
    }
    let session = async |name: &str| {
        let req = TestRequest::post()
            .uri("/api/v1/sessions")
            .set_json(json!({"username": name, "password": PASSWORD}))
            .to_request();
        let resp = actix_web::test::call_service(&svc, req).await;
        assert_eq!(resp.status().as_u16(), 201, "{name} signs in");
        let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let body: serde_json::Value =
            serde_json::from_slice(&actix_web::test::read_body(resp).await).unwrap();
        Credential::Session(cookie, body["csrf_token"].as_str().unwrap().to_owned())
    };

    // Keys and people in scope (unit A or the MPP above it) and out of it (unit B, A's sibling).
    let callers: Vec<(&str, Option<Role>, bool, Credential)> = vec![
        ("no one", None, false, Credential::None),
        (
            "admin",
            Some(Role::Admin),
            true,
            Credential::Key(w.admin.clone()),
        ),
        (
            "viewer of A",
            Some(Role::Viewer),
            true,
            Credential::Key(w.viewer_a.clone()),
        ),
        (
            "viewer of the MPP",
            Some(Role::Viewer),
            true,
            Credential::Key(w.viewer_mpp.clone()),
        ),
        (
            "viewer of B",
            Some(Role::Viewer),
            false,
            Credential::Key(app.key(Role::Viewer, &["unit-b"])),
        ),
        (
            "counter of A",
            Some(Role::Counter),
            true,
            Credential::Key(w.counter_a.clone()),
        ),
        (
            "counter of B",
            Some(Role::Counter),
            false,
            Credential::Key(app.key(Role::Counter, &["unit-b"])),
        ),
        (
            "kiosk of the MPP",
            Some(Role::Kiosk),
            true,
            Credential::Key(w.kiosk_mpp.clone()),
        ),
        (
            "kiosk of B",
            Some(Role::Kiosk),
            false,
            Credential::Key(app.key(Role::Kiosk, &["unit-b"])),
        ),
        (
            "administrator signed in",
            Some(Role::Admin),
            true,
            session("ketua").await,
        ),
        (
            "manager of A signed in",
            Some(Role::Manager),
            true,
            session("kepala-a").await,
        ),
        (
            "manager of B signed in",
            Some(Role::Manager),
            false,
            session("kepala-b").await,
        ),
    ];
    let mut checked = 0;
    for (method, route, uri, who) in &table {
        for (name, role, in_scope, credential) in &callers {
            let person = matches!(credential, Credential::Session(..));
            let allowed = match (who, role) {
                (Who::Public, _) => true,
                (_, None) => false,
                (Who::Session, _) => person,
                (Who::Devices(_), _) if person => false,
                (Who::Devices(roles), Some(r)) => *r == Role::Admin || roles.contains(r),
                (_, Some(Role::Admin)) => true,
                (Who::AnyKey, Some(_)) => true,
                (Who::Admin, Some(_)) => false,
                (Who::Scoped(roles), Some(r)) => roles.contains(r) && *in_scope,
                (Who::Roles(roles), Some(r)) => roles.contains(r),
            };
            let req = request(method, route, uri, *role);
            let req = match credential {
                Credential::None => req,
                Credential::Key(key) => with_key(req, Some(key)),
                Credential::Session(cookie, csrf) => req
                    .insert_header(("Cookie", cookie.clone()))
                    .insert_header(("X-CSRF-Token", csrf.clone())),
            };
            let (status, body) = send(&svc, req).await;
            let context = format!("{method} {uri} by {name}: {status} {body}");
            if allowed {
                // A deletion of what is not there is 404, and so is a webhook of units a
                // manager does not run; the table cannot know a person's current two-step
                // code, so confirming one is 422 (sessions.rs sends the right one).
                assert!(
                    status < 400
                        || (status == 404 && *method == "delete")
                        || (status == 404 && *route == "/webhooks/{id}/deliveries")
                        || (status == 422 && *route == "/sessions/current/totp"),
                    "should be allowed: {context}"
                );
            } else if role.is_none() || matches!(who, Who::Session) {
                assert_eq!(status, 401, "{context}");
                assert_eq!(body["error"], "unauthorized", "{context}");
            } else {
                assert_eq!(status, 403, "{context}");
                assert_eq!(body["error"], "forbidden", "{context}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 47 * 12);

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
