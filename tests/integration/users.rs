//! People who sign in (issue 15, its first part): the `users` commands, the password rules,
//! argon2id hashes, and checking credentials on both backends.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use kepuasan::domain::users::{self, NewUser};

use crate::both_backends;
use crate::common::*;

/// `kepuasan ARGS` on `db` with `input` on standard input.
fn with_input(db: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kepuasan"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("KEPUASAN_LANG")
        .env_remove("KEPUASAN_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_users_commands_add_list_disable_and_reset_with_the_password_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("users.db").to_str().unwrap().to_owned();
    let run = |args: &[&str], input: &str| with_input(&db, args, input);
    assert!(
        run(&["units", "add", "dukcapil", "--name", "Disdukcapil"], "")
            .status
            .success()
    );

    // Refused, each naming what is wrong in Bahasa Indonesia (the command line's default),
    // and nothing stored.
    for (args, input, problem) in [
        (
            vec!["--role", "manager", "--unit", "dukcapil"],
            "pendek\n",
            "paling sedikit 10 karakter",
        ),
        (
            vec!["--role", "manager", "--unit", "dukcapil"],
            "Password123\n",
            "kata sandi yang paling umum",
        ),
        (
            vec!["--role", "manager", "--unit", "dukcapil"],
            "kepala.dukcapil\n",
            "nama pengguna",
        ),
        (
            vec!["--role", "manager"],
            "rahasia-kuat-2026\n",
            "paling sedikit satu unit",
        ),
        (
            vec!["--role", "manager", "--unit", "nope"],
            "rahasia-kuat-2026\n",
            "unit `nope` tidak dikenal",
        ),
        (
            vec!["--role", "admin", "--unit", "dukcapil"],
            "rahasia-kuat-2026\n",
            "jangan pilih unit",
        ),
        (
            vec!["--role", "owner"],
            "rahasia-kuat-2026\n",
            "harus salah satu dari admin, manager, viewer",
        ),
        (vec!["--role", "admin"], "", "first line of standard input"),
    ] {
        let mut all = vec!["users", "add", "Kepala.Dukcapil"];
        all.extend(args);
        let out = run(&all, input);
        assert!(!out.status.success(), "{all:?} was accepted");
        assert!(text(&out).contains(problem), "{all:?}: {}", text(&out));
    }
    assert_eq!(
        String::from_utf8_lossy(&run(&["users", "list"], "").stdout).trim(),
        "[]"
    );

    let out = run(
        &[
            "users",
            "add",
            "Kepala.Dukcapil",
            "--role",
            "manager",
            "--unit",
            "DUKCAPIL",
        ],
        "rahasia-kuat-2026\n",
    );
    assert!(out.status.success(), "{}", text(&out));
    let again = run(
        &[
            "users",
            "add",
            "kepala.dukcapil",
            "--role",
            "viewer",
            "--unit",
            "dukcapil",
        ],
        "lain-lagi-2026\n",
    );
    assert!(text(&again).contains("sudah dipakai"), "{}", text(&again));
    let list: serde_json::Value =
        serde_json::from_slice(&run(&["users", "list"], "").stdout).unwrap();
    assert_eq!(list[0]["username"], "kepala.dukcapil");
    assert_eq!(list[0]["role"], "manager");
    assert_eq!(list[0]["units"], serde_json::json!(["dukcapil"]));
    let shown = list.to_string();
    assert!(
        !shown.contains("argon2") && !shown.contains("rahasia"),
        "{shown}"
    );

    assert!(
        run(&["users", "password", "kepala.dukcapil"], "pendek\n")
            .status
            .code()
            != Some(0)
    );
    assert!(
        run(
            &["users", "password", "kepala.dukcapil"],
            "baru-lebih-kuat-2026\n"
        )
        .status
        .success()
    );
    assert!(
        run(&["users", "disable", "kepala.dukcapil"], "")
            .status
            .success()
    );
    let list: serde_json::Value =
        serde_json::from_slice(&run(&["users", "list"], "").stdout).unwrap();
    assert!(list[0]["disabled_at"].is_string());
    assert!(
        text(&run(&["users", "disable", "nobody"], "")).contains("pengguna `nobody` tidak dikenal")
    );
}

async fn credentials_are_checked_against_an_argon2id_hash_and_a_disabled_user_is_refused(
    app: TestApp,
) {
    let db = &app.state.db;
    let now = at("2026-12-01 02:00:00");
    db.write_blocking(|conn| {
        kepuasan::domain::units::create_unit(
            conn,
            &serde_json::from_value(
                serde_json::json!({"code": "samsat", "name": "Samsat", "timezone": "Asia/Jakarta"}),
            )
            .unwrap(),
            now,
        )
    })
    .unwrap();
    let new = NewUser {
        username: "Operator".into(),
        password: "sandi-panjang-sekali".into(),
        role: "viewer".into(),
        units: vec!["samsat".into()],
    };
    let operator = kepuasan::auth::Principal::command_line();
    db.write_blocking(|conn| users::add(conn, &operator, new, now))
        .unwrap();
    let stored: String = db
        .read_blocking(|conn| {
            Ok(kepuasan::db::queries::find_user(conn, "operator")?
                .unwrap()
                .password_hash)
        })
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains("sandi-panjang-sekali"));

    let check = |name: &str, password: &str| {
        let (name, password) = (name.to_owned(), password.to_owned());
        db.read_blocking(move |conn| users::verify(conn, &name, &password))
            .unwrap()
            .map(|u| u.username)
    };
    assert_eq!(
        check("OPERATOR", "sandi-panjang-sekali").as_deref(),
        Some("operator")
    );
    assert_eq!(check("operator", "sandi-panjang-sekalI"), None);
    assert_eq!(check("nobody", "sandi-panjang-sekali"), None);
    let reset = users::UserChange {
        password: Some("sandi-yang-baru-2026".into()),
        ..Default::default()
    };
    db.write_blocking(|conn| users::change(conn, &operator, "operator", reset, now))
        .unwrap();
    assert_eq!(
        check("operator", "sandi-panjang-sekali"),
        None,
        "the old password"
    );
    assert!(check("operator", "sandi-yang-baru-2026").is_some());
    let disable = users::UserChange {
        disabled: Some(true),
        ..Default::default()
    };
    db.write_blocking(|conn| users::change(conn, &operator, "operator", disable, now))
        .unwrap();
    assert_eq!(check("operator", "sandi-yang-baru-2026"), None, "disabled");
}

both_backends!(credentials_are_checked_against_an_argon2id_hash_and_a_disabled_user_is_refused,);

#[test]
fn changes_made_at_the_command_line_are_in_the_audit_log_as_the_operators() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db").to_str().unwrap().to_owned();
    let run = |args: &[&str], input: &str| {
        let out = with_input(&db, args, input);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    };
    run(&["units", "add", "dukcapil", "--name", "Disdukcapil"], "");
    run(
        &[
            "units",
            "update",
            "dukcapil",
            "--city",
            "Bandung",
            "--head-name",
            "Dra. Sri",
        ],
        "",
    );
    run(
        &[
            "services", "add", "--unit", "dukcapil", "ktp-el", "--name", "KTP-el",
        ],
        "",
    );
    run(
        &[
            "users", "add", "kepala", "--role", "manager", "--unit", "dukcapil",
        ],
        "sandi-kepala-dinas-2026\n",
    );
    run(&["users", "password", "kepala"], "sandi-baru-kepala-2026\n");
    run(&["users", "disable", "kepala"], "");
    run(
        &[
            "populations",
            "set",
            "--unit",
            "dukcapil",
            "--period",
            "2026-Q3",
            "4200",
        ],
        "",
    );

    let store = kepuasan::db::Db::open(&db).unwrap();
    let entries = store
        .read_blocking(|conn| kepuasan::domain::audit::list(conn, &Default::default()))
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "population.set",
            "user.disable",
            "user.password",
            "user.add",
            "service.create",
            "unit.update",
            "unit.create"
        ]
    );
    assert!(entries.iter().all(|e| e.actor == "command-line"));
    let update = &entries[5];
    assert!(
        update.before.as_deref().unwrap().contains(r#""city":null"#),
        "{update:?}"
    );
    assert!(
        update
            .after
            .as_deref()
            .unwrap()
            .contains(r#""city":"Bandung""#),
        "{update:?}"
    );
    let all = format!("{entries:?}");
    assert!(!all.contains("sandi-") && !all.contains("argon2"), "{all}");
}

#[test]
fn serve_demo_prints_an_administrator_who_can_sign_in() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db").to_str().unwrap().to_owned();
    let bind = format!("127.0.0.1:{}", crate::crash::free_port());
    let mut server = Command::new(env!("CARGO_BIN_EXE_kepuasan"))
        .args(["serve", "--demo"])
        .env("DATABASE_URL", &db)
        .env("KEPUASAN_BIND", &bind)
        .env("RUST_LOG", "warn")
        .env_remove("KEPUASAN_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The lines up to the one that says where it listens.
    let mut printed = Vec::new();
    for line in std::io::BufReader::new(server.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("kepuasan: http://");
        printed.push(line);
        if done {
            break;
        }
    }
    let text = printed.join("\n");
    let line = printed
        .iter()
        .find(|l| l.contains("/admin as `admin` with the password "))
        .unwrap_or_else(|| panic!("no administrator printed:\n{text}"));
    let password = line.rsplit(' ').next().unwrap().to_owned();
    assert!(password.len() >= 10, "{text}");
    // It prints before it listens: ask until it answers, at most 20 s.
    let client = reqwest::blocking::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        match client
            .post(format!("http://{bind}/api/v1/sessions"))
            .json(&serde_json::json!({"username": "admin", "password": password}))
            .send()
        {
            Ok(answer) => break answer.status().as_u16(),
            Err(e) if std::time::Instant::now() > deadline => panic!("{e}"),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    };
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(status, 201, "{text}");
}
