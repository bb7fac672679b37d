//! Quiet hours (`[telegram] quiet_hours = "22:00-07:00"`): a daily window, in the configured time
//! zone, in which posts are sent without a notification sound. The window may wrap midnight.

use chrono::NaiveTime;

/// A daily window `[start, end)`; `start > end` wraps midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// Parse `"HH:MM-HH:MM"`. The two times must differ.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("{s:?} is not a window such as \"22:00-07:00\" (HH:MM-HH:MM, 24-hour clock)")
        };
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| bad());
        let (start, end) = (time(a)?, time(b)?);
        if start == end {
            return Err(format!(
                "{s:?}: the window starts and ends at the same time"
            ));
        }
        Ok(Self { start, end })
    }

    /// Whether `t` (local time) falls in the window.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

impl std::fmt::Display for QuietHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn a_window_over_midnight() {
        let q = QuietHours::parse("22:00-07:00").unwrap();
        for inside in ["22:00", "23:59", "00:00", "03:30", "06:59"] {
            assert!(q.contains(t(inside)), "{inside}");
        }
        for outside in ["07:00", "12:00", "21:59"] {
            assert!(!q.contains(t(outside)), "{outside}");
        }
        assert_eq!(q.to_string(), "22:00-07:00");
    }

    #[test]
    fn a_window_within_a_day() {
        let q = QuietHours::parse("13:00 - 14:30").unwrap();
        assert!(q.contains(t("13:00")) && q.contains(t("14:29")));
        assert!(!q.contains(t("14:30")) && !q.contains(t("12:59")) && !q.contains(t("23:00")));
    }

    #[test]
    fn bad_windows_are_refused() {
        for bad in [
            "",
            "22:00",
            "22-07",
            "25:00-07:00",
            "22:00-22:00",
            "10pm-7am",
        ] {
            assert!(QuietHours::parse(bad).is_err(), "{bad}");
        }
    }
}
