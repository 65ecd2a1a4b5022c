//! The submission load benchmark: starts the real server (release build) on a fresh database,
//! sends submissions with unique ids from many keep-alive connections for a bounded time, then
//! looks every acknowledged id up in the database. It runs with group commit on and off in the
//! same run and prints throughput, latency percentiles, the server's peak memory, and the ratio.
//!
//! cargo bench --bench load -- [--seconds 10] [--connections 64] [--backend sqlite|postgres]
//!
//! Only loopback addresses are used; every loop is bounded by the deadline.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

struct Args {
    seconds: u64,
    connections: usize,
    backend: String,
}

fn args() -> Args {
    let mut out = Args {
        seconds: 10,
        connections: 64,
        backend: "sqlite".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                out.seconds = it.next().and_then(|v| v.parse().ok()).expect("--seconds N")
            }
            "--connections" => {
                out.connections = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--connections N")
            }
            "--backend" => out.backend = it.next().expect("--backend sqlite|postgres"),
            // cargo bench passes --bench; ignore what is not ours.
            _ => {}
        }
    }
    assert!(
        out.seconds <= 600 && out.connections <= 512,
        "bounded runs only"
    );
    out
}

/// A keep-alive HTTP/1.1 connection that sends one POST at a time: a load generator that
/// costs far less CPU than the server it measures (both share the machine).
struct Connection {
    stream: std::io::BufReader<std::net::TcpStream>,
}

impl Connection {
    fn open(bind: &str) -> Connection {
        let stream = std::net::TcpStream::connect(bind).expect("connect");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Connection {
            stream: std::io::BufReader::new(stream),
        }
    }

    /// The status of a POST, or `None` when the connection broke.
    fn post(&mut self, path: &str, key: &str, body: &str) -> Option<u16> {
        use std::io::{BufRead, Read, Write};
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: load\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream.get_mut().write_all(request.as_bytes()).ok()?;
        let mut line = String::new();
        self.stream.read_line(&mut line).ok()?;
        let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).ok()?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().ok()?;
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).ok()?;
        Some(status)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh database URL for the backend, and how to drop it.
fn database(backend: &str, dir: &std::path::Path, name: &str) -> (String, Option<String>) {
    match backend {
        "sqlite" => (
            dir.join(format!("{name}.db")).to_str().unwrap().to_owned(),
            None,
        ),
        "postgres" => {
            let base = std::env::var("TEST_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let db = format!("kepuasan_load_{name}_{}", std::process::id());
            admin_sql(&base, &format!("CREATE DATABASE {db}"));
            // Start from a checkpoint: otherwise the server may still be writing out the
            // previous run's pages (dropping a database checkpoints too), and this run's
            // commits would wait on the disk behind them.
            admin_sql(&base, "CHECKPOINT");
            let (address, options) = base.split_once('?').unwrap_or((&base, ""));
            let root = address.rsplit_once('/').unwrap().0;
            let options = if options.is_empty() {
                String::new()
            } else {
                format!("?{options}")
            };
            (format!("{root}/{db}{options}"), Some(db))
        }
        other => panic!("unknown backend {other}"),
    }
}

/// Runs a statement on PostgreSQL's administrative database.
fn admin_sql(base: &str, sql: &str) {
    use diesel::{Connection, RunQueryDsl};
    let mut conn = diesel::PgConnection::establish(base).expect("PostgreSQL is reachable");
    diesel::sql_query(sql).execute(&mut conn).expect(sql);
}

fn cli(db: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kepuasan"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("KEPUASAN_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kepuasan {args:?} on {db}: {} {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn start(db: &str, bind: &str, group_commit: bool) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_kepuasan"))
        .arg("serve")
        .env("DATABASE_URL", db)
        .env("KEPUASAN_BIND", bind)
        .env(
            "KEPUASAN_GROUP_COMMIT",
            if group_commit { "on" } else { "off" },
        )
        .env("RUST_LOG", "warn")
        .env_remove("KEPUASAN_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = reqwest::blocking::Client::new();
    while client.get(format!("http://{bind}/healthz")).send().is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// Peak resident memory of a process in MiB (VmHWM).
fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

struct Outcome {
    acked: Vec<String>,
    latencies_ms: Vec<f64>,
    errors: usize,
    elapsed: f64,
    peak_mib: f64,
}

fn run(args: &Args, group_commit: bool, dir: &std::path::Path) -> Outcome {
    let name = if group_commit { "group" } else { "single" };
    let (db, pg_name) = database(&args.backend, dir, name);
    let kiosk = cli(
        &db,
        &[
            "units",
            "add",
            "mpp",
            "--name",
            "MPP Beban",
            "--timezone",
            "Asia/Jakarta",
        ],
    );
    drop(kiosk);
    let key = cli(&db, &["keys", "create", "--role", "kiosk", "--unit", "mpp"])
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let bind = format!("127.0.0.1:{}", free_port());
    let mut server = start(&db, &bind, group_commit);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let acked = Arc::new(Mutex::new(Vec::new()));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(Mutex::new(0usize));
    let started = Instant::now();
    std::thread::scope(|s| {
        for worker in 0..args.connections {
            let (acked, latencies, errors) = (acked.clone(), latencies.clone(), errors.clone());
            let (bind, key) = (bind.clone(), key.clone());
            s.spawn(move || {
                let mut conn = Connection::open(&bind);
                let (mut mine, mut times, mut failed) = (Vec::new(), Vec::new(), 0);
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let id = uuid::Uuid::new_v4().to_string();
                    let v = 1 + ((worker as u64 + n) % 4) as i64;
                    let body = json!({
                        "submission_id": id, "unit": "mpp", "instrument": "skm-2017", "channel": "kiosk",
                        "answers": {"U1": v, "U2": 3, "U3": v, "U4": 4, "U5": 3, "U6": v, "U7": 4, "U8": 3, "U9": v},
                    });
                    let t = Instant::now();
                    match conn.post("/api/v1/responses", &key, &body.to_string()) {
                        Some(201) => {
                            times.push(t.elapsed().as_secs_f64() * 1000.0);
                            mine.push(id);
                        }
                        Some(_) => failed += 1,
                        None => {
                            failed += 1;
                            conn = Connection::open(&bind);
                        }
                    }
                }
                acked.lock().unwrap().extend(mine);
                latencies.lock().unwrap().extend(times);
                *errors.lock().unwrap() += failed;
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let peak_mib = peak_rss_mib(server.id());
    server.kill().unwrap();
    server.wait().unwrap();
    // Every acknowledged id is in the database, exactly once.
    let acked = Arc::try_unwrap(acked).unwrap().into_inner().unwrap();
    let state = kepuasan::db::Db::open(&db).expect("open the database");
    let stored = state
        .read_blocking(kepuasan::db::queries::count_responses)
        .unwrap();
    assert_eq!(
        stored as usize,
        acked.len(),
        "stored rows = acknowledged submissions"
    );
    for chunk in acked.chunks(1000) {
        let ids: Vec<String> = chunk.to_vec();
        let missing = state
            .read_blocking(move |c| {
                let mut missing = 0;
                for id in &ids {
                    if kepuasan::db::queries::find_content_hash(c, id)?.is_none() {
                        missing += 1;
                    }
                }
                Ok(missing)
            })
            .unwrap();
        assert_eq!(missing, 0, "an acknowledged submission is missing");
    }
    drop(state);
    if let Some(name) = pg_name {
        let base = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        admin_sql(&base, &format!("DROP DATABASE {name} WITH (FORCE)"));
    }
    let latencies_ms = Arc::try_unwrap(latencies).unwrap().into_inner().unwrap();
    let errors = *errors.lock().unwrap();
    Outcome {
        acked,
        latencies_ms,
        errors,
        elapsed,
        peak_mib,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let args = args();
    let dir = tempfile::tempdir().unwrap();
    println!(
        "load: {} s, {} connections, {} backend, unique submission ids, every acknowledged id checked",
        args.seconds, args.connections, args.backend
    );
    let mut rates = Vec::new();
    for group_commit in [true, false] {
        let mut o = run(&args, group_commit, dir.path());
        o.latencies_ms.sort_by(f64::total_cmp);
        let rate = o.acked.len() as f64 / o.elapsed;
        rates.push(rate);
        println!(
            "{:<22} {:>8} acknowledged  {:>9.0}/s  p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>7.1} ms  errors {}  server peak RSS {:.1} MiB",
            if group_commit {
                "group commit"
            } else {
                "commit per request"
            },
            o.acked.len(),
            rate,
            percentile(&o.latencies_ms, 0.50),
            percentile(&o.latencies_ms, 0.99),
            o.latencies_ms.last().copied().unwrap_or(f64::NAN),
            o.errors,
            o.peak_mib,
        );
    }
    println!("ratio group / per-request: {:.2}", rates[0] / rates[1]);
}
