//! A real streaming replica: the test makes a private PostgreSQL primary (initdb, a free port),
//! copies it with `pg_basebackup -R` into a second private server that follows it, and runs
//! the service with `DATABASE_URL` on the primary and `DATABASE_READ_URL` on the replica.
//! Submissions are stored on the primary; reports are read from the replica (paused, it shows
//! the older numbers and says it is behind); stopped, reports come from the primary at once.

use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use serde_json::Value;

use crate::common::notice_codes;
use crate::pgfault::{Server, as_postgres, private_servers};

const YEAR_REPORT: &str = "/api/v1/reports/ikm?unit=unit-a&period=2026";

struct Client {
    http: reqwest::blocking::Client,
    base: String,
    admin: String,
}

impl Client {
    fn submit(&self, n: usize) {
        for _ in 0..n {
            let body = crate::common::submission("unit-a", [4; 9]);
            let answer = self
                .http
                .post(format!("{}/api/v1/responses", self.base))
                .bearer_auth(&self.admin)
                .json(&body)
                .send()
                .unwrap();
            assert_eq!(answer.status().as_u16(), 201);
        }
    }

    /// The year's report, and how long it took.
    fn report(&self) -> (Value, Duration) {
        let started = Instant::now();
        let answer = self
            .http
            .get(format!("{}{YEAR_REPORT}", self.base))
            .bearer_auth(&self.admin)
            .send()
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        (answer.json().unwrap(), started.elapsed())
    }

    /// The report once it counts `respondents`, within ten seconds.
    fn report_counting(&self, respondents: u64) -> Value {
        self.report_when(|r| r["respondents"] == respondents)
    }

    /// The first report that `settled` accepts, asked every 100 ms for up to 10 s (the last
    /// one asked, past that).
    fn report_when(&self, settled: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (report, _) = self.report();
            if settled(&report) || Instant::now() > deadline {
                return report;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn on(url: &str, sql: &str) {
    let mut conn = diesel::PgConnection::establish(url).unwrap();
    conn.batch_execute(sql).unwrap();
}

#[test]
fn reports_read_from_a_streaming_replica_and_from_the_primary_when_it_is_down() {
    if crate::common::quick_run_skips("this fault, process or browser test") {
        return;
    }
    let Some((bin, dir)) = private_servers() else {
        return;
    };
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (primary_port, replica_port) = (crate::crash::free_port(), crate::crash::free_port());
    let options = |port: u16| {
        format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c wal_level=replica -c hot_standby=on",
            dir.path().display()
        )
    };
    as_postgres(
        &bin,
        "initdb",
        &["-D", &path("primary"), "-A", "trust", "-U", "postgres"],
    );
    let primary = Server {
        bin: &bin,
        data: path("primary"),
        options: options(primary_port),
        log: path("primary.log"),
    };
    primary.start();
    // The replica: a base backup of the primary that streams from it (-R writes its
    // standby.signal and primary_conninfo).
    as_postgres(
        &bin,
        "pg_basebackup",
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &primary_port.to_string(),
            "-U",
            "postgres",
            "-D",
            &path("replica"),
            "-R",
            "-X",
            "stream",
        ],
    );
    let replica = Server {
        bin: &bin,
        data: path("replica"),
        options: options(replica_port),
        log: path("replica.log"),
    };
    replica.start();
    let primary_url = format!("postgres://postgres@127.0.0.1:{primary_port}/postgres");
    let replica_url = format!("postgres://postgres@127.0.0.1:{replica_port}/postgres");
    let bind = format!("127.0.0.1:{}", crate::crash::free_port());
    let admin = crate::crash::admin_key(&primary_url, &bind);
    let mut service = crate::crash::start_with(
        &primary_url,
        &bind,
        &[("DATABASE_READ_URL", replica_url.as_str())],
    );
    let client = Client {
        http: reqwest::blocking::Client::new(),
        base: format!("http://{bind}"),
        admin,
    };

    // Stored on the primary, then seen in reports once the replica has replayed them.
    client.submit(5);
    let report = client.report_counting(5);
    assert_eq!(report["respondents"], 5, "the replica caught up");
    assert!(!notice_codes(&report).contains(&"replica_behind".to_owned()));

    // The replica stops replaying: the primary takes five more, the reports (read from the
    // replica) still count five, and once it is more than five seconds behind they say so.
    on(&replica_url, "SELECT pg_wal_replay_pause()");
    client.submit(5);
    std::thread::sleep(Duration::from_secs(6));
    let (report, _) = client.report();
    assert_eq!(
        report["respondents"], 5,
        "the report was read from the paused replica"
    );
    assert!(
        notice_codes(&report).contains(&"replica_behind".to_owned()),
        "{}",
        report["notices"]
    );
    let behind = report["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "replica_behind")
        .unwrap();
    assert!(
        behind["id"].as_str().unwrap().contains("tertinggal"),
        "{behind}"
    );

    // Replaying again, it catches up and the notice goes: the count comes first, the notice
    // goes once the replica has replayed all it received (on a loaded machine a moment later).
    on(&replica_url, "SELECT pg_wal_replay_resume()");
    let behind = |r: &Value| notice_codes(r).contains(&"replica_behind".to_owned());
    let report = client.report_when(|r| r["respondents"] == 10 && !behind(r));
    assert_eq!(report["respondents"], 10);
    assert!(!behind(&report), "{}", report["notices"]);

    // The replica goes down: submissions go on, and reports come from the primary, each
    // within two seconds, counting everything.
    replica.stop();
    client.submit(3);
    for _ in 0..3 {
        let (report, took) = client.report();
        assert_eq!(report["respondents"], 13, "read from the primary");
        assert!(took < Duration::from_secs(2), "a report took {took:?}");
        assert!(!notice_codes(&report).contains(&"replica_behind".to_owned()));
    }
    // An export reads the same way.
    let csv = client
        .http
        .get(format!("{}{YEAR_REPORT}&format=csv", client.base))
        .bearer_auth(&client.admin)
        .send()
        .unwrap();
    assert_eq!(csv.status().as_u16(), 200);
    // Back up, the replica is used again once its rest is over.
    replica.start();
    client.submit(2);
    std::thread::sleep(Duration::from_secs(11));
    on(&replica_url, "SELECT pg_wal_replay_pause()");
    client.submit(1);
    std::thread::sleep(Duration::from_secs(6));
    let (report, _) = client.report();
    assert_eq!(
        report["respondents"], 15,
        "read from the replica again, paused after the first 15"
    );
    on(&replica_url, "SELECT pg_wal_replay_resume()");
    service.kill().unwrap();
    service.wait().unwrap();
}
