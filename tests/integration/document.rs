//! The official report document (issue 16): the Laporan Hasil SKM in the regulation's
//! chapters, read back from the PDF with pdftotext; the narrative a unit edits through the API
//! and that the PDF and the DOCX print; the DOCX opened by LibreOffice.

use actix_web::test::TestRequest;
use kepuasan::auth::Role;
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::*;
use crate::reports::{download, fill, pdf_text};

/// Text with every run of white space made one space (pdftotext lays lines out).
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of a DOCX as LibreOffice prints it: converted to PDF by `soffice --headless`,
/// then read with pdftotext. `None` when LibreOffice is not installed.
fn docx_text(docx: &[u8]) -> Option<String> {
    docx_pdf(docx).and_then(|pdf| pdf_text(&pdf))
}

/// A DOCX as LibreOffice prints it, as PDF. `None` when LibreOffice is not installed.
fn docx_pdf(docx: &[u8]) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("laporan.docx");
    std::fs::write(&path, docx).unwrap();
    // A profile of its own, so that conversions running side by side do not share one.
    let profile = format!(
        "-env:UserInstallation=file://{}/profile",
        dir.path().display()
    );
    let out = std::process::Command::new("soffice")
        .args([
            &profile,
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            dir.path().to_str().unwrap(),
            path.to_str().unwrap(),
        ])
        .env("HOME", dir.path())
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "soffice failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(std::fs::read(dir.path().join("laporan.pdf")).expect("soffice wrote the PDF"))
}

/// A PDF's text page by page (pdftotext ends each page with a form feed), each page's white
/// space made single spaces.
fn pages(pdf: &[u8]) -> Vec<String> {
    let text = pdf_text(pdf).expect("pdftotext is installed");
    let mut pages: Vec<String> = text.split('\x0c').map(flat).collect();
    if pages.last().is_some_and(String::is_empty) {
        pages.pop();
    }
    pages
}

const CHAPTERS: [&str; 7] = [
    "BAB I PENDAHULUAN",
    "BAB II METODE DAN SAMPEL",
    "BAB III HASIL SURVEI",
    "BAB IV ANALISIS",
    "BAB V KESIMPULAN DAN RENCANA TINDAK LANJUT",
    "LAMPIRAN 1. KUESIONER",
    "LAMPIRAN 2. TABEL PENGOLAHAN DATA",
];

async fn the_demo_units_finished_quarter_prints_as_the_official_report(app: TestApp) {
    let svc = app.service().await;
    // 6 October 2026, 09:00 in Bandung (WIB): the third quarter has ended.
    let now = at("2026-10-06 02:00:00");
    app.clock.set(now);
    app.state
        .db
        .write_blocking(move |c| kepuasan::demo::fill(c, now))
        .unwrap();
    let admin = app.key(Role::Admin, &[]);
    let settings = json!({"address": "Jl. Caringin No. 103", "city": "Bandung",
        "head_name": "Dra. Siti Rahmawati, M.Si.", "head_id": "197001011995032002"});
    let (status, body) = send(
        &svc,
        with_key(
            TestRequest::patch()
                .uri("/api/v1/units/dukcapil-bdg")
                .set_json(&settings),
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let base = "/api/v1/reports/ikm?unit=dukcapil-bdg&period=2026-Q3";
    let report = get_body(&svc, base, &admin).await;
    let (status, _, _, pdf) = download(
        &svc,
        &format!("{base}&format=pdf&number=000.5/123/Disdukcapil"),
        &admin,
    )
    .await;
    assert_eq!(status, 200);
    let Some(text) = pdf_text(&pdf) else {
        return skip("pdftotext (Debian poppler-utils) is not installed; scripts/test installs it");
    };
    let text = flat(&text);
    // The chapters, in the regulation's order.
    let mut from = 0;
    for chapter in CHAPTERS {
        let at = text[from..]
            .find(chapter)
            .unwrap_or_else(|| panic!("{chapter} after the chapters before it in\n{text}"));
        from += at + chapter.len();
    }
    let ikm = report["ikm"].as_f64().unwrap();
    let ikm = format!("{ikm:.2}").replace('.', ",");
    for expected in [
        // Chapter I: the legal basis.
        "Undang-Undang Nomor 25 Tahun 2009 tentang Pelayanan Publik",
        "Nomor 14 Tahun 2017",
        // Chapter II: the sample and the channels by name.
        "Krejcie dan Morgan",
        "Kios survei",
        // Chapter III's narrative, from the report's own numbers.
        &format!("IKM Disdukcapil Kota Bandung untuk Triwulan III 2026 adalah {ikm}"),
        // Annex 1: the questionnaire's questions; annex 2: the processing table.
        "kesesuaian persyaratan pelayanan",
        "Jumlah NRR tertimbang (indeks) =",
        // Channels by name, inside a sentence too.
        "kode QR pada struk (",
        // Period, zone, number, place and date, head and NIP.
        "Triwulan III 2026 (01-07-2026 s.d. 30-09-2026) · WIB",
        "Nomor: 000.5/123/Disdukcapil",
        "Bandung, 6 Oktober 2026",
        "Kepala Disdukcapil Kota Bandung",
        "Dra. Siti Rahmawati, M.Si.",
        "NIP. 19700101 199503 2 002",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    for internal in [
        "2026-Q3",
        "Asia/Jakarta",
        "too_fast",
        "(dukcapil-bdg",
        "dukcapil-bdg,",
        "2026-07-01",
        "SEMENTARA",
        // No codes of services, channels or the instrument in a document.
        "ktp-el",
        "kiosk",
        "skm-2017",
    ] {
        assert!(!text.contains(internal), "no {internal} in\n{text}");
    }
    // The running quarter is provisional.
    let (status, _, _, running) = download(
        &svc,
        "/api/v1/reports/ikm?unit=dukcapil-bdg&period=2026-Q4&format=pdf",
        &admin,
    )
    .await;
    assert_eq!(status, 200);
    let running = flat(&pdf_text(&running).unwrap());
    assert!(running.contains("SEMENTARA"), "{running}");
    assert!(running.contains("Triwulan IV 2026"), "{running}");
}

async fn put_narrative<S>(svc: &S, key: &str, path: &str, body: &Value) -> (u16, Value)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    send(
        svc,
        with_key(TestRequest::put().uri(path).set_json(body), Some(key)),
    )
    .await
}

fn chapter<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["chapter"] == name)
        .unwrap_or_else(|| panic!("{name} in {view}"))
}

async fn a_unit_edits_its_narrative_and_both_documents_print_it(app: TestApp) {
    let svc = app.service().await;
    let w = fill(&app, &svc).await;
    app.clock.set(at("2025-10-06 01:00:00"));
    let path = "/api/v1/units/unit-a/report-narrative/2025-Q3";
    // Before any edit: five chapters, each the template's, written from the numbers. unit-a's
    // third quarter is two all-4 responses: IKM 4 × 25 = 100,00, A; its second, three all-2
    // responses: 50,00.
    let view = get_body(&svc, path, &w.viewer_a).await;
    let names: Vec<&str> = view["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["chapter"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "introduction",
            "method",
            "results",
            "analysis",
            "conclusion"
        ]
    );
    for c in view["chapters"].as_array().unwrap() {
        assert_eq!(c["edited"], false, "{c}");
        assert_eq!(c["text"], c["template"], "{c}");
    }
    let results = chapter(&view, "results")["text"].as_str().unwrap();
    assert!(
        results.contains(
            "adalah 100,00 dengan mutu pelayanan A (Sangat baik), dihitung dari 2 responden"
        ),
        "{results}"
    );
    let analysis = chapter(&view, "analysis")["text"].as_str().unwrap();
    assert!(
        analysis.contains("Dibandingkan Triwulan II 2025 (IKM 50,00), IKM naik menjadi 100,00"),
        "{analysis}"
    );
    assert_eq!(
        chapter(&view, "introduction")["heading"],
        "BAB I PENDAHULUAN"
    );

    // The unit's staff write their own analysis; the other chapters stay the template's.
    let own =
        "Antrean pagi masih panjang pada hari Senin.\n\nKami menambah satu loket mulai Oktober.";
    let (status, saved) = put_narrative(
        &svc,
        &w.viewer_a,
        path,
        &json!({"chapters": {"analysis": own}}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let analysis = chapter(&saved, "analysis");
    assert_eq!(analysis["edited"], true);
    assert_eq!(analysis["text"], own);
    assert!(analysis["updated_by"].as_str().unwrap().starts_with("key:"));
    assert_eq!(chapter(&saved, "results")["edited"], false);
    assert_eq!(get_body(&svc, path, &w.admin).await, saved);

    // What is refused, and named.
    for (body, field) in [
        (json!({"chapters": {"penutup": "x"}}), "chapters.penutup"),
        (
            json!({"chapters": {"analysis": "x".repeat(12_001)}}),
            "chapters.analysis",
        ),
        (json!({"chapters": {}}), "chapters"),
        (json!({"chapter": {}}), "chapter"),
    ] {
        let (status, err) = put_narrative(&svc, &w.viewer_a, path, &body).await;
        assert_eq!(status, 422, "{err}");
        assert!(err["fields"][field].is_string(), "{field} in {err}");
    }
    let (status, _) = put_narrative(
        &svc,
        &w.viewer_a,
        "/api/v1/units/unit-a/report-narrative/2025-Q5",
        &json!({"chapters": {"analysis": "x"}}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = put_narrative(
        &svc,
        &w.counter_a,
        path,
        &json!({"chapters": {"analysis": "x"}}),
    )
    .await;
    assert_eq!(status, 403, "a counter key does not write reports");
    assert_eq!(
        chapter(&get_body(&svc, path, &w.admin).await, "analysis")["text"],
        own,
        "nothing refused was written"
    );

    // The PDF prints the unit's text in its chapter; the English document keeps its own.
    let report = "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3";
    let (_, _, _, pdf) = download(&svc, &format!("{report}&format=pdf"), &w.admin).await;
    let Some(text) = pdf_text(&pdf) else {
        return skip("pdftotext (Debian poppler-utils) is not installed; scripts/test installs it");
    };
    let text = flat(&text);
    let at_own = text.find("Kami menambah satu loket").expect(&text);
    assert!(text.find("BAB IV ANALISIS").unwrap() < at_own);
    assert!(at_own < text.find("BAB V KESIMPULAN").unwrap());
    assert!(!text.contains("Dibandingkan Triwulan II 2025"), "{text}");
    let (_, _, _, english) =
        download(&svc, &format!("{report}&format=pdf&lang=en"), &w.admin).await;
    let english = flat(&pdf_text(&english).unwrap());
    assert!(english.contains("CHAPTER IV ANALYSIS"), "{english}");
    assert!(!english.contains("Kami menambah"), "{english}");

    // The DOCX carries the same text, and LibreOffice opens it.
    let (status, ctype, disposition, docx) =
        download(&svc, &format!("{report}&format=docx"), &w.admin).await;
    assert_eq!(status, 200);
    assert_eq!(
        ctype,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert!(
        disposition.contains("ikm-unit-a-2025-Q3.docx"),
        "{disposition}"
    );
    match docx_text(&docx) {
        None if require_all() => panic!("KEPUASAN_REQUIRE_ALL=1 but soffice is not installed"),
        None => skip(
            "soffice (Debian libreoffice-writer-nogui) is not installed; scripts/test installs it",
        ),
        Some(word) => {
            let word = flat(&word);
            for expected in [
                "LAPORAN HASIL SURVEI KEPUASAN MASYARAKAT",
                "BAB I PENDAHULUAN",
                "Kami menambah satu loket mulai Oktober.",
                "BAB V KESIMPULAN DAN RENCANA TINDAK LANJUT",
                "LAMPIRAN 2. TABEL PENGOLAHAN DATA",
                "Triwulan III 2025",
            ] {
                assert!(word.contains(expected), "{expected} in\n{word}");
            }
        }
    }

    // Null gives the chapter back to the template; the audit log kept both saves.
    let (status, back) = put_narrative(
        &svc,
        &w.admin,
        path,
        &json!({"chapters": {"analysis": null}}),
    )
    .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(chapter(&back, "analysis")["edited"], false);
    let log = get_body(&svc, "/api/v1/audit?action=narrative.save", &w.admin).await;
    let saves = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "narrative.save")
        .count();
    assert_eq!(saves, 2, "{log}");
}

both_backends!(
    a_dinas_under_an_mpp_signs_its_report_as_it_comes_out,
    the_ombudsmans_assessment_is_recorded_as_published_and_shown_beside_the_ikm,
    a_suggestion_noted_and_handled_shows_in_the_report_and_on_the_public_page,
    the_demo_units_finished_quarter_prints_as_the_official_report,
    a_unit_edits_its_narrative_and_both_documents_print_it,
);

async fn a_suggestion_noted_and_handled_shows_in_the_report_and_on_the_public_page(app: TestApp) {
    let svc = app.service().await;
    let w = fill(&app, &svc).await;
    app.clock.set(at("2025-10-06 01:00:00"));
    let report = "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3";
    let r = get_body(&svc, report, &w.viewer_a).await;
    let said = &r["suggestions"][0];
    assert_eq!(said["text"], "Antrean cepat, petugas ramah.");
    assert_eq!(said["category"], Value::Null);
    assert_eq!(said["follow_up"], Value::Null);
    let id = said["id"].as_str().unwrap().to_owned();
    let plan = |unit: &str| {
        json!({"period": "2025-Q3", "item": "U3", "action": format!("Loket tambahan di {unit}"),
            "owner": "Kasi Pelayanan", "due": "2025-11-30"})
    };
    let (_, mine) = send(
        &svc,
        post(
            "/api/v1/units/unit-a/follow-ups",
            Some(&w.admin),
            &plan("unit-a"),
        ),
    )
    .await;
    let (_, theirs) = send(
        &svc,
        post(
            "/api/v1/units/unit-b/follow-ups",
            Some(&w.admin),
            &plan("unit-b"),
        ),
    )
    .await;
    let path = format!("/api/v1/suggestions/{id}");
    let patch = |key: &str, body: Value| {
        with_key(TestRequest::patch().uri(&path).set_json(body), Some(key))
    };
    // The unit's staff file it under U3, tag it, and link it to the plan that acts on it.
    let (status, note) = send(
        &svc,
        patch(&w.viewer_a, json!({"category": "U3", "tags": ["Antrean", " antrean ", "loket"], "follow_up": mine["id"]})),
    )
    .await;
    assert_eq!(status, 200, "{note}");
    assert_eq!(note["category"], "U3");
    assert_eq!(note["tags"], json!(["antrean", "loket"]));
    assert_eq!(note["follow_up"], mine["id"]);
    // Refused, and named: an item the instrument lacks, another unit's plan, too many tags.
    for (body, field) in [
        (json!({"category": "U10"}), "category"),
        (json!({"follow_up": theirs["id"]}), "follow_up"),
        (json!({"tags": ["a", "b", "c", "d", "e", "f"]}), "tags"),
        (json!({"tags": ["a,b"]}), "tags"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let (status, err) = send(&svc, patch(&w.viewer_a, body)).await;
        assert_eq!(status, 422, "{err}");
        assert!(err["fields"][field].is_string(), "{field} in {err}");
    }
    assert_eq!(
        send(&svc, patch(&w.counter_a, json!({"tags": []}))).await.0,
        403
    );
    let (status, _) = send(
        &svc,
        with_key(
            TestRequest::patch()
                .uri("/api/v1/suggestions/00000000-0000-4000-8000-000000000000")
                .set_json(json!({"tags": []})),
            Some(&w.admin),
        ),
    )
    .await;
    assert_eq!(status, 404);
    // The report carries the note and the plan's action and status.
    let r = get_body(&svc, report, &w.viewer_a).await;
    let said = &r["suggestions"][0];
    assert_eq!(said["category"], "U3");
    assert_eq!(said["tags"], json!(["antrean", "loket"]));
    assert_eq!(said["follow_up"]["id"], mine["id"]);
    assert_eq!(said["follow_up"]["action"], "Loket tambahan di unit-a");
    assert_eq!(said["follow_up"]["status"], "planned");
    // The PDF groups the suggestions by item and says which plan acts on each.
    let (_, _, _, pdf) = download(&svc, &format!("{report}&format=pdf"), &w.admin).await;
    if let Some(text) = pdf_text(&pdf) {
        let text = flat(&text);
        assert!(text.contains("U3 Waktu Penyelesaian (1)"), "{text}");
        assert!(
            text.contains("Antrean cepat, petugas ramah. → Ditindaklanjuti: Loket tambahan di unit-a (Direncanakan)"),
            "{text}"
        );
    }
    // Published: the public page shows what was said beside what the unit does about it.
    let publish = with_key(
        TestRequest::patch()
            .uri("/api/v1/units/unit-a")
            .set_json(json!({"public_results": true})),
        Some(&w.admin),
    );
    assert_eq!(send(&svc, publish).await.0, 200);
    let (status, page) = send(&svc, get("/p/unit-a", None)).await;
    assert_eq!(status, 200);
    let page = page.as_str().unwrap();
    assert!(
        page.contains("Anda menyampaikan:</span><ul class=\"asked\"><li>“Antrean cepat, petugas ramah.”</li></ul><span class=\"said\">Kami:</span> Loket tambahan di unit-a"),
        "{page}"
    );
    // A category cleared keeps the plan; a plan unlinked leaves the page.
    let (_, note) = send(&svc, patch(&w.viewer_a, json!({"category": null}))).await;
    assert_eq!(note["category"], Value::Null);
    assert_eq!(note["follow_up"], mine["id"]);
    let (_, note) = send(&svc, patch(&w.viewer_a, json!({"follow_up": null}))).await;
    assert_eq!(note["follow_up"], Value::Null);
    let (_, page) = send(&svc, get("/p/unit-a", None)).await;
    assert!(
        !page.as_str().unwrap().contains("Antrean cepat"),
        "unlinked, unpublished"
    );
}

async fn the_ombudsmans_assessment_is_recorded_as_published_and_shown_beside_the_ikm(app: TestApp) {
    let svc = app.service().await;
    let w = fill(&app, &svc).await;
    app.clock.set(at("2025-10-06 01:00:00"));
    let manager = app.key(kepuasan::auth::Role::Manager, &["unit-a"]);
    let put = |key: &str, path: &str, body: Value| {
        with_key(TestRequest::put().uri(path).set_json(body), Some(key))
    };
    let source = "Ombudsman RI, Hasil Penilaian Kepatuhan Standar Pelayanan Publik";
    // As the regional news printed them: Karanganyar 65,26 yellow; Magelang 85,98 green.
    let (status, first) = send(
        &svc,
        put(
            &manager,
            "/api/v1/units/unit-a/ombudsman/2024",
            json!({"score": 65.26, "zone": "yellow", "source": format!("{source} 2024")}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["score"], 65.26);
    assert_eq!(first["category"], Value::Null);
    let (status, _) = send(
        &svc,
        put(&manager, "/api/v1/units/unit-a/ombudsman/2025",
            json!({"score": 85.98, "zone": "green", "category": "Kualitas Tertinggi (A)", "source": format!("{source} 2025")})),
    )
    .await;
    assert_eq!(status, 200);
    // What is refused, and named; who may not record it.
    for (path, body, field) in [
        (
            "2025",
            json!({"score": 100.5, "zone": "green", "source": "x"}),
            "score",
        ),
        (
            "2025",
            json!({"score": 65.255, "zone": "green", "source": "x"}),
            "score",
        ),
        (
            "2025",
            json!({"score": 65.26, "zone": "blue", "source": "x"}),
            "zone",
        ),
        (
            "2025",
            json!({"score": 65.26, "zone": "green", "source": " "}),
            "source",
        ),
        (
            "20x5",
            json!({"score": 65.26, "zone": "green", "source": "x"}),
            "year",
        ),
        (
            "1999",
            json!({"score": 65.26, "zone": "green", "source": "x"}),
            "year",
        ),
    ] {
        let (status, err) = send(
            &svc,
            put(
                &manager,
                &format!("/api/v1/units/unit-a/ombudsman/{path}"),
                body,
            ),
        )
        .await;
        assert_eq!(status, 422, "{err}");
        assert!(err["fields"][field].is_string(), "{field} in {err}");
    }
    let good = json!({"score": 70.0, "zone": "yellow", "source": "x"});
    assert_eq!(
        send(
            &svc,
            put(
                &w.viewer_a,
                "/api/v1/units/unit-a/ombudsman/2025",
                good.clone()
            )
        )
        .await
        .0,
        403
    );
    assert_eq!(
        send(
            &svc,
            put(&manager, "/api/v1/units/unit-b/ombudsman/2025", good)
        )
        .await
        .0,
        403
    );
    let listed = get_body(&svc, "/api/v1/units/unit-a/ombudsman", &w.viewer_a).await;
    let years: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["year"].as_i64().unwrap())
        .collect();
    assert_eq!(years, [2025, 2024]);
    // A report of 2025 is read beside 2025's assessment; one of 2024 beside 2024's.
    let r = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3",
        &w.viewer_a,
    )
    .await;
    assert_eq!(r["ombudsman"]["year"], 2025);
    assert_eq!(r["ombudsman"]["score"], 85.98);
    assert_eq!(r["ombudsman"]["zone"], "green");
    let r = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=unit-a&period=2024",
        &w.viewer_a,
    )
    .await;
    assert_eq!(r["ombudsman"]["year"], 2024);
    // The MPP's table of units carries each unit's.
    let mpp = get_body(
        &svc,
        "/api/v1/reports/ikm?unit=mpp-jpr&period=2025-Q3",
        &w.admin,
    )
    .await;
    let children = mpp["rollup"]["children"].as_array().unwrap();
    let of = |code: &str| children.iter().find(|c| c["code"] == code).unwrap().clone();
    assert_eq!(of("unit-a")["ombudsman"]["score"], 85.98);
    assert!(of("unit-b").get("ombudsman").is_none());
    // The PDF and the public page show it beside the IKM (100,00, A: two all-4 responses).
    let (_, _, _, pdf) = download(
        &svc,
        "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3&format=pdf",
        &w.admin,
    )
    .await;
    if let Some(text) = pdf_text(&pdf) {
        let text = flat(&text);
        assert!(
            text.contains("IKM 100,00 (A) · Ombudsman RI 2025: 85,98 · Zona hijau · Kualitas Tertinggi (A). Sumber: Ombudsman RI, Hasil Penilaian Kepatuhan Standar Pelayanan Publik 2025."),
            "{text}"
        );
    }
    let publish = with_key(
        TestRequest::patch()
            .uri("/api/v1/units/unit-a")
            .set_json(json!({"public_results": true})),
        Some(&w.admin),
    );
    assert_eq!(send(&svc, publish).await.0, 200);
    let (_, page) = send(&svc, get("/p/unit-a", None)).await;
    assert!(
        page.as_str()
            .unwrap()
            .contains("<b>Ombudsman RI 2025: 85,98 · Zona hijau · Kualitas Tertinggi (A)</b>"),
        "{page}"
    );
    let log = get_body(&svc, "/api/v1/audit?action=ombudsman", &w.admin).await;
    assert_eq!(log.as_array().unwrap().len(), 2);
}

/// Every XML part of an Office file (DOCX, XLSX) read through by a strict parser: the name of
/// the first part that is not well-formed XML, with the parser's complaint.
pub(crate) fn ill_formed_part(file: &[u8]) -> Option<String> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(file)).expect("a zip file");
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).unwrap();
        let name = part.name().unwrap().into_owned();
        if !name.ends_with(".xml") && !name.ends_with(".rels") {
            continue;
        }
        let mut text = String::new();
        part.read_to_string(&mut text).unwrap();
        // XML 1.0 allows no C0 control but tab, line feed and carriage return, raw or escaped,
        // and neither U+FFFE nor U+FFFF.
        if text.chars().any(|c| {
            (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
        }) {
            return Some(format!("{name}: a control character"));
        }
        for escaped in (1..32).filter(|c| ![9, 10, 13].contains(c)) {
            for form in [
                format!("&#{escaped};"),
                format!("&#x{escaped:x};"),
                format!("&#x{escaped:X};"),
            ] {
                if text.contains(&form) {
                    return Some(format!("{name}: {form}"));
                }
            }
        }
        let mut reader = quick_xml::Reader::from_str(&text);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => return Some(format!("{name}: {e}")),
            }
        }
    }
    None
}

/// Issue 28: rows stored before the text rule (a suggestion, a unit's name and city holding
/// control characters) no longer break the Word report of the unit or of the unit above it:
/// the characters XML cannot hold are dropped, and LibreOffice opens the file.
async fn the_word_report_of_a_unit_whose_stored_rows_hold_control_characters_opens(app: TestApp) {
    use diesel::prelude::*;
    use kepuasan::db::schema::{responses, units};
    let svc = app.service().await;
    let w = fill(&app, &svc).await;
    app.clock.set(at("2025-10-06 01:00:00"));
    app.state
        .db
        .write_blocking(|c| {
            diesel::update(responses::table.filter(responses::suggestion.is_not_null()))
                .set(responses::suggestion.eq("Antrean\u{1} cepat\u{b}, petugas\u{1f} ramah."))
                .execute(c)?;
            diesel::update(units::table.filter(units::code.eq("unit-a")))
                .set((
                    units::name.eq("Disdukcapil\u{7} Jayapura"),
                    units::city.eq(Some("Jaya\u{1}pura")),
                ))
                .execute(c)?;
            Ok(())
        })
        .unwrap();
    for unit in ["unit-a", "mpp-jpr"] {
        let report = format!("/api/v1/reports/ikm?unit={unit}&period=2025-Q3");
        let (status, _, _, docx) = download(&svc, &format!("{report}&format=docx"), &w.admin).await;
        assert_eq!(status, 200, "{unit}");
        assert_eq!(ill_formed_part(&docx), None, "{unit}");
        let (status, _, _, xlsx) = download(&svc, &format!("{report}&format=xlsx"), &w.admin).await;
        assert_eq!(status, 200, "{unit}");
        assert_eq!(ill_formed_part(&xlsx), None, "{unit}");
        let (status, _, _, pdf) = download(&svc, &format!("{report}&format=pdf"), &w.admin).await;
        assert_eq!(status, 200, "{unit}");
        assert!(pdf.starts_with(b"%PDF-"), "{unit}");
        match docx_text(&docx) {
            None if require_all() => {
                panic!("KEPUASAN_REQUIRE_ALL=1 but soffice is not installed")
            }
            None => skip("soffice (Debian libreoffice-writer-nogui) is not installed"),
            Some(word) => {
                let word = flat(&word);
                assert!(word.contains("Disdukcapil Jayapura"), "{unit}: {word}");
                if unit == "unit-a" {
                    assert!(word.contains("Antrean cepat, petugas ramah."), "{word}");
                }
            }
        }
    }
}

both_backends!(the_word_report_of_a_unit_whose_stored_rows_hold_control_characters_opens);

/// Issue 29: the report a unit head signs as it comes out. A Dinas in an MPP, with every
/// letterhead and signature setting filled: in the PDF and in the Word file (as LibreOffice
/// prints it) the kop names the authority, not the MPP, with the unit's contacts; the closing
/// paragraph, place and date, title, name, rank and NIP share one page; every page is
/// numbered; the suggestions the document says are in Lampiran 4 are there; no header breaks
/// inside a word; the Word file carries the charts and the kop's double rule.
async fn a_dinas_under_an_mpp_signs_its_report_as_it_comes_out(app: TestApp) {
    let svc = app.service().await;
    let now = at("2026-10-06 02:00:00");
    app.clock.set(now);
    app.state
        .db
        .write_blocking(move |c| kepuasan::demo::fill(c, now))
        .unwrap();
    let admin = app.key(Role::Admin, &[]);
    let patch = |unit: &str, body: Value| {
        with_key(
            TestRequest::patch()
                .uri(&format!("/api/v1/units/{unit}"))
                .set_json(body),
            Some(&admin),
        )
    };
    // Each new setting is checked, naming its field.
    for (field, value) in [
        ("email", json!("bukan alamat")),
        ("phone", json!("telepon kantor")),
        ("website", json!("situs kami")),
        ("authority", json!("SATU\nDUA\nTIGA\nEMPAT")),
        ("head_rank", json!("x".repeat(101))),
        ("head_title", json!("x".repeat(201))),
    ] {
        let (status, body) = send(&svc, patch("dukcapil-bdg", json!({ field: value }))).await;
        assert_eq!(status, 422, "{field}: {body}");
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    // Asked in Bahasa Indonesia, as /admin asks: the same refusal in its words.
    let (status, body) = send(
        &svc,
        patch("dukcapil-bdg", json!({"email": "bukan alamat"}))
            .insert_header(("Accept-Language", "id")),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "validation_failed");
    assert_eq!(body["message"], "isian tidak sah: email");
    assert_eq!(
        body["fields"]["email"],
        "harus alamat pos-el seperti dinas@bandung.go.id"
    );
    // Said in Indonesian, then compressed: the body is what its Content-Encoding says (a
    // browser asks for both, and a plain body marked gzip is one it cannot read).
    let resp = actix_web::test::call_service(
        &svc,
        patch("dukcapil-bdg", json!({"email": "bukan alamat"}))
            .insert_header(("Accept-Language", "id"))
            .insert_header(("Accept-Encoding", "gzip"))
            .to_request(),
    )
    .await;
    let encoding = resp
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = actix_web::test::read_body(resp).await;
    if encoding.as_deref() == Some("gzip") {
        assert_eq!(&bytes[..2], [0x1f, 0x8b], "a gzip body");
    } else {
        assert!(bytes.starts_with(b"{"), "{encoding:?}: {bytes:?}");
    }
    let settings = json!({
        "authority": "Pemerintah Kota Bandung",
        "address": "Jl. Caringin No. 103", "city": "Bandung",
        "phone": "(022) 4234567", "email": "disdukcapil@bandung.go.id",
        "website": "disdukcapil.bandung.go.id",
        "head_title": "Plt. Kepala Dinas Kependudukan dan Pencatatan Sipil Kota Bandung",
        "head_name": "Dra. Siti Rahmawati, M.Si.", "head_id": "197001011995032002",
        "head_rank": "Pembina Utama Muda (IV/c)",
    });
    let (status, body) = send(&svc, patch("dukcapil-bdg", settings)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authority"], "Pemerintah Kota Bandung");
    assert_eq!(body["head_rank"], "Pembina Utama Muda (IV/c)");
    let base = "/api/v1/reports/ikm?unit=dukcapil-bdg&period=2026-Q3";
    let report = get_body(&svc, base, &admin).await;
    let suggestions = report["suggestions"].as_array().unwrap().len();
    assert!(
        suggestions > 30,
        "the demo quarter has more suggestions than chapter IV lists: {suggestions}"
    );
    let mut documents = Vec::new();
    for format in ["pdf", "docx"] {
        let (status, _, _, bytes) = download(
            &svc,
            &format!("{base}&format={format}&number=000.5/123/Disdukcapil"),
            &admin,
        )
        .await;
        assert_eq!(status, 200);
        documents.push((format, bytes));
    }
    let docx = documents[1].1.clone();
    let Some(word) = docx_pdf(&docx) else {
        return skip(
            "soffice (Debian libreoffice-writer-nogui) is not installed; scripts/test installs it",
        );
    };
    documents[1].1 = word;
    for (format, pdf) in &documents {
        let pages = pages(pdf);
        let n = pages.len();
        assert!(n >= 4, "{format}: {n} pages");
        // Every page numbered, "halaman i dari n".
        for (i, page) in pages.iter().enumerate() {
            assert!(
                page.contains(&format!("halaman {} dari {n}", i + 1)),
                "{format}: page {} unnumbered:\n{page}",
                i + 1
            );
        }
        // The kop: the authority over the unit and its contacts, before the title; not the MPP.
        let first = &pages[0];
        let kop = &first[..first.find("LAPORAN HASIL SURVEI").expect("the title")];
        for expected in [
            "PEMERINTAH KOTA BANDUNG DISDUKCAPIL KOTA BANDUNG",
            "Jl. Caringin No. 103, Bandung",
            "Telepon (022) 4234567",
            "Pos-el disdukcapil@bandung.go.id",
            "Laman disdukcapil.bandung.go.id",
        ] {
            assert!(
                kop.contains(expected),
                "{format}: {expected} in the kop: {kop}"
            );
        }
        assert!(
            !first.to_uppercase().contains("MAL PELAYANAN PUBLIK"),
            "{format}: {kop}"
        );
        // The signature block, whole, on the page of the closing paragraph.
        let signed: Vec<usize> = (0..n)
            .filter(|&i| pages[i].contains("NIP. 19700101 199503 2 002"))
            .collect();
        assert_eq!(signed.len(), 1, "{format}: the NIP on one page");
        let page = &pages[signed[0]];
        for expected in [
            "Demikian laporan hasil Survei Kepuasan Masyarakat ini disusun",
            "Bandung, 6 Oktober 2026",
            "Plt. Kepala Dinas Kependudukan dan Pencatatan",
            "Dra. Siti Rahmawati, M.Si.",
            "Pembina Utama Muda (IV/c)",
        ] {
            assert!(
                page.contains(expected),
                "{format}: {expected} on the signature page:\n{page}"
            );
        }
        // What the document promises is in it.
        let all = pages.join(" ");
        assert!(
            !all.contains("XLSX"),
            "{format}: no promise of a file outside the document"
        );
        assert!(
            all.contains(&format!(
                "{} saran lainnya tercantum pada Lampiran 4",
                suggestions - 30
            )),
            "{format}"
        );
        assert!(
            all.contains("LAMPIRAN 4. SARAN DAN MASUKAN LAINNYA"),
            "{format}"
        );
        // No jargon, and no header broken inside a word.
        assert!(!all.contains("rasional eksak"), "{format}");
        assert!(
            all.contains("Menjawab"),
            "{format}: the items table's header whole"
        );
    }
    // The Word file: the kop's rule is one double line under the lines (not a box), and the
    // charts are pictures in it.
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&docx)).unwrap();
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(
        xml.contains("<w:pBdr><w:bottom w:val=\"thickThinSmallGap\""),
        "the kop's double rule"
    );
    assert!(
        !xml.contains("<w:pBdr><w:top"),
        "no box of borders around a paragraph"
    );
    let pictures = (0..archive.len())
        .filter(|&i| {
            archive
                .by_index(i)
                .unwrap()
                .name()
                .unwrap()
                .starts_with("word/media/")
        })
        .count();
    // The logo is not set: the two charts and the verification code.
    assert!(pictures >= 3, "{pictures} pictures in the Word file");
    // A Dinas without an authority of its own takes the one of the unit above, never the
    // MPP's name: here the MPP is given one, as a city's MPP is the city's.
    let (status, body) = send(
        &svc,
        patch(
            "mpp-bandung",
            json!({"authority": "Pemerintah Kota Bandung"}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        &svc,
        patch(
            "samsat-bdg",
            json!({"address": "Jl. Soekarno-Hatta No. 528"}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, _, _, pdf) = download(
        &svc,
        "/api/v1/reports/ikm?unit=samsat-bdg&period=2026-Q3&format=pdf",
        &admin,
    )
    .await;
    let first = &pages(&pdf)[0];
    assert!(first.starts_with("PEMERINTAH KOTA BANDUNG"), "{first}");
    assert!(
        !first.to_uppercase().contains("MAL PELAYANAN PUBLIK"),
        "{first}"
    );
}
