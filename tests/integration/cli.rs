//! The command line as an operator uses it: real files in, text and JSON out.

use std::process::{Command, Output};

fn kepuasan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kepuasan"))
        .args(args)
        .env_remove("KEPUASAN_LANG")
        .env_remove("KEPUASAN_SURVEY_DEFS")
        .env_remove("KEPUASAN_CONFIG")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The 84,36 data set (see the engine tests): 100 rows, U1..U8 37 fours then threes, U9 41 fours.
fn published_example(delimiter: char) -> String {
    let mut text = format!(
        "\u{feff}No{d}U1{d}U2{d}U3{d}U4{d}U5{d}U6{d}U7{d}U8{d}U9{d}Saran\n",
        d = delimiter
    );
    for r in 0..100 {
        let v = if r < 37 { 4 } else { 3 };
        let u9 = if r < 41 { 4 } else { 3 };
        let cells: Vec<String> = std::iter::once((r + 1).to_string())
            .chain((0..8).map(|_| v.to_string()))
            .chain([u9.to_string(), "ramah".to_owned()])
            .collect();
        text.push_str(&cells.join(&delimiter.to_string()));
        text.push('\n');
    }
    text
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn ikm_prints_the_published_example_in_indonesian_with_decimal_commas() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "q.csv", &published_example(';'));
    let out = stdout(&kepuasan(&["ikm", &file]));
    assert!(
        out.contains("IKM: 84,36   Mutu: B   Kinerja: Baik"),
        "{out}"
    );
    assert!(out.contains("Responden: 100"), "{out}");
    let en = stdout(&kepuasan(&["--lang", "en", "ikm", &file]));
    assert!(
        en.contains("IKM: 84.36   Grade: B   Performance: Good"),
        "{en}"
    );
}

#[test]
fn ikm_json_has_the_contract_shape_without_unit_and_period() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "q.csv", &published_example(','));
    let out = stdout(&kepuasan(&[
        "ikm",
        &file,
        "--format",
        "json",
        "--population",
        "1000",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ikm"], serde_json::json!(84.36));
    assert_eq!(v["grade"], "B");
    assert_eq!(v["performance"], "Baik");
    assert_eq!(v["respondents"], 100);
    assert_eq!(v["instrument"], "skm-2017");
    assert_eq!(v["mode"], "exact");
    let u9 = &v["items"][8];
    assert_eq!(
        (
            u9["code"].as_str(),
            u9["answered"].as_u64(),
            u9["total"].as_u64()
        ),
        (Some("U9"), Some(100), Some(341))
    );
    assert_eq!(u9["nrr"], serde_json::json!(3.41));
    for key in ["name", "ikm", "grade"] {
        assert!(!u9[key].is_null(), "{key}");
    }
    assert_eq!(v["sample"]["minimum"], 278);
    assert_eq!(v["sample"]["adequate"], false);
    assert!(v.get("unit").is_none() && v.get("period").is_none());
}

#[test]
fn ikm_form_mode_of_a_perfect_file_is_99_90() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "q.csv",
        "U1,U2,U3,U4,U5,U6,U7,U8,U9\n4,4,4,4,4,4,4,4,4\n",
    );
    let out = stdout(&kepuasan(&[
        "ikm",
        &file,
        "--mode",
        "form-0.111",
        "--format",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["ikm"].as_f64(), v["mode"].as_str()),
        (Some(99.9), Some("form-0.111"))
    );
}

#[test]
fn a_malformed_file_stops_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "q.csv",
        "U1,U2,U3,U4,U5,U6,U7,U8,U9\n4,4,4,4,4,4,4,4,4\n4,4,4,x,4,4,4,4,4\n",
    );
    let output = kepuasan(&["ikm", &file]);
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("line 3, column U4 (4)"), "{err}");
    assert!(output.stdout.is_empty());
}

#[test]
fn an_unknown_instrument_or_mode_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "q.csv",
        "U1,U2,U3,U4,U5,U6,U7,U8,U9\n4,4,4,4,4,4,4,4,4\n",
    );
    let err = kepuasan(&["ikm", &file, "--instrument", "skm-2099"]);
    assert!(String::from_utf8_lossy(&err.stderr).contains("instrument: `skm-2099`"));
    let err = kepuasan(&["ikm", &file, "--mode", "fast"]);
    assert!(String::from_utf8_lossy(&err.stderr).contains("mode: `fast`"));
}

#[test]
fn sample_size_prints_the_krejcie_morgan_minimum() {
    let out = stdout(&kepuasan(&["sample-size", "1000"]));
    assert!(
        out.contains("populasi 1.000") && out.trim_end().ends_with("278 responden"),
        "{out}"
    );
    let json = stdout(&kepuasan(&["sample-size", "100000", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["minimum"], 384);
    assert_eq!(kepuasan(&["sample-size", "0"]).status.code(), Some(1));
}

#[test]
fn extra_instruments_come_from_the_configured_directory() {
    let dir = tempfile::tempdir().unwrap();
    let builtin = include_str!("../../survey-defs/skm-2017.toml");
    let custom = builtin.replace("key = \"skm-2017\"", "key = \"skm-puskesmas\"");
    write(&dir, "skm-puskesmas.toml", &custom);
    let file = write(
        &dir,
        "q.csv",
        "U1,U2,U3,U4,U5,U6,U7,U8,U9\n3,3,3,3,3,3,3,3,3\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_kepuasan"))
        .args(["ikm", &file, "--instrument", "skm-puskesmas"])
        .env("KEPUASAN_SURVEY_DEFS", dir.path())
        .output()
        .unwrap();
    assert!(stdout(&output).contains("IKM: 75,00"));
}

fn kepuasan_db(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kepuasan"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("KEPUASAN_LANG")
        .env_remove("KEPUASAN_CONFIG")
        .output()
        .expect("the binary runs")
}

#[test]
fn populations_and_paper_questionnaires_come_in_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db").to_str().unwrap().to_owned();
    let run = |args: &[&str]| stdout(&kepuasan_db(&db, args));
    run(&["migrate"]);
    run(&[
        "units",
        "add",
        "u1",
        "--name",
        "Kantor Uji",
        "--timezone",
        "Asia/Jakarta",
    ]);
    let set: serde_json::Value = serde_json::from_str(&run(&[
        "populations",
        "set",
        "--unit",
        "u1",
        "--period",
        "2025-Q3",
        "600",
    ]))
    .unwrap();
    assert_eq!(
        (set["period"].as_str(), set["population"].as_i64()),
        (Some("2025-Q3"), Some(600))
    );
    let file = write(
        &dir,
        "pop.csv",
        "unit;period;population\nu1;2025-Q4;1.200\nu1;2025-Q5;10\nnowhere;2025;5\nu1;2025-Q2;banyak\n",
    );
    let report: serde_json::Value =
        serde_json::from_str(&run(&["populations", "import", &file])).unwrap();
    assert_eq!(report["set"].as_u64(), Some(1), "{report}");
    let errors: Vec<(u64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = e["fields"]
                .as_object()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .clone();
            (e["line"].as_u64().unwrap(), field)
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, "period".to_owned()),
            (4, "unit".to_owned()),
            (5, "population".to_owned())
        ]
    );
    let list: serde_json::Value =
        serde_json::from_str(&run(&["populations", "list", "--unit", "u1"])).unwrap();
    let figures: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["population"].as_i64().unwrap())
        .collect();
    assert_eq!(figures, [600, 1200]);

    let paper = write(
        &dir,
        "paper.csv",
        "tanggal,U1,U2,U3,U4,U5,U6,U7,U8,U9\n01/07/2025,4,4,4,4,4,4,4,4,4\n02/07/2025,4,4,4,4,4,4,4,4,7\n",
    );
    let dry: serde_json::Value =
        serde_json::from_str(&run(&["import", &paper, "--unit", "u1", "--dry-run"])).unwrap();
    assert_eq!(
        (dry["valid"].as_u64(), dry["imported"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(dry["errors"][0]["line"].as_u64(), Some(3));
    assert!(
        dry["errors"][0]["fields"]["answers.U9"].is_string(),
        "{dry}"
    );
    let real: serde_json::Value =
        serde_json::from_str(&run(&["import", &paper, "--unit", "u1"])).unwrap();
    assert_eq!(real["imported"].as_u64(), Some(1));
    // Krejcie & Morgan for N = 600: 3,841 × 600 × 0,25 / (0,0025 × 599 + 3,841 × 0,25) = 234,4 -> 234.
    let r: serde_json::Value =
        serde_json::from_str(&run(&["report", "--unit", "u1", "--period", "2025-Q3"])).unwrap();
    assert_eq!(r["respondents"].as_u64(), Some(1));
    assert_eq!(r["ikm"].as_f64(), Some(100.0));
    assert_eq!(
        (
            r["sample"]["population"].as_u64(),
            r["sample"]["minimum"].as_u64(),
            r["sample"]["adequate"].as_bool()
        ),
        (Some(600), Some(234), Some(false))
    );
}

#[test]
fn commands_against_postgres_exit_cleanly_every_time() {
    let Some(db) = crate::common::PgDatabase::create() else {
        return;
    };
    stdout(&kepuasan_db(
        &db.url,
        &["units", "add", "u1", "--name", "Unit Satu"],
    ));
    // A command that ended while the pool was still opening a connection in the background
    // used to crash at exit in about one run in three.
    for _ in 0..30 {
        let status = Command::new(env!("CARGO_BIN_EXE_kepuasan"))
            .args(["units", "list"])
            .env("DATABASE_URL", &db.url)
            .env_remove("KEPUASAN_CONFIG")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "exit: {status}");
    }
}

#[test]
fn a_unit_is_changed_from_the_command_line_as_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db").to_str().unwrap().to_owned();
    let run = |args: &[&str]| stdout(&kepuasan_db(&db, args));
    for (code, parent) in [("mpp", None), ("dukcapil", Some("mpp"))] {
        let mut args = vec!["units", "add", code, "--name", code];
        if let Some(p) = parent {
            args.extend(["--parent", p]);
        }
        run(&args);
    }
    let unit: serde_json::Value = serde_json::from_str(&run(&[
        "units",
        "update",
        "DUKCAPIL",
        "--name",
        "Disdukcapil Kota Uji",
        "--timezone",
        "Asia/Makassar",
        "--no-parent",
        "--open-link",
        "true",
    ]))
    .unwrap();
    assert_eq!(
        (
            unit["code"].as_str(),
            unit["name"].as_str(),
            unit["timezone"].as_str(),
            unit["parent"].as_str(),
            unit["open_link"].as_bool()
        ),
        (
            Some("dukcapil"),
            Some("Disdukcapil Kota Uji"),
            Some("Asia/Makassar"),
            None,
            Some(true)
        ),
        "{unit}"
    );
    // A bad time zone or a cycle is refused by name, and changes nothing.
    run(&["units", "update", "mpp", "--parent", "dukcapil"]);
    for (args, field) in [
        (
            vec!["units", "update", "dukcapil", "--timezone", "Mars/Base"],
            "timezone",
        ),
        (
            vec!["units", "update", "dukcapil", "--parent", "mpp"],
            "parent",
        ),
    ] {
        let out = kepuasan_db(&db, &args);
        assert!(!out.status.success(), "{args:?}");
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(message.contains(field), "{args:?}: {message}");
    }
    let units: serde_json::Value = serde_json::from_str(&run(&["units", "list"])).unwrap();
    let dukcapil = units
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "dukcapil")
        .unwrap();
    assert_eq!(dukcapil["timezone"], "Asia/Makassar");
    assert!(dukcapil["parent"].is_null());
}

/// Commands that only read open the database as it is: they never create a SQLite file nor
/// migrate one, and say which command does.
#[test]
fn commands_that_only_read_never_create_or_migrate_a_database() {
    use diesel::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let db = path.to_str().unwrap().to_owned();
    let refused = kepuasan_db(&db, &["units", "list"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("no database at") && message.contains("kepuasan migrate"),
        "{message}"
    );
    assert!(!path.exists(), "a read created the file");

    // An empty file is a database with every migration pending: refused, left unmigrated.
    std::fs::write(&path, b"").unwrap();
    for args in [
        &["units", "list"][..],
        &["keys", "list"],
        &["report", "--unit", "u", "--period", "2025-Q3"],
    ] {
        let refused = kepuasan_db(&db, args);
        assert!(!refused.status.success(), "{args:?}");
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(
            message.contains("run `kepuasan migrate` first"),
            "{args:?}: {message}"
        );
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let tables = |db: &str| {
        let mut conn = diesel::SqliteConnection::establish(db).unwrap();
        diesel::sql_query("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'units'")
            .get_result::<Count>(&mut conn)
            .unwrap()
            .n
    };
    assert_eq!(tables(&db), 0, "a read migrated the database");

    // `migrate` does it; then the same reads answer.
    assert!(stdout(&kepuasan_db(&db, &["migrate"])).contains("migration(s) applied"));
    assert_eq!(tables(&db), 1);
    assert_eq!(stdout(&kepuasan_db(&db, &["units", "list"])).trim(), "[]");
}

/// Commands that print or draw an address for phones use KEPUASAN_PUBLIC_URL; without it they
/// refuse (a slip or enrolment code pointing at 127.0.0.1 would be dead) or, for a kiosk key
/// printed without its QR code, warn naming the setting.
#[test]
fn printed_addresses_need_the_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.db").to_str().unwrap().to_owned();
    let run = |args: &[&str], public: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kepuasan"));
        command
            .args(args)
            .env("DATABASE_URL", &db)
            .env("KEPUASAN_SECRET", "a master secret for tests")
            .env_remove("KEPUASAN_LANG")
            .env_remove("KEPUASAN_CONFIG")
            .env_remove("KEPUASAN_PUBLIC_URL");
        if let Some(url) = public {
            command.env("KEPUASAN_PUBLIC_URL", url);
        }
        command.output().expect("the binary runs")
    };
    stdout(&run(&["units", "add", "u1", "--name", "Unit Satu"], None));
    let public = Some("https://skm.example.go.id");
    let sheet = dir.path().join("slips.html");
    let qr = dir.path().join("enrol.svg");
    let sheet_args = [
        "tokens",
        "sheet",
        "--unit",
        "u1",
        "--count",
        "1",
        "--out",
        sheet.to_str().unwrap(),
    ];
    let qr_args = [
        "keys",
        "create",
        "--role",
        "kiosk",
        "--unit",
        "u1",
        "--enrol-qr",
        qr.to_str().unwrap(),
    ];
    for args in [
        &["tokens", "mint", "--unit", "u1", "--transaction", "A-1"][..],
        &sheet_args,
        &qr_args,
    ] {
        let refused = run(args, None);
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{args:?} printed a dead address");
        assert!(
            message.contains("KEPUASAN_PUBLIC_URL"),
            "{args:?}: {message}"
        );
    }
    assert!(!sheet.exists() && !qr.exists(), "nothing was written");
    assert_eq!(
        stdout(&run(&["keys", "list"], None)).trim(),
        "[]",
        "no key was made"
    );

    let minted = stdout(&run(
        &["tokens", "mint", "--unit", "u1", "--transaction", "A-1"],
        public,
    ));
    assert!(
        minted.starts_with("https://skm.example.go.id/s/k1."),
        "{minted}"
    );
    stdout(&run(&sheet_args, public));
    assert!(
        std::fs::read_to_string(&sheet)
            .unwrap()
            .contains("https://skm.example.go.id/s/")
    );
    let created = stdout(&run(&qr_args, public));
    assert!(
        created.contains("enrol: https://skm.example.go.id/kiosk#key="),
        "{created}"
    );
    assert!(std::fs::read_to_string(&qr).unwrap().contains("<svg"));

    // A kiosk key without its QR code is still made, with a warning that names the setting.
    let warned = run(&["keys", "create", "--role", "kiosk", "--unit", "u1"], None);
    assert!(warned.status.success());
    assert!(String::from_utf8_lossy(&warned.stderr).contains("KEPUASAN_PUBLIC_URL"));
}

#[test]
fn a_closed_year_is_archived_dropped_and_its_suggestions_read_back_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db").to_str().unwrap().to_owned();
    let run = |args: &[&str]| kepuasan_db(&db, args);
    stdout(&run(&["migrate"]));
    stdout(&run(&[
        "units",
        "add",
        "u1",
        "--name",
        "Kantor Uji",
        "--timezone",
        "Asia/Jakarta",
    ]));
    let paper = write(
        &dir,
        "kertas.csv",
        "unit,date,U1,U2,U3,U4,U5,U6,U7,U8,U9,suggestion\n\
         u1,2024-05-06,4,4,3,3,4,4,3,3,4,Tambah kursi di ruang tunggu\n\
         u1,2025-02-03,3,3,3,3,3,3,3,3,3,\n",
    );
    stdout(&run(&["import", &paper]));
    let file = dir.path().join("arsip-2024.jsonl.gz");
    let file = file.to_str().unwrap();
    // Both flags are needed to write an archive.
    assert!(!run(&["archive", "--before", "2025"]).status.success());
    let done = stdout(&run(&[
        "archive", "--before", "2025", "--out", file, "--drop",
    ]));
    assert!(
        done.contains("archived: 1 responses of 1 units before 2025"),
        "{done}"
    );
    assert!(done.contains("dropped from the database"), "{done}");
    let again = run(&["archive", "--before", "2025", "--out", file]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("arsip tidak pernah ditimpa"));
    let read = stdout(&run(&[
        "archive",
        "suggestions",
        file,
        "--unit",
        "u1",
        "--year",
        "2024",
    ]));
    let lines: Vec<&str> = read.lines().collect();
    assert_eq!(lines[0], "year,received_at,service,channel,suggestion");
    assert_eq!(lines.len(), 2, "{read}");
    assert!(
        lines[1].starts_with("2024,2024-05-06 05:00:00,,paper,Tambah kursi"),
        "{read}"
    );
    // The 2024 report keeps its numbers from the tallies; 2025's response is still a row.
    let report: serde_json::Value = serde_json::from_str(&stdout(&run(&[
        "report", "--unit", "u1", "--period", "2024", "--format", "json",
    ])))
    .unwrap();
    assert_eq!(report["respondents"].as_u64(), Some(1), "{report}");
}

/// Issue 29: the command line speaks Bahasa Indonesia by default, English with `--lang en`:
/// a refused setting names its field with an Indonesian problem, and a paper import's row
/// problems and warnings are Indonesian.
#[test]
fn messages_on_the_command_line_are_in_bahasa_indonesia_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db").to_str().unwrap().to_owned();
    stdout(&kepuasan_db(
        &db,
        &["units", "add", "dinas", "--name", "Dinas Uji"],
    ));
    let refused = kepuasan_db(
        &db,
        &["units", "update", "dinas", "--email", "bukan alamat"],
    );
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("galat: email: harus alamat pos-el seperti dinas@bandung.go.id"),
        "{said}"
    );
    let english = kepuasan_db(
        &db,
        &["--lang", "en", "units", "update", "dinas", "--email", "x"],
    );
    let said = String::from_utf8_lossy(&english.stderr);
    assert!(
        said.contains("error: email: must be an e-mail address"),
        "{said}"
    );
    let file = write(
        &dir,
        "kertas.csv",
        "unit,date,U1,U2,U3,U4,U5,U6,U7,U8,U9,pekerjaan\n\
         dinas,2025-07-14,4,4,4,4,4,4,4,4,4,Dokter hewan\n\
         dinas,2025-07-14,3,3,3\n\
         dinas,14-13-2025,4,4,4,4,4,4,4,4,4\n\
         dinas,2025-07-15,4,4,4,4,4,4,4,4,7\n",
    );
    let report = stdout(&kepuasan_db(&db, &["import", &file, "--dry-run"]));
    for expected in [
        "`Dokter hewan` tidak dikenali, jadi dikosongkan",
        "kolom U4 dan sesudahnya tidak ada",
        "`14-13-2025` bukan tanggal seperti",
        "harus bilangan bulat dari 1 sampai 4",
    ] {
        assert!(report.contains(expected), "{expected} in {report}");
    }
}
