//! The daemon loop: each source on its own cron schedule until shutdown, and config reloads.
//!
//! tokio-cron-scheduler fires one job per source in the configured time zone. A tick runs that
//! source's pass and then delivers pending posts; a source still running from its previous tick is
//! skipped, never run twice at once. With `[bot] enabled = true` the bot runs beside it (see
//! [`crate::bot`]). On shutdown the scheduler and the bot's dispatcher stop together, and
//! in-flight passes finish their current item.
//!
//! A reload (SIGHUP, see [`Reload`]) builds a new app from the config file. A config that does
//! not validate is rejected — the error, naming the file and key, is logged and the running
//! config keeps going. Otherwise the old jobs are removed, in-flight passes of the old config
//! finish (so a source never runs under both configs at once), and every enabled source of the
//! new config is scheduled: added, removed and changed sources and schedules take effect.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tracing::{error, info, warn};
use uuid::Uuid;

use crate::app::App;
use crate::config::Settings;
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

/// Builds the app that replaces the running one, or says why not (the message names the file and
/// the key).
pub type Rebuild = Box<dyn Fn(&App) -> Result<App, String> + Send + Sync>;

/// How the daemon reloads: a message on `requests` (one per SIGHUP) asks for it; `rebuild` makes
/// the new app.
pub struct Reload {
    pub requests: tokio::sync::mpsc::Receiver<()>,
    pub rebuild: Rebuild,
}

/// Run until `shutdown` fires. A first pass over every source runs at start-up, so a new install
/// records its baseline (and a restarted one catches up) without waiting for the first tick.
pub async fn run(app: Arc<App>, shutdown: Shutdown) -> Result<(), ScheduleError> {
    run_reloading(app, shutdown, None).await
}

/// [`run`], reloading the config on each request of `reload`.
pub async fn run_reloading(
    mut app: Arc<App>,
    shutdown: Shutdown,
    reload: Option<Reload>,
) -> Result<(), ScheduleError> {
    let (mut requests, rebuild) = match reload {
        Some(r) => (Some(r.requests), Some(r.rebuild)),
        None => (None, None),
    };
    let sched = JobScheduler::new().await?;
    let mut jobs = add_jobs(&sched, jobs_for(&app)?, &app).await?;
    sched.start().await?;
    app.scheduler_running.store(true, Ordering::SeqCst);
    // The bot keeps the app it started with (its database and token do not change on reload).
    let bot = if app.settings().bot.enabled {
        crate::bot::start(Arc::clone(&app), shutdown.clone())
    } else {
        None
    };
    let first = {
        let app = Arc::clone(&app);
        tokio::spawn(async move { app.run_once().await })
    };
    loop {
        tokio::select! {
            () = shutdown.wait() => break,
            () = next_request(&mut requests) => {
                let Some(rebuild) = &rebuild else { continue };
                let new = match rebuild(&app) {
                    Ok(new) => Arc::new(new),
                    Err(e) => {
                        error!(error = %e, "config reload rejected; the running config is kept");
                        continue;
                    }
                };
                let new_jobs = match jobs_for(&new) {
                    Ok(j) => j,
                    Err(e) => {
                        error!(error = %e, "config reload rejected; the running config is kept");
                        continue;
                    }
                };
                for id in jobs.drain(..) {
                    if let Err(e) = sched.remove(&id).await {
                        warn!(error = %e, "cannot remove a job of the previous config");
                    }
                }
                // Passes of the old config finish first: a source never runs under both.
                app.retire().await;
                jobs = add_jobs(&sched, new_jobs, &new).await?;
                log_changes(app.settings(), new.settings());
                app = new;
            }
        }
    }
    info!("shutdown requested: stopping the scheduler and the bot, finishing the current items");
    let stop_bot = async {
        if let Some(bot) = bot {
            bot.stop().await;
        }
    };
    app.scheduler_running.store(false, Ordering::SeqCst);
    let mut sched = sched;
    let (stopped, ()) = tokio::join!(sched.shutdown(), stop_bot);
    if let Err(e) = stopped {
        warn!(error = %e, "scheduler did not stop cleanly");
    }
    let _ = first.await;
    app.drain().await;
    info!("stopped");
    Ok(())
}

/// The next reload request; never, without a reload channel (or once it is closed).
async fn next_request(requests: &mut Option<tokio::sync::mpsc::Receiver<()>>) {
    if let Some(rx) = requests
        && rx.recv().await.is_some()
    {
        return;
    }
    std::future::pending::<()>().await;
}

/// One cron job per enabled source of `app`.
fn jobs_for(app: &Arc<App>) -> Result<Vec<Job>, ScheduleError> {
    let tz = app.settings().timezone;
    let mut jobs = Vec::new();
    for src in app.settings().sources.iter().filter(|s| s.enabled) {
        let job_app = Arc::clone(app);
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
        jobs.push(job);
    }
    Ok(jobs)
}

/// Add the jobs of [`jobs_for`] to the scheduler.
async fn add_jobs(
    sched: &JobScheduler,
    jobs: Vec<Job>,
    app: &App,
) -> Result<Vec<Uuid>, ScheduleError> {
    let tz = app.settings().timezone;
    let mut ids = Vec::new();
    let enabled = app.settings().sources.iter().filter(|s| s.enabled);
    for (job, src) in jobs.into_iter().zip(enabled) {
        ids.push(sched.add(job).await?);
        info!(source = %src.id, cron = %src.cron, timezone = %tz, "scheduled");
    }
    Ok(ids)
}

/// Log what a reload changed, by source id.
fn log_changes(old: &Settings, new: &Settings) {
    let enabled = |s: &Settings| -> BTreeSet<String> {
        s.sources
            .iter()
            .filter(|s| s.enabled)
            .map(|s| s.id.clone())
            .collect()
    };
    let (before, after) = (enabled(old), enabled(new));
    let added: Vec<&String> = after.difference(&before).collect();
    let removed: Vec<&String> = before.difference(&after).collect();
    let changed: Vec<&String> = after
        .intersection(&before)
        .filter(|id| {
            let show = |s: &Settings| s.source(id).map(|s| format!("{s:?}"));
            show(old) != show(new)
        })
        .collect();
    info!(
        file = %new.file.display(),
        sources = after.len(),
        added = ?added,
        removed = ?removed,
        changed = ?changed,
        "config reloaded"
    );
}
