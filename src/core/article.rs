//! The one shape of a report inside niryat: an [`Article`], built from a feed or WordPress entry
//! or from a fetched page, classified once, stored and loaded as typed values, and rendered once
//! into a [`Post`].

use chrono::{Datelike, NaiveDate};
use url::Url;

use super::detect::{Detector, Document, Verdict};
use super::districts::District;
use super::krutidev;
use super::render::{self, Keyboard, PostView};
use super::summary;
use super::tags;

/// How an article's text was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Extraction {
    /// The source carried the text (a feed's full content, a WordPress post).
    Source,
    /// The source's `[sources.article]` selectors.
    Selectors,
    /// Found automatically (text and link density).
    Automatic,
    /// Nothing usable on the page.
    None,
}

impl Extraction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Selectors => "selectors",
            Self::Automatic => "automatic",
            Self::None => "none",
        }
    }

    /// The inverse of [`Extraction::as_str`]; unknown text (a newer version's) reads as `None`.
    pub fn parse(s: &str) -> Self {
        match s {
            "source" => Self::Source,
            "selectors" => Self::Selectors,
            "automatic" => Self::Automatic,
            _ => Self::None,
        }
    }
}

impl std::fmt::Display for Extraction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What extraction found on a page or in an entry, before classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub title: String,
    pub body: String,
    pub published: Option<NaiveDate>,
    pub extraction: Extraction,
}

/// A classified report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Article {
    /// Canonical URL: the report's identity.
    pub url: Url,
    /// The link text on the listing (or the entry's title).
    pub listing_title: String,
    pub title: String,
    /// Paragraphs separated by `\n`.
    pub body: String,
    pub published: Option<NaiveDate>,
    pub verdict: Verdict,
    pub extraction: Extraction,
}

/// A rendered post: Telegram HTML, its plain-text fallback and its inline URL buttons, made
/// together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Post {
    pub html: String,
    pub plain: String,
    pub buttons: Keyboard,
}

impl Post {
    /// The URL of the first button (the source): what a link preview shows, since the text
    /// itself carries no link.
    pub fn preview_url(&self) -> Option<&str> {
        self.buttons.iter().flatten().find_map(|b| match b {
            render::Button::Url { url, .. } => Some(url.as_str()),
            render::Button::Callback { .. } => None,
        })
    }
}

/// The reason added when a page in the Kruti Dev legacy font was converted.
pub const LEGACY_FONT_REASON: &str = "legacy font: the page is in Kruti Dev (ASCII that renders as Devanagari); converted to Unicode before matching";

/// Oldest publication date believed: earlier ones are template junk or epoch defaults.
const OLDEST_PLAUSIBLE_YEAR: i32 = 1990;

/// A publication date as shown by a source, kept only when it is plausible: not before 1990 and
/// not after `today` (India time) plus one day for time-zone slack.
pub fn plausible_published(d: NaiveDate, today: NaiveDate) -> Option<NaiveDate> {
    let latest = today.succ_opt().unwrap_or(today);
    (d.year() >= OLDEST_PLAUSIBLE_YEAR && d <= latest).then_some(d)
}

impl Article {
    /// Classify what was extracted for the item at `url`. The title falls back to the listing's
    /// link text; Hindi typed in the Kruti Dev legacy font is converted first (and said so in the
    /// reasons); implausible publication dates are dropped.
    pub fn classify(
        detector: &Detector,
        url: Url,
        listing_title: &str,
        x: Extracted,
        today: NaiveDate,
    ) -> Self {
        let title = if x.title.trim().is_empty() {
            listing_title.to_owned()
        } else {
            x.title
        };
        let (title, body, legacy_font) = from_legacy_font(title, x.body);
        let mut verdict = detector.classify(&Document {
            title: &title,
            body: &body,
            url: Some(url.as_str()),
        });
        if legacy_font {
            verdict.reasons.insert(0, LEGACY_FONT_REASON.to_owned());
        }
        Self {
            url,
            listing_title: listing_title.to_owned(),
            title,
            body,
            published: x.published.and_then(|d| plausible_published(d, today)),
            verdict,
            extraction: x.extraction,
        }
    }

    /// On topic and about Chhattisgarh: a report for the channel.
    pub fn relevant(&self) -> bool {
        self.verdict.post()
    }

    pub fn district(&self) -> Option<District> {
        self.verdict.district
    }

    /// The kind of event the report is about (for its hashtag).
    pub fn event_kind(&self) -> tags::EventKind {
        tags::event_kind(&self.title, &self.body)
    }

    /// The channel post, with buttons to later copies of the same note (`also_at`) and the
    /// district's and the event's hashtags.
    pub fn post(&self, also_at: &[String]) -> Post {
        let district = self.district();
        let summary = summary::summarize(&self.title, &self.body, self.published);
        let hashtags = tags::hashtags(district.as_ref(), self.event_kind());
        let view = PostView {
            title: &self.title,
            url: self.url.as_str(),
            district_en: district.map(|d| d.en),
            district_hi: district.map(|d| d.hi),
            summary: &summary,
            also_at,
            hashtags: &hashtags,
        };
        Post {
            html: render::render_html(&view),
            plain: render::render_plain(&view),
            buttons: render::render_buttons(&view),
        }
    }

    /// The date the report is about: its dateline's (the month's last day when the dateline has
    /// no day), else its publication date.
    pub fn report_date(&self) -> Option<NaiveDate> {
        summary::summarize(&self.title, &self.body, self.published)
            .date
            .and_then(|d| d.latest_day())
            .or(self.published)
    }
}

/// Hindi typed in the legacy Kruti Dev font arrives as ASCII gibberish; convert the lines that
/// look like it (and the title) so it is classified as Hindi. Returns whether anything was converted.
fn from_legacy_font(title: String, body: String) -> (String, String, bool) {
    let body_converted = krutidev::convert_krutidev_lines(&body);
    let title_converted =
        krutidev::looks_like_krutidev(&title).then(|| krutidev::krutidev_to_unicode(&title));
    let converted = body_converted.is_some() || title_converted.is_some();
    (
        title_converted.unwrap_or(title),
        body_converted.unwrap_or(body),
        converted,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn implausible_publication_dates_are_dropped() {
        let today = d("2026-12-03");
        assert_eq!(
            plausible_published(d("2022-05-12"), today),
            Some(d("2022-05-12"))
        );
        assert_eq!(
            plausible_published(d("2026-12-04"), today),
            Some(d("2026-12-04")),
            "one day of time-zone slack"
        );
        assert_eq!(plausible_published(d("2027-01-01"), today), None);
        assert_eq!(plausible_published(d("1970-01-01"), today), None);
        assert_eq!(plausible_published(d("1989-12-31"), today), None);
    }

    #[test]
    fn extraction_round_trips_through_its_text() {
        for e in [
            Extraction::Source,
            Extraction::Selectors,
            Extraction::Automatic,
            Extraction::None,
        ] {
            assert_eq!(Extraction::parse(e.as_str()), e);
        }
    }
}
