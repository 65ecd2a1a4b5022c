//! The surfaces that came with people, logos and webhooks (issue 28), each shown closed:
//! logos that would read the server's files or memory, and logos stored before the rules.

use std::io::Write;
use std::time::Duration;

use crate::both_backends;
use crate::common::*;
use crate::crash::{free_port, start};
use crate::reports::download;
use serde_json::json;

/// Everything the server may hold at its peak, in bytes, while under attack.
const RSS_BUDGET: u64 = 256 * 1024 * 1024;

/// A PNG chunk: length, type, data and CRC.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(kind);
    out.extend(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend(crc.sum().to_be_bytes());
}

/// A valid grey PNG of `side` x `side` pixels, all black: a few hundred KiB for 11,000 a side,
/// hundreds of MiB once decoded.
fn black_png(side: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(side.to_be_bytes());
    header.extend(side.to_be_bytes());
    header.extend([8, 0, 0, 0, 0]); // 8-bit greyscale, no interlace
    chunk(&mut png, b"IHDR", &header);
    let mut packed = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let row = vec![0u8; side as usize + 1]; // filter byte "none", then the row
    for _ in 0..side {
        packed.write_all(&row).unwrap();
    }
    chunk(&mut png, b"IDAT", &packed.finish().unwrap());
    chunk(&mut png, b"IEND", &[]);
    png
}

/// An SVG logo whose one picture is `href`.
fn svg_naming(href: &str) -> Vec<u8> {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"><image width="64" height="64" xlink:href="{href}"/></svg>"#
    )
    .into_bytes()
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The server's memory figure (`VmHWM:` peak, `VmRSS:` now) from /proc, in bytes.
pub(crate) fn proc_memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .expect("the field in /proc/PID/status");
    kib * 1024
}

/// A database in a temporary folder with a unit `unit-a` and an admin key, made with the
/// command line: the folder, the database's path and the key.
fn database_with_unit(name: &str) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(name).to_str().unwrap().to_owned();
    crate::ops::cli(&db, &["units", "add", "unit-a", "--name", "Unit A"]);
    let admin = crate::ops::cli(&db, &["keys", "create", "--role", "admin"])
        .lines()
        .last()
        .unwrap()
        .to_owned();
    (dir, db, admin)
}

#[test]
fn logos_that_name_files_or_the_zero_device_and_a_pixel_bomb_are_refused_and_the_server_stays_small()
 {
    let (dir, db, admin) = database_with_unit("logos.db");
    // A picture on the server's disk that the service user can read.
    let secret = dir.path().join("secret.png");
    let mut small = Vec::new();
    image::DynamicImage::new_rgb8(16, 16)
        .write_to(
            &mut std::io::Cursor::new(&mut small),
            image::ImageFormat::Png,
        )
        .unwrap();
    std::fs::write(&secret, &small).unwrap();
    let bind = format!("127.0.0.1:{}", free_port());
    let mut server = start(&db, &bind);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let put = |content_type: &str, body: Vec<u8>| {
        let response = client
            .put(format!("http://{bind}/api/v1/units/unit-a/logo"))
            .bearer_auth(&admin)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .expect("the server answers");
        let status = response.status().as_u16();
        (
            status,
            response.json::<serde_json::Value>().unwrap_or_default(),
        )
    };

    let bomb = black_png(11_000);
    assert!(bomb.len() < 512 * 1024, "the bomb fits the size limit");
    let nested = format!(
        "data:image/svg+xml;base64,{}",
        base64(&svg_naming(secret.to_str().unwrap()))
    );
    let inner_bomb = format!("data:image/png;base64,{}", base64(&black_png(4_000)));
    for (name, content_type, body) in [
        (
            "an SVG naming a PNG on the server's disk",
            "image/svg+xml",
            svg_naming(secret.to_str().unwrap()),
        ),
        (
            "an SVG naming it as a file: URL",
            "image/svg+xml",
            svg_naming(&format!("file://{}", secret.display())),
        ),
        (
            "an SVG naming another host",
            "image/svg+xml",
            svg_naming("http://127.0.0.1:9/x.png"),
        ),
        (
            "an SVG nesting an SVG",
            "image/svg+xml",
            svg_naming(&nested),
        ),
        (
            "an SVG holding a 4,000-pixel PNG",
            "image/svg+xml",
            svg_naming(&inner_bomb),
        ),
        ("a PNG of 11,000 x 11,000 pixels", "image/png", bomb),
        (
            "an SVG naming the zero device",
            "image/svg+xml",
            svg_naming("/dev/zero"),
        ),
    ] {
        let (status, body) = put(content_type, body);
        assert_eq!(status, 422, "{name}: {body}");
        assert!(body["fields"]["logo"].is_string(), "{name}: {body}");
        let peak = proc_memory(server.id(), "VmHWM:");
        assert!(peak < RSS_BUDGET, "{name}: peak RSS {} MiB", peak >> 20);
    }
    // A picture inside an SVG as data is a logo still.
    let inline = format!("data:image/png;base64,{}", base64(&small));
    let (status, body) = put("image/svg+xml", svg_naming(&inline));
    assert_eq!(status, 204, "{body}");
    let _ = server.kill();
    let _ = server.wait();
}

/// A logo stored before the rules (here written past them, straight into the database) is
/// left out of the report, which is drawn all the same; the picture it names is not in it.
async fn a_logo_stored_before_the_rules_is_left_out_of_the_report(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.png");
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(16, 16)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(&secret, &png).unwrap();
    let images = |pdf: &[u8]| {
        pdf.windows(14)
            .filter(|w| w == b"/Subtype /Imag" || w == b"/Subtype/Image")
            .count()
    };
    let path = "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3&format=pdf";
    let (status, _, _, before) = download(&svc, path, &w.admin).await;
    assert_eq!(status, 200);
    let media = |docx: Vec<u8>| {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
        (0..archive.len())
            .filter(|&i| {
                archive
                    .by_index(i)
                    .unwrap()
                    .name()
                    .unwrap()
                    .contains("media/")
            })
            .count()
    };
    let docx_path = path.replace("format=pdf", "format=docx");
    let (status, _, _, docx) = download(&svc, &docx_path, &w.admin).await;
    assert_eq!(status, 200);
    let media_before = media(docx);
    let stored = [
        ("image/svg+xml", svg_naming(secret.to_str().unwrap())),
        ("image/png", black_png(3_000)),
    ];
    for (content_type, bytes) in stored {
        let logo = kepuasan::domain::logos::Logo::new(content_type.to_owned(), bytes);
        app.state
            .db
            .write_blocking(move |c| {
                kepuasan::domain::units::set_logo(c, "unit-a", &logo, at("2025-08-01 00:00:00"))
            })
            .unwrap();
        let (status, _, _, pdf) = download(&svc, path, &w.admin).await;
        assert_eq!(status, 200, "{content_type}");
        assert_eq!(
            images(&pdf),
            images(&before),
            "{content_type}: no picture added"
        );
        let (status, _, _, docx) = download(&svc, &docx_path, &w.admin).await;
        assert_eq!(status, 200, "{content_type}");
        assert_eq!(
            media(docx),
            media_before,
            "{content_type}: no picture added"
        );
    }
}

both_backends!(a_logo_stored_before_the_rules_is_left_out_of_the_report);

/// Issue 28: one text rule for every text field of every body and query: U+0000 and the other
/// C0 controls but tab, line feed and carriage return are a 422 naming the field, on both
/// backends (PostgreSQL could not store U+0000; XML documents cannot hold any of them).
async fn nul_and_control_characters_are_refused_naming_the_field(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    allow_open_link(&svc, &w.admin, "unit-a").await;
    let before = app.response_count();
    for bad in ["\u{0}", "\u{1}", "\u{8}", "\u{c}", "\u{1b}[31m", "\u{1f}"] {
        // Through the open link, as anyone may write one.
        let mut open = open_link_submission(&svc, "unit-a", [4; 9]).await;
        open["suggestion"] = json!(format!("Antrean{bad} lama"));
        let (status, body) = send(&svc, post("/api/v1/responses", None, &open)).await;
        assert_eq!(
            (status, body["fields"]["suggestion"].is_string()),
            (422, true),
            "{bad:?}: {body}"
        );
        // From a kiosk, in the profile.
        let mut kiosk = submission("unit-a", [4; 9]);
        kiosk["channel"] = json!("kiosk");
        kiosk["profile"] = json!({"education": format!("SMA{bad}")});
        let (status, body) =
            send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &kiosk)).await;
        assert_eq!(status, 422, "{bad:?}: {body}");
        assert!(
            body["fields"]["profile.education"].is_string(),
            "{bad:?}: {body}"
        );
        // A unit's city and name.
        let patch = actix_web::test::TestRequest::patch()
            .uri("/api/v1/units/unit-a")
            .set_json(json!({"city": format!("Jaya{bad}pura")}));
        let (status, body) = send(&svc, with_key(patch, Some(&w.admin))).await;
        assert_eq!(
            (status, body["fields"]["city"].is_string()),
            (422, true),
            "{bad:?}: {body}"
        );
        let unit =
            json!({"code": "unit-x", "name": format!("Unit{bad}"), "timezone": "Asia/Jakarta"});
        let (status, body) = send(&svc, post("/api/v1/units", Some(&w.admin), &unit)).await;
        assert_eq!(
            (status, body["fields"]["name"].is_string()),
            (422, true),
            "{bad:?}: {body}"
        );
        // A narrative chapter.
        let narrative = actix_web::test::TestRequest::put()
            .uri("/api/v1/units/unit-a/report-narrative/2025-Q3")
            .set_json(json!({"chapters": {"introduction": format!("Pendahuluan{bad}")}}));
        let (status, body) = send(&svc, with_key(narrative, Some(&w.admin))).await;
        assert_eq!(status, 422, "{bad:?}: {body}");
        assert!(
            body["fields"]["chapters.introduction"].is_string(),
            "{body}"
        );
        // A sign-in name.
        let sign_in =
            json!({"username": format!("admin{bad}"), "password": "kopi-tubruk-pagi-hari"});
        let (status, body) = send(&svc, post("/api/v1/sessions", None, &sign_in)).await;
        assert_eq!(
            (status, body["fields"]["username"].is_string()),
            (422, true),
            "{bad:?}: {body}"
        );
        // A query parameter.
        let escaped: String = bad.bytes().map(|b| format!("%{b:02X}")).collect();
        let (status, body) = send(
            &svc,
            get(
                &format!("/api/v1/reports/ikm?unit=unit-a&period=2025-Q3&service=ktp{escaped}"),
                Some(&w.admin),
            ),
        )
        .await;
        assert_eq!(
            (status, body["fields"]["service"].is_string()),
            (422, true),
            "{bad:?}: {body}"
        );
    }
    assert_eq!(app.response_count(), before, "nothing was stored");
    // Tab, line feed and carriage return are text.
    let mut open = open_link_submission(&svc, "unit-a", [4; 9]).await;
    open["suggestion"] = json!("Baris satu\r\nbaris\tdua");
    assert_eq!(
        send(&svc, post("/api/v1/responses", None, &open)).await.0,
        201
    );
}

both_backends!(nul_and_control_characters_are_refused_naming_the_field);

/// Issue 28: four open-link clients sending NUL suggestions beside kiosks fail none of the
/// kiosks' submissions (on PostgreSQL they took down whole group-commit batches).
async fn nul_suggestions_beside_kiosks_fail_no_kiosk_submission(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    allow_open_link(&svc, &w.admin, "unit-a").await;
    let mut hostile = Vec::new();
    for _ in 0..40 {
        let mut open = open_link_submission(&svc, "unit-a", [1; 9]).await;
        open["suggestion"] = json!("\u{0}");
        hostile.push(open);
    }
    let kiosks: Vec<serde_json::Value> = (0..120)
        .map(|i| {
            let mut body = submission("unit-b", [1 + (i % 4); 9]);
            body["channel"] = json!("kiosk");
            body
        })
        .collect();
    let sends = hostile
        .iter()
        .map(|b| (None, b))
        .chain(kiosks.iter().map(|b| (Some(w.kiosk_mpp.as_str()), b)))
        .map(|(key, body)| send(&svc, post("/api/v1/responses", key, body)));
    let statuses: Vec<u16> = futures::future::join_all(sends)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    let (bad, good) = statuses.split_at(hostile.len());
    assert!(bad.iter().all(|s| *s == 422), "{bad:?}");
    assert!(good.iter().all(|s| *s == 201), "{good:?}");
    assert_eq!(app.response_count(), 120);
}

both_backends!(nul_suggestions_beside_kiosks_fail_no_kiosk_submission);

/// Text a client might send: anything Unicode holds (controls included), runs of controls,
/// the characters XML forbids, right-to-left and joining marks, and strings far past every
/// limit.
fn hostile_text() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\\x7f]{0,12}",
        "[\u{fffe}\u{ffff}\u{feff}\u{200d}\u{202e}\u{85}\u{2028}a-z ]{0,40}",
        ".{0,200}",
        (1usize..40_000).prop_map(|n| "ṁ".repeat(n)),
    ]
}

/// One body's texts, as sent.
#[derive(Debug, Clone)]
struct Texts {
    name: String,
    place: String,
    suggestion: String,
    profile: String,
    narrative: String,
    action: String,
    person: String,
    url: String,
}

/// Issue 28: random Unicode in every text field through the API, then every export of the unit
/// and of the unit above it: no 5xx anywhere, and every document well-formed.
async fn random_text_in_every_field_never_breaks_a_request_or_a_document(app: TestApp) {
    use proptest::strategy::{Strategy, ValueTree};
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    let strategy = (
        (
            hostile_text(),
            hostile_text(),
            hostile_text(),
            hostile_text(),
        ),
        (
            hostile_text(),
            hostile_text(),
            hostile_text(),
            hostile_text(),
        ),
    )
        .prop_map(
            |((name, place, suggestion, profile), (narrative, action, person, url))| Texts {
                name,
                place,
                suggestion,
                profile,
                narrative,
                action,
                person,
                url,
            },
        );
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for case in 0..12 {
        let t = strategy.new_tree(&mut runner).unwrap().current();
        let mut statuses = Vec::new();
        let patch = actix_web::test::TestRequest::patch()
            .uri("/api/v1/units/unit-a")
            .set_json(
                json!({"name": t.name, "address": t.place, "city": t.place, "head_name": t.person}),
            );
        statuses.push(("unit", send(&svc, with_key(patch, Some(&w.admin))).await));
        let service = json!({"code": format!("svc-{case}"), "name": t.name});
        statuses.push((
            "service",
            send(
                &svc,
                post("/api/v1/units/unit-a/services", Some(&w.admin), &service),
            )
            .await,
        ));
        let mut kiosk = submission("unit-a", [3; 9]);
        kiosk["channel"] = json!("kiosk");
        kiosk["suggestion"] = json!(t.suggestion);
        statuses.push((
            "response",
            send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &kiosk)).await,
        ));
        kiosk["submission_id"] = json!(uuid::Uuid::new_v4().to_string());
        kiosk["suggestion"] = json!(t.suggestion.chars().take(1000).collect::<String>());
        kiosk["profile"] =
            json!({"education": t.profile, "occupation": t.profile, "gender": t.profile});
        statuses.push((
            "profile",
            send(&svc, post("/api/v1/responses", Some(&w.kiosk_mpp), &kiosk)).await,
        ));
        let narrative = actix_web::test::TestRequest::put()
            .uri("/api/v1/units/unit-a/report-narrative/2025-Q3")
            .set_json(json!({"chapters": {"introduction": t.narrative, "analysis": t.suggestion}}));
        statuses.push((
            "narrative",
            send(&svc, with_key(narrative, Some(&w.admin))).await,
        ));
        let plan = json!({"period": "2025-Q3", "item": "U3", "action": t.action, "owner": t.person, "due": "2025-11-30"});
        statuses.push((
            "follow-up",
            send(
                &svc,
                post("/api/v1/units/unit-a/follow-ups", Some(&w.admin), &plan),
            )
            .await,
        ));
        let person = json!({"username": t.person, "password": t.action, "role": "viewer", "units": ["unit-a"]});
        statuses.push((
            "person",
            send(&svc, post("/api/v1/users", Some(&w.admin), &person)).await,
        ));
        let sign_in = json!({"username": t.person, "password": t.name});
        statuses.push((
            "sign-in",
            send(&svc, post("/api/v1/sessions", None, &sign_in)).await,
        ));
        let webhook =
            json!({"url": t.url, "events": ["response.low"], "secret": t.name, "unit": "unit-a"});
        statuses.push((
            "webhook",
            send(&svc, post("/api/v1/webhooks", Some(&w.admin), &webhook)).await,
        ));
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("unit", "unit-a")
            .append_pair("period", "2025-Q3")
            .append_pair("service", &t.name.chars().take(300).collect::<String>())
            .finish();
        statuses.push((
            "query",
            send(
                &svc,
                get(&format!("/api/v1/reports/ikm?{query}"), Some(&w.admin)),
            )
            .await,
        ));
        for (what, (status, body)) in &statuses {
            assert!(*status < 500, "case {case}, {what}: {status} {body}\n{t:?}");
        }
        // Escapes JSON allows but Unicode does not (a lone surrogate) are refused, not stored.
        let raw = actix_web::test::TestRequest::post()
            .uri("/api/v1/responses")
            .insert_header(("Content-Type", "application/json"))
            .set_payload(r#"{"submission_id":"7f0a4a3e-3c1e-4a51-9a50-0d1b1a6b8f01","unit":"unit-a","instrument":"skm-2017","channel":"kiosk","answers":{"U1":4},"suggestion":"\ud800\u0000"}"#);
        let (status, _) = send(&svc, with_key(raw, Some(&w.kiosk_mpp))).await;
        assert!((400..500).contains(&status), "a lone surrogate: {status}");

        for unit in ["unit-a", "mpp-jpr"] {
            for format in ["csv", "xlsx", "docx", "pdf"] {
                let path =
                    format!("/api/v1/reports/ikm?unit={unit}&period=2025-Q3&format={format}");
                let (status, _, _, file) = download(&svc, &path, &w.admin).await;
                assert_eq!(status, 200, "case {case}, {unit} {format}\n{t:?}");
                match format {
                    "xlsx" | "docx" => assert_eq!(
                        crate::document::ill_formed_part(&file),
                        None,
                        "case {case}, {unit} {format}\n{t:?}"
                    ),
                    "pdf" => assert!(
                        file.starts_with(b"%PDF-") && file.trim_ascii_end().ends_with(b"%%EOF"),
                        "case {case}, {unit} pdf"
                    ),
                    _ => assert!(std::str::from_utf8(&file).is_ok(), "case {case}, csv"),
                }
            }
        }
    }
}

both_backends!(random_text_in_every_field_never_breaks_a_request_or_a_document);

/// Issue 28: a sign-in flood from rotating addresses (48 clients for 8 s, wrong passwords for
/// names that change every time) is a bounded cost: passwords are checked on two threads with
/// a short queue, past which sign-in answers 503 at once. The server stays under 256 MiB, a
/// report keeps answering within a second, and what hashing took is given back afterwards.
#[test]
fn a_sign_in_flood_stays_small_and_reports_keep_their_speed() {
    let (_dir, db, admin) = database_with_unit("flood.db");
    let bind = format!("127.0.0.1:{}", free_port());
    let mut server = crate::crash::start_with(&db, &bind, &[("KEPUASAN_TRUST_PROXY", "on")]);
    let pid = server.id();
    let report = format!("http://{bind}/api/v1/reports/ikm?unit=unit-a&period=2025-Q3");
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let timed_report = || {
        let started = std::time::Instant::now();
        let status = client
            .get(&report)
            .bearer_auth(&admin)
            .send()
            .unwrap()
            .status();
        assert_eq!(status, 200);
        started.elapsed()
    };
    timed_report();
    let idle = proc_memory(pid, "VmRSS:");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let counts = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
    let clients: Vec<_> = (0..48u32)
        .map(|c| {
            let (stop, counts, bind) = (stop.clone(), counts.clone(), bind.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .unwrap();
                for i in 0..10_000u32 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let sent = client
                        .post(format!("http://{bind}/api/v1/sessions"))
                        .header("X-Forwarded-For", format!("10.{}.{}.{}", c, i / 250, i % 250))
                        .json(&json!({"username": format!("tebak-{c}-{i}"), "password": "salah-salah-salah"}))
                        .send();
                    let status = sent.map_or(0, |r| r.status().as_u16());
                    *counts.lock().unwrap().entry(status).or_insert(0u32) += 1;
                }
            })
        })
        .collect();
    let started = std::time::Instant::now();
    let mut slowest = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(8) {
        slowest = slowest.max(timed_report());
        std::thread::sleep(Duration::from_millis(250));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let peak = proc_memory(pid, "VmHWM:");
    let counts = counts.lock().unwrap().clone();
    eprintln!(
        "sign-in flood: {counts:?}, peak {} MiB (idle {} MiB), slowest report {slowest:?}",
        peak >> 20,
        idle >> 20
    );
    assert!(peak < RSS_BUDGET, "peak RSS {} MiB", peak >> 20);
    assert!(
        slowest < Duration::from_secs(1),
        "a report took {slowest:?}"
    );
    assert!(counts.keys().all(|s| [401, 503].contains(s)), "{counts:?}");
    assert!(counts.contains_key(&503), "the queue filled: {counts:?}");
    // Once the flood is over, the memory hashing took is given back.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut after = proc_memory(pid, "VmRSS:");
    while after > idle + (48 << 20) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        after = proc_memory(pid, "VmRSS:");
    }
    assert!(
        after <= idle + (48 << 20),
        "{} MiB after the flood, {} MiB before",
        after >> 20,
        idle >> 20
    );
    let _ = server.kill();
    let _ = server.wait();
}

/// Issue 28, the smaller points: form tickets limited per address and living hours; an IPv6
/// household counted by its /64; X-Forwarded-For believed from the named proxy only; a
/// Content-Security-Policy on every HTML and SVG answer.
async fn the_smaller_points(app: TestApp) {
    use actix_web::test::TestRequest;
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    allow_open_link(&svc, &w.admin, "unit-a").await;
    let peer = |a: &str| a.parse::<std::net::SocketAddr>().unwrap();
    // Thirty page loads a minute from one address carry a form ticket; the next does not, and
    // another address still gets one.
    for i in 0..31 {
        let (status, config) =
            page_config_of(&svc, get("/u/unit-a", None).peer_addr(peer("10.40.0.1:1"))).await;
        assert_eq!(status, 200);
        assert_eq!(config["ticket"].is_string(), i < 30, "load {i}: {config}");
    }
    let (_, config) =
        page_config_of(&svc, get("/u/unit-a", None).peer_addr(peer("10.40.0.2:1"))).await;
    assert!(config["ticket"].is_string());
    // A ticket lives twelve hours.
    let mut late = open_link_submission(&svc, "unit-a", [4; 9]).await;
    app.clock.set(at("2025-08-15 15:00:01"));
    late["submission_id"] = json!(uuid::Uuid::new_v4().to_string());
    let (status, body) = send(&svc, post("/api/v1/responses", None, &late)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("ticket_expired")),
        "{body}"
    );
    app.clock.set(at("2025-08-15 03:00:00"));

    // One IPv6 /64 is one household: its addresses share the per-address limit.
    let submit_from = |address: &'static str| {
        let svc = &svc;
        async move {
            let body = open_link_submission(svc, "unit-a", [4; 9]).await;
            let req = post("/api/v1/responses", None, &body).peer_addr(address.parse().unwrap());
            send(svc, req).await.0
        }
    };
    for _ in 0..30 {
        assert_eq!(submit_from("[2001:db8:1:2::1]:1").await, 201);
    }
    assert_eq!(submit_from("[2001:db8:1:2::beef]:1").await, 429);
    assert_eq!(submit_from("[2001:db8:1:3::1]:1").await, 201);

    // X-Forwarded-For is believed from the named proxy, and ignored from anyone else.
    let mut state = app.state.clone();
    let mut settings = (*state.settings).clone();
    settings.trust_proxy = vec!["10.50.0.1/32".parse().unwrap()];
    state.settings = std::sync::Arc::new(settings);
    let proxied = actix_web::test::init_service(kepuasan::api::app(state)).await;
    let via = |from: &'static str, n: u32| {
        let svc = &proxied;
        async move {
            let body = open_link_submission(svc, "unit-b", [4; 9]).await;
            let req = post("/api/v1/responses", None, &body)
                .peer_addr(from.parse().unwrap())
                .insert_header(("X-Forwarded-For", format!("203.0.113.{}", n % 250)));
            send(svc, req).await.0
        }
    };
    allow_open_link(&proxied, &w.admin, "unit-b").await;
    for n in 0..35 {
        assert_eq!(via("10.50.0.1:1", n).await, 201, "through the proxy, {n}");
    }
    let direct: Vec<u16> = futures::future::join_all((0..31).map(|n| via("10.60.0.9:1", n))).await;
    assert_eq!(
        direct.iter().filter(|s| **s == 429).count(),
        1,
        "{direct:?}"
    );

    // Every HTML and SVG answer carries a Content-Security-Policy.
    let sheet = TestRequest::post()
        .uri("/api/v1/units/unit-a/receipt-sheets")
        .set_json(json!({"count": 1}));
    let resp =
        actix_web::test::call_service(&svc, with_key(sheet, Some(&w.admin)).to_request()).await;
    assert_eq!(resp.status().as_u16(), 201);
    let policy = resp
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        policy
            .as_deref()
            .is_some_and(|p| p.contains("default-src 'none'")),
        "{policy:?}"
    );
    let resp =
        actix_web::test::call_service(&svc, get("/p/unit-a/badge.svg", None).to_request()).await;
    assert_eq!(resp.headers().get("content-type").unwrap(), "image/svg+xml");
    assert!(resp.headers().contains_key("content-security-policy"));
}

both_backends!(the_smaller_points);

/// Issue 28: the server starts and serves under an address-space limit (`prlimit --as`,
/// `ulimit -v`) well below what a process maps by default: a report, its PDF and a sign-in.
#[test]
fn the_server_starts_and_serves_under_an_address_space_limit() {
    use std::os::unix::process::CommandExt;
    let (_dir, db, admin) = database_with_unit("limited.db");
    let bind = format!("127.0.0.1:{}", free_port());
    let mut command = crate::crash::kepuasan(&db, &bind);
    command
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 2 << 30,
                rlim_max: 2 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let mut server = crate::crash::up(command.spawn().unwrap(), &bind);
    let client = reqwest::blocking::Client::new();
    for format in ["json", "pdf", "xlsx"] {
        let url =
            format!("http://{bind}/api/v1/reports/ikm?unit=unit-a&period=2025-Q3&format={format}");
        let status = client.get(url).bearer_auth(&admin).send().unwrap().status();
        assert_eq!(status, 200, "{format}");
    }
    let sign_in = client
        .post(format!("http://{bind}/api/v1/sessions"))
        .json(&json!({"username": "siapa", "password": "bukan-sandinya"}))
        .send()
        .unwrap();
    assert_eq!(sign_in.status(), 401);
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server is still up"
    );
    let _ = server.kill();
    let _ = server.wait();
}

/// The text rule for paths: a control character in a path (PostgreSQL cannot even look up a
/// U+0000) is a 404 in the contract's shape before any handler, never a 500.
async fn a_control_character_in_a_path_is_not_found(app: TestApp) {
    let svc = app.service().await;
    let w = crate::api::world(&app, &svc).await;
    for path in [
        "/api/v1/units/%00/services",
        "/api/v1/units/unit%01a/services",
        "/api/v1/reports/ikm/chart/%00",
        "/u/%00",
        "/s/%1f",
        "/p/%00",
        "/p/%00/badge.svg",
    ] {
        let (status, body) = send(&svc, get(path, Some(&w.admin))).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("not_found")),
            "{path}: {body}"
        );
    }
    // A path with ordinary escapes still works.
    assert_eq!(
        send(&svc, get("/api/v1/units/unit-a/services", Some(&w.admin)))
            .await
            .0,
        200
    );
}

both_backends!(a_control_character_in_a_path_is_not_found);
