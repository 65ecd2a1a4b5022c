//! Three instances of the real server on one PostgreSQL database, clients spread across them
//! by a small round-robin proxy, one instance killed with SIGKILL under load: every
//! acknowledged response is stored once, every receipt token is spent once, and the tallies
//! equal a rebuild from the rows.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::PgDatabase;

/// A TCP proxy handing each new connection to the next instance that accepts it.
struct Proxy {
    bind: String,
    stop: Arc<AtomicBool>,
    accepting: std::thread::JoinHandle<()>,
}

impl Proxy {
    fn start(instances: Vec<String>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let bind = listener.local_addr().unwrap().to_string();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let next = AtomicUsize::new(0);
        let flag = stop.clone();
        let accepting = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let client = match listener.accept() {
                    Ok((client, _)) => client,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(2));
                        continue;
                    }
                };
                client.set_nonblocking(false).unwrap();
                // The next instance that takes the connection; a dead one refuses at once.
                let server = (0..instances.len()).find_map(|_| {
                    let i = next.fetch_add(1, Ordering::Relaxed) % instances.len();
                    TcpStream::connect(&instances[i]).ok()
                });
                let Some(server) = server else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16 * 1024];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                        let _ = from.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Proxy {
            bind,
            stop,
            accepting,
        }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.accepting.join().unwrap();
    }
}

/// What the clients were told: (submission id, token if any) -> the final status.
type Outcomes = Arc<Mutex<BTreeMap<String, (Option<String>, u16)>>>;

/// Posts one submission until it gets an answer, resending the same id after a dropped
/// connection (as a kiosk does): at most 20 tries.
fn submit(client: &reqwest::blocking::Client, url: &str, admin: &str, body: &Value) -> u16 {
    for _ in 0..20 {
        match client.post(url).bearer_auth(admin).json(body).send() {
            Ok(answer) if answer.status().as_u16() == 503 => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Ok(answer) => return answer.status().as_u16(),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    panic!("no answer for {body} after 20 tries");
}

#[test]
fn three_instances_one_killed_under_load_store_and_spend_everything_once() {
    if crate::common::quick_run_skips("this fault, process or browser test") {
        return;
    }
    let Some(db) = PgDatabase::create() else {
        return;
    };
    let binds: Vec<String> = (0..3)
        .map(|_| format!("127.0.0.1:{}", crate::crash::free_port()))
        .collect();
    let admin = crate::crash::admin_key(&db.url, &binds[0]);
    let mut instances: Vec<_> = binds
        .iter()
        .map(|b| crate::crash::start(&db.url, b))
        .collect();
    let proxy = Proxy::start(binds.clone());
    let base = format!("http://{}", proxy.bind);
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    // 40 receipt tokens, each of which two clients will try to spend.
    let tokens: Vec<String> = (0..40)
        .map(|_| {
            let answer: Value = http
                .post(format!("{base}/api/v1/units/unit-a/receipt-tokens"))
                .bearer_auth(&admin)
                .json(&json!({}))
                .send()
                .unwrap()
                .json()
                .unwrap();
            answer["token"].as_str().expect("a token").to_owned()
        })
        .collect();

    // Six clients for eight seconds at most (and 5,000 submissions each); one instance is
    // killed after three.
    let outcomes: Outcomes = Arc::default();
    let started = Instant::now();
    let clients: Vec<_> = (0..6)
        .map(|c| {
            let (outcomes, tokens, admin) = (outcomes.clone(), tokens.clone(), admin.clone());
            let url = format!("{base}/api/v1/responses");
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                for n in 0..5_000 {
                    if started.elapsed() > Duration::from_secs(8) {
                        break;
                    }
                    let id = uuid::Uuid::new_v4().to_string();
                    let mut body = crate::common::submission("unit-a", [1 + (n % 4); 9]);
                    body["submission_id"] = json!(id);
                    // Every fourth submission spends a receipt: clients c and c + 3 the same
                    // ones, at about the same time.
                    let token = (n % 4 == 0)
                        .then_some(n as usize / 4)
                        .filter(|k| *k < 13)
                        .map(|k| tokens[(c % 3) * 13 + k].clone());
                    if let Some(token) = &token {
                        body["token"] = json!(token);
                        body["channel"] = json!("qr");
                    }
                    let status = submit(&http, &url, &admin, &body);
                    outcomes.lock().unwrap().insert(id, (token, status));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    instances[1].kill().unwrap();
    instances[1].wait().unwrap();
    for c in clients {
        c.join().unwrap();
    }
    proxy.stop();

    let outcomes = outcomes.lock().unwrap().clone();
    let odd: Vec<_> = outcomes
        .iter()
        .filter(|(_, (token, status))| {
            !(*status == 201 || *status == 200 || (token.is_some() && *status == 409))
        })
        .collect();
    assert!(
        odd.is_empty(),
        "only 201, 200 for a resent id, 409 for a spent receipt: {odd:?}"
    );
    let acked: Vec<String> = outcomes
        .iter()
        .filter(|(_, (_, s))| *s == 201 || *s == 200)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(acked.len() > 100, "load went through: {}", acked.len());
    // Every acknowledged response once, nothing else, and tallies equal to a rebuild.
    let stored = crate::crash::assert_all_stored_once(&db.url, &binds[0], &acked);
    assert_eq!(
        stored,
        acked.len(),
        "nothing stored that was not acknowledged"
    );
    // Each receipt spent at most once, and by the response acknowledged for it.
    let mut spent: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, (token, status)) in &outcomes {
        if let (Some(token), 201 | 200) = (token, status) {
            spent.entry(token.as_str()).or_default().push(id.as_str());
        }
    }
    assert!(!spent.is_empty(), "receipts were spent");
    let twice: Vec<_> = spent.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(twice.is_empty(), "receipts accepted twice: {twice:?}");
    let refused: BTreeSet<&str> = outcomes
        .values()
        .filter(|(_, s)| *s == 409)
        .filter_map(|(t, _)| t.as_deref())
        .collect();
    assert!(
        refused.iter().all(|t| spent.contains_key(t)),
        "a receipt refused as spent was spent by an acknowledged response"
    );
    println!(
        "{} submissions: {} acknowledged, {} receipts spent, {} refused as spent",
        outcomes.len(),
        acked.len(),
        spent.len(),
        outcomes.values().filter(|(_, s)| *s == 409).count()
    );
    for mut instance in instances {
        let _ = instance.kill();
        let _ = instance.wait();
    }
}
