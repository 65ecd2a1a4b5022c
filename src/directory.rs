//! The directory a submission is checked against (keys, units, services), held in memory for
//! a few seconds so that a busy kiosk's submissions do not each ask the database who it is.
//!
//! Entries are loaded on first use and kept for `KEPUASAN_DIRECTORY_SECONDS` (default 2; 0
//! turns the cache off). A change made through this instance's API (a key revoked, a unit or
//! service closed, a time zone changed) clears the cache at once; a change made elsewhere (the
//! command line, another instance on the same PostgreSQL) takes effect within those seconds.
//! Only what exists is cached: an unknown key, unit or service is asked again every time, so
//! guessing cannot fill memory.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::db::Source;
use crate::db::queries::{self, ApiKey, Service, Unit};
use crate::error::AppError;

/// Most entries a table keeps before it starts afresh (a bound, never reached by real data).
const MAX_ENTRIES: usize = 100_000;

/// One table of the cache: values by key, each with when it was read.
struct Table<K, V>(Mutex<HashMap<K, (Instant, V)>>);

impl<K: Eq + Hash, V: Clone> Table<K, V> {
    fn new() -> Table<K, V> {
        Table(Mutex::new(HashMap::new()))
    }

    /// The value under `key`, read by `load` when absent or older than `ttl`.
    fn get(
        &self,
        key: K,
        ttl: Duration,
        load: impl FnOnce() -> Result<Option<V>, AppError>,
    ) -> Result<Option<V>, AppError> {
        if let Some((at, value)) = self.0.lock().expect("directory lock").get(&key)
            && at.elapsed() < ttl
        {
            return Ok(Some(value.clone()));
        }
        let value = load()?;
        if let Some(value) = &value
            && !ttl.is_zero()
        {
            let mut map = self.0.lock().expect("directory lock");
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, (Instant::now(), value.clone()));
        }
        Ok(value)
    }

    fn clear(&self) {
        self.0.lock().expect("directory lock").clear();
    }
}

/// Keys, units and services as submissions look them up.
pub struct Directory {
    ttl: Duration,
    keys: Table<String, ApiKey>,
    units: Table<String, Unit>,
    services: Table<(String, String), Service>,
    /// Last uses written down since a key was read, by key id.
    used: Mutex<HashMap<String, NaiveDateTime>>,
}

impl Directory {
    /// A directory that keeps what it reads for `ttl` (zero: reads every time).
    pub fn new(ttl: Duration) -> Directory {
        Directory {
            ttl,
            keys: Table::new(),
            units: Table::new(),
            services: Table::new(),
            used: Mutex::new(HashMap::new()),
        }
    }

    /// A directory that always asks the database (command-line tools, imports).
    pub fn uncached() -> Directory {
        Directory::new(Duration::ZERO)
    }

    /// The key whose secret hashes to `hash`, with its last use as far as this instance knows.
    pub fn key(&self, conn: &mut dyn Source, hash: &str) -> Result<Option<ApiKey>, AppError> {
        let key = self.keys.get(hash.to_owned(), self.ttl, || {
            queries::find_key_by_hash(conn.conn()?, hash)
        })?;
        Ok(key.map(|mut key| {
            if let Some(used) = self.used.lock().expect("directory lock").get(&key.id) {
                key.last_used_at = key.last_used_at.max(Some(*used));
            }
            key
        }))
    }

    /// Notes that a key's use at `at` was written down.
    pub fn used(&self, key_id: &str, at: NaiveDateTime) {
        let mut used = self.used.lock().expect("directory lock");
        if used.len() >= MAX_ENTRIES {
            used.clear();
        }
        used.insert(key_id.to_owned(), at);
    }

    /// The unit with `code`.
    pub fn unit(&self, conn: &mut dyn Source, code: &str) -> Result<Option<Unit>, AppError> {
        self.units.get(code.to_owned(), self.ttl, || {
            queries::find_unit(conn.conn()?, code)
        })
    }

    /// The service `code` of `unit`.
    pub fn service(
        &self,
        conn: &mut dyn Source,
        unit: &str,
        code: &str,
    ) -> Result<Option<Service>, AppError> {
        self.services
            .get((unit.to_owned(), code.to_owned()), self.ttl, || {
                queries::find_service(conn.conn()?, unit, code)
            })
    }

    /// The parent of the unit with `code`, if it has one.
    pub fn parent(&self, conn: &mut dyn Source, code: &str) -> Result<Option<String>, AppError> {
        Ok(self.unit(conn, code)?.and_then(|u| u.parent_code))
    }

    /// Forgets everything, after a change through this instance.
    pub fn forget(&self) {
        self.keys.clear();
        self.units.clear();
        self.services.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_keeps_values_for_their_time_and_never_keeps_absence() {
        let table: Table<&str, u32> = Table::new();
        let ttl = Duration::from_secs(60);
        assert_eq!(table.get("a", ttl, || Ok(Some(1))).unwrap(), Some(1));
        // Cached: the loader is not asked again.
        assert_eq!(
            table.get("a", ttl, || panic!("read again")).unwrap(),
            Some(1)
        );
        // Absence is asked every time.
        assert_eq!(table.get("b", ttl, || Ok(None)).unwrap(), None);
        assert_eq!(table.get("b", ttl, || Ok(Some(2))).unwrap(), Some(2));
        table.clear();
        assert_eq!(table.get("a", ttl, || Ok(Some(3))).unwrap(), Some(3));
    }

    #[test]
    fn a_zero_time_reads_every_time() {
        let table: Table<&str, u32> = Table::new();
        assert_eq!(
            table.get("a", Duration::ZERO, || Ok(Some(1))).unwrap(),
            Some(1)
        );
        assert_eq!(
            table.get("a", Duration::ZERO, || Ok(Some(2))).unwrap(),
            Some(2)
        );
    }

    #[test]
    fn an_expired_value_is_read_again() {
        let table: Table<&str, u32> = Table::new();
        let ttl = Duration::from_millis(20);
        assert_eq!(table.get("a", ttl, || Ok(Some(1))).unwrap(), Some(1));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(table.get("a", ttl, || Ok(Some(2))).unwrap(), Some(2));
    }
}
