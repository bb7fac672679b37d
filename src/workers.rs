//! A fixed set of threads for CPU work: decoding, parsing and classifying pages.
//!
//! Pages used to go to tokio's blocking pool, which starts a new thread whenever none is idle
//! and keeps it for a while. Every thread that searches with a regex gets its own lazy-DFA cache
//! (up to 1 MiB each, per regex), so a pass over 10,000 articles held 23 MB of regex caches at
//! its peak (heaptrack). One thread per core does the same work with one cache per core.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// The pool's threads could not start, or are gone (they only stop when the pool is dropped).
#[derive(Debug, thiserror::Error)]
#[error("the page workers are not running: {0}")]
pub struct Gone(String);

/// `n` threads named `niryat-cpu-<i>`, started on first use, stopped when the pool is dropped.
/// At most `n` jobs are handed over at once, so pages wait for a thread in their callers (and
/// may be dropped there at shutdown), not in the pool's queue.
pub struct Workers {
    n: usize,
    permits: tokio::sync::Semaphore,
    jobs: std::sync::OnceLock<Result<mpsc::Sender<Job>, String>>,
}

impl Workers {
    pub fn new(n: usize) -> Self {
        Self {
            n: n.max(1),
            permits: tokio::sync::Semaphore::new(n.max(1)),
            jobs: std::sync::OnceLock::new(),
        }
    }

    fn start(n: usize) -> Result<mpsc::Sender<Job>, String> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..n {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("niryat-cpu-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let next = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match next {
                            Ok(job) => job(),
                            Err(_) => return, // the pool was dropped
                        }
                    }
                })
                .map_err(|e| format!("cannot start a page worker thread: {e}"))?;
        }
        Ok(tx)
    }

    /// Runs `f` on a worker; a panic in `f` comes back as `Ok(Err(payload))`.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<std::thread::Result<T>, Gone> {
        let jobs = self
            .jobs
            .get_or_init(|| Self::start(self.n))
            .as_ref()
            .map_err(|e| Gone(e.clone()))?;
        // Held until the job's result is back.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Gone("closed".into()))?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        jobs.send(Box::new(move || {
            // The caller may have gone (shutdown); the result is then dropped.
            let _ = tx.send(std::panic::catch_unwind(AssertUnwindSafe(f)));
        }))
        .map_err(|_| Gone("its threads have exited".into()))?;
        rx.await
            .map_err(|_| Gone("a thread exited during a job".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_the_pools_own_threads_and_panics_come_back() {
        let pool = Workers::new(2);
        let mut names = std::collections::BTreeSet::new();
        for _ in 0..20 {
            let name = pool
                .run(|| std::thread::current().name().map(str::to_owned))
                .await
                .expect("pool runs")
                .expect("no panic");
            names.insert(name.expect("named thread"));
        }
        assert!(names.len() <= 2, "{names:?}");
        assert!(
            names.iter().all(|n| n.starts_with("niryat-cpu-")),
            "{names:?}"
        );
        let panicked = pool.run(|| panic!("bad page")).await.expect("pool runs");
        assert!(panicked.is_err());
        // The pool survives a panicking job.
        assert_eq!(
            pool.run(|| 7).await.expect("pool runs").expect("no panic"),
            7
        );
    }
}
