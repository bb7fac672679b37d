//! What the operator sees: each source's health and next run, the channel's posts, and whether
//! the daemon is ready. `niryat status`, the status page and `/readyz` all read it from here,
//! from the database alone (so `status` works beside a running daemon).

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::app::App;
use crate::config::{AlertSettings, Settings, SourceSettings};
use crate::store::{PostCounts, SourceRecord, Store, StoreError};

/// A source's health, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Its last pass failed.
    Failing,
    /// Its listing matched nothing `[alerts] empty_listing_passes` passes in a row.
    Empty,
    /// No new item for `[alerts] silent_days`, though it used to have them.
    Silent,
    /// Enabled, but no pass recorded yet.
    Waiting,
    Ok,
    Disabled,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failing => "failing",
            Self::Empty => "empty",
            Self::Silent => "silent",
            Self::Waiting => "waiting",
            Self::Ok => "ok",
            Self::Disabled => "disabled",
        }
    }
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of `niryat status` and of the status page: the stored record of a configured source
/// (empty when it never ran), with what the config and the clock add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStatus {
    #[serde(flatten)]
    pub record: SourceRecord,
    pub kind: &'static str,
    pub enabled: bool,
    pub health: Health,
    /// When its cron schedule runs it next (after its backoff, if it is backing off).
    pub next_run: Option<DateTime<Utc>>,
    /// Backing off after failures until then.
    pub backing_off_until: Option<DateTime<Utc>>,
}

/// Everything `niryat status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overview {
    pub at: DateTime<Utc>,
    pub sources: Vec<SourceStatus>,
    /// The channel's posts: pending, failed, uncertain, sent today (in the configured time zone).
    pub posts: PostCounts,
}

/// The next time `cron` fires strictly after `after`, in `tz`.
pub fn next_fire(cron: &str, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let cron = crate::config::parse_cron(cron).ok()?;
    cron.find_next_occurrence(&after.with_timezone(&tz), false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The source's schedule interval after `t`: the gap between its next two runs.
pub fn interval_after(src: &SourceSettings, tz: Tz, t: DateTime<Utc>) -> Option<TimeDelta> {
    let first = next_fire(&src.cron, tz, t)?;
    let second = next_fire(&src.cron, tz, first)?;
    Some(second - first)
}

/// A source's health from its record.
pub fn health(
    src: &SourceSettings,
    rec: Option<&SourceRecord>,
    alerts: AlertSettings,
    now: DateTime<Utc>,
) -> Health {
    if !src.enabled {
        return Health::Disabled;
    }
    let Some(rec) = rec.filter(|r| r.last_run.is_some()) else {
        return Health::Waiting;
    };
    let silent = rec
        .last_new_item
        .is_some_and(|t| now - t >= TimeDelta::days(i64::from(alerts.silent_days)));
    if rec.consecutive_failures > 0 {
        Health::Failing
    } else if rec.empty_passes >= alerts.empty_listing_passes {
        Health::Empty
    } else if silent {
        Health::Silent
    } else {
        Health::Ok
    }
}

fn status_of(
    src: &SourceSettings,
    rec: Option<&SourceRecord>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> SourceStatus {
    let backing_off_until = rec.and_then(|r| r.next_try).filter(|t| *t > now);
    let next_run = src
        .enabled
        .then(|| {
            next_fire(
                &src.cron,
                settings.timezone,
                backing_off_until.unwrap_or(now),
            )
        })
        .flatten();
    SourceStatus {
        record: SourceRecord {
            id: src.id.clone(),
            url: src.url.to_string(),
            ..rec.cloned().unwrap_or_default()
        },
        kind: src.kind.name(),
        enabled: src.enabled,
        health: health(src, rec, settings.alerts, now),
        next_run,
        backing_off_until,
    }
}

/// Midnight of `now`'s day in `tz`, in UTC.
pub fn start_of_day(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    now.with_timezone(&tz)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|m| m.and_local_timezone(tz).earliest())
        .map_or(now, |t| t.with_timezone(&Utc))
}

/// Every configured source (in config order) with its health, and the channel's posts.
pub async fn overview(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Overview, StoreError> {
    let records = store.source_records().await?;
    let posts = store
        .post_counts(start_of_day(now, settings.timezone))
        .await?;
    let sources = settings
        .sources
        .iter()
        .map(|src| {
            let rec = records.iter().find(|r| r.id == src.id);
            status_of(src, rec, settings, now)
        })
        .collect();
    Ok(Overview {
        at: now,
        sources,
        posts,
    })
}

/// Why the daemon is not ready (empty: ready): the database must be writable, the scheduler
/// running, and every enabled source must have had a pass younger than twice its schedule
/// interval (a source backing off after failures is waiting as told, and counts as fresh).
pub async fn readiness(app: &App, now: DateTime<Utc>) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = app.store.probe_write().await {
        problems.push(format!("the database is not writable: {e}"));
    }
    if !app
        .scheduler_running
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        problems.push("the scheduler is not running".to_owned());
    }
    let records = match app.store.source_records().await {
        Ok(r) => r,
        Err(e) => {
            problems.push(format!("cannot read the sources' health: {e}"));
            return problems;
        }
    };
    let tz = app.settings().timezone;
    for src in app.settings().sources.iter().filter(|s| s.enabled) {
        let rec = records.iter().find(|r| r.id == src.id);
        if rec.and_then(|r| r.next_try).is_some_and(|t| t > now) {
            continue;
        }
        match rec.and_then(|r| r.last_run) {
            None => problems.push(format!("source {}: no pass yet", src.id)),
            Some(last) => {
                let fresh = interval_after(src, tz, last).is_some_and(|i| now - last < i * 2);
                if !fresh {
                    problems.push(format!(
                        "source {}: last pass at {} is older than twice its schedule interval ({})",
                        src.id,
                        crate::store::fmt_time(last),
                        src.cron
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(extra: &str) -> Settings {
        Settings::from_toml(
            &format!(
                r#"
[storage]
path = "x.sqlite3"
[telegram]
channel = "@niryat_test"
[[sources]]
id = "a"
kind = "html"
url = "https://a.example/news"
schedule = "0 */15 * * * *"
{extra}
[sources.list]
item = ".row"
link = "a"
"#
            ),
            std::path::Path::new("t.toml"),
        )
        .unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn next_run_and_interval_follow_the_cron_schedule() {
        let s = settings("");
        let src = &s.sources[0];
        let now = at("2026-01-05T10:07:00Z");
        assert_eq!(
            next_fire(&src.cron, s.timezone, now),
            Some(at("2026-01-05T10:15:00Z"))
        );
        assert_eq!(
            interval_after(src, s.timezone, now),
            Some(TimeDelta::minutes(15))
        );
        // A daily run at 09:00 Kolkata is 03:30 UTC.
        let daily = settings("").sources[0].clone();
        let daily = SourceSettings {
            cron: "0 0 9 * * *".into(),
            ..daily
        };
        assert_eq!(
            next_fire(&daily.cron, s.timezone, now),
            Some(at("2026-01-06T03:30:00Z"))
        );
        assert_eq!(start_of_day(now, s.timezone), at("2026-01-04T18:30:00Z"));
    }

    #[test]
    fn health_is_the_worst_condition_that_holds() {
        let s = settings("");
        let src = &s.sources[0];
        let now = at("2026-01-05T10:07:00Z");
        let ok = SourceRecord {
            id: "a".into(),
            last_run: Some(now),
            last_new_item: Some(now - TimeDelta::days(1)),
            ..SourceRecord::default()
        };
        let a = s.alerts;
        assert_eq!(health(src, None, a, now), Health::Waiting);
        assert_eq!(health(src, Some(&ok), a, now), Health::Ok);
        let silent = SourceRecord {
            last_new_item: Some(now - TimeDelta::days(7)),
            ..ok.clone()
        };
        assert_eq!(health(src, Some(&silent), a, now), Health::Silent);
        let empty = SourceRecord {
            empty_passes: 3,
            ..silent.clone()
        };
        assert_eq!(health(src, Some(&empty), a, now), Health::Empty);
        let failing = SourceRecord {
            consecutive_failures: 1,
            ..empty
        };
        assert_eq!(health(src, Some(&failing), a, now), Health::Failing);
        let disabled = settings("enabled = false");
        assert_eq!(
            health(&disabled.sources[0], Some(&failing), a, now),
            Health::Disabled
        );
    }
}
