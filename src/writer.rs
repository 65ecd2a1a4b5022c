//! Group commit: one writer thread drains the queue of checked submissions and stores each
//! batch in one durable transaction (`collect::store_batch`), then answers every submission in
//! it. Concurrent kiosks and phones thus share a commit (one fsync on SQLite) instead of
//! queueing for one each, and nothing is acknowledged before it is on disk.
//!
//! A batch is whatever waits when the writer is free, up to [`MAX_BATCH`]: no timer, so a lone
//! submission is committed at once. `KEPUASAN_GROUP_COMMIT=off` turns the queue off (each
//! submission then commits on its own), for comparison and as an escape hatch.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc;

use chrono::NaiveDateTime;
use tokio::sync::oneshot;

use crate::collect::{self, Prepared};
use crate::db::Db;
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::quality::FlagRules;

/// Most submissions one transaction stores.
pub const MAX_BATCH: usize = 512;

struct Job {
    prepared: Prepared,
    now: NaiveDateTime,
    reply: oneshot::Sender<Result<bool, AppError>>,
}

/// The queue in front of the writer thread. Cloning shares it; the thread ends when the last
/// clone is dropped, after storing everything queued.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
    depth: Arc<AtomicI64>,
    metrics: Metrics,
}

impl Writer {
    /// Starts the writer thread over the database's writing connection.
    pub fn start(db: Db, rules: FlagRules, metrics: Metrics) -> Writer {
        let (queue, jobs) = mpsc::channel::<Job>();
        let depth = Arc::new(AtomicI64::new(0));
        let (thread_depth, thread_metrics) = (depth.clone(), metrics.clone());
        std::thread::Builder::new()
            .name("kepuasan-writer".into())
            .spawn(move || run(&db, &rules, &jobs, &thread_depth, &thread_metrics))
            .expect("the writer thread starts");
        Writer {
            queue,
            depth,
            metrics,
        }
    }

    /// Stores a checked submission with the next batch; resolves once it is committed, with
    /// whether it was new.
    pub async fn store(&self, prepared: Prepared, now: NaiveDateTime) -> Result<bool, AppError> {
        let (reply, answer) = oneshot::channel();
        let depth = self.depth.fetch_add(1, Ordering::SeqCst) + 1;
        self.metrics.write_queue.set(depth);
        if self
            .queue
            .send(Job {
                prepared,
                now,
                reply,
            })
            .is_err()
        {
            self.depth.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::unavailable("the writer has stopped"));
        }
        answer
            .await
            .map_err(|_| AppError::internal("the writer dropped a submission"))?
    }
}

fn run(
    db: &Db,
    rules: &FlagRules,
    jobs: &mpsc::Receiver<Job>,
    depth: &AtomicI64,
    metrics: &Metrics,
) {
    // PostgreSQL: the connection kept between batches; dropped after a failure, so that the
    // next batch gets a checked one.
    let mut held: Option<crate::db::HeldConnection> = None;
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let left = depth.fetch_sub(batch.len() as i64, Ordering::SeqCst) - batch.len() as i64;
        metrics.write_queue.set(left);
        metrics.batch_size.observe(batch.len() as f64);
        let (items, replies): (Vec<(Prepared, NaiveDateTime)>, Vec<_>) = batch
            .into_iter()
            .map(|j| ((j.prepared, j.now), j.reply))
            .unzip();
        let stored = match &mut held {
            Some(conn) => collect::store_batch(conn, rules, &items),
            None => match db.writer_connection() {
                Ok(Some(mut conn)) => {
                    let stored = collect::store_batch(&mut conn, rules, &items);
                    held = Some(conn);
                    stored
                }
                Ok(None) => db.write_blocking(|conn| collect::store_batch(conn, rules, &items)),
                Err(e) => Err(e),
            },
        };
        if stored.is_err() {
            held = None;
        }
        match stored {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}
