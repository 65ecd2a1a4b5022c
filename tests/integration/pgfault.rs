//! PostgreSQL stopped under load and started again: a private PostgreSQL server of the test's
//! own (initdb in a temporary directory, a free port) is stopped with `pg_ctl stop -m
//! immediate` while clients submit, and started again three seconds later. While it is down
//! the service answers 503 with Retry-After and nothing else; it recovers by itself within
//! five seconds of the database's return; every acknowledged response is stored, once.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::skip;

/// The directory of PostgreSQL's server programs, if installed.
fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists() && p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

/// Runs a PostgreSQL program as the `postgres` user (the server refuses to run as root).
fn as_postgres(bin: &Path, program: &str, args: &[&str]) -> std::process::Output {
    let program = bin.join(program);
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&program);
        c
    } else {
        Command::new(&program)
    };
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run a PostgreSQL program");
    assert!(
        out.status.success(),
        "{program:?} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

struct Server<'a> {
    bin: &'a Path,
    data: String,
    options: String,
    log: String,
}

impl Server<'_> {
    fn start(&self) {
        as_postgres(
            self.bin,
            "pg_ctl",
            &[
                "-D",
                &self.data,
                "-o",
                &self.options,
                "-l",
                &self.log,
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self) {
        as_postgres(
            self.bin,
            "pg_ctl",
            &["-D", &self.data, "-m", "immediate", "-w", "stop"],
        );
    }
}

impl Drop for Server<'_> {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &self.data, "-m", "immediate", "stop"])
            .output();
    }
}

/// What one request got: when it was answered, its status, whether it said Retry-After.
type Answer = (Instant, u16, bool);

#[test]
fn postgres_stopped_under_load_gives_503_then_recovers_by_itself() {
    let Some(bin) = pg_bin() else {
        skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let chown = Command::new("chown")
        .args(["-R", "postgres"])
        .arg(dir.path())
        .status();
    assert!(chown.is_ok_and(|s| s.success()) || !is_root());
    let data = dir.path().join("data").to_str().unwrap().to_owned();
    as_postgres(
        &bin,
        "initdb",
        &["-D", &data, "-A", "trust", "-U", "postgres"],
    );
    let port = crate::crash::free_port();
    let server = Server {
        bin: &bin,
        data,
        options: format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {}",
            dir.path().display()
        ),
        log: dir.path().join("pg.log").to_str().unwrap().to_owned(),
    };
    server.start();
    let db = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let bind = format!("127.0.0.1:{}", crate::crash::free_port());
    let admin = crate::crash::admin_key(&db, &bind);
    let mut service = crate::crash::start(&db, &bind);

    let started = Instant::now();
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let (acked, answers, bind, admin) =
                (acked.clone(), answers.clone(), bind.clone(), admin.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(15))
                    .build()
                    .unwrap();
                // Bounded: 14 seconds or 20,000 submissions per client.
                for _ in 0..20_000 {
                    if started.elapsed() > Duration::from_secs(14) {
                        break;
                    }
                    let id = uuid::Uuid::new_v4().to_string();
                    let body = json!({"submission_id": id, "unit": "unit-a", "instrument": "skm-2017", "channel": "kiosk",
                        "answers": {"U1": 4, "U2": 3, "U3": 3, "U4": 4, "U5": 4, "U6": 4, "U7": 4, "U8": 3, "U9": 3}});
                    let r = client
                        .post(format!("http://{bind}/api/v1/responses"))
                        .bearer_auth(&admin)
                        .json(&body)
                        .send()
                        .expect("the service answers while its database is down");
                    let status = r.status().as_u16();
                    let retry = r.headers().contains_key("retry-after");
                    answers.lock().unwrap().push((Instant::now(), status, retry));
                    if status == 201 {
                        acked.lock().unwrap().push(id);
                    } else {
                        // A client backs off as Retry-After asks, a little.
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_secs(3));
    server.stop();
    let stopped = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    server.start();
    let back = Instant::now();
    for c in clients {
        c.join().unwrap();
    }
    let answers = answers.lock().unwrap().clone();
    let odd: Vec<&Answer> = answers
        .iter()
        .filter(|(_, s, retry)| !(*s == 201 || (*s == 503 && *retry)))
        .collect();
    assert!(odd.is_empty(), "only 201, or 503 with Retry-After: {odd:?}");
    let refused = answers.iter().filter(|(_, s, _)| *s == 503).count();
    assert!(refused > 0, "the outage was seen");
    assert!(
        answers.iter().any(|(t, s, _)| *s == 201 && *t < stopped),
        "accepted before the outage"
    );
    let recovered = answers
        .iter()
        .filter(|(t, s, _)| *s == 201 && *t > back)
        .map(|(t, _, _)| *t)
        .min()
        .expect("accepted again after PostgreSQL came back");
    assert!(
        recovered - back <= Duration::from_secs(5),
        "recovered {:?} after PostgreSQL came back",
        recovered - back
    );
    // Nothing 503 once recovered.
    assert!(
        !answers
            .iter()
            .any(|(t, s, _)| *s == 503 && *t > recovered + Duration::from_millis(500)),
        "503 again after recovering"
    );
    println!(
        "{} answers: {refused} were 503 with Retry-After; recovered {:?} after PostgreSQL came back",
        answers.len(),
        recovered - back
    );
    let acked = acked.lock().unwrap().clone();
    crate::crash::assert_all_stored_once(&db, &bind, &acked);
    service.kill().unwrap();
    service.wait().unwrap();
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}
