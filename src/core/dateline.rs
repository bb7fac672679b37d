//! Press-note datelines: `दुर्ग , मई 2022/`, `रायपुर 14 नवंबर 2024/`, `Raipur, March 5, 2023:` …
//!
//! Owns [`PartialDate`] (a date that may lack day and/or year, with Hindi/English display) and
//! [`parse_dateline`], which finds the place + date prefix at the start of an article body and
//! the byte offset where the body text proper starts.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use regex::Regex;

use super::text::Lang;

/// A date of which only some parts are known (press notes often give "मई 2022" or "19 जनवरी").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PartialDate {
    pub year: Option<i32>,
    pub month: Option<u32>,
    pub day: Option<u32>,
}

/// Hindi month names used for display (index 0 = January).
const HI_MONTHS: [&str; 12] = [
    "जनवरी",
    "फरवरी",
    "मार्च",
    "अप्रैल",
    "मई",
    "जून",
    "जुलाई",
    "अगस्त",
    "सितंबर",
    "अक्टूबर",
    "नवंबर",
    "दिसंबर",
];

/// English month names used for display (index 0 = January).
const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl PartialDate {
    /// A fully known date.
    pub fn from_naive(d: NaiveDate) -> Self {
        PartialDate {
            year: Some(d.year()),
            month: Some(d.month()),
            day: Some(d.day()),
        }
    }

    /// Human-readable form: "21 फरवरी 2022", "मई 2022", "21 February 2022", "2022".
    /// A day without a month is not shown. `None` when nothing displayable is known.
    pub fn display(&self, lang: Lang) -> Option<String> {
        let month = self
            .month
            .filter(|m| (1..=12).contains(m))
            .map(|m| match lang {
                Lang::Hi => HI_MONTHS[(m - 1) as usize],
                Lang::En => EN_MONTHS[(m - 1) as usize],
            });
        let mut parts: Vec<String> = Vec::new();
        if let Some(m) = month {
            if let Some(d) = self.day.filter(|d| (1..=31).contains(d)) {
                parts.push(d.to_string());
            }
            parts.push(m.to_string());
        }
        if let Some(y) = self.year {
            parts.push(y.to_string());
        }
        if parts.is_empty() {
            None
        } else {
            Some(parts.join(" "))
        }
    }

    /// The last day this date can stand for: the day itself, the month's last day when only month
    /// and year are known, 31 December when only the year is. `None` without a year, or when the
    /// parts make no date.
    pub fn latest_day(&self) -> Option<NaiveDate> {
        let year = self.year?;
        let month = self.month.unwrap_or(12);
        match self.day {
            Some(day) => NaiveDate::from_ymd_opt(year, month, day),
            None => {
                let first_of_next = if month >= 12 {
                    NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(year, month + 1, 1)
                };
                first_of_next?.pred_opt()
            }
        }
    }

    /// Fill a missing year from a reference (publish) date: the latest year such that the
    /// dateline is not after the reference by more than a month (a "28 दिसंबर" note published on
    /// 2 January belongs to the previous year).
    pub fn with_year_from(mut self, reference: NaiveDate) -> Self {
        if self.year.is_none() {
            let mut year = reference.year();
            if let Some(m) = self.month
                && m > reference.month() + 1
            {
                year -= 1;
            }
            self.year = Some(year);
        }
        self
    }
}

/// A parsed dateline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dateline {
    /// The dateline town as written (e.g. "जांजगीर-चांपा", "RAIPUR").
    pub place: String,
    /// A bracketed qualifier right after the town: "रायगढ़ (महाराष्ट्र)", "नारायणपुर (छ.ग.)".
    pub qualifier: Option<String>,
    /// The date, if the dateline carried one.
    pub date: Option<PartialDate>,
    /// Byte offset in the body where the body text proper starts.
    pub end: usize,
}

/// Month alternatives (Hindi spellings with anusvara/half-nasal/nukta variants, English names).
const MONTH_ALT: &str = concat!(
    "जनवरी|",
    "(?:\u{095E}|फ\u{093C}|फ)रवरी|",
    "मार्च|",
    "अप्र(?:ै|े)ल|",
    "मई|",
    "जून|",
    "जुलाई|",
    "अगस्त|",
    "सित(?:ं|म्)बर|",
    "अक(?:्ट|्त)ूबर|",
    "नव(?:ं|म्)बर|",
    "दिस(?:ं|म्)बर|",
    "(?i:january|february|march|april|may|june|july|august|september|october|november|december|",
    "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
);

const DIGIT: &str = "[0-9०-९]";
const PLACE: &str = r"[\p{L}\p{M}]+(?:[ \t\-–]+[\p{L}\p{M}]+){0,3}";
const TRAIL: &str = r"(?:[ \t]*\((?:[^)\n]{1,40})\))?[ \t]*(?:[/।:.\-–—|]+)?";

/// A bracketed qualifier right after the place: `(महाराष्ट्र)`, `(छ.ग.)`.
const QUALIFIER: &str = r"(?:[ \t]*\((?P<q>[^)\n]{1,40})\))?";

/// `Place [(qualifier)][,] [D[,]] Month[,] [YYYY] trailer` (Hindi order, also "5 March 2023").
static RE_DMY: LazyLock<Regex> = LazyLock::new(|| {
    let pat = format!(
        r"^(?P<place>{PLACE}){QUALIFIER}[ \t]*,?[ \t]*(?:(?P<d>{DIGIT}{{1,2}})[ \t]*,?[ \t]*)?(?P<m>{MONTH_ALT})\.?[ \t]*,?[ \t]*(?:(?P<y>{DIGIT}{{4}}))?(?P<trail>{TRAIL})"
    );
    compile(&pat)
});

/// `Place, Month D[,] [YYYY] trailer` (English order: "Raipur, March 5, 2023:", "RAIPUR, Nov 14:").
static RE_MDY: LazyLock<Regex> = LazyLock::new(|| {
    let pat = format!(
        r"^(?P<place>{PLACE}){QUALIFIER}[ \t]*(?P<comma>,)?[ \t]*(?P<m>{MONTH_ALT})\.?[ \t]+(?P<d>{DIGIT}{{1,2}})(?:st|nd|rd|th)?[ \t]*,?[ \t]*(?:(?P<y>{DIGIT}{{4}}))?(?P<trail>{TRAIL})"
    );
    compile(&pat)
});

/// Place only, followed by a strong separator: `रायपुर।`, `खैरागढ़ :—`, `रायपुर, 26 अक्टूबर (आरएनएस)।` handled above.
static RE_PLACE_ONLY: LazyLock<Regex> = LazyLock::new(|| {
    let pat = format!(r"^(?P<place>{PLACE}){QUALIFIER}[ \t]*(?:।|:[ \t]*[-–—]*|[–—]+-*)[ \t]*");
    compile(&pat)
});

/// The most memory each dateline regex's lazy DFA may hold per searching thread. Their Unicode
/// letter classes make large DFAs: with the default limits the three held about 7 MB of a pass's
/// heap (heaptrack; one cache per thread searching).
const DFA_CACHE: usize = 1 << 20;

fn compile(pat: &str) -> Regex {
    // Built only from compile-time constants; covered by the tests below.
    regex::RegexBuilder::new(pat)
        .dfa_size_limit(DFA_CACHE)
        .build()
        .expect("constant dateline regex")
}

fn parse_num(s: &str) -> Option<u32> {
    let mut n: u32 = 0;
    for c in s.chars() {
        let d = match c {
            '0'..='9' => c as u32 - '0' as u32,
            '०'..='९' => c as u32 - '०' as u32,
            _ => return None,
        };
        n = n.checked_mul(10)?.checked_add(d)?;
    }
    Some(n)
}

/// Month number from any accepted spelling.
pub fn month_number(name: &str) -> Option<u32> {
    let n: String = name
        .chars()
        .filter(|c| *c != '\u{093C}')
        .collect::<String>()
        .to_lowercase();
    let n = n.replace('\u{095E}', "फ");
    let m = match n.as_str() {
        "जनवरी" | "january" | "jan" => 1,
        "फरवरी" | "february" | "feb" => 2,
        "मार्च" | "march" | "mar" => 3,
        "अप्रैल" | "अप्रेल" | "april" | "apr" => 4,
        "मई" | "may" => 5,
        "जून" | "june" | "jun" => 6,
        "जुलाई" | "july" | "jul" => 7,
        "अगस्त" | "august" | "aug" => 8,
        "सितंबर" | "सितम्बर" | "september" | "sept" | "sep" => 9,
        "अक्टूबर" | "अक्तूबर" | "october" | "oct" => 10,
        "नवंबर" | "नवम्बर" | "november" | "nov" => 11,
        "दिसंबर" | "दिसम्बर" | "december" | "dec" => 12,
        _ => return None,
    };
    Some(m)
}

/// Words that cannot be (the start of) a dateline place.
const NOT_PLACE: &[&str] = &[
    "इस",
    "आज",
    "यह",
    "जिले",
    "जिला",
    "बड़ी",
    "ब्रेकिंग",
    "खबर",
    "नोट",
    "the",
    "The",
    "In",
    "On",
    "Disclaimer",
    "Search",
    "Breaking",
    "Update",
    "Note",
    "Advertisement",
    "Rice",
    "CG",
    "Home",
    "Read",
];

fn place_ok(place: &str) -> bool {
    let first = place.split([' ', '\t', '-']).next().unwrap_or("");
    !place.is_empty() && place.chars().count() <= 40 && !NOT_PLACE.contains(&first)
}

/// Try a dateline exactly at `s` (no leading whitespace). Offsets are relative to `s`.
fn parse_at(s: &str) -> Option<Dateline> {
    for re in [&*RE_DMY, &*RE_MDY] {
        let Some(c) = re.captures(s) else { continue };
        let place = c.name("place").map_or("", |m| m.as_str()).trim();
        if !place_ok(place) {
            continue;
        }
        let Some(month) = c.name("m").and_then(|m| month_number(m.as_str())) else {
            continue;
        };
        let day = match c.name("d") {
            Some(d) => match parse_num(d.as_str()) {
                Some(v) if (1..=31).contains(&v) => Some(v),
                _ => continue,
            },
            None => None,
        };
        let year = match c.name("y") {
            Some(y) => match parse_num(y.as_str()) {
                Some(v) if (1900..=2100).contains(&v) => Some(v as i32),
                _ => continue,
            },
            None => None,
        };
        let trail = c.name("trail").map_or("", |m| m.as_str()).trim();
        let all = c.get(0)?;
        let rest = &s[all.end()..];
        // A following digit means we stopped inside a number; no year and no trailer means
        // this is running text ("रायपुर 19 जनवरी को …"), not a dateline.
        if rest.chars().next().is_some_and(|ch| ch.is_ascii_digit()) {
            continue;
        }
        // English wire style "Raipur, Oct 12 Chhattisgarh …" needs no trailer.
        let wire = c.name("comma").is_some() && day.is_some() && place.is_ascii();
        if year.is_none() && trail.is_empty() && !wire {
            continue;
        }
        if let (Some(y), Some(d)) = (year, day)
            && NaiveDate::from_ymd_opt(y, month, d).is_none()
        {
            continue;
        }
        let end = all.end() + (rest.len() - rest.trim_start().len());
        return Some(Dateline {
            place: place.to_string(),
            qualifier: c.name("q").map(|q| q.as_str().trim().to_owned()),
            date: Some(PartialDate {
                year,
                month: Some(month),
                day,
            }),
            end,
        });
    }
    let c = RE_PLACE_ONLY.captures(s)?;
    let place = c.name("place")?.as_str().trim();
    if !place_ok(place) || place.split_whitespace().count() > 3 {
        return None;
    }
    let all = c.get(0)?;
    Some(Dateline {
        place: place.to_string(),
        qualifier: c.name("q").map(|q| q.as_str().trim().to_owned()),
        date: None,
        end: all.end(),
    })
}

/// Parse a press-note dateline at the start of a body (after optional leading whitespace/newlines,
/// possibly after a repeated headline line or two).
pub fn parse_dateline(body: &str) -> Option<Dateline> {
    let mut offset = body.len() - body.trim_start().len();
    // The dateline itself, or up to 3 further lines (repeated headline, category label, byline).
    for _ in 0..4 {
        let s = &body[offset..];
        if let Some(mut d) = parse_at(s) {
            d.end += offset;
            return Some(d);
        }
        let nl = s.find('\n')?;
        if nl > 400 {
            return None;
        }
        let next = &s[nl..];
        offset += nl + (next.len() - next.trim_start().len());
        if offset >= body.len() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pd(y: Option<i32>, m: u32, d: Option<u32>) -> Option<PartialDate> {
        Some(PartialDate {
            year: y,
            month: Some(m),
            day: d,
        })
    }

    #[test]
    fn the_latest_day_a_partial_date_stands_for() {
        let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(
            pd(Some(2022), 5, None).unwrap().latest_day(),
            ymd(2022, 5, 31)
        );
        assert_eq!(
            pd(Some(2024), 2, None).unwrap().latest_day(),
            ymd(2024, 2, 29)
        );
        assert_eq!(
            pd(Some(2022), 12, None).unwrap().latest_day(),
            ymd(2022, 12, 31)
        );
        assert_eq!(
            pd(Some(2022), 2, Some(21)).unwrap().latest_day(),
            ymd(2022, 2, 21)
        );
        assert_eq!(pd(None, 2, Some(21)).unwrap().latest_day(), None);
        assert_eq!(pd(Some(2022), 2, Some(30)).unwrap().latest_day(), None);
        let year_only = PartialDate {
            year: Some(i32::MAX),
            month: None,
            day: None,
        };
        assert_eq!(year_only.latest_day(), None, "no overflow panic");
    }

    fn check(body: &str, place: &str, date: Option<PartialDate>, rest_starts: &str) {
        let d = parse_dateline(body).unwrap_or_else(|| panic!("no dateline in {body:?}"));
        assert_eq!(d.place, place, "{body:?}");
        assert_eq!(d.date, date, "{body:?}");
        assert!(
            body[d.end..].starts_with(rest_starts),
            "{body:?} rest {:?}",
            &body[d.end..]
        );
    }

    #[test]
    fn forms_from_real_notes() {
        check(
            "\n\nदुर्ग , मई 2022/जिला स्तरीय निर्यात",
            "दुर्ग",
            pd(Some(2022), 5, None),
            "जिला स्तरीय",
        );
        check(
            "मुंगेली, नवम्बर 2022//कलेक्टर",
            "मुंगेली",
            pd(Some(2022), 11, None),
            "कलेक्टर",
        );
        check(
            "जांजगीर-चांपा, 21 फरवरी, 2022/ आजादी",
            "जांजगीर-चांपा",
            pd(Some(2022), 2, Some(21)),
            "आजादी",
        );
        check(
            "कोण्डागांव, 28 फरवरी 2024/जिले",
            "कोण्डागांव",
            pd(Some(2024), 2, Some(28)),
            "जिले",
        );
        check(
            "रायपुर 14 नवंबर 2024/ मुख्यमंत्री",
            "रायपुर",
            pd(Some(2024), 11, Some(14)),
            "मुख्यमंत्री",
        );
        check(
            "रायपुर 13 मार्च 2023 मुख्य सचिव",
            "रायपुर",
            pd(Some(2023), 3, Some(13)),
            "मुख्य सचिव",
        );
        check(
            "उत्तर बस्तर कांकेर 01 मार्च 2021 : हाट बाजारों",
            "उत्तर बस्तर कांकेर",
            pd(Some(2021), 3, Some(1)),
            "हाट",
        );
        check(
            "बिलासपुर, 28 अक्टूबर 2025. कलेक्टर",
            "बिलासपुर",
            pd(Some(2025), 10, Some(28)),
            "कलेक्टर",
        );
        check(
            "रायपुर 19 जनवरी। प्रदेश",
            "रायपुर",
            pd(None, 1, Some(19)),
            "प्रदेश",
        );
        check(
            "रायपुर, 26 अक्टूबर (आरएनएस)। राज्य",
            "रायपुर",
            pd(None, 10, Some(26)),
            "राज्य",
        );
        check(
            "Raipur, March 5, 2023: The Collector",
            "Raipur",
            pd(Some(2023), 3, Some(5)),
            "The Collector",
        );
        check(
            "RAIPUR, Nov 14: Exporters",
            "RAIPUR",
            pd(None, 11, Some(14)),
            "Exporters",
        );
        check(
            "रायपुर 29 सितम्बर 2022 : मुख्य सचिव",
            "रायपुर",
            pd(Some(2022), 9, Some(29)),
            "मुख्य सचिव",
        );
    }

    #[test]
    fn devanagari_digits_and_spelling_variants() {
        check(
            "धमतरी, २१ फ़रवरी २०२२/ कलेक्टर",
            "धमतरी",
            pd(Some(2022), 2, Some(21)),
            "कलेक्टर",
        );
        check(
            "धमतरी, 4 \u{095E}रवरी 2022/ क",
            "धमतरी",
            pd(Some(2022), 2, Some(4)),
            "क",
        );
        // decomposed nukta (what NFC produces for फ़)
        check(
            "धमतरी, 3 फ\u{093C}रवरी 2022/ क",
            "धमतरी",
            pd(Some(2022), 2, Some(3)),
            "क",
        );
        check(
            "कोरबा, 2 अक्तूबर 2023/ क",
            "कोरबा",
            pd(Some(2023), 10, Some(2)),
            "क",
        );
        check(
            "कोरबा, 2 अप्रेल 2023/ क",
            "कोरबा",
            pd(Some(2023), 4, Some(2)),
            "क",
        );
        check(
            "कोरबा, 2 दिसम्बर 2023/ क",
            "कोरबा",
            pd(Some(2023), 12, Some(2)),
            "क",
        );
        check(
            "कोरबा, 2 सितंबर 2023/ क",
            "कोरबा",
            pd(Some(2023), 9, Some(2)),
            "क",
        );
    }

    #[test]
    fn after_repeated_headline_and_place_only() {
        let body = "आकर्षक और गुणवत्ता युक्त उत्पाद की मांग स्वाभाविक रूप से होती है – कलेक्टर\n\nजांजगीर-चांपा, 26 सितंबर, 2021/ आजादी के अमृत";
        check(body, "जांजगीर-चांपा", pd(Some(2021), 9, Some(26)), "आजादी");
        check("रायपुर। आजादी का अमृत", "रायपुर", None, "आजादी");
        check("खैरागढ़ :— जिला व्यापार", "खैरागढ़", None, "जिला");
        check("कोरबा(आधार स्तंभ) : कलेक्टर", "कोरबा", None, "कलेक्टर");
        check(
            "Raipur, Oct 12 Chhattisgarh Chief Minister",
            "Raipur",
            pd(None, 10, Some(12)),
            "Chhattisgarh",
        );
        assert!(parse_dateline("Disclaimer: the views").is_none());
    }

    #[test]
    fn rejects_running_text_and_bad_dates() {
        assert_eq!(parse_dateline("जिले से निर्यात को प्रोत्साहित करने हेतु"), None);
        assert!(parse_dateline("रायपुर 19 जनवरी को बैठक होगी").is_none());
        let d = parse_dateline("रायपुर, 31 फरवरी 2022/ x");
        assert!(d.is_none_or(|d| d.date.is_none()));
        assert_eq!(parse_dateline(""), None);
    }

    #[test]
    fn display_and_year_fill() {
        let d = PartialDate::from_naive(NaiveDate::from_ymd_opt(2022, 2, 21).unwrap());
        assert_eq!(d.display(Lang::Hi).as_deref(), Some("21 फरवरी 2022"));
        assert_eq!(d.display(Lang::En).as_deref(), Some("21 February 2022"));
        let m = PartialDate {
            year: Some(2022),
            month: Some(5),
            day: None,
        };
        assert_eq!(m.display(Lang::Hi).as_deref(), Some("मई 2022"));
        let n = PartialDate {
            year: None,
            month: Some(12),
            day: Some(28),
        };
        let filled = n.with_year_from(NaiveDate::from_ymd_opt(2023, 1, 2).unwrap());
        assert_eq!(filled.year, Some(2022));
        let none = PartialDate {
            year: None,
            month: None,
            day: None,
        };
        assert_eq!(none.display(Lang::Hi), None);
    }
}
