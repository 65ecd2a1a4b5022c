//! Importing paper questionnaires on both backends: a dry run names every bad row and stores
//! nothing; a real run stores the good rows once, however often the file comes again.

use serde_json::Value;

use crate::api::world;
use crate::both_backends;
use crate::common::*;

const FILE: &str = "\u{feff}unit;service;date;U1;U2;U3;U4;U5;U6;U7;U8;U9;gender;age;suggestion
unit-a;ktp-el;14/07/2025;4;4;4;4;4;4;4;4;4;P;34;Pelayanan cepat
unit-a;;2025-07-15;3;3;3;3;3;3;3;3;3;;;
unit-a;;2025-07-15;3;3;3;3;3;3;3;3;3;;;
unit-b;;2025-08-01;2;2;2;2;2;2;2;2;;L;;
unit-a;;2025-07-16;5;3;3;3;3;3;3;3;3;;;
nowhere;;2025-07-16;3;3;3;3;3;3;3;3;3;;;
unit-a;;31/02/2025;3;3;3;3;3;3;3;3;3;;;
unit-a;;2025-07-16;x;3;3;3;3;3;3;3;3;;;
unit-a;;2030-01-01;3;3;3;3;3;3;3;3;3;;;
;;;;;;;;;;;;;;
";

async fn import<S>(svc: &S, key: &str, query: &str, body: Vec<u8>) -> (u16, Value)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
{
    send(
        svc,
        actix_web::test::TestRequest::post()
            .uri(&format!("/api/v1/imports{query}"))
            .insert_header(("Authorization", format!("Bearer {key}")))
            .insert_header(("Content-Type", "text/csv"))
            .set_payload(body),
    )
    .await
}

fn error_lines(report: &Value) -> Vec<(u64, Vec<String>)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["fields"].as_object().unwrap().keys().cloned().collect(),
            )
        })
        .collect()
}

async fn a_paper_file_imports_its_good_rows_once_and_names_every_bad_row(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let expected_errors = vec![
        (6, vec!["answers.U1".to_owned()]),
        (7, vec!["unit".to_owned()]),
        (8, vec!["date".to_owned()]),
        (9, vec!["answers.U1".to_owned()]),
        (10, vec!["date".to_owned()]),
    ];
    let (status, dry) = import(&svc, &w.admin, "?dry_run=true", FILE.into()).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(
        (
            dry["rows"].as_u64(),
            dry["valid"].as_u64(),
            dry["imported"].as_u64()
        ),
        (Some(9), Some(4), Some(0)),
        "{dry}"
    );
    assert_eq!(error_lines(&dry), expected_errors, "{dry}");
    assert_eq!(app.response_count(), 0, "a dry run stores nothing");

    let (status, real) = import(&svc, &w.admin, "", FILE.into()).await;
    assert_eq!(status, 200);
    assert_eq!(
        (real["imported"].as_u64(), real["already_imported"].as_u64()),
        (Some(4), Some(0)),
        "{real}"
    );
    assert_eq!(error_lines(&real), expected_errors);
    assert_eq!(
        app.response_count(),
        4,
        "the two identical rows are two respondents"
    );

    let (_, again) = import(&svc, &w.admin, "", FILE.into()).await;
    assert_eq!(
        (
            again["imported"].as_u64(),
            again["already_imported"].as_u64()
        ),
        (Some(0), Some(4))
    );
    assert_eq!(
        app.response_count(),
        4,
        "importing the same file again changes nothing"
    );
    let (_, dry_again) = import(&svc, &w.admin, "?dry_run=true", FILE.into()).await;
    assert_eq!(dry_again["already_imported"].as_u64(), Some(4));

    // unit-a in 2025-Q3: one all-4 and two all-3 questionnaires: (100 + 75 + 75) / 3 = 83,33.
    let r = send(
        &svc,
        get(
            "/api/v1/reports/ikm?unit=unit-a&period=2025-Q3",
            Some(&w.admin),
        ),
    )
    .await
    .1;
    assert_eq!(
        (
            r["respondents"].as_u64(),
            r["ikm"].as_f64(),
            r["grade"].as_str()
        ),
        (Some(3), Some(83.33), Some("B"))
    );
    assert_eq!(r["channels"][0]["code"], "paper");
    assert_eq!(
        r["suggestions"][0]["date"], "2025-07-14",
        "dated by the questionnaire"
    );
    assert_eq!(r["suggestions"][0]["text"], "Pelayanan cepat");
}

async fn a_counter_imports_only_its_own_units_and_others_may_not_import(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let (status, report) = import(&svc, &w.counter_a, "", FILE.into()).await;
    assert_eq!(status, 200, "{report}");
    // The unit-b row (line 5) is refused to a counter of unit-a; the unit-a rows go in.
    assert_eq!(report["imported"].as_u64(), Some(3), "{report}");
    assert!(
        error_lines(&report).contains(&(5, vec!["row".to_owned()])),
        "{report}"
    );
    for key in [&w.viewer_a, &w.kiosk_mpp] {
        let (status, body) = import(&svc, key, "", FILE.into()).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    }
    let (status, body) = import(&svc, &w.admin, "", b"\xff\xfe not text".to_vec()).await;
    assert_eq!(status, 422);
    assert!(body["fields"]["file"].is_string(), "{body}");
}

async fn an_xlsx_file_and_a_file_over_16_kib_import_too(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "date", "U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9", "saran",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "2025-07-20").unwrap();
    for c in 1..10 {
        sheet.write_number(1, c, 4.0).unwrap();
    }
    sheet.write_string(1, 10, "Ruang tunggu nyaman").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let (status, report) = import(&svc, &w.admin, "?unit=unit-a", bytes).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"].as_u64(), Some(1), "{report}");

    // 600 identical questionnaires (about 24 KiB): 600 respondents, stored once each.
    let mut big = String::from("unit,date,U1,U2,U3,U4,U5,U6,U7,U8,U9\n");
    for _ in 0..600 {
        big.push_str("unit-b,2025-07-21,3,3,3,3,3,3,3,3,3\n");
    }
    assert!(big.len() > 16 * 1024);
    let (status, report) = import(&svc, &w.admin, "", big.clone().into_bytes()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"].as_u64(), Some(600));
    let (_, report) = import(&svc, &w.admin, "", big.into_bytes()).await;
    assert_eq!(report["already_imported"].as_u64(), Some(600));
    assert_eq!(app.response_count(), 601);
}

both_backends!(
    a_paper_file_imports_its_good_rows_once_and_names_every_bad_row,
    a_counter_imports_only_its_own_units_and_others_may_not_import,
    an_xlsx_file_and_a_file_over_16_kib_import_too,
);

async fn populations_come_in_from_a_csv_file_over_http(app: TestApp) {
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let post_file = |key: &str, body: &'static str| {
        actix_web::test::TestRequest::post()
            .uri("/api/v1/populations")
            .insert_header(("Authorization", format!("Bearer {key}")))
            .insert_header(("Content-Type", "text/csv"))
            .set_payload(body)
    };
    let file = "unit,period,population\nunit-a,2025-Q3,100\nunit-b,2025-Q3,300\nunit-b,2025-Q3,0\n";
    let (status, body) = send(&svc, post_file(&w.viewer_a, file)).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    let (status, report) = send(&svc, post_file(&w.admin, file)).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["set"].as_u64(), Some(2));
    assert_eq!(error_lines(&report), [(4, vec!["population".to_owned()])]);
    let (_, list) = send(
        &svc,
        get("/api/v1/units/unit-b/populations", Some(&w.admin)),
    )
    .await;
    assert_eq!(list[0]["population"].as_i64(), Some(300));
}

both_backends!(populations_come_in_from_a_csv_file_over_http,);

/// Issue 29: paper forgives a spelling. "D3" and "Wiraswasta", the usual spellings on printed
/// forms, import as Diploma (D1-D3) and Wirausaha; a value no spelling matches is left out with a
/// warning while the answers count; a line cut short before U4 is a row error, not a
/// questionnaire with six blanks; the new messages are in Bahasa Indonesia.
async fn paper_spellings_are_forgiven_and_a_line_cut_short_is_a_row_error(app: TestApp) {
    use diesel::prelude::*;
    use kepuasan::db::schema::responses;
    let svc = app.service().await;
    let w = world(&app, &svc).await;
    let file = "unit,date,U1,U2,U3,U4,U5,U6,U7,U8,U9,pendidikan,pekerjaan,usia
unit-a,2025-07-14,4,4,4,4,4,4,4,4,4,D3,PNS,40
unit-a,2025-07-14,3,3,3,3,3,3,3,3,3, s-1 ,Wiraswasta,33
unit-a,2025-07-14,3,3,3
unit-a,2025-07-15,2,2,2,2,2,2,2,2,2,SMA,Dokter hewan,7
";
    // A dry run from a client that asks for no language: the API's English.
    let (status, english) = import(&svc, &w.admin, "?dry_run=true", file.as_bytes().to_vec()).await;
    assert_eq!(status, 200, "{english}");
    let cut = english["errors"][0]["fields"]["columns"].as_str().unwrap();
    assert!(
        cut.contains("column U4 and those after it are missing"),
        "{cut}"
    );
    // The pages ask in Bahasa Indonesia, as /admin does.
    let (status, report) = send(
        &svc,
        actix_web::test::TestRequest::post()
            .uri("/api/v1/imports")
            .insert_header(("Authorization", format!("Bearer {}", w.admin)))
            .insert_header(("Content-Type", "text/csv"))
            .insert_header(("Accept-Language", "id-ID,id;q=0.9,en;q=0.8"))
            .set_payload(file.as_bytes().to_vec()),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 3, "{report}");
    assert_eq!(error_lines(&report), vec![(4, vec!["columns".to_owned()])]);
    let cut = report["errors"][0]["fields"]["columns"].as_str().unwrap();
    assert!(cut.contains("kolom U4 dan sesudahnya tidak ada"), "{cut}");
    let warned = &report["warnings"];
    assert_eq!(warned.as_array().unwrap().len(), 1, "{report}");
    assert_eq!(warned[0]["line"], 5);
    let fields = warned[0]["fields"].as_object().unwrap();
    let keys: Vec<&String> = fields.keys().collect();
    assert_eq!(keys, ["profile.age", "profile.occupation"], "{warned}");
    for (field, problem) in fields {
        assert!(
            problem
                .as_str()
                .unwrap()
                .contains("tidak dikenali, jadi dikosongkan"),
            "{field}: {warned}"
        );
    }
    // A row whose date and answers are wrong: each problem in Bahasa Indonesia too.
    let bad = "unit,date,U1,U2,U3,U4,U5,U6,U7,U8,U9\nunit-a,31/02/2025,4,4,4,4,4,4,4,4,9\nunit-x,2025-07-14,4,4,4,4,4,4,4,4,4\n";
    let (status, refused) = send(
        &svc,
        actix_web::test::TestRequest::post()
            .uri("/api/v1/imports?dry_run=true")
            .insert_header(("Authorization", format!("Bearer {}", w.admin)))
            .insert_header(("Content-Type", "text/csv"))
            .insert_header(("Accept-Language", "id"))
            .set_payload(bad),
    )
    .await;
    assert_eq!(status, 200, "{refused}");
    let problems: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["fields"].as_object().unwrap().values())
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!problems.is_empty(), "{refused}");
    for problem in problems {
        assert!(
            ["bukan tanggal", "harus bilangan bulat", "tidak dikenal"]
                .iter()
                .any(|id| problem.contains(id)),
            "not in Bahasa Indonesia: {problem}"
        );
    }
    let mut stored: Vec<String> = app
        .state
        .db
        .read_blocking(|c| {
            Ok(responses::table
                .select(responses::profile)
                .load::<Option<String>>(c)?
                .into_iter()
                .flatten()
                .collect())
        })
        .unwrap();
    stored.sort();
    let profiles: Vec<Value> = stored
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect();
    let of = |key: &str| -> Vec<Value> { profiles.iter().map(|p| p[key].clone()).collect() };
    let mut education = of("education");
    education.sort_by_key(|v| v.to_string());
    assert_eq!(
        education,
        [Value::from("D1-D3"), Value::from("S1"), Value::from("SMA")],
        "{profiles:?}"
    );
    assert!(
        of("occupation").contains(&Value::from("Wirausaha")),
        "{profiles:?}"
    );
    assert!(
        profiles
            .iter()
            .all(|p| p["occupation"] != "Dokter hewan" && p["age"] != 7),
        "{profiles:?}"
    );
}

both_backends!(paper_spellings_are_forgiven_and_a_line_cut_short_is_a_row_error);
