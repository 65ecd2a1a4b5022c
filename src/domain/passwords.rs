//! Password hashes (argon2id) and the small pool of threads that checks them, apart from the
//! request workers, the blocking pool and the database connections, with a bounded queue.
//!
//! Each check takes argon2's 19 MiB and about 50 ms of a core; on the blocking pool a flood of
//! wrong passwords ran hundreds at once and held gigabytes. Here at most [`THREADS`] run, at most
//! [`QUEUE`] wait, and past that sign-in answers 503 with `Retry-After`; the memory the threads
//! used goes back to the system whenever their queue empties.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::AppError;

/// Threads that check passwords: at most this many hashes in memory at once.
pub const THREADS: usize = 2;
/// Checks that may wait for a thread; one more is answered 503.
pub const QUEUE: usize = 32;

/// The argon2id hash of a password (a PHC string with its own random salt).
pub fn hash(password: &str) -> Result<String, AppError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| AppError::internal(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AppError::internal(e.to_string()))?
        .to_string())
}

/// Whether `given` is the password of this stored hash. `None` (no such person) is checked
/// against a hash no password matches, so that an unknown name costs the same work and its
/// answer's timing does not tell which names exist.
pub fn matches(stored: Option<&str>, given: &str) -> Result<bool, AppError> {
    let parsed = PasswordHash::new(stored.unwrap_or_else(|| decoy()))
        .map_err(|e| AppError::internal(e.to_string()))?;
    let right = Argon2::default()
        .verify_password(given.as_bytes(), &parsed)
        .is_ok();
    Ok(right && stored.is_some())
}

/// A hash no password matches, made once, to spend on names that do not exist.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash(&format!("{:x}", rand::random::<u128>())).expect("hashing a random password")
    })
}

type Job = Box<dyn FnOnce() + Send>;

/// The threads that check passwords, and their queue.
pub struct Checker {
    jobs: SyncSender<Job>,
    /// Checks that may be in hand at once: running and waiting.
    capacity: usize,
    /// Jobs handed over and not yet finished.
    pending: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("pending", &self.pending.load(Ordering::Relaxed))
            .finish()
    }
}

impl Checker {
    /// Starts `threads` checking threads with room for `queue` waiting checks; `idle` runs
    /// whenever the queue empties (the server hands freed memory back to the system there).
    pub fn start(threads: usize, queue: usize, idle: fn()) -> Checker {
        let (jobs, inbox) = std::sync::mpsc::sync_channel::<Job>(queue);
        let inbox = Arc::new(std::sync::Mutex::new(inbox));
        let pending = Arc::new(AtomicUsize::new(0));
        for i in 0..threads.max(1) {
            let (inbox, pending) = (inbox.clone(), pending.clone());
            std::thread::Builder::new()
                .name(format!("passwords-{i}"))
                .spawn(move || {
                    loop {
                        let job = match inbox.lock() {
                            Ok(inbox) => match inbox.recv() {
                                Ok(job) => job,
                                Err(_) => return,
                            },
                            Err(_) => return,
                        };
                        job();
                        if pending.fetch_sub(1, Ordering::AcqRel) == 1 {
                            idle();
                        }
                    }
                })
                .expect("a thread to check passwords");
        }
        Checker {
            jobs,
            capacity: threads.max(1) + queue,
            pending,
        }
    }

    /// Whether a check handed over now would likely be taken: callers that must write before
    /// checking (sign-in counts each try first) ask this, so that a flood is refused before it
    /// costs a write.
    pub fn has_room(&self) -> bool {
        self.pending.load(Ordering::Acquire) < self.capacity
    }

    /// The answer when there is no room.
    pub fn busy() -> AppError {
        AppError::busy(
            "many sign-ins are being checked; try again in a few seconds",
            2,
        )
    }

    /// Runs `work` (a password check) on the pool and waits for it; 503 with `Retry-After`
    /// when the queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        self.submit(work)?
            .await
            .map_err(|_| AppError::internal("a password check stopped"))
    }

    /// Hands `work` to the pool at once; its answer comes through the receiver. 503 with
    /// `Retry-After` when the queue is full.
    pub fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<T>, AppError> {
        let (done, answer) = tokio::sync::oneshot::channel();
        self.pending.fetch_add(1, Ordering::AcqRel);
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        match self.jobs.try_send(job) {
            Ok(()) => Ok(answer),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.pending.fetch_sub(1, Ordering::AcqRel);
                Err(Checker::busy())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_matches_its_own_hash_only_and_no_name_matches_nothing() {
        let stored = hash("kopi-tubruk-pagi-hari").unwrap();
        assert!(matches(Some(&stored), "kopi-tubruk-pagi-hari").unwrap());
        assert!(!matches(Some(&stored), "kopi-tubruk-sore-hari").unwrap());
        assert!(!matches(None, "kopi-tubruk-pagi-hari").unwrap());
    }

    #[test]
    fn past_its_queue_the_checker_answers_busy_instead_of_growing() {
        let checker = Checker::start(1, 1, || {});
        let (started, on_start) = std::sync::mpsc::channel::<()>();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let first = checker
            .submit(move || {
                started.send(()).unwrap();
                hold.recv().unwrap();
                1
            })
            .unwrap();
        // The one thread is busy with the first check; the second waits in the queue.
        on_start.recv().unwrap();
        let second = checker.submit(|| 2).unwrap();
        assert!(!checker.has_room(), "one running, one waiting");
        let third = checker.submit(|| 3).unwrap_err();
        assert_eq!(third.kind(), crate::error::Kind::Busy);
        release.send(()).unwrap();
        assert_eq!(first.blocking_recv().unwrap(), 1);
        assert_eq!(second.blocking_recv().unwrap(), 2);
        // Room again once the queue has drained.
        assert_eq!(checker.submit(|| 4).unwrap().blocking_recv().unwrap(), 4);
    }
}
