//! What every request handler shares: the database, the instruments, the settings and the clock.

use std::sync::{Arc, Mutex};

use chrono::{NaiveDateTime, Utc};

use crate::config::Settings;
use crate::db::Db;
use crate::instrument::Registry;

/// The source of "now" (UTC), replaceable so tests control time.
pub trait Clock: Send + Sync {
    /// The current UTC time.
    fn now(&self) -> NaiveDateTime;
}

/// The system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        Utc::now().naive_utc()
    }
}

/// The clock end-to-end tests replace from outside the process: "now" is the UTC time written
/// in a file (`2026-12-01 02:00:00`), read at every call; the system clock while the file is
/// missing or unreadable. Debug builds only (`KEPUASAN_TEST_CLOCK_FILE`): a release binary
/// always runs on the system clock.
#[cfg(debug_assertions)]
#[derive(Debug)]
pub struct FileClock(pub std::path::PathBuf);

#[cfg(debug_assertions)]
impl Clock for FileClock {
    fn now(&self) -> NaiveDateTime {
        std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|t| NaiveDateTime::parse_from_str(t.trim(), "%Y-%m-%d %H:%M:%S").ok())
            .unwrap_or_else(|| Utc::now().naive_utc())
    }
}

/// A clock that says what it is told (tests).
#[derive(Debug)]
pub struct FixedClock(pub Mutex<NaiveDateTime>);

impl FixedClock {
    /// A clock stopped at `at`.
    pub fn at(at: NaiveDateTime) -> FixedClock {
        FixedClock(Mutex::new(at))
    }

    /// Moves the clock.
    pub fn set(&self, at: NaiveDateTime) {
        *self.0.lock().expect("clock lock") = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> NaiveDateTime {
        *self.0.lock().expect("clock lock")
    }
}

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Instruments.
    pub registry: Arc<Registry>,
    /// Settings.
    pub settings: Arc<Settings>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Prometheus metrics.
    pub metrics: crate::metrics::Metrics,
    /// The group-commit writer; `None` when `KEPUASAN_GROUP_COMMIT=off`.
    pub writer: Option<crate::writer::Writer>,
    /// Keys, units and services as submissions look them up.
    pub directory: Arc<crate::directory::Directory>,
    /// Turns for heavy requests (imports, exports, long reports): `heavy_limit` at once.
    pub heavy: Arc<tokio::sync::Semaphore>,
    /// Arrivals in the last minute per client address (a keyed hash of it) and per kiosk key.
    pub windows: Arc<crate::abuse::Windows>,
    /// The keys of form tickets and address hashes.
    pub secrets: Arc<crate::abuse::Secrets>,
    /// The threads that check sign-in passwords, with their bounded queue.
    pub passwords: Arc<crate::domain::passwords::Checker>,
    /// Webhooks: stored responses are handed to their dispatcher, which runs once started
    /// (`serve`, and the tests).
    pub signals: Arc<crate::signals::Signals>,
}

impl AppState {
    /// Keeps the yearly partitions of responses made a year ahead (PostgreSQL): checked every
    /// six hours, in a thread of its own, for as long as the process runs.
    pub fn start_upkeep(&self) {
        let (db, clock) = (self.db.clone(), self.clock.clone());
        std::thread::Builder::new()
            .name("upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(6 * 3600));
                    match db.write_blocking(|conn| crate::db::partitions::ensure(conn, clock.now()))
                    {
                        Ok(made) if !made.is_empty() => tracing::info!(?made, "made partitions"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "could not make partitions"),
                    }
                }
            })
            .expect("a thread for upkeep");
    }

    /// Starts the webhook dispatcher on this state's database, instruments and clock.
    pub fn start_signals(&self) {
        let clock = self.clock.clone();
        self.signals.start(crate::signals::Context {
            db: self.db.clone(),
            registry: self.registry.clone(),
            rules: self.settings.flags,
            now: Arc::new(move || clock.now()),
            mail: self
                .settings
                .smtp_url
                .clone()
                .map(|url| crate::signals::Mail {
                    url,
                    from: self.settings.smtp_from.clone(),
                }),
            public_url: self.settings.public_url.clone(),
            allow: self.settings.webhook_allow.clone(),
        });
    }
}

impl AppState {
    /// A turn for heavy work, held until dropped. Waits up to `heavy_wait_seconds`; past that
    /// the request is answered 503 with `Retry-After`, so heavy requests queue rather than pile
    /// up in memory.
    pub async fn heavy_turn(&self) -> Result<HeavyTurn, crate::error::AppError> {
        let wait = std::time::Duration::from_secs(u64::from(self.settings.heavy_wait_seconds));
        match tokio::time::timeout(wait, self.heavy.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(HeavyTurn(permit)),
            _ => Err(crate::error::AppError::busy(
                "the server is busy with other imports, exports and long reports; retry shortly",
                5,
            )),
        }
    }
}

/// A turn for heavy work. When it ends, the memory the work freed is handed back to the system:
/// glibc keeps freed memory in per-thread arenas, and heavy work runs on whichever of the
/// blocking pool's threads is free, so without this every thread that once built an export
/// would keep its peak.
pub struct HeavyTurn(#[allow(dead_code)] tokio::sync::OwnedSemaphorePermit);

impl Drop for HeavyTurn {
    fn drop(&mut self) {
        release_freed_memory();
    }
}

/// Has every allocation of 1 MiB or more mapped on its own and unmapped when freed (glibc;
/// elsewhere nothing to do). Without it glibc raises that threshold after the first large
/// free, and then keeps large blocks in its per-thread arenas: argon2's 19 MiB a password
/// check, landing in whichever arena was free, held 8 arenas of 58 MiB after a sign-in flood.
pub fn map_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of glibc's allocator.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Returns freed heap memory of every arena to the system (glibc); elsewhere nothing to do.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas; it takes no pointer of ours.
    unsafe {
        libc::malloc_trim(0);
    }
}
