//! Archiving closed years on both backends: `archive::run` writes each unit's responses of its
//! own local years before the cut to a gzip file of JSON lines, and with `drop` removes them
//! (and their submission ids) while reports of those years keep every number, say where the
//! suggestions went, and survive a tallies rebuild; the suggestions read back from the file.
//! On PostgreSQL responses sit in yearly partitions: a partition emptied by an archive is
//! dropped, and a year's partition made late takes its rows out of the default partition.

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::*;

async fn add_unit<S: Svc>(svc: &S, admin: &str, code: &str, zone: &str, parent: Option<&str>) {
    let body =
        json!({"code": code, "name": format!("Unit {code}"), "timezone": zone, "parent": parent});
    let (status, created) = send(svc, post("/api/v1/units", Some(admin), &body)).await;
    assert_eq!(status, 201, "{created}");
}

/// A response sent at `when` (UTC) with every answer `answer`, and a suggestion.
async fn submit_at<S: Svc>(
    app: &TestApp,
    svc: &S,
    unit: &str,
    when: &str,
    answer: i64,
    text: &str,
) {
    app.clock.set(at(when));
    let mut body = submission(unit, [answer; 9]);
    body["suggestion"] = json!(text);
    let (status, answer) = send(svc, post("/api/v1/responses", Some(&app.admin), &body)).await;
    assert_eq!(status, 201, "{answer}");
}

/// (respondents, IKM) of a unit's year, and its notice codes.
async fn year_of<S: Svc>(
    svc: &S,
    admin: &str,
    unit: &str,
    year: i32,
) -> ((u64, Option<f64>), Vec<String>) {
    let report = get_body(
        svc,
        &format!("/api/v1/reports/ikm?unit={unit}&period={year}"),
        admin,
    )
    .await;
    let numbers = (
        report["respondents"].as_u64().unwrap(),
        report["ikm"].as_f64(),
    );
    (numbers, notice_codes(&report))
}

fn archive(
    app: &TestApp,
    before: i32,
    file: &std::path::Path,
    drop: bool,
) -> Result<kepuasan::archive::Archived, kepuasan::error::AppError> {
    use kepuasan::state::Clock;
    kepuasan::archive::run(&app.state.db, before, file, drop, app.clock.now())
}

fn count(app: &TestApp, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.state
        .db
        .read_blocking(|c| {
            Ok(
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                    .get_result::<N>(c)?
                    .n,
            )
        })
        .unwrap()
}

async fn closed_years_go_to_a_file_and_their_reports_stay(app: TestApp) {
    let svc = app.service().await;
    let admin = app.admin.clone();
    add_unit(&svc, &admin, "induk", "Asia/Jakarta", None).await;
    add_unit(&svc, &admin, "barat", "Asia/Jakarta", Some("induk")).await;
    add_unit(&svc, &admin, "timur", "Asia/Jayapura", Some("induk")).await;
    // 2024 in each unit's own calendar: two in WIB, one in WIT. 16:00 UTC on 31 December 2024
    // is 23:00 that day in WIB (2024) but 01:00 on 1 January 2025 in WIT (2025).
    submit_at(
        &app,
        &svc,
        "barat",
        "2024-03-10 03:00:00",
        4,
        "Antrean cepat",
    )
    .await;
    submit_at(
        &app,
        &svc,
        "barat",
        "2024-12-31 16:00:00",
        2,
        "Parkir sempit",
    )
    .await;
    submit_at(
        &app,
        &svc,
        "timur",
        "2024-06-01 02:00:00",
        3,
        "Petugas ramah",
    )
    .await;
    submit_at(
        &app,
        &svc,
        "timur",
        "2024-12-31 16:00:00",
        1,
        "Ruang tunggu panas",
    )
    .await;
    submit_at(&app, &svc, "barat", "2025-05-05 04:00:00", 3, "Baik").await;
    submit_at(&app, &svc, "timur", "2025-05-05 04:00:00", 4, "Bagus").await;
    app.clock.set(at("2026-01-02 00:00:00"));

    // Worked out by hand: 2024 barat {4, 2}: NRR per item 3, IKM 75; timur {3}: 75; the parent
    // pools the three: (4 + 2 + 3) / 3 = 3, IKM 75. 2025 barat {3}: 75; timur {1, 4}: 62.5;
    // parent {3, 1, 4}: 8/3 per item, IKM 66.67.
    let expected = [
        ("barat", 2024, (2, Some(75.0))),
        ("timur", 2024, (1, Some(75.0))),
        ("induk", 2024, (3, Some(75.0))),
        ("barat", 2025, (1, Some(75.0))),
        ("timur", 2025, (2, Some(62.5))),
        ("induk", 2025, (3, Some(66.67))),
    ];
    for (unit, year, numbers) in expected {
        let (got, notices) = year_of(&svc, &admin, unit, year).await;
        assert_eq!(got, numbers, "{unit} {year} before archiving");
        assert!(!notices.contains(&"archived".to_owned()));
    }

    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("sebelum-2025.jsonl.gz");
    // Only a year already begun, and never over a file.
    let refused = archive(&app, 2027, &first, true).unwrap_err();
    assert!(
        refused.fields().unwrap().contains_key("before"),
        "{refused:?}"
    );
    // A run that was killed while writing left its `.partial`: the next run names it (and
    // removes nothing), rather than failing on the final file's name (issue 28).
    let leftover = dir.path().join("sebelum-2025.jsonl.gz.partial");
    std::fs::write(&leftover, b"half an archive").unwrap();
    let named = archive(&app, 2025, &first, true).unwrap_err();
    let said = named.fields().unwrap()["out"].clone();
    assert!(said.contains("sebelum-2025.jsonl.gz.partial"), "{said}");
    assert_eq!(app.response_count(), 6, "nothing was removed");
    std::fs::remove_file(&leftover).unwrap();
    let done = archive(&app, 2025, &first, true).unwrap();
    assert_eq!((done.rows, done.units, done.dropped), (3, 2, true));
    let again = archive(&app, 2025, &first, true).unwrap_err();
    assert!(again.fields().unwrap().contains_key("out"), "{again:?}");
    assert_eq!(
        app.response_count(),
        3,
        "the three rows of local 2024 left the database"
    );
    assert_eq!(
        count(&app, "submissions"),
        3,
        "and so did their submission ids"
    );

    // The file: a header, then each row with its local year; suggestions read back.
    let (header, rows) = kepuasan::archive::count(&first).unwrap();
    assert_eq!((header.before_year, rows), (2025, 3));
    let texts: Vec<String> = kepuasan::archive::suggestions(&first, "barat", Some(2024))
        .unwrap()
        .into_iter()
        .map(|s| s.suggestion)
        .collect();
    assert_eq!(texts, ["Antrean cepat", "Parkir sempit"]);
    let timur: Vec<(i32, String)> = kepuasan::archive::suggestions(&first, "timur", None)
        .unwrap()
        .into_iter()
        .map(|s| (s.year, s.suggestion))
        .collect();
    assert_eq!(
        timur,
        [(2024, "Petugas ramah".to_owned())],
        "WIT's new-year response stays in 2025"
    );

    // Reports of the archived year keep their numbers and say where the rows went; a
    // rebuild of the tallies from the rows left keeps them too.
    for round in ["after archiving", "after a rebuild"] {
        for (unit, year, numbers) in expected {
            let (got, notices) = year_of(&svc, &admin, unit, year).await;
            assert_eq!(got, numbers, "{unit} {year} {round}");
            assert_eq!(
                notices.contains(&"archived".to_owned()),
                year == 2024,
                "{unit} {year} {round}: {notices:?}"
            );
        }
        app.state
            .db
            .write_blocking(|c| kepuasan::tallies::rebuild(c, &app.state.registry, None))
            .unwrap();
    }
    let report = get_body(&svc, "/api/v1/reports/ikm?unit=barat&period=2024", &admin).await;
    let notice: &Value = report["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "archived")
        .unwrap();
    assert!(
        notice.to_string().contains("sebelum-2025.jsonl.gz"),
        "{notice}"
    );

    // A year later, 2025 goes too, to a second file: the 2024 partition, empty now, is
    // dropped on PostgreSQL; 2024's notice still names the first file, 2025's the second.
    app.clock.set(at("2027-01-02 00:00:00"));
    let second = dir.path().join("sebelum-2026.jsonl.gz");
    let done = archive(&app, 2026, &second, true).unwrap();
    assert_eq!(done.rows, 3);
    assert_eq!(app.response_count(), 0);
    if matches!(app.state.db.kind(), kepuasan::db::DbKind::Postgres(_)) {
        assert!(
            done.partitions_dropped
                .contains(&"responses_y2024".to_owned()),
            "{:?}",
            done.partitions_dropped
        );
    }
    for (unit, year, numbers) in expected {
        let (got, _) = year_of(&svc, &admin, unit, year).await;
        assert_eq!(got, numbers, "{unit} {year} after both archives");
    }
    let report = get_body(&svc, "/api/v1/reports/ikm?unit=timur&period=2025", &admin).await;
    assert!(report.to_string().contains("sebelum-2026.jsonl.gz"));
    let report = get_body(&svc, "/api/v1/reports/ikm?unit=timur&period=2024", &admin).await;
    assert!(report.to_string().contains("sebelum-2025.jsonl.gz"));

    // A paper questionnaire dated in a closed year is refused, naming its date.
    let csv = "unit,date,U1,U2,U3,U4,U5,U6,U7,U8,U9\nbarat,2025-03-01,4,4,4,4,4,4,4,4,4\n";
    let (status, body) = send(
        &svc,
        with_key(
            actix_web::test::TestRequest::post()
                .uri("/api/v1/imports")
                .insert_header(("Content-Type", "text/csv"))
                .set_payload(csv),
            Some(&admin),
        ),
    )
    .await;
    assert!(body.to_string().contains("archived"), "{status} {body}");
    assert_eq!(app.response_count(), 0);
}

/// PostgreSQL (SQLite has no partitions): a response whose year has no partition yet waits
/// in the default partition, and moves into its year's partition when that is made; nothing
/// is counted twice.
#[actix_web::test]
async fn a_late_partition_takes_its_rows_from_the_default() {
    let Some(app) = TestApp::postgres() else {
        return;
    };
    let svc = app.service().await;
    let admin = app.admin.clone();
    add_unit(&svc, &admin, "jauh", "Asia/Jakarta", None).await;
    submit_at(&app, &svc, "jauh", "2031-02-03 03:00:00", 4, "Baik").await;
    assert_eq!(count(&app, "responses_default"), 1);
    let made = app
        .state
        .db
        .write_blocking(|c| kepuasan::db::partitions::ensure(c, at("2031-02-03 03:00:00")))
        .unwrap();
    assert!(made.contains(&"responses_y2031".to_owned()), "{made:?}");
    assert_eq!(count(&app, "responses_default"), 0);
    assert_eq!(count(&app, "responses_y2031"), 1);
    assert_eq!(app.response_count(), 1);
    let ((respondents, ikm), _) = year_of(&svc, &admin, "jauh", 2031).await;
    assert_eq!((respondents, ikm), (1, Some(100.0)));
    // Made once: a second call makes nothing.
    let again = app
        .state
        .db
        .write_blocking(|c| kepuasan::db::partitions::ensure(c, at("2031-02-03 03:00:00")))
        .unwrap();
    assert!(again.is_empty());
}

both_backends!(closed_years_go_to_a_file_and_their_reports_stay);
