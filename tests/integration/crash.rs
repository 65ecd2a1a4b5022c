//! The real server process killed with SIGKILL while clients submit, 20 rounds, and stopped
//! with SIGTERM: every acknowledged response is there after the restarts, none twice, and the
//! tallies equal a rebuild from the rows.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn kepuasan(db: &str, bind: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kepuasan"));
    cmd.env("DATABASE_URL", db)
        .env("KEPUASAN_BIND", bind)
        .env("KEPUASAN_PUBLIC_URL", format!("http://{bind}"))
        .env("RUST_LOG", "warn")
        .env_remove("KEPUASAN_CONFIG");
    cmd
}

pub(crate) fn start(db: &str, bind: &str) -> Child {
    start_with(db, bind, &[])
}

/// [`start`] with more environment (a read replica's URL).
pub(crate) fn start_with(db: &str, bind: &str, more: &[(&str, &str)]) -> Child {
    let child = kepuasan(db, bind)
        .envs(more.iter().copied())
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    up(child, bind)
}

/// A server process once it answers `/healthz` at `bind` (killed, and the test failed, when it
/// does not within 20 s).
pub(crate) fn up(mut child: Child, bind: &str) -> Child {
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if client
            .get(format!("http://{bind}/healthz"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start on {bind}");
}

/// An admin key and a unit `unit-a`, made with the command line; returns the key.
pub(crate) fn admin_key(db: &str, bind: &str) -> String {
    let out = kepuasan(db, bind)
        .args(["keys", "create", "--role", "admin", "--name", "crash test"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let admin = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let out = kepuasan(db, bind)
        .args(["units", "add", "unit-a", "--name", "Unit A"])
        .output()
        .unwrap();
    assert!(out.status.success());
    admin
}

/// Every acknowledged id of unit-a is stored, none twice, and the stored tallies equal a
/// rebuild from the rows; returns how many responses are stored.
pub(crate) fn assert_all_stored_once(db: &str, bind: &str, acked: &[String]) -> usize {
    let state = kepuasan::server::system_state(kepuasan::config::Settings {
        database_url: db.to_owned(),
        bind: bind.to_owned(),
        survey_defs: None,
        ..Default::default()
    })
    .unwrap();
    let rows = state
        .db
        .read_blocking(|c| {
            kepuasan::db::queries::responses_between(
                c,
                "unit-a",
                (
                    crate::common::at("2000-01-01 00:00:00"),
                    crate::common::at("2100-01-01 00:00:00"),
                ),
                None,
                i64::MAX,
            )
        })
        .unwrap();
    let stored: std::collections::HashSet<&str> =
        rows.iter().map(|r| r.submission_id.as_str()).collect();
    assert_eq!(stored.len(), rows.len(), "no submission stored twice");
    // Where each lost one stood among the acknowledgements (1 = first): the last few would
    // point at the moment of the fault, earlier ones at something else.
    let lost: Vec<(usize, &String)> = acked
        .iter()
        .enumerate()
        .filter(|(_, id)| !stored.contains(id.as_str()))
        .map(|(i, id)| (i + 1, id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged responses lost (their places in the order acknowledged, and ids): {:?}",
        lost.len(),
        acked.len(),
        lost
    );
    let written = state.db.read_blocking(kepuasan::tallies::dump).unwrap();
    let respondents: u64 = written
        .iter()
        // Each response once, in its unit's own day row.
        .filter(|(key, _)| key[1] == "own" && key[3].len() == 10)
        .map(|(_, bucket)| bucket.tally.respondents)
        .sum();
    assert_eq!(
        respondents,
        rows.len() as u64,
        "the tallies count every row once"
    );
    state
        .db
        .write_blocking(|c| kepuasan::tallies::rebuild(c, &state.registry, None))
        .unwrap();
    let rebuilt = state.db.read_blocking(kepuasan::tallies::dump).unwrap();
    assert!(
        written == rebuilt,
        "the tallies equal a rebuild from the rows"
    );
    rows.len()
}

/// What one request got: when it was answered, its status, whether it said Retry-After.
pub(crate) type Answer = (Instant, u16, bool);

/// Clients submitting to unit-a while a fault is made, each until told to stop (at most 90 s
/// or 50,000 submissions). A refused submission is retried after a short pause, as
/// Retry-After asks, with a new id: every answer is recorded.
pub(crate) struct Load {
    pub acked: Arc<Mutex<Vec<String>>>,
    pub answers: Arc<Mutex<Vec<Answer>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    clients: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    pub(crate) fn start(bind: &str, admin: &str, clients: usize) -> Load {
        let started = Instant::now();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(Vec::new()));
        let clients = (0..clients)
            .map(|_| {
                let (stop, acked, answers) = (stop.clone(), acked.clone(), answers.clone());
                let (bind, admin) = (bind.to_owned(), admin.to_owned());
                std::thread::spawn(move || {
                    let client = reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(15))
                        .build()
                        .unwrap();
                    for _ in 0..50_000 {
                        if stop.load(std::sync::atomic::Ordering::Relaxed)
                            || started.elapsed() > Duration::from_secs(90)
                        {
                            break;
                        }
                        let id = uuid::Uuid::new_v4().to_string();
                        let body = json!({"submission_id": id, "unit": "unit-a", "instrument": "skm-2017", "channel": "kiosk",
                            "suggestion": "Ruang tunggu nyaman, petugas ramah, antrean tertib dan cepat.",
                            "profile": {"gender": "P", "age": 34, "education": "S1", "occupation": "Swasta"},
                            "answers": {"U1": 4, "U2": 3, "U3": 3, "U4": 4, "U5": 4, "U6": 4, "U7": 4, "U8": 3, "U9": 3}});
                        let r = client
                            .post(format!("http://{bind}/api/v1/responses"))
                            .bearer_auth(&admin)
                            .json(&body)
                            .send()
                            .expect("the service answers during the fault");
                        let status = r.status().as_u16();
                        let retry = r.headers().contains_key("retry-after");
                        answers.lock().unwrap().push((Instant::now(), status, retry));
                        if status == 201 {
                            acked.lock().unwrap().push(id);
                        } else {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                })
            })
            .collect();
        Load {
            acked,
            answers,
            stop,
            clients,
        }
    }

    /// Stops the clients; returns the acknowledged ids and every answer, having checked that
    /// each answer was a 201 or a 503 with Retry-After.
    pub(crate) fn finish(self) -> (Vec<String>, Vec<Answer>) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for c in self.clients {
            c.join().unwrap();
        }
        let answers = self.answers.lock().unwrap().clone();
        let odd: Vec<&Answer> = answers
            .iter()
            .filter(|(_, s, retry)| !(*s == 201 || (*s == 503 && *retry)))
            .collect();
        assert!(odd.is_empty(), "only 201, or 503 with Retry-After: {odd:?}");
        let acked = self.acked.lock().unwrap().clone();
        (acked, answers)
    }
}

#[test]
fn every_acknowledged_response_survives_twenty_sigkills_under_load() {
    if crate::common::quick_run_skips("this fault, process or browser test") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db").to_str().unwrap().to_owned();
    let bind = format!("127.0.0.1:{}", free_port());
    let admin = admin_key(&db, &bind);

    // KEPUASAN_SIGKILL_ROUNDS rounds (default 20): load, SIGKILL, restart, load again.
    let rounds: usize = std::env::var("KEPUASAN_SIGKILL_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    for round in 0..rounds {
        let mut server = start(&db, &bind);
        let before = acked.lock().unwrap().len();
        let started = Instant::now();
        let clients: Vec<_> = (0..4)
            .map(|_| {
                let (acked, bind, admin) = (acked.clone(), bind.clone(), admin.clone());
                std::thread::spawn(move || {
                    let client = reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(2))
                        .build()
                        .unwrap();
                    // Bounded: at most 2,000 submissions or 10 seconds per client and round.
                    for _ in 0..2000 {
                        if started.elapsed() > Duration::from_secs(10) {
                            break;
                        }
                        let id = uuid::Uuid::new_v4().to_string();
                        let body = json!({"submission_id": id, "unit": "unit-a", "instrument": "skm-2017", "channel": "kiosk",
                            "answers": {"U1": 4, "U2": 3, "U3": 3, "U4": 4, "U5": 4, "U6": 4, "U7": 4, "U8": 3, "U9": 3}});
                        match client
                            .post(format!("http://{bind}/api/v1/responses"))
                            .bearer_auth(&admin)
                            .json(&body)
                            .send()
                        {
                            Ok(r) if r.status().as_u16() == 201 => acked.lock().unwrap().push(id),
                            Ok(r) => panic!("unexpected status {}", r.status()),
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        // Kill once a good number of responses have been acknowledged (or after 3 s).
        while acked.lock().unwrap().len() < before + 100
            && started.elapsed() < Duration::from_secs(3)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        for c in clients {
            c.join().unwrap();
        }
        let now = acked.lock().unwrap().len();
        assert!(
            now >= before + 20,
            "round {round}: only {} acknowledged before the kill",
            now - before
        );
    }
    let acked = acked.lock().unwrap().clone();

    let mut server = start(&db, &bind);
    assert_all_stored_once(&db, &bind, &acked);
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn sigterm_drains_the_queue_then_exits_cleanly() {
    if crate::common::quick_run_skips("this fault, process or browser test") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("term.db").to_str().unwrap().to_owned();
    let bind = format!("127.0.0.1:{}", free_port());
    let admin = admin_key(&db, &bind);
    let mut server = start(&db, &bind);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (acked, bind, admin) = (acked.clone(), bind.clone(), admin.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap();
                // Bounded: at most 1,000 submissions or 10 seconds per client.
                for _ in 0..1000 {
                    if started.elapsed() > Duration::from_secs(10) {
                        break;
                    }
                    let id = uuid::Uuid::new_v4().to_string();
                    let body = json!({"submission_id": id, "unit": "unit-a", "instrument": "skm-2017", "channel": "kiosk",
                        "answers": {"U1": 4, "U2": 3, "U3": 3, "U4": 4, "U5": 4, "U6": 4, "U7": 4, "U8": 3, "U9": 3}});
                    match client
                        .post(format!("http://{bind}/api/v1/responses"))
                        .bearer_auth(&admin)
                        .json(&body)
                        .send()
                    {
                        Ok(r) if r.status().as_u16() == 201 => acked.lock().unwrap().push(id),
                        _ => break,
                    }
                }
            })
        })
        .collect();
    while acked.lock().unwrap().len() < 200 && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let term = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    // actix stops accepting, lets in-flight requests finish (up to 10 s), then exits.
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    for c in clients {
        c.join().unwrap();
    }
    assert!(status.success(), "exit after SIGTERM: {status}");
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 50, "only {} acknowledged", acked.len());
    // A request in flight when the connection closed may be stored without its answer having
    // reached the client (its retry, with the same id, is then a repeat): at most one per client.
    let stored = assert_all_stored_once(&db, &bind, &acked);
    assert!(
        stored - acked.len() <= 8,
        "{stored} stored, {} acknowledged by 8 clients",
        acked.len()
    );
}
