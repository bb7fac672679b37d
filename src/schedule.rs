//! The daemon loop: each source on its own cron schedule until shutdown.
//!
//! tokio-cron-scheduler fires one job per source in the configured time zone. A tick runs that
//! source's pass and then delivers pending posts; a source still running from its previous tick is
//! skipped, never run twice at once. With `[bot] enabled = true` the bot runs beside it (see
//! [`crate::bot`]). On shutdown the scheduler and the bot's dispatcher stop together, and
//! in-flight passes finish their current item.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tracing::{info, warn};

use crate::app::App;
use crate::shutdown::Shutdown;

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("source {id}: cannot schedule cron {cron:?}: {source}")]
    Job {
        id: String,
        cron: String,
        #[source]
        source: JobSchedulerError,
    },
    #[error("scheduler: {0}")]
    Scheduler(#[from] JobSchedulerError),
}

/// Run until `shutdown` fires. A first pass over every source runs at start-up, so a new install
/// records its baseline (and a restarted one catches up) without waiting for the first tick.
pub async fn run(app: Arc<App>, shutdown: Shutdown) -> Result<(), ScheduleError> {
    let mut sched = JobScheduler::new().await?;
    let tz = app.settings().timezone;
    for src in app.settings().sources.iter().filter(|s| s.enabled) {
        let job_app = Arc::clone(&app);
        let id = src.id.clone();
        let job = Job::new_async_tz(src.cron.as_str(), tz, move |_uuid, _lock| {
            let app = Arc::clone(&job_app);
            let id = id.clone();
            Box::pin(async move {
                app.tick(&id).await;
            })
        })
        .map_err(|source| ScheduleError::Job {
            id: src.id.clone(),
            cron: src.cron.clone(),
            source,
        })?;
        sched.add(job).await?;
        info!(source = %src.id, cron = %src.cron, timezone = %tz, "scheduled");
    }
    sched.start().await?;
    app.scheduler_running.store(true, Ordering::SeqCst);
    let bot = if app.settings().bot.enabled {
        crate::bot::start(Arc::clone(&app), shutdown.clone())
    } else {
        None
    };
    let first = {
        let app = Arc::clone(&app);
        tokio::spawn(async move { app.run_once().await })
    };
    shutdown.wait().await;
    info!("shutdown requested: stopping the scheduler and the bot, finishing the current items");
    let stop_bot = async {
        if let Some(bot) = bot {
            bot.stop().await;
        }
    };
    app.scheduler_running.store(false, Ordering::SeqCst);
    let (stopped, ()) = tokio::join!(sched.shutdown(), stop_bot);
    if let Err(e) = stopped {
        warn!(error = %e, "scheduler did not stop cleanly");
    }
    let _ = first.await;
    app.drain().await;
    info!("stopped");
    Ok(())
}
