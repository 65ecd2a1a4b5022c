//! Building the shared state and running the HTTP server.

use std::sync::Arc;

use actix_web::HttpServer;

use crate::config::Settings;
use crate::db::Db;
use crate::instrument::Registry;
use crate::state::{AppState, Clock, SystemClock};

/// Opens the database (migrating it) and loads the instruments.
pub fn state(settings: Settings, clock: Arc<dyn Clock>) -> Result<AppState, String> {
    let registry = Registry::load(settings.survey_defs.as_deref()).map_err(|e| e.to_string())?;
    let mut db = Db::open(&settings.database_url).map_err(|e| e.to_string())?;
    if let Some(replica) = &settings.database_read_url {
        db = db.with_replica(replica).map_err(|e| e.to_string())?;
    }
    if db
        .write_blocking(|conn| crate::tallies::ensure(conn, &registry))
        .map_err(|e| e.to_string())?
    {
        tracing::info!("built the tallies of the responses stored before tallies existed");
    }
    let made = db
        .write_blocking(|conn| crate::db::partitions::ensure(conn, clock.now()))
        .map_err(|e| e.to_string())?;
    if !made.is_empty() {
        tracing::info!(?made, "made the yearly partitions of responses");
    }
    let secrets = db
        .write_blocking(crate::abuse::Secrets::load)
        .map_err(|e| e.to_string())?;
    let metrics = crate::metrics::Metrics::new();
    let writer = settings
        .group_commit
        .then(|| crate::writer::Writer::start(db.clone(), settings.flags, metrics.clone()));
    let directory = Arc::new(crate::directory::Directory::new(
        std::time::Duration::from_secs(u64::from(settings.directory_seconds)),
    ));
    Ok(AppState {
        heavy: Arc::new(tokio::sync::Semaphore::new(settings.heavy_limit as usize)),
        windows: Arc::new(crate::abuse::Windows::new()),
        secrets: Arc::new(secrets),
        passwords: Arc::new(crate::domain::passwords::Checker::start(
            crate::domain::passwords::THREADS,
            crate::domain::passwords::QUEUE,
            crate::state::release_freed_memory,
        )),
        db,
        registry: Arc::new(registry),
        settings: Arc::new(settings),
        clock,
        metrics,
        writer,
        directory,
        signals: Arc::new(crate::signals::Signals::default()),
    })
}

/// The state with the system clock (in a debug build, the file clock of end-to-end tests
/// when `KEPUASAN_TEST_CLOCK_FILE` names one).
pub fn system_state(settings: Settings) -> Result<AppState, String> {
    #[cfg(debug_assertions)]
    if let Some(file) = std::env::var_os("KEPUASAN_TEST_CLOCK_FILE") {
        return state(settings, Arc::new(crate::state::FileClock(file.into())));
    }
    state(settings, Arc::new(SystemClock))
}

/// Serves the API until the process is told to stop.
pub async fn run(state: AppState) -> std::io::Result<()> {
    crate::state::map_large_allocations();
    let bind = state.settings.bind.clone();
    state.start_signals();
    state.start_upkeep();
    tracing::info!(%bind, "kepuasan listening");
    HttpServer::new(move || crate::api::app(state.clone()))
        .bind(&bind)?
        .shutdown_timeout(10)
        .run()
        .await
}
