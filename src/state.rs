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
}
