//! What to do with the new items of a pass: the baseline of a first pass, the cap on items per
//! pass, and whether a relevant report is posted or only recorded (a backfill without `--post`,
//! a report older than `max_age`). Pure decisions; the app applies them. Duplicates are decided
//! inside the store's write ([`crate::store::Store::record_article`]), atomically.

use std::time::Duration;

use chrono::NaiveDate;

/// What a source pass does with new relevant articles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassMode {
    /// Scheduled pass: the first one records a baseline; later ones queue posts.
    Normal,
    /// Backfill: record what is found, queue nothing.
    Record,
    /// Backfill with `--post`: queue posts for what is found (oldest first), whatever their age.
    Post,
}

/// How the new items of a pass split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<T> {
    /// Fetched and classified this pass, oldest first (posts appear in publication order).
    pub fetch: Vec<T>,
    /// Recorded as seen without fetching: a first pass's baseline.
    pub baseline: Vec<T>,
    /// Left for later passes by `max_new_per_pass`.
    pub deferred: usize,
}

/// Split the new items of a listing (newest first, as listed). A source's first scheduled pass
/// records them as its baseline except the newest `backfill`; a scheduled pass fetches at most
/// `max_new` (the newest), so a site that changes its URL format cannot flood the channel.
pub fn plan<T>(
    new_items: Vec<T>,
    mode: PassMode,
    initialized: bool,
    backfill: usize,
    max_new: usize,
) -> Plan<T> {
    let mut fetch = new_items;
    let mut baseline = Vec::new();
    if mode == PassMode::Normal && !initialized {
        baseline = fetch.split_off(backfill.min(fetch.len()));
    }
    let mut deferred = 0;
    if mode == PassMode::Normal && fetch.len() > max_new {
        deferred = fetch.len() - max_new;
        fetch.truncate(max_new);
    }
    fetch.reverse();
    Plan {
        fetch,
        baseline,
        deferred,
    }
}

/// Why a relevant report is recorded but not posted, if it is.
pub fn hold_back(
    mode: PassMode,
    report_date: Option<NaiveDate>,
    today: NaiveDate,
    max_age: Duration,
) -> Option<String> {
    match mode {
        PassMode::Record => Some("backfill without --post: recorded, not posted".to_owned()),
        PassMode::Post => None,
        PassMode::Normal => {
            let date = report_date?;
            let age_days = today.signed_duration_since(date).num_days();
            let max_days = i64::try_from(max_age.as_secs() / 86_400).unwrap_or(i64::MAX);
            (age_days > max_days).then(|| {
                format!(
                    "dated {date}, {age_days} days ago: older than max_age ({}); recorded, not posted",
                    humantime::format_duration(max_age)
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_first_pass_takes_a_baseline_except_the_newest_backfill() {
        let p = plan(vec![5, 4, 3, 2, 1], PassMode::Normal, false, 2, 50);
        assert_eq!(p.fetch, vec![4, 5], "oldest first");
        assert_eq!(p.baseline, vec![3, 2, 1]);
        let p = plan(vec![5, 4, 3], PassMode::Normal, true, 2, 50);
        assert_eq!((p.fetch, p.baseline), (vec![3, 4, 5], vec![]));
        // A backfill never takes a baseline.
        let p = plan(vec![5, 4, 3], PassMode::Record, false, 0, 50);
        assert_eq!((p.fetch, p.baseline), (vec![3, 4, 5], vec![]));
    }

    #[test]
    fn a_scheduled_pass_fetches_at_most_max_new_and_defers_the_rest() {
        let items: Vec<u32> = (0..120).rev().collect();
        let p = plan(items.clone(), PassMode::Normal, true, 0, 50);
        assert_eq!(p.fetch.len(), 50);
        assert_eq!(p.deferred, 70);
        assert_eq!(p.fetch[49], 119, "the newest are fetched, newest last");
        assert_eq!(p.fetch[0], 70);
        let p = plan(items, PassMode::Post, true, 0, 50);
        assert_eq!(
            (p.fetch.len(), p.deferred),
            (120, 0),
            "backfill is not capped"
        );
    }

    #[test]
    fn old_reports_are_held_back_unless_backfill_posts() {
        let today = d("2026-12-03");
        let week = Duration::from_secs(7 * 86_400);
        assert_eq!(
            hold_back(PassMode::Normal, Some(d("2026-11-28")), today, week),
            None
        );
        assert_eq!(
            hold_back(PassMode::Normal, Some(d("2026-11-26")), today, week),
            None,
            "exactly max_age old is still new"
        );
        let why = hold_back(PassMode::Normal, Some(d("2022-05-12")), today, week).unwrap();
        assert!(why.contains("older than max_age (7days)"), "{why}");
        assert_eq!(hold_back(PassMode::Normal, None, today, week), None);
        assert_eq!(
            hold_back(PassMode::Post, Some(d("2022-05-12")), today, week),
            None
        );
        assert!(hold_back(PassMode::Record, Some(d("2026-12-03")), today, week).is_some());
    }
}
