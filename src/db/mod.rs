//! Storage: the backend chosen from `DATABASE_URL`, connection pools, embedded migrations, and
//! [`Db::read`]/[`Db::write`], which run blocking diesel work off the async workers.
//!
//! SQLite (bundled, WAL, synchronous=FULL so an acknowledged response survives a power cut) is
//! the default and has one writer connection, because SQLite admits
//! one writer at a time and a queue in front of it beats lock contention. PostgreSQL shares
//! one pool for reads and writes, and may have a streaming replica (`DATABASE_READ_URL`) that
//! reports read from ([`Db::read_report`]), falling back to the primary when it is down.

pub mod partitions;
pub mod queries;
pub mod schema;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend. PostgreSQL is listed first so that diesel's own
/// guessing, were it ever used, would not pick SQLite for a URL; we never let it guess.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL.
    Postgres(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

/// Where checks get a database connection when, and only when, they need one.
pub trait Source {
    /// The connection, or why there is none.
    fn conn(&mut self) -> Result<&mut DbConn, AppError>;
}

impl Source for DbConn {
    fn conn(&mut self) -> Result<&mut DbConn, AppError> {
        Ok(self)
    }
}

/// No connection: work that needs the database stops with [`AppError::needs_database`], and
/// the caller runs it again on a pooled connection. Checks that the in-memory directory can
/// answer thus never leave the async worker.
pub struct Offline;

impl Source for Offline {
    fn conn(&mut self) -> Result<&mut DbConn, AppError> {
        Err(AppError::needs_database())
    }
}

/// A connection taken from a pool and kept.
pub type HeldConnection = diesel::r2d2::PooledConnection<ConnManager>;

/// The backend a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbKind {
    /// A SQLite file path.
    Sqlite(String),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl DbKind {
    /// Chooses the backend from the URL's scheme; never guesses.
    pub fn from_url(url: &str) -> Result<DbKind, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbKind::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(DbKind::Sqlite(path.to_owned()));
        }
        if url.contains("://") {
            return Err(format!(
                "DATABASE_URL: unsupported scheme in `{}`; use a SQLite file path, sqlite://PATH or postgres://",
                redact(url)
            ));
        }
        if url.is_empty() {
            return Err("DATABASE_URL: empty".to_owned());
        }
        Ok(DbKind::Sqlite(url.to_owned()))
    }

    fn connect(&self) -> Result<DbConn, ConnectionError> {
        match self {
            DbKind::Sqlite(path) => SqliteConnection::establish(path).map(DbConn::Sqlite),
            DbKind::Postgres(url) => PgConnection::establish(url).map(DbConn::Postgres),
        }
    }
}

/// A URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// r2d2 manager that builds exactly the configured variant.
#[derive(Debug, Clone)]
pub struct ConnManager(DbKind);

impl ManageConnection for ConnManager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, diesel::r2d2::Error> {
        self.0
            .connect()
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// A connection whose transaction state diesel found broken (a failed rollback, a lost
    /// connection inside a transaction) is dropped rather than handed out again.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::r2d2::R2D2Connection;
        match conn {
            DbConn::Sqlite(c) => c.is_broken(),
            DbConn::Postgres(c) => c.is_broken(),
        }
    }
}

/// Per-connection settings: SQLite PRAGMAs, each its own statement and in this order.
#[derive(Debug)]
struct Customizer;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for Customizer {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        let statements: &[&str] = match conn {
            DbConn::Sqlite(_) => &[
                "PRAGMA busy_timeout = 5000",
                "PRAGMA foreign_keys = ON",
                "PRAGMA synchronous = FULL",
            ],
            DbConn::Postgres(_) => &[
                "SET application_name = 'kepuasan'",
                "SET statement_timeout = '30s'",
                // A connection lives as long as the process and a new database grows from
                // empty: a plan cached while a table was empty (a sequential scan) would stay
                // chosen when it holds millions of rows. Plan each execution for the table as
                // it is.
                "SET plan_cache_mode = force_custom_plan",
            ],
        };
        for sql in statements {
            conn.batch_execute(sql)
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// The database: a read pool and a write pool (the same pool on PostgreSQL), and on
/// PostgreSQL perhaps a replica for reports.
#[derive(Clone)]
pub struct Db {
    kind: DbKind,
    read: Pool<ConnManager>,
    write: Pool<ConnManager>,
    replica: Option<Replica>,
    /// SQLite: after a failed fill of the WAL ([`wal_room`]), when to try again.
    wal_retry: std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

/// A PostgreSQL streaming replica that reports read from. After a failure it is left alone for
/// [`Replica::REST`], reports reading from the primary meanwhile, so an outage costs one
/// report a connection time-out, not every report.
#[derive(Clone)]
struct Replica {
    pool: Pool<ConnManager>,
    resting_until: std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

impl Replica {
    const REST: Duration = Duration::from_secs(10);

    fn usable(&self) -> bool {
        let until = self.resting_until.lock().unwrap_or_else(|p| p.into_inner());
        until.is_none_or(|t| std::time::Instant::now() >= t)
    }

    fn rest(&self, why: &dyn std::fmt::Display) {
        tracing::warn!(error = %why, "the read replica failed; reports read from the primary for 10 s");
        *self.resting_until.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(std::time::Instant::now() + Replica::REST);
    }

    /// How many seconds the replica is behind the primary: 0 when it has replayed all it
    /// received, otherwise the age of the last transaction it replayed.
    fn behind(conn: &mut DbConn) -> Result<f64, AppError> {
        #[derive(diesel::QueryableByName)]
        struct Lag {
            #[diesel(sql_type = diesel::sql_types::Double)]
            seconds: f64,
        }
        let lag: Lag = diesel::RunQueryDsl::get_result(
            diesel::sql_query(
                "SELECT COALESCE(CASE WHEN NOT pg_is_in_recovery() \
                   OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
                   ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END, 0)::float8 \
                 AS seconds",
            ),
            conn,
        )?;
        Ok(lag.seconds.max(0.0))
    }
}

/// Where a report's numbers were read: the primary, or a replica some seconds behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Freshness {
    /// Seconds the replica read from was behind the primary; `None` for the primary.
    pub behind_seconds: Option<f64>,
}

impl Freshness {
    /// Read from the primary: as fresh as it gets.
    pub const PRIMARY: Freshness = Freshness {
        behind_seconds: None,
    };
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DbInitError(pub String);

fn pool(kind: &DbKind, size: u32) -> Result<Pool<ConnManager>, DbInitError> {
    Pool::builder()
        .max_size(size)
        // No idle connections kept in reserve: r2d2 would open the replacement in a background
        // thread after each checkout, and a short command that exits meanwhile (libpq in the
        // middle of a TLS handshake while OpenSSL's exit handlers run) crashed with SIGSEGV.
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(5))
        // A SQLite connection is a file handle in this process and cannot go stale; a
        // PostgreSQL one can (the server restarted), so it is checked before each use.
        .test_on_check_out(matches!(kind, DbKind::Postgres(_)))
        .connection_customizer(Box::new(Customizer))
        .build(ConnManager(kind.clone()))
        .map_err(|e| DbInitError(format!("cannot open the database: {e}")))
}

/// Applies pending migrations on a fresh connection of the chosen backend.
pub fn migrate(kind: &DbKind) -> Result<usize, DbInitError> {
    let fail = |e: &dyn std::fmt::Display| DbInitError(format!("migration failed: {e}"));
    match kind {
        DbKind::Sqlite(path) => {
            let mut conn = SqliteConnection::establish(path)
                .map_err(|e| DbInitError(format!("cannot open SQLite file {path}: {e}")))?;
            // Another process may hold the file a moment (a service still closing, a second
            // command): wait for it as every pooled connection does, rather than fail.
            conn.batch_execute("PRAGMA busy_timeout = 5000")
                .map_err(|e| fail(&e))?;
            // WAL is a property of the file: set once here, not per connection.
            conn.batch_execute("PRAGMA journal_mode = WAL")
                .map_err(|e| fail(&e))?;
            conn.batch_execute("PRAGMA foreign_keys = ON")
                .map_err(|e| fail(&e))?;
            conn.run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|v| v.len())
                .map_err(|e| fail(&e))
        }
        DbKind::Postgres(url) => {
            let mut conn = PgConnection::establish(url).map_err(|e| {
                DbInitError(format!(
                    "cannot connect to PostgreSQL at {}: {e}",
                    redact(url)
                ))
            })?;
            // Several instances may start at once against one database: an advisory lock
            // makes them migrate one after another (the lock ends with the session anyway).
            conn.batch_execute("SELECT pg_advisory_lock(1420170001)")
                .map_err(|e| fail(&e))?;
            let result = conn
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(|e| fail(&e));
            let _ = conn.batch_execute("SELECT pg_advisory_unlock(1420170001)");
            result
        }
    }
}

/// Copies a SQLite database to `target` with `VACUUM INTO`: a consistent snapshot taken while
/// the service runs (WAL included), never a half-written file. PostgreSQL is backed up with its
/// own tools (`pg_dump`), as `docs/deployment.md` describes.
pub fn backup(conn: &mut DbConn, target: &std::path::Path) -> Result<(), AppError> {
    if target.exists() {
        return Err(AppError::field(
            "file",
            format!(
                "{} exists; a backup never overwrites a file",
                target.display()
            ),
        ));
    }
    match conn {
        DbConn::Sqlite(c) => {
            let path = target
                .to_str()
                .ok_or_else(|| AppError::field("file", "the path is not UTF-8"))?;
            // VACUUM INTO takes a string literal, not a bound parameter: quote it.
            c.batch_execute(&format!("VACUUM INTO '{}'", path.replace('\'', "''")))?;
            Ok(())
        }
        DbConn::Postgres(_) => Err(AppError::field(
            "database",
            "PostgreSQL is backed up with pg_dump (for example `pg_dump -Fc \"$DATABASE_URL\" > kepuasan.dump`); see docs/deployment.md",
        )),
    }
}

/// How many embedded migrations the database has not applied yet (readiness).
pub fn pending_migrations(conn: &mut DbConn) -> Result<usize, AppError> {
    let fail = |e: &dyn std::fmt::Display| AppError::unavailable(format!("migrations: {e}"));
    match conn {
        DbConn::Sqlite(c) => c
            .pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len())
            .map_err(|e| fail(&e)),
        DbConn::Postgres(c) => c
            .pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len())
            .map_err(|e| fail(&e)),
    }
}

impl Db {
    /// Connections of the read and write pools: (pool, idle, in use).
    pub fn pool_state(&self) -> [(&'static str, u32, u32); 2] {
        let of = |p: &Pool<ConnManager>| {
            let s = p.state();
            (s.idle_connections, s.connections - s.idle_connections)
        };
        let ((ri, ru), (wi, wu)) = (of(&self.read), of(&self.write));
        [("read", ri, ru), ("write", wi, wu)]
    }
}

/// Reverts every migration (used by the migration round-trip test).
pub fn revert_all(kind: &DbKind) -> Result<(), DbInitError> {
    let fail = |e: &dyn std::fmt::Display| DbInitError(format!("revert failed: {e}"));
    match kind {
        DbKind::Sqlite(path) => {
            let mut conn = SqliteConnection::establish(path).map_err(|e| fail(&e))?;
            conn.revert_all_migrations(SQLITE_MIGRATIONS)
                .map(|_| ())
                .map_err(|e| fail(&e))
        }
        DbKind::Postgres(url) => {
            let mut conn = PgConnection::establish(url).map_err(|e| fail(&e))?;
            conn.revert_all_migrations(POSTGRES_MIGRATIONS)
                .map(|_| ())
                .map_err(|e| fail(&e))
        }
    }
}

impl Db {
    /// Migrates, then opens the pools.
    pub fn open(url: &str) -> Result<Db, DbInitError> {
        migrate(&DbKind::from_url(url).map_err(DbInitError)?)?;
        Db::connect(url)
    }

    /// Opens the pools of a database as it is, without migrating it (read-only commands).
    pub fn connect(url: &str) -> Result<Db, DbInitError> {
        let kind = DbKind::from_url(url).map_err(DbInitError)?;
        let (read, write) = match &kind {
            DbKind::Sqlite(_) => (pool(&kind, 4)?, pool(&kind, 1)?),
            DbKind::Postgres(_) => {
                let shared = pool(&kind, 10)?;
                (shared.clone(), shared)
            }
        };
        Ok(Db {
            kind,
            read,
            write,
            replica: None,
            wal_retry: Default::default(),
        })
    }

    /// Adds a PostgreSQL streaming replica (`DATABASE_READ_URL`) for reports. It is not
    /// migrated (a replica follows its primary) and need not be up: reports read from the
    /// primary while it is not.
    pub fn with_replica(mut self, url: &str) -> Result<Db, DbInitError> {
        let kind = DbKind::from_url(url)
            .map_err(|e| DbInitError(e.replace("DATABASE_URL", "DATABASE_READ_URL")))?;
        if !matches!(
            (&self.kind, &kind),
            (DbKind::Postgres(_), DbKind::Postgres(_))
        ) {
            return Err(DbInitError(
                "DATABASE_READ_URL: a read replica is a PostgreSQL server following a PostgreSQL DATABASE_URL".to_owned(),
            ));
        }
        let pool = Pool::builder()
            .max_size(10)
            .min_idle(Some(0))
            // A replica that does not answer is left for the primary quickly.
            .connection_timeout(Duration::from_secs(1))
            .test_on_check_out(true)
            .connection_customizer(Box::new(Customizer))
            .build_unchecked(ConnManager(kind));
        self.replica = Some(Replica {
            pool,
            resting_until: Default::default(),
        });
        Ok(self)
    }

    /// The backend.
    pub fn kind(&self) -> &DbKind {
        &self.kind
    }

    /// Runs read-only work on a pooled connection off the async workers.
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.read.clone();
        actix_web::web::block(move || f(&mut *pool.get()?)).await?
    }

    /// Runs the reading work of a report (reports, exports, charts, public pages) off the
    /// async workers: on the replica when there is one and it answers, told how far behind it
    /// is; on the primary otherwise, and again on the primary when the replica fails.
    pub async fn read_report<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: Fn(&mut DbConn, Freshness) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || {
            if let Some(replica) = db.replica.as_ref().filter(|r| r.usable()) {
                let on_replica = replica
                    .pool
                    .get()
                    .map_err(AppError::from)
                    .and_then(|mut conn| {
                        let behind = Replica::behind(&mut conn)?;
                        f(
                            &mut conn,
                            Freshness {
                                behind_seconds: Some(behind),
                            },
                        )
                    });
                match on_replica {
                    Err(e) if e.kind() == crate::error::Kind::DbUnavailable => replica.rest(&e),
                    done => return done,
                }
            }
            f(&mut *db.read.get()?, Freshness::PRIMARY)
        })
        .await?
    }

    /// Runs writing work on the writer connection off the async workers.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || db.write_blocking(f)).await?
    }

    /// Runs work synchronously on the writer connection (command line use, and the group
    /// commit's writer thread).
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut conn = self.write.get()?;
        if let DbKind::Sqlite(path) = &self.kind {
            wal_room(&mut conn, path, &self.wal_retry)?;
        }
        f(&mut conn)
    }

    /// A writing connection to keep: PostgreSQL's group-commit writer holds one between
    /// batches rather than having it checked at each checkout (a round trip a batch). SQLite
    /// has a single writing connection, which others need between batches: `None`.
    pub fn writer_connection(&self) -> Result<Option<HeldConnection>, AppError> {
        match self.kind {
            DbKind::Postgres(_) => Ok(Some(self.write.get()?)),
            DbKind::Sqlite(_) => Ok(None),
        }
    }

    /// Runs work synchronously on a read connection (command line use).
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        f(&mut *self.read.get()?)
    }
}

/// How much of SQLite's write-ahead log is kept written with zeros ahead of its frames: more
/// than the 1,000 pages after which it is checkpointed and starts again from its beginning.
pub const WAL_ROOM: u64 = 8 << 20;

/// Keeps the SQLite WAL file [`WAL_ROOM`] long, its tail written with zeros and synced, so that
/// a commit only overwrites blocks the file already has and never changes its size. A commit
/// that grows the file needs the file system to journal the new size; if the file system
/// fails at that moment (ext4 aborting its journal on a disk error, a few milliseconds
/// before it turns read-only), the size can be lost while fsync still reports success, and
/// with it the acknowledged transaction at the end of the log. PostgreSQL fills its WAL
/// segments with zeros ahead for the same reason. Zeros past the last frame are what SQLite
/// reads as the end of the log. Checked with one `stat` a write; filled under the write lock.
fn wal_room(
    conn: &mut DbConn,
    path: &str,
    retry_at: &std::sync::Mutex<Option<std::time::Instant>>,
) -> Result<(), AppError> {
    use std::time::{Duration, Instant};
    let wal = format!("{path}-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() >= WAL_ROOM)
        || !std::path::Path::new(path).exists()
    {
        return Ok(());
    }
    // After a fill that failed (a disk short of room), the next is tried a minute later.
    let waiting = |at: &Option<Instant>| at.is_some_and(|at| Instant::now() < at);
    if retry_at.lock().is_ok_and(|at| waiting(&at)) {
        return Ok(());
    }
    if let Err(e) = write_tx(conn, |_| Ok(fill(&wal)))? {
        // Writes go on without the margin rather than stop: a disk this short of room will
        // soon refuse them anyway, and answer 503 then.
        tracing::warn!(error = %e, wal, "could not write the SQLite log ahead; retrying in a minute");
        if let Ok(mut at) = retry_at.lock() {
            *at = Some(Instant::now() + Duration::from_secs(60));
        }
    }
    Ok(())
}

/// Writes zeros after the WAL's end up to [`WAL_ROOM`] and syncs them; on a failure, gives
/// the room taken back. Called under the write lock.
fn fill(wal: &str) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    // Opened by SQLite with the connection; absent only before its first write.
    let Ok(mut file) = std::fs::OpenOptions::new().write(true).open(wal) else {
        return Ok(());
    };
    let len = file.metadata()?.len();
    if len >= WAL_ROOM {
        return Ok(());
    }
    let mut write = || -> std::io::Result<()> {
        file.seek(SeekFrom::Start(len))?;
        let zeros = vec![0_u8; 1 << 20];
        let mut left = WAL_ROOM - len;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            file.write_all(&zeros[..n])?;
            left -= n as u64;
        }
        file.sync_all()
    };
    write().inspect_err(|_| {
        let _ = file.set_len(len);
    })
}

/// Runs `f` in a write transaction, committed when it returns `Ok` and rolled back otherwise.
/// Diesel's transaction manager keeps the state, so a call inside another transaction (a
/// nested `write_tx`, or [`savepoint`]) is a savepoint on both backends. On SQLite the outer
/// transaction is IMMEDIATE, as diesel's `immediate_transaction` is, so the write lock is taken
/// up front (a deferred read-then-write transaction can fail with SQLITE_BUSY despite
/// busy_timeout); here it is begun through diesel's manager on the SQLite connection inside
/// the two-backend `DbConn`, which `f` needs whole.
pub fn write_tx<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConn::Sqlite(c) = conn else {
        return savepoint(conn, f);
    };
    let depth = AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?;
    if depth.is_some() {
        return savepoint(conn, f);
    }
    AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    let result = f(conn);
    let DbConn::Sqlite(c) = conn else {
        unreachable!("still SQLite")
    };
    match result {
        Ok(value) => match AnsiTransactionManager::commit_transaction(c) {
            Ok(()) => Ok(value),
            Err(e) => {
                // Diesel rolls back a failed COMMIT itself when it can; make sure of it.
                let _ = AnsiTransactionManager::rollback_transaction(c);
                Err(e.into())
            }
        },
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(c)?;
            Err(e)
        }
    }
}

/// Runs `f` in diesel's transaction: a transaction of its own outside one, a savepoint inside
/// one (released on `Ok`, rolled back to on `Err`, leaving the outer transaction usable).
pub fn savepoint<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    conn.transaction(|conn| f(conn).map_err(TxError::App))
        .map_err(TxError::into_app)
}

/// Carries an application error through diesel's transaction, which needs `From<diesel::Error>`.
enum TxError {
    App(AppError),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> TxError {
        TxError::Db(e)
    }
}

impl TxError {
    fn into_app(self) -> AppError {
        match self {
            TxError::App(e) => e,
            TxError::Db(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_replica_is_a_postgresql_server_behind_a_postgresql_primary() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.db");
        let lite = Db::connect(file.to_str().unwrap()).unwrap();
        let refused = lite
            .with_replica("postgres://postgres@127.0.0.1:5432/kepuasan")
            .err()
            .expect("a SQLite database has no replica");
        assert!(refused.0.contains("DATABASE_READ_URL"), "{}", refused.0);
        let pg = Db::connect("postgres://postgres@127.0.0.1:1/primary").unwrap();
        let refused = pg
            .with_replica("replica.db")
            .err()
            .expect("a SQLite file is no replica");
        assert!(refused.0.contains("PostgreSQL"), "{}", refused.0);
        // Not reachable is not refused: reports read from the primary until it is.
        let pg = Db::connect("postgres://postgres@127.0.0.1:1/primary").unwrap();
        assert!(
            pg.with_replica("postgres://postgres@127.0.0.1:1/replica")
                .is_ok()
        );
    }

    #[test]
    fn the_sqlite_log_is_written_ahead_and_read_back_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.db");
        let url = file.to_str().unwrap().to_owned();
        let wal = dir.path().join("w.db-wal");
        let db = Db::open(&url).unwrap();
        db.write_blocking(|c| {
            c.batch_execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (42);")?;
            Ok(())
        })
        .unwrap();
        assert!(std::fs::metadata(&wal).unwrap().len() >= WAL_ROOM);
        // Another process reads it while this one holds it open: the zeros end the log.
        let other = SqliteConnection::establish(&url)
            .unwrap()
            .batch_execute("SELECT x FROM t")
            .is_ok();
        assert!(other);
        drop(db);
        let again = Db::connect(&url).unwrap();
        #[derive(diesel::QueryableByName)]
        struct X {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            x: i32,
        }
        let x: X = again
            .read_blocking(|c| {
                Ok(diesel::RunQueryDsl::get_result(
                    diesel::sql_query("SELECT x FROM t"),
                    c,
                )?)
            })
            .unwrap();
        assert_eq!(x.x, 42);
    }

    #[test]
    fn the_backend_comes_from_the_scheme_and_is_never_guessed() {
        assert_eq!(
            DbKind::from_url("kepuasan.db"),
            Ok(DbKind::Sqlite("kepuasan.db".into()))
        );
        assert_eq!(
            DbKind::from_url("sqlite:///var/lib/k.db"),
            Ok(DbKind::Sqlite("/var/lib/k.db".into()))
        );
        assert!(matches!(
            DbKind::from_url("postgres://u@h/db"),
            Ok(DbKind::Postgres(_))
        ));
        assert!(matches!(
            DbKind::from_url("postgresql://u@h/db"),
            Ok(DbKind::Postgres(_))
        ));
        let e = DbKind::from_url("mysql://root:secret@h/db").unwrap_err();
        assert!(e.contains("unsupported") && !e.contains("secret"), "{e}");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://app:hunter2@db:5432/k"),
            "postgres://app:***@db:5432/k"
        );
        assert_eq!(redact("postgres://app@db/k"), "postgres://app@db/k");
    }
}
