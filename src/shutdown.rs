//! Graceful shutdown: a cloneable flag that passes check between items, plus the OS signals
//! (SIGINT/SIGTERM stop; SIGHUP asks for a config reload, see [`hangups`]).
//!
//! As in mini-redis, the stop condition is passed in (`run(…, shutdown)`), so tests can trigger it
//! without signals. Work is only interrupted *between* items: a send and the database write that
//! records it always finish together.

use std::time::Duration;

use tokio::sync::watch;

/// Receiving side: cheap to clone.
#[derive(Clone, Debug)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
    /// For [`Shutdown::never`]: the sender, kept so it is never dropped.
    _keep: Option<std::sync::Arc<watch::Sender<bool>>>,
}

/// Sending side: `trigger()` asks everything to stop.
#[derive(Debug)]
pub struct Trigger {
    tx: watch::Sender<bool>,
}

/// A connected pair.
pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger { tx }, Shutdown { rx, _keep: None })
}

impl Trigger {
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }
}

impl Shutdown {
    /// A shutdown that never comes (one-shot commands such as `check`, and tests).
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(false);
        Self {
            rx,
            _keep: Some(std::sync::Arc::new(tx)),
        }
    }

    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once shutdown is asked for.
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        // An error means the trigger was dropped: treat as shutdown.
        let _ = rx.wait_for(|v| *v).await;
    }

    /// Sleep for `d`; `false` if shutdown came first.
    pub async fn sleep(&self, d: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            () = self.wait() => false,
        }
    }
}

/// How long a shutdown may take before the process exits anyway (Docker kills at 10 s).
pub const DEADLINE: Duration = Duration::from_millis(7_500);

/// Handle OS signals for a command that can stop gracefully: the first SIGINT/SIGTERM triggers
/// shutdown; a second one exits at once; so does a shutdown that takes longer than [`DEADLINE`].
/// Exiting early is safe: every database write is one transaction, and a post whose send was cut
/// off is retried at the next start.
pub fn handle_signals(trigger: Trigger) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        os_signal().await;
        tracing::info!("shutdown requested (a second Ctrl-C or SIGTERM exits at once)");
        trigger.trigger();
        tokio::select! {
            () = os_signal() => {
                tracing::warn!("second signal: exiting now; the outbox is intact");
                std::process::exit(130);
            }
            () = tokio::time::sleep(DEADLINE) => {
                tracing::error!(
                    "shutdown is taking longer than {} s; exiting now (the outbox is intact, and a post cut off mid-send is retried at the next start)",
                    DEADLINE.as_secs_f32()
                );
                std::process::exit(0);
            }
        }
    })
}

/// One message per SIGHUP (`kill -HUP`, `docker kill -s HUP`): reload the config. Signals that
/// arrive while a reload is pending are folded into it. The handler is installed before this
/// returns, so a SIGHUP can no longer end the process. Never fires on other platforms.
pub fn hangups() -> tokio::sync::mpsc::Receiver<()> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(mut hup) => {
                tokio::spawn(async move {
                    while hup.recv().await.is_some() {
                        let _ = tx.try_send(());
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP: reloading needs a restart")
            }
        }
    }
    #[cfg(not(unix))]
    drop(tx);
    rx
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (`docker stop`).
pub async fn os_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
