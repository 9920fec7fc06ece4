//! Bounded heavy work: scoring a kabupaten's sites and searching a week's plan are CPU work of
//! hundreds of milliseconds to minutes. They run on the blocking pool, at most `permits` at a
//! time; at most `max_waiting` more may wait, each for at most `max_wait`. Anything beyond that is
//! refused at once with [`Busy`] (HTTP 503 + Retry-After) instead of piling up memory and making
//! every other request — `/health` included — wait behind it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

/// The server is at its bound of heavy work; retry after `retry_after_s` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "server sibuk, coba lagi dalam {retry_after_s} detik / server busy, retry in {retry_after_s} s"
)]
pub struct Busy {
    pub retry_after_s: u64,
}

#[derive(Debug)]
pub struct HeavyWork {
    jobs: usize,
    permits: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
    max_wait: Duration,
}

/// What the gate reports to tests and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub running: usize,
    pub waiting: usize,
}

impl HeavyWork {
    pub fn new(permits: usize, max_waiting: usize, max_wait: Duration) -> Arc<Self> {
        Arc::new(Self {
            jobs: permits.max(1),
            permits: Semaphore::new(permits.max(1)),
            waiting: AtomicUsize::new(0),
            max_waiting,
            max_wait,
        })
    }

    /// One permit per core: more would only slow each job down.
    pub fn per_core(max_waiting: usize, max_wait: Duration) -> Arc<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores, max_waiting, max_wait)
    }

    /// Wait for a job slot, or refuse at once when the queue is full (or after `max_wait` in
    /// it). Hold the permit for the whole of the heavy work, its input loading included.
    pub async fn admit(&self) -> Result<Admitted<'_>, Busy> {
        let busy = Busy {
            retry_after_s: self.max_wait.as_secs().clamp(1, 30),
        };
        if let Ok(p) = self.permits.try_acquire() {
            return Ok(Admitted { _permit: p });
        }
        // Count ourselves in the queue unless it is full; the decrement on every way out (a
        // permit, a timeout, a dropped request) is the guard's.
        let queued = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| {
                (w < self.max_waiting).then_some(w + 1)
            });
        if queued.is_err() {
            return Err(busy);
        }
        let _in_queue = Queued(&self.waiting);
        match tokio::time::timeout(self.max_wait, self.permits.acquire()).await {
            Ok(Ok(p)) => Ok(Admitted { _permit: p }),
            _ => Err(busy),
        }
    }

    /// Run `job` on the blocking pool once admitted.
    pub async fn run<T, F>(&self, job: F) -> Result<T, Busy>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let admitted = self.admit().await?;
        Ok(admitted.run(job).await)
    }

    /// Jobs that may run at once.
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    pub fn load(&self) -> Load {
        Load {
            running: self.jobs - self.permits.available_permits(),
            waiting: self.waiting.load(Ordering::Acquire),
        }
    }
}

/// A job slot, held until dropped.
pub struct Admitted<'a> {
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Admitted<'_> {
    /// Run CPU work on the blocking pool under this slot (the async workers stay free).
    pub async fn run<T, F>(&self, job: F) -> T
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match tokio::task::spawn_blocking(job).await {
            Ok(v) => v,
            // A panicking job panics its caller, as it would have inline.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Held = tokio::task::JoinHandle<Result<Option<()>, Busy>>;

    /// A job that holds one slot until the test sends its word; back once it runs.
    async fn occupy(gate: &Arc<HeavyWork>) -> (std::sync::mpsc::Sender<()>, Held) {
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let running = gate.load().running;
        let held = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(move || release_rx.recv().ok()).await })
        };
        while gate.load().running == running {
            tokio::task::yield_now().await;
        }
        (release_tx, held)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_is_refused_at_once_and_the_queue_drains() {
        let gate = HeavyWork::new(1, 1, Duration::from_secs(5));
        let (release_tx, running) = occupy(&gate).await;
        let waiting = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(|| 2).await })
        };
        while gate.load().waiting == 0 {
            tokio::task::yield_now().await;
        }
        // A third job finds one running and one waiting: refused without waiting.
        let started = std::time::Instant::now();
        let third = gate.run(|| 3).await;
        assert_eq!(third, Err(Busy { retry_after_s: 5 }));
        assert!(started.elapsed() < Duration::from_secs(1));
        release_tx.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(Some(())));
        assert_eq!(waiting.await.unwrap(), Ok(2));
        assert_eq!(
            gate.load(),
            Load {
                running: 0,
                waiting: 0
            }
        );
        assert_eq!(gate.run(|| 4).await, Ok(4));
    }

    #[tokio::test]
    async fn a_job_that_waits_too_long_is_refused() {
        let gate = HeavyWork::new(1, 4, Duration::from_millis(50));
        let (release_tx, running) = occupy(&gate).await;
        assert_eq!(gate.run(|| 1).await, Err(Busy { retry_after_s: 1 }));
        assert_eq!(gate.load().waiting, 0);
        release_tx.send(()).unwrap();
        running.await.unwrap().unwrap();
    }
}
