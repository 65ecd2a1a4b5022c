//! The SQLite file on a small file system of the test's own (a tmpfs mounted for it) that fills
//! up under load and is then given room, twice. While the disk is full the service answers
//! 503 with Retry-After and nothing else; it recovers by itself once it can write; every
//! acknowledged response is stored once, and the tallies equal a rebuild from the rows, so
//! nothing was half written. (A file system cannot be turned read-only under a process that
//! has the file open for writing, so the read-only case is not exercised here.)

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::common::skip;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Mount(std::path::PathBuf);

impl Mount {
    fn new(at: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .ok()?
            .success()
            .then(|| Mount(at.to_owned()))
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "remount {options}");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

use crate::crash::Answer;

/// Waits until a submission made after `since` was accepted (at most `limit`); returns when.
fn accepted_after(answers: &Mutex<Vec<Answer>>, since: Instant, limit: Duration) -> Instant {
    let deadline = since + limit;
    loop {
        if let Some(t) = answers
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, s, _)| *s == 201 && *t > since)
            .map(|(t, _, _)| *t)
            .min()
        {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "not accepting again within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the service refuses a submission made after `since` (at most `limit`).
fn refused_after(answers: &Mutex<Vec<Answer>>, since: Instant, limit: Duration) {
    let deadline = since + limit;
    while !answers
        .lock()
        .unwrap()
        .iter()
        .any(|(t, s, _)| *s == 503 && *t > since)
    {
        assert!(Instant::now() < deadline, "no 503 within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_full_disk_gives_503_then_recovers_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mount) = Mount::new(&dir.path().join("small"), "3m") else {
        skip("mounting a small tmpfs needs root (CAP_SYS_ADMIN)");
        return;
    };
    let db = mount.0.join("disk.db").to_str().unwrap().to_owned();
    let bind = format!("127.0.0.1:{}", crate::crash::free_port());
    let admin = crate::crash::admin_key(&db, &bind);
    let mut service = crate::crash::start(&db, &bind);

    let started = Instant::now();
    let load = crate::crash::Load::start(&bind, &admin, 2);
    let (acked, answers) = (&load.acked, &load.answers);
    // The 3 MiB file system fills up.
    refused_after(answers, started, Duration::from_secs(60));
    let full = acked.lock().unwrap().len();
    // Room again: accepting within 5 s, by itself.
    let roomy = Instant::now();
    mount.remount("size=4m");
    let back = accepted_after(answers, roomy, Duration::from_secs(5));
    // Full again at 4 MiB, then room once more.
    let refill = Instant::now();
    refused_after(answers, refill, Duration::from_secs(60));
    let thawed = Instant::now();
    mount.remount("size=64m");
    let back_rw = accepted_after(answers, thawed, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(500));
    let (acked, answers) = load.finish();
    let refused = answers.iter().filter(|(_, s, _)| *s == 503).count();
    println!(
        "{} answers, {refused} refused with 503; {full} accepted before the disk was full; \
         accepting again {:?} and {:?} after room was made",
        answers.len(),
        back - roomy,
        back_rw - thawed
    );
    crate::crash::assert_all_stored_once(&db, &bind, &acked);
    service.kill().unwrap();
    service.wait().unwrap();
}
