//! PostgreSQL stopped under load and started again: a private PostgreSQL server of the test's
//! own (initdb in a temporary directory, a free port) is stopped with `pg_ctl stop -m
//! immediate` while clients submit, and started again three seconds later. While it is down
//! the service answers 503 with Retry-After and nothing else; it recovers by itself within
//! five seconds of the database's return; every acknowledged response is stored, once.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::skip;

/// The directory of PostgreSQL's server programs, if installed.
pub(crate) fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists() && p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

/// Runs a PostgreSQL program as the `postgres` user (the server refuses to run as root).
pub(crate) fn as_postgres(bin: &Path, program: &str, args: &[&str]) -> std::process::Output {
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

pub(crate) struct Server<'a> {
    pub(crate) bin: &'a Path,
    pub(crate) data: String,
    pub(crate) options: String,
    pub(crate) log: String,
}

impl Server<'_> {
    pub(crate) fn start(&self) {
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

    pub(crate) fn stop(&self) {
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

/// PostgreSQL's server programs and a temporary directory the `postgres` user owns, for the
/// test's private servers; `None` (the test skipped) when the programs are not installed.
pub(crate) fn private_servers() -> Option<(PathBuf, tempfile::TempDir)> {
    let Some(bin) = pg_bin() else {
        skip("PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup) are not installed");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let chown = Command::new("chown")
        .args(["-R", "postgres"])
        .arg(dir.path())
        .status();
    assert!(chown.is_ok_and(|s| s.success()) || !is_root());
    Some((bin, dir))
}

#[test]
fn postgres_stopped_under_load_gives_503_then_recovers_by_itself() {
    if crate::common::quick_run_skips("this fault, process or browser test") {
        return;
    }
    let Some((bin, dir)) = private_servers() else {
        return;
    };
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

    let load = crate::crash::Load::start(&bind, &admin, 2);
    std::thread::sleep(Duration::from_secs(3));
    server.stop();
    let stopped = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    server.start();
    let back = Instant::now();
    // Six seconds more of load after the restart, then stop.
    std::thread::sleep(Duration::from_secs(6));
    let (acked, answers) = load.finish();
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
    crate::crash::assert_all_stored_once(&db, &bind, &acked);
    service.kill().unwrap();
    service.wait().unwrap();
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}
