//! The full report on both backends: breakdowns, suggestions, trend and roll-ups, with
//! numbers worked out by hand from the responses each test sends.

use actix_web::test::TestRequest;
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

/// The responses of the report tests: 2025-Q2 three all-2 at unit-a; 2025-Q3 unit-a two
/// all-4 kiosk responses for ktp-el (one with a suggestion), unit-b two all-2 on paper.
pub(crate) async fn fill<S>(app: &TestApp, svc: &S) -> crate::api::World
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let w = world(app, svc).await;
    // 2025-Q2: three all-2 responses at unit-a: IKM 2 × 25 = 50,00.
    app.clock.set(at("2025-05-10 02:00:00"));
    submit_n(svc, &w.admin, &submission("unit-a", [2; 9]), 3).await;
    // 2025-Q3 (2025-08-15 03:00 UTC = 12:00 WIT): unit-a two all-4 kiosk responses for
    // ktp-el, one with a suggestion; unit-b two all-2 paper questionnaires.
    app.clock.set(at("2025-08-15 03:00:00"));
    let kiosk = with(
        submission("unit-a", [4; 9]),
        json!({"service": "ktp-el", "channel": "kiosk"}),
    );
    submit_n(svc, &w.kiosk_mpp, &kiosk, 1).await;
    submit_n(
        svc,
        &w.kiosk_mpp,
        &with(
            kiosk,
            json!({"suggestion": "Antrean cepat, petugas ramah."}),
        ),
        1,
    )
    .await;
    let paper = with(submission("unit-b", [2; 9]), json!({"channel": "paper"}));
    submit_n(svc, &w.admin, &paper, 2).await;
    w
}

async fn the_full_report_breaks_down_by_service_channel_and_child_with_a_trend(app: TestApp) {
    let svc = app.service().await;
    let w = fill(&app, &svc).await;

    let r = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=mpp-jpr&period=2025-Q3",
        &w.viewer_mpp,
    )
    .await;
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
    // The suggestion with its response's id, not yet noted by the unit's staff.
    let id = r["suggestions"][0]["id"].clone();
    assert_eq!(id.as_str().map(str::len), Some(36), "{id}");
    assert_eq!(
        r["suggestions"],
        json!([{"id": id, "date": "2025-08-15", "unit": "unit-a", "service": "ktp-el", "channel": "kiosk",
                "text": "Antrean cepat, petugas ramah.", "category": null, "tags": [], "follow_up": null}])
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
    let r = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=mpp-jpr&period=2025-Q3",
        &w.admin,
    )
    .await;
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
    let a = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3",
        &w.admin,
    )
    .await;
    assert!(a["rollup"].is_null());
    assert!(a["services"][0].get("unit").is_none());
    assert_eq!(a["respondents"].as_u64(), Some(2));
}

/// Status, headers and raw body of a GET.
pub(crate) async fn download<S>(svc: &S, path: &str, key: &str) -> (u16, String, String, Vec<u8>)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    let resp = actix_web::test::call_service(svc, get(path, Some(key)).to_request()).await;
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (ctype, disposition) = (header("content-type"), header("content-disposition"));
    let body = actix_web::test::read_body(resp).await.to_vec();
    (status, ctype, disposition, body)
}

fn id_number(v: &Value) -> String {
    v.as_f64()
        .map_or("-".into(), |f| format!("{f:.2}").replace('.', ","))
}

async fn every_export_carries_the_numbers_of_the_json_report(app: TestApp) {
    use calamine::{Data, Reader};
    let svc = app.service().await;
    let w = fill(&app, &svc).await;
    let base = "/api/v1/reports/ikm?unit=mpp-jpr&period=2025-Q3";
    let json_report = send(&svc, get(base, Some(&w.viewer_mpp))).await.1;
    let items = json_report["items"].as_array().unwrap().clone();
    assert_eq!(json_report["ikm"].as_f64(), Some(75.0));

    // CSV, semicolons and decimal commas, UTF-8 with BOM.
    let (status, ctype, disposition, body) = download(
        &svc,
        &format!("{base}&format=csv&delimiter=semicolon"),
        &w.viewer_mpp,
    )
    .await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    assert!(
        disposition.contains("ikm-mpp-jpr-2025-Q3.csv"),
        "{disposition}"
    );
    assert!(body.starts_with("\u{feff}".as_bytes()), "a byte-order mark");
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("\r\nIKM;75,00\r\n"), "{text}");
    assert!(text.contains("Mutu;C\r\n"));
    for item in &items {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{};", item["code"].as_str().unwrap())))
            .unwrap_or_else(|| panic!("a line for {}", item["code"]));
        let cells: Vec<&str> = line.split(';').collect();
        // Code;Name;Answered;Skipped;Total;1;2;3;4;NRR;Weighted;IKM;Grade
        assert_eq!(cells[2], item["answered"].to_string());
        assert_eq!(cells[3], item["skipped"].to_string());
        assert_eq!(cells[4], item["total"].to_string());
        let nrr = item["nrr"].as_f64().unwrap();
        assert_eq!(cells[9], format!("{nrr:.3}").replace('.', ","));
        assert_eq!(cells[11], id_number(&item["ikm"]));
        assert_eq!(cells[12], item["grade"].as_str().unwrap());
    }

    // XLSX, read back with calamine: numbers stored as numbers.
    let (status, ctype, _, body) =
        download(&svc, &format!("{base}&format=xlsx"), &w.viewer_mpp).await;
    assert_eq!(status, 200);
    assert!(ctype.contains("spreadsheetml"), "{ctype}");
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(body)).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "Ringkasan",
            "Unsur",
            "IKM per layanan",
            "Profil responden",
            "Saran dan masukan",
            "Rencana tindak lanjut",
            "Data"
        ]
    );
    let summary = book.worksheet_range("Ringkasan").unwrap();
    let value_of = |label: &str| {
        summary
            .rows()
            .find(|r| r.first() == Some(&Data::String(label.into())))
            .and_then(|r| r.get(1).cloned())
    };
    assert_eq!(value_of("IKM"), Some(Data::Float(75.0)));
    assert_eq!(value_of("Jumlah responden"), Some(Data::Float(4.0)));
    assert_eq!(value_of("Mutu"), Some(Data::String("C".into())));
    let sheet = book.worksheet_range("Unsur").unwrap();
    for item in &items {
        let code = item["code"].as_str().unwrap();
        let row = sheet
            .rows()
            .find(|r| r.first() == Some(&Data::String(code.into())))
            .unwrap();
        assert_eq!(row[9], Data::Float(item["nrr"].as_f64().unwrap()));
        assert_eq!(row[11], Data::Float(item["ikm"].as_f64().unwrap()));
    }
    let raw = book.worksheet_range("Data").unwrap();
    assert_eq!(
        raw.rows().count(),
        2 + 4,
        "title, header and the four responses"
    );
    let suggestions = book.worksheet_range("Saran dan masukan").unwrap();
    assert!(
        suggestions
            .rows()
            .any(|r| r.contains(&Data::String("Antrean cepat, petugas ramah.".into())))
    );

    // PDF, read back with pdftotext.
    let (status, ctype, _, body) =
        download(&svc, &format!("{base}&format=pdf"), &w.viewer_mpp).await;
    assert_eq!((status, ctype.as_str()), (200, "application/pdf"));
    assert!(body.starts_with(b"%PDF-"));
    match pdf_text(&body) {
        None => skip("pdftotext (Debian poppler-utils) is not installed; scripts/test installs it"),
        Some(text) => {
            assert!(text.contains("MPP Kota Jayapura"), "{text}");
            assert!(
                text.contains("75,00") && text.contains("Mutu C · Kurang baik"),
                "{text}"
            );
            for item in &items {
                let row = text
                    .lines()
                    .find(|l| {
                        l.trim_start()
                            .starts_with(&format!("{} ", item["code"].as_str().unwrap()))
                    })
                    .unwrap_or_else(|| panic!("a row for {} in\n{text}", item["code"]));
                assert!(row.contains(&id_number(&item["ikm"])), "{row}");
            }
            assert!(text.contains("Kepala MPP Kota Jayapura"));
            // The period and the time zone as an Indonesian document names them.
            assert!(
                text.contains("Triwulan III 2025 (01-07-2025 s.d. 30-09-2025) · WIT"),
                "{text}"
            );
            assert!(!text.contains("Asia/Jayapura"), "{text}");
            // Suggestions and the method by name, never by internal code.
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                flat.contains("15-08-2025 · Disdukcapil Jayapura · KTP-el · Kios survei: Antrean cepat, petugas ramah."),
                "{text}"
            );
            assert!(flat.contains("Mode perhitungan: "), "{text}");
            // Flags by their names, not their codes.
            assert!(flat.contains("terlalu cepat bila kurang dari"), "{text}");
            assert!(
                !flat.contains("too_fast") && !flat.contains("repeat "),
                "{text}"
            );
            // Printed on 2025-08-15 at 03:00 UTC, 12:00 in Jayapura, in a quarter still running.
            assert!(
                flat.contains("SEMENTARA: periode ini belum berakhir Dicetak 15-08-2025 12:00 WIT"),
                "{text}"
            );
            assert!(
                !flat.contains("perhitungan exact") && !flat.contains("(unit-a, ktp-el"),
                "{text}"
            );
            // The verification code printed on the PDF opens the numbers the server stored.
            let url = text
                .split_whitespace()
                .find(|w| w.contains("/verify/"))
                .unwrap_or_else(|| panic!("a verification address in\n{text}"));
            let code = url.rsplit('/').next().unwrap();
            assert_eq!(code.len(), 12, "{code}");
            let (status, page) =
                send(&svc, get(&format!("/verify/{}", code.to_lowercase()), None)).await;
            assert_eq!(status, 200, "typed in lower case, still found");
            let page = page.as_str().unwrap();
            assert!(
                page.contains("<strong>75,00</strong>") && page.contains("<strong>C</strong>"),
                "{page}"
            );
            assert!(page.contains("MPP Kota Jayapura (mpp-jpr)") && page.contains("2025-Q3"));
            assert!(
                page.contains("<td>U4</td><td class=\"n\">75,00</td>"),
                "{page}"
            );
        }
    }
    // Printed once the quarter has ended: no provisional mark.
    app.clock.set(at("2025-10-01 00:00:00"));
    let (_, _, _, body) = download(&svc, &format!("{base}&format=pdf"), &w.viewer_mpp).await;
    match pdf_text(&body) {
        None => skip("pdftotext (Debian poppler-utils) is not installed; scripts/test installs it"),
        Some(text) => {
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(!flat.contains("SEMENTARA"), "{text}");
            assert!(flat.contains("Dicetak 01-10-2025 09:00 WIT"), "{text}");
        }
    }

    let (status, page) = send(&svc, get("/verify/AAAA-BBBB-CC", None)).await;
    assert_eq!(status, 404);
    assert!(
        page.as_str()
            .unwrap()
            .contains("Kode verifikasi tidak dikenal")
    );

    let (status, body) = send(&svc, get(&format!("{base}&format=odt"), Some(&w.admin))).await;
    assert_eq!(status, 422);
    assert!(body["fields"]["format"].is_string(), "{body}");
}

/// The text of a PDF by poppler's pdftotext, or `None` when it is not installed.
pub(crate) fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .ok()?;
    assert!(out.status.success(), "pdftotext failed");
    Some(String::from_utf8(out.stdout).unwrap())
}

async fn follow_up_plans_show_in_the_report_and_the_next_period_says_whether_they_were_done(
    app: TestApp,
) {
    let svc = app.service().await;
    let w = fill(&app, &svc).await;
    let plan = |period: &str, item: &str, action: &str| json!({"period": period, "item": item, "action": action, "owner": "Kepala Seksi Pelayanan", "due": "2025-06-30"});
    let mut ids = Vec::new();
    for (item, action) in [
        ("U3", "Tambah loket pada jam sibuk"),
        ("U9", "Kotak pengaduan daring"),
        ("U1", "Papan persyaratan baru"),
    ] {
        let (status, body) = send(
            &svc,
            post(
                "/api/v1/units/unit-a/follow-ups",
                Some(&w.viewer_a),
                &plan("2025-Q2", item, action),
            ),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["status"], "planned");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    // A unit head plans only for its own unit; bad fields are named.
    let (status, _) = send(
        &svc,
        post(
            "/api/v1/units/unit-b/follow-ups",
            Some(&w.viewer_a),
            &plan("2025-Q2", "U3", "x"),
        ),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = send(
        &svc,
        post(
            "/api/v1/units/unit-a/follow-ups",
            Some(&w.admin),
            &json!({"period": "2025-Q5", "item": "U10", "action": " ", "owner": "A", "due": "31-12-2025", "status": "finished"}),
        ),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, ["action", "due", "item", "period", "status"]);
    for (id, status) in [
        (&ids[0], "done"),
        (&ids[1], "in_progress"),
        (&ids[2], "cancelled"),
    ] {
        let (code, body) = send(
            &svc,
            actix_web::test::TestRequest::patch()
                .uri(&format!("/api/v1/follow-ups/{id}"))
                .insert_header(("Authorization", format!("Bearer {}", w.viewer_a)))
                .set_json(json!({"status": status})),
        )
        .await;
        assert_eq!((code, body["status"].as_str()), (200, Some(status)));
    }
    let (code, _) = send(
        &svc,
        actix_web::test::TestRequest::patch()
            .uri("/api/v1/follow-ups/no-such-plan")
            .insert_header(("Authorization", format!("Bearer {}", w.admin)))
            .set_json(json!({"status": "done"})),
    )
    .await;
    assert_eq!(code, 404);
    let (_, this_quarter) = send(
        &svc,
        post(
            "/api/v1/units/unit-a/follow-ups",
            Some(&w.viewer_a),
            &plan("2025-Q3", "U8", "Perbaiki ruang tunggu"),
        ),
    )
    .await;
    assert_eq!(this_quarter["period"], "2025-Q3");
    let (_, q2) = send(
        &svc,
        get(
            "/api/v1/units/unit-a/follow-ups?period=2025-Q2",
            Some(&w.viewer_a),
        ),
    )
    .await;
    assert_eq!(q2.as_array().unwrap().len(), 3);

    // The Q3 report: its own plan, and of Q2's two live actions (one cancelled) one done.
    let r = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3",
        &w.viewer_a,
    )
    .await;
    let f = &r["follow_ups"];
    assert_eq!(f["current"][0]["action"], "Perbaiki ruang tunggu");
    assert_eq!(
        (
            f["previous"]["period"].as_str(),
            f["previous"]["total"].as_u64(),
            f["previous"]["done"].as_u64()
        ),
        (Some("2025-Q2"), Some(2), Some(1))
    );
    let (_, _, _, pdf) = download(
        &svc,
        "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3&format=pdf",
        &w.viewer_a,
    )
    .await;
    match pdf_text(&pdf) {
        None => skip("pdftotext (Debian poppler-utils) is not installed"),
        Some(text) => {
            assert!(text.contains("Perbaiki ruang tunggu"), "{text}");
            assert!(
                text.contains("Tindak lanjut periode sebelumnya (2025-Q2): 1 selesai dari 2"),
                "{text}"
            );
            assert!(text.contains("Selesai") && text.contains("Dibatalkan"));
        }
    }
}

async fn published_results_and_badge_show_the_last_complete_quarter_when_switched_on(app: TestApp) {
    let svc = app.service().await;
    let w = fill(&app, &svc).await;
    let (status, page) = send(&svc, get("/p/unit-a", None)).await;
    assert_eq!(status, 404);
    assert!(page.as_str().unwrap().contains("tidak menerbitkan"));
    let resp =
        actix_web::test::call_service(&svc, get("/p/unit-a/badge.svg", None).to_request()).await;
    assert_eq!(resp.status().as_u16(), 404);

    let (status, unit) = send(
        &svc,
        actix_web::test::TestRequest::patch()
            .uri("/api/v1/units/unit-a")
            .insert_header(("Authorization", format!("Bearer {}", w.admin)))
            .set_json(json!({"public_results": true})),
    )
    .await;
    assert_eq!(
        (status, unit["public_results"].as_bool()),
        (200, Some(true))
    );

    // A follow-up plan for the published quarter, which the page publishes with the results.
    let plan = json!({"period": "2025-Q2", "item": "U3", "action": "Menambah loket antrean lansia",
        "owner": "Kasi Pelayanan", "due": "2025-09-30"});
    let (status, body) = send(
        &svc,
        post("/api/v1/units/unit-a/follow-ups", Some(&w.admin), &plan),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // The clock is in 2025-Q3, so 2025-Q2 is the last complete quarter: three all-2
    // questionnaires, IKM 2 × 25 = 50,00, D, Tidak baik.
    let (status, page) = send(&svc, get("/p/unit-a", None)).await;
    assert_eq!(status, 200);
    let page = page.as_str().unwrap();
    assert!(page.contains("<strong id=\"ikm\">50,00</strong>"), "{page}");
    assert!(
        page.contains("Mutu D · Tidak baik")
            && page.contains("Triwulan II 2025 (01-04-2025 s.d. 30-06-2025)"),
        "{page}"
    );
    assert!(page.contains("<td>U1</td>") && page.contains("Disdukcapil Jayapura"));
    // Without a population there is no sample to judge: no caution.
    assert!(!page.contains("id=\"caution\""), "{page}");
    // Issue 29: with a population of 1,500 the three questionnaires are far below the
    // minimum sample, and the page says so where the number is, as the dashboard does.
    let (status, body) = send(
        &svc,
        with_key(
            actix_web::test::TestRequest::put()
                .uri("/api/v1/units/unit-a/populations/2025-Q2")
                .set_json(json!({"population": 1500})),
            Some(&w.admin),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, cautious) = send(&svc, get("/p/unit-a", None)).await;
    let cautious = cautious.as_str().unwrap();
    assert!(
        cautious.contains("id=\"caution\"")
            && cautious.contains(
                "Jumlah responden (3) belum mencapai sampel minimum 306 untuk populasi 1500"
            ),
        "{cautious}"
    );
    // Plain Bahasa Indonesia: no English glosses, and no snippet meant for webmasters.
    assert!(page.contains("<html lang=\"id\">"), "{page}");
    assert!(
        !page.contains("lang=\"en\" class=\"en\"") && !page.contains("(period)"),
        "{page}"
    );
    assert!(
        !page.contains("<code>") && !page.contains("&lt;img"),
        "{page}"
    );
    // The follow-up plans are published.
    assert!(
        page.contains("Anda menyampaikan, kami menindaklanjuti"),
        "{page}"
    );
    assert!(
        page.contains("Menambah loket antrean lansia")
            && page.contains("Direncanakan")
            && page.contains("30-09-2025"),
        "{page}"
    );
    // English by a switch.
    assert!(page.contains("href=\"/p/unit-a?lang=en\""), "{page}");
    let (status, english) = send(&svc, get("/p/unit-a?lang=en", None)).await;
    assert_eq!(status, 200);
    let english = english.as_str().unwrap();
    assert!(
        english.contains("<html lang=\"en\">") && english.contains("Second quarter 2025"),
        "{english}"
    );
    assert!(
        english.contains("You told us, we act on it") && english.contains("Planned"),
        "{english}"
    );
    assert!(
        english.contains("<strong id=\"ikm\">50.00</strong>"),
        "{english}"
    );
    let resp =
        actix_web::test::call_service(&svc, get("/p/unit-a/badge.svg", None).to_request()).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers().get("content-type").unwrap(), "image/svg+xml");
    let svg = String::from_utf8(actix_web::test::read_body(resp).await.to_vec()).unwrap();
    assert!(
        svg.contains(">IKM 2025-Q2<") && svg.contains(">50,00 D<"),
        "{svg}"
    );
    assert!(svg.contains("role=\"img\""));
    // Another unit stays private.
    assert_eq!(send(&svc, get("/p/unit-b", None)).await.0, 404);

    // The lobby display of the MPP: only once the MPP publishes, and it ranks the units below
    // that publish (unit-a), never one that does not (unit-b).
    assert_eq!(send(&svc, get("/p/mpp-jpr/tv", None)).await.0, 404);
    let publish = actix_web::test::TestRequest::patch()
        .uri("/api/v1/units/mpp-jpr")
        .insert_header(("Authorization", format!("Bearer {}", w.admin)))
        .set_json(json!({"public_results": true}));
    assert_eq!(send(&svc, publish).await.0, 200);
    let (status, tv) = send(&svc, get("/p/mpp-jpr/tv", None)).await;
    assert_eq!(status, 200);
    let tv = tv.as_str().unwrap();
    assert!(tv.contains("MPP Kota Jayapura · Triwulan II 2025"), "{tv}");
    assert!(
        tv.contains("<span class=\"rank\">1</span><span class=\"name\">Disdukcapil Jayapura"),
        "{tv}"
    );
    assert!(
        !tv.contains("Samsat Jayapura"),
        "an unpublished unit is not shown: {tv}"
    );
    // It updates itself in place by its script; no timed reload of the page.
    assert!(
        tv.contains("/assets/tv.") && !tv.contains("http-equiv=\"refresh\""),
        "{tv}"
    );
}

/// Stores rows as they are, bypassing submission (and so the tallies, which a suggestion list
/// does not read).
fn insert_rows(app: &TestApp, rows: &[kepuasan::db::queries::ResponseRow]) {
    app.state
        .db
        .write_blocking(|c| {
            kepuasan::db::write_tx(c, |c| {
                kepuasan::db::queries::insert_new_responses(c, rows).map(|_| ())
            })
        })
        .unwrap();
}

/// A response to the open link answering only U1, as an import would store it.
fn web_row(
    unit: &str,
    received_at: chrono::NaiveDateTime,
    suggestion: Option<String>,
) -> kepuasan::db::queries::ResponseRow {
    let id = uuid::Uuid::new_v4().to_string();
    kepuasan::db::queries::ResponseRow {
        content_hash: id.clone(),
        submission_id: id,
        instrument: "skm-2017".into(),
        instrument_version: 1,
        unit_code: unit.into(),
        service_code: None,
        channel: "web".into(),
        answers: r#"{"U1":3}"#.into(),
        profile: None,
        suggestion,
        received_at,
        client_time: None,
        flags: String::new(),
        key_id: None,
        started_at: None,
        clock_offset_ms: None,
        device_id: None,
    }
}

/// The texts of a report's suggestions, in its order.
fn suggestion_texts(r: &Value) -> Vec<String> {
    r["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_report_lists_the_newest_thousand_suggestions(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    // 1,200 suggestions, one every 90 minutes from 1 July 2025 (UTC): the last on 15 September.
    let start = at("2025-07-01 00:00:00");
    let rows: Vec<kepuasan::db::queries::ResponseRow> = (0..1200)
        .map(|k| {
            web_row(
                "unit-a",
                start + chrono::Duration::minutes(90 * k),
                Some(format!("saran {k}")),
            )
        })
        .collect();
    insert_rows(&app, &rows);
    let r = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3",
        &w.admin,
    )
    .await;
    let newest: Vec<String> = (200..1200).rev().map(|k| format!("saran {k}")).collect();
    assert_eq!(
        suggestion_texts(&r),
        newest,
        "the newest 1,000, newest first"
    );
    assert_eq!(r["suggestions_truncated"], true, "the quarter holds 1,200");
    // July in Jayapura (UTC+9) ends at 15:00 UTC on the 31st: 735 hours, 490 suggestions,
    // all listed.
    let july = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=unit-a&period=2025-07",
        &w.admin,
    )
    .await;
    assert_eq!(
        (
            july["suggestions"].as_array().unwrap().len(),
            &july["suggestions_truncated"]
        ),
        (490, &json!(false))
    );
    // A unit in another time zone under the same MPP, its 300 suggestions between unit A's
    // (from 1 September, 45 minutes after each of A's): the MPP lists the newest 1,000 of
    // both, newest first.
    let (status, _) = send(&svc, post("/api/v1/units", Some(&w.admin), &json!({"code": "unit-c", "name": "C", "timezone": "Asia/Jakarta", "parent": "mpp-jpr"}))).await;
    assert_eq!(status, 201);
    let c_start = at("2025-09-01 00:45:00");
    let c_rows: Vec<_> = (0..300)
        .map(|k| {
            let id = uuid::Uuid::new_v4().to_string();
            kepuasan::db::queries::ResponseRow {
                content_hash: id.clone(),
                submission_id: id,
                unit_code: "unit-c".into(),
                suggestion: Some(format!("saran c{k}")),
                received_at: c_start + chrono::Duration::minutes(90 * k),
                ..rows[0].clone()
            }
        })
        .collect();
    insert_rows(&app, &c_rows);
    let mut both: Vec<(chrono::NaiveDateTime, String)> = rows
        .iter()
        .chain(&c_rows)
        .map(|r| (r.received_at, r.suggestion.clone().unwrap()))
        .collect();
    both.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let newest: Vec<String> = both.into_iter().take(1000).map(|(_, t)| t).collect();
    let mpp = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=mpp-jpr&period=2025-Q3",
        &w.admin,
    )
    .await;
    let listed = suggestion_texts(&mpp);
    assert_eq!(listed, newest, "the newest 1,000 of two time zones");
    assert!(listed.contains(&"saran c299".to_owned()) && listed.contains(&"saran 1199".to_owned()));
    assert_eq!(
        mpp["suggestions_truncated"], true,
        "the quarter holds 1,500"
    );
}

/// A quarter with more than twice a list's worth of responses finds its newest suggestions
/// through the index first, from a window sized by the tallies' count and widened as needed:
/// the list must be the same whether suggestions are dense, sparse or from two units.
async fn a_busy_quarter_lists_its_newest_suggestions_however_sparse(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    // 3,000 responses each to A and B, one every 40 minutes from 1 July 2025 (UTC), B's 20
    // minutes after A's; every A response has a suggestion, one B response in four.
    let start = at("2025-07-01 00:00:00");
    let row = |unit: &str, k: i64, offset: i64, suggestion: Option<String>| {
        web_row(
            unit,
            start + chrono::Duration::minutes(40 * k + offset),
            suggestion,
        )
    };
    let a: Vec<_> = (0..3000)
        .map(|k| row("unit-a", k, 0, Some(format!("a {k}"))))
        .collect();
    let b: Vec<_> = (0..3000)
        .map(|k| row("unit-b", k, 20, (k % 4 == 0).then(|| format!("b {k}"))))
        .collect();
    insert_rows(&app, &a);
    insert_rows(&app, &b);
    app.state
        .db
        .write_blocking(|c| kepuasan::tallies::rebuild(c, &app.state.registry, None))
        .unwrap();
    let report = |unit: &str| {
        let path = format!("/api/v1/reports/ikm?unit={unit}&period=2025-Q3");
        let svc = &svc;
        let admin = w.admin.clone();
        async move { get_body(svc, &path, &admin).await }
    };
    let ra = report("unit-a").await;
    assert_eq!(ra["respondents"], 3000, "the tallies count every row");
    let newest: Vec<String> = (2000..3000).rev().map(|k| format!("a {k}")).collect();
    assert_eq!(
        suggestion_texts(&ra),
        newest,
        "dense: the newest 1,000, newest first"
    );
    assert_eq!(
        ra["suggestions_truncated"], true,
        "dense: the quarter holds 3,000"
    );
    let rb = report("unit-b").await;
    let all: Vec<String> = (0..3000)
        .rev()
        .filter(|k| k % 4 == 0)
        .map(|k| format!("b {k}"))
        .collect();
    assert_eq!(
        suggestion_texts(&rb),
        all,
        "sparse: all 750, reached by widening the window"
    );
    assert_eq!(rb["suggestions_truncated"], false, "sparse: all listed");
    let mut both: Vec<(chrono::NaiveDateTime, String)> = a
        .iter()
        .chain(&b)
        .filter_map(|r| Some((r.received_at, r.suggestion.clone()?)))
        .collect();
    both.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let newest: Vec<String> = both.into_iter().take(1000).map(|(_, t)| t).collect();
    let mpp = report("mpp-jpr").await;
    assert_eq!(
        suggestion_texts(&mpp),
        newest,
        "two units: the newest 1,000 of both"
    );
    assert_eq!(
        mpp["suggestions_truncated"], true,
        "two units: 3,750 in the quarter"
    );
}

/// A report lists each local day of its period (at most 92) with its responses and IKM, cut
/// at the unit's time zone and read with its trend; a year has no daily list.
async fn a_report_lists_its_period_day_by_day_in_the_units_time_zone(app: TestApp) {
    let svc = app.service().await;
    let w = fill(&app, &svc).await;
    // 2025-06-30 16:00 UTC is 1 July 01:00 in Jayapura (WIT, UTC+9): Q3's first day.
    app.clock.set(at("2025-06-30 16:00:00"));
    submit_n(&svc, &w.admin, &submission("unit-a", [3; 9]), 1).await;
    // 2025-09-30 20:00 UTC is 1 October 05:00 WIT: Q4's, not Q3's.
    app.clock.set(at("2025-09-30 20:00:00"));
    submit_n(&svc, &w.admin, &submission("unit-b", [1; 9]), 1).await;
    let days = |r: &Value| -> Vec<(String, u64, Option<f64>)> {
        r["daily"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["date"].as_str().unwrap().to_owned(),
                    d["respondents"].as_u64().unwrap(),
                    d["ikm"].as_f64(),
                )
            })
            .collect()
    };
    let q3 = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=mpp-jpr&period=2025-Q3",
        &w.viewer_mpp,
    )
    .await;
    let daily = days(&q3);
    assert_eq!(daily.len(), 92, "1 July to 30 September");
    assert_eq!(
        (daily[0].clone(), daily[91].0.as_str()),
        (("2025-07-01".to_owned(), 1, Some(75.0)), "2025-09-30")
    );
    // 15 August: 100, 100, 50, 50 → 75,00.
    assert_eq!(daily[45], ("2025-08-15".to_owned(), 4, Some(75.0)));
    let busy: Vec<usize> = (0..92).filter(|i| daily[*i].1 > 0).collect();
    assert_eq!(busy, [0, 45], "no other day has a response");
    assert!(daily.iter().all(|d| (d.1 == 0) == d.2.is_none()));
    // Pooled: (100 + 100 + 50 + 50 + 75) / 5 = 75,00; the days add up to it.
    assert_eq!(
        (q3["respondents"].as_u64(), q3["ikm"].as_f64()),
        (Some(5), Some(75.0))
    );
    // The trend read with the days: Q2's three all-2 responses, 50,00, then Q3.
    let trend = q3["trend"].as_array().unwrap();
    assert_eq!(
        (
            trend[3]["period"].as_str(),
            trend[3]["respondents"].as_u64(),
            trend[3]["ikm"].as_f64(),
            trend[4]["respondents"].as_u64()
        ),
        (Some("2025-Q2"), Some(3), Some(50.0), Some(5))
    );
    let q4 = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=unit-b&period=2025-Q4",
        &w.admin,
    )
    .await;
    assert_eq!(days(&q4)[0], ("2025-10-01".to_owned(), 1, Some(25.0)));
    assert_eq!(days(&q4).len(), 92, "1 October to 31 December");
    let year = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=mpp-jpr&period=2025",
        &w.viewer_mpp,
    )
    .await;
    assert_eq!(
        (
            year["daily"].as_array().map(Vec::len),
            year["respondents"].as_u64()
        ),
        (Some(0), Some(9)),
        "a year has no daily list; it holds Q2's 3, Q3's 5 and Q4's 1"
    );
}

/// U9 may be skipped ("Belum pernah menyampaikan pengaduan"): the skip is unanswered, drops
/// out of U9's denominator only, and every report says how many skipped each item.
async fn a_skipped_u9_is_unanswered_and_every_report_counts_it(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    app.clock.set(at("2025-08-15 03:00:00"));
    submit_n(&svc, &w.admin, &submission("unit-a", [4; 9]), 2).await;
    let mut skipped = submission("unit-a", [3; 9]);
    skipped["answers"]["U9"] = Value::Null;
    submit_n(&svc, &w.admin, &skipped, 1).await;
    // U1..U8: (4 + 4 + 3) / 3 = 11/3; U9: (4 + 4) / 2 = 4.
    // Index (8 × 11/3 + 4) / 9 = 100/27; IKM 2500/27 = 92,592... -> 92,59, A.
    let base = "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3";
    let r = get_body(&svc, base, &w.viewer_mpp).await;
    assert_eq!(r["respondents"], 3);
    assert_eq!(r["ikm"].as_f64(), Some(92.59), "{r}");
    assert_eq!(r["grade"], "A");
    let u9 = &r["items"][8];
    assert_eq!(
        (&u9["answered"], &u9["skipped"], &u9["total"], &u9["nrr"]),
        (&json!(2), &json!(1), &json!(8), &json!(4.0)),
        "{u9}"
    );
    for item in r["items"].as_array().unwrap()[..8].iter() {
        assert_eq!(
            (&item["answered"], &item["skipped"]),
            (&json!(3), &json!(0))
        );
    }
    let (status, _, _, body) = download(
        &svc,
        &format!("{base}&format=csv&delimiter=semicolon"),
        &w.viewer_mpp,
    )
    .await;
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    let header = text
        .lines()
        .find(|l| l.contains("Menjawab"))
        .expect("the item table's header");
    let column = header.split(';').position(|c| c == "Dilewati");
    assert_eq!(column, Some(3), "{header}");
    let u9_line = text.lines().find(|l| l.starts_with("U9;")).unwrap();
    assert_eq!(u9_line.split(';').nth(3), Some("1"), "{u9_line}");
}

async fn the_pdf_carries_the_units_letterhead_number_and_signatory(app: TestApp) {
    let svc = app.service().await;
    let w = fill(&app, &svc).await;
    let base = "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3&format=pdf";
    // Without settings: blanks to fill in by hand, no letterhead.
    app.clock.set(at("2025-10-06 01:00:00"));
    let (status, _, _, blank) = download(&svc, base, &w.admin).await;
    assert_eq!(status, 200);
    let settings = json!({"address": "Jl. Raya Abepura No. 1", "city": "Jayapura",
        "authority": "Pemerintah Kota Jayapura",
        "head_name": "Drs. Yohanes Wenda, M.Si.", "head_id": "19700101 199503 1 002"});
    let (status, body) = send(
        &svc,
        with_key(
            TestRequest::patch()
                .uri("/api/v1/units/unit-a")
                .set_json(&settings),
            Some(&w.admin),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(40, 48)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let logo = with_key(
        TestRequest::put()
            .uri("/api/v1/units/unit-a/logo")
            .insert_header(("Content-Type", "image/png"))
            .set_payload(png),
        Some(&w.admin),
    );
    assert_eq!(send(&svc, logo).await.0, 204);
    let plan = json!({"period": "2025-Q3", "item": "U3", "action": "Loket tambahan",
        "owner": "Kasi Pelayanan", "due": "2025-11-30"});
    let (status, _) = send(
        &svc,
        post("/api/v1/units/unit-a/follow-ups", Some(&w.admin), &plan),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, _, pdf) = download(
        &svc,
        &format!("{base}&number=800/17/Dukcapil/2025"),
        &w.admin,
    )
    .await;
    assert_eq!(status, 200);
    // The logo is an image in the PDF; the first one had none.
    let images = |pdf: &[u8]| {
        pdf.windows(14)
            .filter(|w| w == b"/Subtype /Imag" || w == b"/Subtype/Image")
            .count()
    };
    assert_eq!(images(&blank), 0);
    assert!(images(&pdf) >= 1, "the logo is embedded");
    let (Some(blank), Some(text)) = (pdf_text(&blank), pdf_text(&pdf)) else {
        return skip("pdftotext (Debian poppler-utils) is not installed; scripts/test installs it");
    };
    let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let (blank, text) = (flat(&blank), flat(&text));
    // Letterhead: the authority above the unit (never the MPP it sits in), the unit, its
    // address and city; the number; the place and date of signing (the unit's own date, 6
    // October in Jayapura); the head's name and NIP.
    assert!(!text.contains("MPP KOTA JAYAPURA"), "{text}");
    for expected in [
        "PEMERINTAH KOTA JAYAPURA DISDUKCAPIL JAYAPURA",
        "Jl. Raya Abepura No. 1, Jayapura",
        "Nomor: 800/17/Dukcapil/2025",
        "Jayapura, 6 Oktober 2025",
        "Kepala Disdukcapil Jayapura",
        "Drs. Yohanes Wenda, M.Si.",
        "NIP. 19700101 199503 1 002",
        "Disdukcapil Jayapura · Triwulan III 2025 · halaman 1 dari",
        // Dates and periods as documents write them, not as ISO codes.
        "30-11-2025",
        "Triwulan II 2025",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    assert!(
        !text.contains("unit-a ·"),
        "no unit code in the footer: {text}"
    );
    assert!(blank.contains("Nomor: ____"), "{blank}");
    assert!(blank.contains("............, 6 Oktober 2025"), "{blank}");
    assert!(
        !blank.contains("DISDUKCAPIL JAYAPURA"),
        "no letterhead without settings: {blank}"
    );
    // A number that is too long is named.
    let long = format!("{base}&number={}", "9".repeat(101));
    let (status, body) = send(&svc, get(&long, Some(&w.admin))).await;
    assert_eq!(status, 422);
    assert!(body["fields"]["number"].is_string(), "{body}");
}

async fn a_parents_units_carry_their_previous_ikm_and_sample_minimum(app: TestApp) {
    let svc = app.service().await;
    let w = fill(&app, &svc).await;
    // 1,000 people served at unit-a in 2025-Q3: Krejcie & Morgan (95 %, ±5 %) ask 278.
    let put = actix_web::test::TestRequest::put()
        .uri("/api/v1/units/unit-a/populations/2025-Q3")
        .set_json(json!({"population": 1000}));
    assert_eq!(send(&svc, with_key(put, Some(&w.admin))).await.0, 200);
    let report = send(
        &svc,
        get(
            "/api/v1/reports/ikm?unit=mpp-jpr&period=2025-Q3",
            Some(&w.admin),
        ),
    )
    .await
    .1;
    let children = report["rollup"]["children"].as_array().unwrap();
    let a = children.iter().find(|c| c["code"] == "unit-a").unwrap();
    // 2025-Q2 at unit-a: three all-2 questionnaires, IKM 2 × 25 = 50,00.
    assert_eq!(a["previous_ikm"].as_f64(), Some(50.0), "{a}");
    assert_eq!(a["population"].as_u64(), Some(1000));
    assert_eq!(a["sample_minimum"].as_u64(), Some(278), "{a}");
    let b = children.iter().find(|c| c["code"] == "unit-b").unwrap();
    assert!(
        b.get("previous_ikm").is_none() && b.get("sample_minimum").is_none(),
        "{b}"
    );
}

both_backends!(
    a_parents_units_carry_their_previous_ikm_and_sample_minimum,
    the_pdf_carries_the_units_letterhead_number_and_signatory,
    a_skipped_u9_is_unanswered_and_every_report_counts_it,
    a_report_lists_the_newest_thousand_suggestions,
    a_busy_quarter_lists_its_newest_suggestions_however_sparse,
    a_report_lists_its_period_day_by_day_in_the_units_time_zone,
    published_results_and_badge_show_the_last_complete_quarter_when_switched_on,
    follow_up_plans_show_in_the_report_and_the_next_period_says_whether_they_were_done,
    the_full_report_breaks_down_by_service_channel_and_child_with_a_trend,
    every_export_carries_the_numbers_of_the_json_report,
);
