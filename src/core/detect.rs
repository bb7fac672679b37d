//! The topic/region/district detector.
//!
//! Owns the vocabulary format ([`Vocabulary`], parsed from `vocab.toml` and operator extension files in the
//! same format), its compilation ([`Detector`]), and classification of one [`Document`] into a [`Verdict`].
//!
//! Method (explainable, no learned weights):
//! * **Topic**: weighted phrase groups (committee phrases in any word order, named export events, the
//!   export-promotion purpose, agencies, "export" in the title, export-hub vocabulary) + a co-occurrence
//!   bonus when an export word and an event noun occur in the same sentence (a larger close tier for
//!   "निर्यात जागरूकता कार्यशाला"/"exporters meet", a smaller near tier within a window), minus hard-negative
//!   groups (समय-सीमा, धान खरीदी, DLCC, loan camps, investor connects, trade-fair pavilions, export bans,
//!   customs seizures, cabinet meetings, policy texts, EPC elections …). Each group fires at most once; a
//!   hard negative named in the title (the report's subject) weighs 1.5 times. Phrases in which an export
//!   word does not mean exporting goods ([ignore]: आयात-निर्यात, export credit, power export) are masked
//!   first. topic = score ≥ threshold and an event word is present.
//! * **Region**: dateline (the place before the first `,`/`।`/`:`/`/`/date near the start of the body; a
//!   bracketed state right after it, "रायगढ़ (महाराष्ट्र)", "नारायणपुर (छ.ग.)", decides), then the URL slug,
//!   then counts of Chhattisgarh markers/district names vs other-state markers. Ambiguous district names
//!   (Bilaspur, Balrampur, Bijapur, कोरिया) need independent CG evidence.
//! * **District**: dateline, URL slug, title, then the most-mentioned district; a state-capital रायपुर
//!   dateline yields to another district named in the title, else to a "<district> जिले" in the lead.

use crate::core::districts::{self, District};
use crate::core::text::{normalize, percent_decode, prefix_chars};
use regex::{Regex, RegexSet, RegexSetBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The embedded vocabulary source.
const EMBEDDED: &str = include_str!("vocab.toml");
const EMBEDDED_ORIGIN: &str = "src/core/vocab.toml (embedded)";

/// Errors in a vocabulary file. Messages name the origin file, the section/key and the bad entry.
#[derive(Debug, thiserror::Error)]
pub enum VocabError {
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: [{section}] entry \"{entry}\" is not a valid pattern: {message}")]
    Pattern {
        origin: String,
        section: String,
        entry: String,
        message: String,
    },
    #[error("{origin}: [{section}] {message}")]
    Invalid {
        origin: String,
        section: String,
        message: String,
    },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: String,
    weight: f32,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    phrases: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScored {
    #[serde(default)]
    threshold: Option<f32>,
    #[serde(default)]
    default_weight: Option<f32>,
    #[serde(default)]
    phrases: Vec<String>,
    #[serde(default)]
    group: Vec<RawGroup>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    #[serde(default)]
    phrases: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCooccur {
    #[serde(default)]
    window: Option<usize>,
    #[serde(default)]
    weight: Option<f32>,
    #[serde(default)]
    close_window: Option<usize>,
    #[serde(default)]
    close_weight: Option<f32>,
    #[serde(default)]
    export: Vec<String>,
    #[serde(default)]
    event: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    #[serde(default)]
    cg: Vec<String>,
    #[serde(default)]
    other: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVocab {
    #[serde(default)]
    topic: RawScored,
    #[serde(default)]
    negative: RawScored,
    #[serde(default)]
    event: RawList,
    #[serde(default)]
    cooccur: RawCooccur,
    #[serde(default)]
    region: RawRegion,
    #[serde(default)]
    ignore: RawList,
}

/// Where a group's phrases are looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Title,
    Body,
    Any,
}

/// A weighted, named list of patterns.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub weight: f32,
    pub scope: Scope,
    /// Entries as written (validated by [`Vocabulary::from_toml_str`], compiled by [`Detector::new`]).
    pub phrases: Vec<Entry>,
}

/// One vocabulary entry with where it came from (for error messages).
#[derive(Debug, Clone)]
pub struct Entry {
    pub origin: String,
    pub section: String,
    pub text: String,
}

/// Phrase lists, weights, negatives and region markers.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    pub threshold: f32,
    pub topic: Vec<Group>,
    pub negative: Vec<Group>,
    pub event: Vec<Entry>,
    pub window: usize,
    pub cooccur_weight: f32,
    /// Tighter co-occurrence tier: an export word at most `close_window` tokens from an event noun in the
    /// same sentence ("निर्यात जागरूकता कार्यशाला", "exporters meet") gives `close_weight` instead.
    pub close_window: usize,
    pub close_weight: f32,
    pub export_words: Vec<Entry>,
    pub event_nouns: Vec<Entry>,
    pub region_cg: Vec<Entry>,
    pub region_other: Vec<Entry>,
    /// Phrases in which an export word does not mean exporting goods ("आयात-निर्यात" as a tax or course
    /// category, export credit, power export): masked out of the text before topic matching.
    pub ignore: Vec<Entry>,
    /// Which scalars the file set explicitly (an extension's explicit scalars override on merge).
    explicit: Explicit,
}

#[derive(Debug, Clone, Copy, Default)]
struct Explicit {
    threshold: bool,
    window: bool,
    cooccur_weight: bool,
    close_window: bool,
    close_weight: bool,
}

fn entries(origin: &str, section: &str, list: Vec<String>) -> Vec<Entry> {
    list.into_iter()
        .map(|text| Entry {
            origin: origin.to_string(),
            section: section.to_string(),
            text,
        })
        .collect()
}

fn groups(
    origin: &str,
    key: &str,
    raw: RawScored,
    default_weight: f32,
) -> Result<Vec<Group>, VocabError> {
    let mut out = Vec::new();
    if !raw.phrases.is_empty() {
        out.push(Group {
            name: format!("{key} phrase"),
            weight: raw.default_weight.unwrap_or(default_weight),
            scope: Scope::Any,
            phrases: entries(origin, &format!("{key}.phrases"), raw.phrases),
        });
    }
    for g in raw.group {
        let section = format!("{key}.group \"{}\"", g.name);
        let scope = match g.scope.as_deref() {
            None | Some("any") => Scope::Any,
            Some("title") => Scope::Title,
            Some("body") => Scope::Body,
            Some(other) => {
                return Err(VocabError::Invalid {
                    origin: origin.to_string(),
                    section,
                    message: format!("scope \"{other}\" must be \"title\", \"body\" or \"any\""),
                });
            }
        };
        if !g.weight.is_finite() {
            return Err(VocabError::Invalid {
                origin: origin.to_string(),
                section,
                message: "weight must be a finite number".into(),
            });
        }
        out.push(Group {
            name: g.name,
            weight: g.weight,
            scope,
            phrases: entries(origin, &section, g.phrases),
        });
    }
    Ok(out)
}

impl Vocabulary {
    /// The vocabulary shipped in the binary: include_str!("vocab.toml").
    pub fn embedded() -> Result<Self, VocabError> {
        Self::from_toml_str(EMBEDDED, EMBEDDED_ORIGIN)
    }

    /// Parse an operator's extension file in the same format; `origin` is its path, used in errors.
    /// Patterns are validated here (and again when compiled).
    pub fn from_toml_str(src: &str, origin: &str) -> Result<Self, VocabError> {
        let raw: RawVocab = toml::from_str(src).map_err(|e| VocabError::Parse {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let explicit = Explicit {
            threshold: raw.topic.threshold.is_some(),
            window: raw.cooccur.window.is_some(),
            cooccur_weight: raw.cooccur.weight.is_some(),
            close_window: raw.cooccur.close_window.is_some(),
            close_weight: raw.cooccur.close_weight.is_some(),
        };
        let scalar_err = |section: &str, message: &str| VocabError::Invalid {
            origin: origin.to_string(),
            section: section.to_string(),
            message: message.to_string(),
        };
        if raw.topic.threshold.is_some_and(|t| !t.is_finite()) {
            return Err(scalar_err("topic", "threshold must be a finite number"));
        }
        if raw.cooccur.weight.is_some_and(|t| !t.is_finite()) {
            return Err(scalar_err("cooccur", "weight must be a finite number"));
        }
        if raw.cooccur.window.is_some_and(|w| w > 1000) {
            return Err(scalar_err("cooccur", "window must be at most 1000 tokens"));
        }
        if raw.cooccur.close_weight.is_some_and(|t| !t.is_finite()) {
            return Err(scalar_err(
                "cooccur",
                "close_weight must be a finite number",
            ));
        }
        if raw.cooccur.close_window.is_some_and(|w| w > 1000) {
            return Err(scalar_err(
                "cooccur",
                "close_window must be at most 1000 tokens",
            ));
        }
        let vocab = Vocabulary {
            explicit,
            threshold: raw.topic.threshold.unwrap_or(4.0),
            topic: groups(origin, "topic", raw.topic, 4.0)?,
            negative: groups(origin, "negative", raw.negative, -4.0)?,
            event: entries(origin, "event.phrases", raw.event.phrases),
            window: raw.cooccur.window.unwrap_or(8),
            cooccur_weight: raw.cooccur.weight.unwrap_or(2.0),
            close_window: raw.cooccur.close_window.unwrap_or(0),
            close_weight: raw.cooccur.close_weight.unwrap_or(0.0),
            export_words: entries(origin, "cooccur.export", raw.cooccur.export),
            event_nouns: entries(origin, "cooccur.event", raw.cooccur.event),
            region_cg: entries(origin, "region.cg", raw.region.cg),
            region_other: entries(origin, "region.other", raw.region.other),
            ignore: entries(origin, "ignore.phrases", raw.ignore.phrases),
        };
        for e in vocab.all_entries() {
            compile_entry(e)?;
        }
        Ok(vocab)
    }

    fn all_entries(&self) -> impl Iterator<Item = &Entry> {
        self.topic
            .iter()
            .chain(self.negative.iter())
            .flat_map(|g| g.phrases.iter())
            .chain(self.event.iter())
            .chain(self.export_words.iter())
            .chain(self.event_nouns.iter())
            .chain(self.region_cg.iter())
            .chain(self.region_other.iter())
            .chain(self.ignore.iter())
    }

    /// Add the entries of `other` to self (extension, not replacement). Groups with the same name are
    /// merged; other's list entries are appended; scalars (threshold, window, co-occurrence weight) that
    /// `other` sets explicitly override self's.
    pub fn merge(&mut self, other: Vocabulary) {
        fn merge_groups(into: &mut Vec<Group>, from: Vec<Group>) {
            for g in from {
                if let Some(existing) = into.iter_mut().find(|x| x.name == g.name) {
                    existing.phrases.extend(g.phrases);
                } else {
                    into.push(g);
                }
            }
        }
        if other.explicit.threshold {
            self.threshold = other.threshold;
            self.explicit.threshold = true;
        }
        if other.explicit.window {
            self.window = other.window;
            self.explicit.window = true;
        }
        if other.explicit.cooccur_weight {
            self.cooccur_weight = other.cooccur_weight;
            self.explicit.cooccur_weight = true;
        }
        if other.explicit.close_window {
            self.close_window = other.close_window;
            self.explicit.close_window = true;
        }
        if other.explicit.close_weight {
            self.close_weight = other.close_weight;
            self.explicit.close_weight = true;
        }
        merge_groups(&mut self.topic, other.topic);
        merge_groups(&mut self.negative, other.negative);
        self.event.extend(other.event);
        self.export_words.extend(other.export_words);
        self.event_nouns.extend(other.event_nouns);
        self.region_cg.extend(other.region_cg);
        self.region_other.extend(other.region_other);
        self.ignore.extend(other.ignore);
    }
}

/// Turn one entry into a regex source over normalised text.
fn entry_regex(e: &Entry) -> Result<String, String> {
    if let Some(re) = e.text.strip_prefix("re:") {
        if re.trim().is_empty() {
            return Err("empty regular expression".into());
        }
        return Ok(format!("(?:{re})"));
    }
    let words: Vec<(String, bool)> = e
        .text
        .split_whitespace()
        .map(|w| (normalize(w), w.ends_with('*')))
        .filter(|(w, _)| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Err("it is empty after normalisation".into());
    }
    let body: Vec<String> = words
        .iter()
        .map(|(w, prefix)| {
            let esc = regex::escape(w);
            if *prefix { format!("{esc}[^ ]*") } else { esc }
        })
        .collect();
    Ok(format!("(?:^| )({})(?: |$)", body.join(" ")))
}

impl Entry {
    /// Compile this entry to its regex over normalised text (errors name origin, section and entry).
    pub fn compile(&self) -> Result<Regex, VocabError> {
        compile_entry(self)
    }
}

fn compile_entry(e: &Entry) -> Result<Regex, VocabError> {
    let bad = |message: String| VocabError::Pattern {
        origin: e.origin.clone(),
        section: e.section.clone(),
        entry: e.text.clone(),
        message,
    };
    let src = entry_regex(e).map_err(bad)?;
    Regex::new(&src).map_err(|err| bad(err.to_string()))
}

/// A compiled list of patterns: one RegexSet pass tells which fired, individual regexes give positions.
struct Matcher {
    set: RegexSet,
    res: Vec<Regex>,
    labels: Vec<String>,
    /// index into the owning group list (for topic/negative), else 0.
    owner: Vec<usize>,
}

impl Matcher {
    fn new(items: Vec<(&Entry, usize)>) -> Result<Self, VocabError> {
        let mut srcs = Vec::new();
        let mut res = Vec::new();
        let mut labels = Vec::new();
        let mut owner = Vec::new();
        for (e, o) in items {
            let re = compile_entry(e)?;
            srcs.push(re.as_str().to_string());
            res.push(re);
            labels.push(e.text.clone());
            owner.push(o);
        }
        let set = RegexSetBuilder::new(&srcs)
            .size_limit(64 << 20)
            .dfa_size_limit(64 << 20)
            .build()
            .map_err(|err| VocabError::Invalid {
                origin: "vocabulary".into(),
                section: "all".into(),
                message: err.to_string(),
            })?;
        Ok(Matcher {
            set,
            res,
            labels,
            owner,
        })
    }

    /// Indices of patterns matching `text`.
    fn matching(&self, text: &str) -> Vec<usize> {
        if text.is_empty() {
            return Vec::new();
        }
        self.set.matches(text).into_iter().collect()
    }

    /// Token positions of every match of pattern `i` (token index of the match start).
    fn positions(&self, i: usize, text: &str, starts: &[usize]) -> Vec<usize> {
        self.res[i]
            .find_iter(text)
            .map(|m| {
                let mut b = m.start();
                if text.as_bytes().get(b) == Some(&b' ') {
                    b += 1;
                }
                starts.partition_point(|&s| s <= b).saturating_sub(1)
            })
            .collect()
    }
}

/// Byte offsets of token starts in normalised text.
fn token_starts(norm: &str) -> Vec<usize> {
    let mut v = Vec::new();
    let mut prev_space = true;
    for (i, c) in norm.char_indices() {
        if c == ' ' {
            prev_space = true;
        } else {
            if prev_space {
                v.push(i);
            }
            prev_space = false;
        }
    }
    v
}

/// The compiled detector.
pub struct Detector {
    threshold: f32,
    groups: Vec<Group>,
    scored: Matcher,
    event: Matcher,
    window: usize,
    cooccur_weight: f32,
    close_window: usize,
    close_weight: f32,
    export_words: Matcher,
    event_nouns: Matcher,
    cg: Matcher,
    other: Matcher,
    ignore: Matcher,
    /// Normalised other-state place phrases (for datelines).
    other_places: Vec<Vec<String>>,
}

/// One document to classify.
pub struct Document<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub url: Option<&'a str>,
}

/// The classification of one document.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Verdict {
    /// An export-promotion meeting/workshop/committee/conclave/buyer-seller meet/outreach event is reported.
    pub topic: bool,
    /// The report is about Chhattisgarh.
    pub chhattisgarh: bool,
    /// CG district, when known.
    pub district: Option<District>,
    /// Topic score (for display).
    pub score: f32,
    /// Every phrase/rule that fired, and the region/district evidence.
    pub reasons: Vec<String>,
}

impl Verdict {
    /// Post to the channel: on topic and about Chhattisgarh.
    pub fn post(&self) -> bool {
        self.topic && self.chhattisgarh
    }
}

/// A hard negative that fires in the title counts this many times its weight.
const TITLE_NEGATIVE_FACTOR: f32 = 1.5;

/// Split raw text into normalised sentences (at । ॥ ? ! | newlines, and a `.` followed by a space or the
/// end); empty sentences are dropped.
fn split_sentences(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = raw.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let end = match c {
            '।' | '॥' | '?' | '!' | '|' | '\n' => true,
            '.' => it.peek().is_none_or(|(_, n)| n.is_whitespace()),
            _ => false,
        };
        if end {
            let norm = normalize(&raw[start..i]);
            if !norm.is_empty() {
                out.push(norm);
            }
            start = i + c.len_utf8();
        }
    }
    let norm = normalize(&raw[start..]);
    if !norm.is_empty() {
        out.push(norm);
    }
    out
}

/// Characters of the body considered for the dateline.
const DATELINE_CHARS: usize = 400;
/// Characters of the body scanned (bounded for speed on huge pages).
const BODY_CHARS: usize = 20_000;

const MONTHS: &[&str] = &[
    "जनवरि",
    "फरवरि",
    "मार्च",
    "अप्रैल",
    "अप्रेल",
    "मई",
    "मइ",
    "जुन",
    "जुलाइ",
    "अगस्त",
    "सितंबर",
    "अक्टुबर",
    "अक्तुबर",
    "नवंबर",
    "दिसंबर",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];

#[derive(Debug, Clone)]
enum Place {
    Cg(&'static District, bool, String),
    Other(String),
}

impl Detector {
    /// Compile a vocabulary.
    pub fn new(vocab: Vocabulary) -> Result<Self, VocabError> {
        let mut groups = Vec::new();
        let mut items = Vec::new();
        for g in vocab.topic.iter().chain(vocab.negative.iter()) {
            let gi = groups.len();
            for e in &g.phrases {
                items.push((e, gi));
            }
            groups.push(g.clone());
        }
        let scored = Matcher::new(items)?;
        let list = |v: &Vec<Entry>| Matcher::new(v.iter().map(|e| (e, 0)).collect());
        let other_places = vocab
            .region_other
            .iter()
            .filter(|e| !e.text.starts_with("re:"))
            .map(|e| normalize(&e.text).split(' ').map(str::to_string).collect())
            .collect();
        Ok(Detector {
            threshold: vocab.threshold,
            groups,
            scored,
            event: list(&vocab.event)?,
            window: vocab.window,
            cooccur_weight: vocab.cooccur_weight,
            close_window: vocab.close_window,
            close_weight: vocab.close_weight,
            export_words: list(&vocab.export_words)?,
            event_nouns: list(&vocab.event_nouns)?,
            cg: list(&vocab.region_cg)?,
            other: list(&vocab.region_other)?,
            ignore: list(&vocab.ignore)?,
            other_places,
        })
    }

    /// Classify one document.
    pub fn classify(&self, doc: &Document<'_>) -> Verdict {
        let title = normalize(prefix_chars(doc.title, 1000));
        let body = normalize(prefix_chars(doc.body, BODY_CHARS));
        let url_norm = doc.url.map(url_slug).unwrap_or_default();
        let mut reasons = Vec::new();

        // ---- topic ----
        // Export words in [ignore] phrases (power export, export credit, import-export as a category) are
        // masked before any topic rule looks at the text.
        let mut ignored = Vec::new();
        let t_title = self.mask(&title, &mut ignored);
        let t_body = self.mask(&body, &mut ignored);
        if !ignored.is_empty() {
            reasons.push(format!(
                "ignored (export word not about exporting goods): {}",
                quote(&ignored)
            ));
        }
        let mut score = 0.0f32;
        let in_title = self.scored.matching(&t_title);
        let in_body = self.scored.matching(&t_body);
        // group index → (phrases, seen in title, seen in body)
        let mut fired: BTreeMap<usize, (Vec<String>, bool, bool)> = BTreeMap::new();
        for (list, is_title) in [(&in_title, true), (&in_body, false)] {
            for &i in list.iter() {
                let gi = self.scored.owner[i];
                let g = &self.groups[gi];
                let ok = match g.scope {
                    Scope::Any => true,
                    Scope::Title => is_title,
                    Scope::Body => !is_title,
                };
                if !ok {
                    continue;
                }
                let entry = fired
                    .entry(gi)
                    .or_insert_with(|| (Vec::new(), false, false));
                let label = self.scored.labels[i].clone();
                if !entry.0.contains(&label) {
                    entry.0.push(label);
                }
                entry.1 |= is_title;
                entry.2 |= !is_title;
            }
        }
        for (gi, (labels, title_hit, body_hit)) in &fired {
            let g = &self.groups[*gi];
            // A hard negative named in the title is what the report is about (a समय-सीमा meeting, a DLCC,
            // an export ban), so it weighs more than one mentioned in passing in the body.
            let (weight, note) = if g.weight < 0.0 && *title_hit {
                let w = g.weight * TITLE_NEGATIVE_FACTOR;
                (
                    w,
                    format!("; ×{TITLE_NEGATIVE_FACTOR} as the title's subject = {w:+.1}"),
                )
            } else {
                (g.weight, String::new())
            };
            score += weight;
            let shown: Vec<String> = labels.iter().take(3).map(|l| format!("\"{l}\"")).collect();
            reasons.push(format!(
                "{:+.1} {} {} ({}){note}",
                g.weight,
                g.name,
                shown.join(", "),
                match (title_hit, body_hit) {
                    (true, true) => "title+body",
                    (true, false) => "title",
                    _ => "body",
                }
            ));
        }
        // co-occurrence of export words and event nouns, within one sentence
        let mut sentences = vec![(t_title.clone(), "title")];
        sentences.extend(
            split_sentences(prefix_chars(doc.body, BODY_CHARS))
                .into_iter()
                .map(|s| (self.mask(&s, &mut Vec::new()), "body")),
        );
        if let Some((w, why)) = self.cooccur(&sentences) {
            score += w;
            reasons.push(format!("{w:+.1} {why}"));
        }
        let event_hits: Vec<usize> = {
            let mut v = self.event.matching(&t_title);
            v.extend(self.event.matching(&t_body));
            v.sort_unstable();
            v.dedup();
            v
        };
        let topic = if event_hits.is_empty() {
            reasons
                .push("topic: no event word (meeting/workshop/held …): not an event report".into());
            false
        } else {
            score >= self.threshold
        };
        reasons.push(format!(
            "topic score {score:.1} (threshold {:.1}) → {}",
            self.threshold,
            if topic { "on topic" } else { "off topic" }
        ));

        // ---- region and district ----
        let (chhattisgarh, district) =
            self.region(doc.body, &title, &body, &url_norm, &mut reasons);

        Verdict {
            topic,
            chhattisgarh,
            district,
            score,
            reasons,
        }
    }

    /// Replace every token of every [ignore] match with `_` (token positions are kept); the matched
    /// patterns' labels are appended to `hits`.
    fn mask(&self, norm: &str, hits: &mut Vec<String>) -> String {
        let idx = self.ignore.matching(norm);
        if idx.is_empty() {
            return norm.to_string();
        }
        let mut out = norm.to_string();
        for i in idx {
            let ranges: Vec<(usize, usize)> = self.ignore.res[i]
                .find_iter(&out)
                .map(|m| (m.start(), m.end()))
                .collect();
            if ranges.is_empty() {
                continue;
            }
            let label = &self.ignore.labels[i];
            if !hits.contains(label) {
                hits.push(label.clone());
            }
            let mut next = String::with_capacity(out.len());
            let mut last = 0;
            for (a, b) in ranges {
                next.push_str(&out[last..a]);
                let masked: Vec<&str> = out[a..b]
                    .split(' ')
                    .map(|t| if t.is_empty() { "" } else { "_" })
                    .collect();
                next.push_str(&masked.join(" "));
                last = b;
            }
            next.push_str(&out[last..]);
            out = next;
        }
        out
    }

    /// The strongest co-occurrence of an export word and an event noun inside one sentence: the close tier
    /// (at most `close_window` tokens apart: "निर्यात जागरूकता कार्यशाला", "exporters meet") beats the near
    /// tier (at most `window` tokens). Sentences keep a passing export mention in one sentence from pairing
    /// with the meeting of the next. Returns (weight, reason).
    fn cooccur(&self, sentences: &[(String, &str)]) -> Option<(f32, String)> {
        let mut best: Option<(f32, String)> = None;
        for (norm, field) in sentences {
            let Some((dist, i, j)) = self.closest_pair(norm) else {
                continue;
            };
            let (w, tier) = if self.close_weight > 0.0 && dist <= self.close_window {
                (self.close_weight, "right next to")
            } else if dist <= self.window {
                (self.cooccur_weight, "near")
            } else {
                continue;
            };
            if best.as_ref().is_none_or(|b| w > b.0) {
                best = Some((
                    w,
                    format!(
                        "export word \"{}\" {tier} event word \"{}\" ({field})",
                        self.export_words.labels[i], self.event_nouns.labels[j]
                    ),
                ));
            }
        }
        best
    }

    /// The closest (export word, event noun) pair in one normalised sentence: (token distance, export
    /// pattern index, event pattern index).
    fn closest_pair(&self, norm: &str) -> Option<(usize, usize, usize)> {
        let ex = self.export_words.matching(norm);
        if ex.is_empty() {
            return None;
        }
        let ev = self.event_nouns.matching(norm);
        if ev.is_empty() {
            return None;
        }
        let starts = token_starts(norm);
        let ev_pos: Vec<(usize, usize)> = ev
            .iter()
            .flat_map(|&j| {
                self.event_nouns
                    .positions(j, norm, &starts)
                    .into_iter()
                    .map(move |p| (p, j))
            })
            .collect();
        let mut best: Option<(usize, usize, usize)> = None;
        for &i in &ex {
            for p in self.export_words.positions(i, norm, &starts) {
                for &(q, j) in &ev_pos {
                    let d = p.abs_diff(q);
                    if best.is_none_or(|b| d < b.0) {
                        best = Some((d, i, j));
                    }
                }
            }
        }
        best
    }

    /// Find the dateline place in the raw body start.
    fn dateline(&self, raw_body: &str) -> Option<Place> {
        let head = prefix_chars(raw_body, DATELINE_CHARS);
        let is_delim = |c: char| {
            matches!(
                c,
                ',' | '।' | ':' | '/' | '(' | '—' | '–' | '|' | '॥' | '.' | '\n' | '-'
            )
        };
        let mut seg_start = 0;
        let mut segments = 0;
        for (i, c) in head.char_indices() {
            if !is_delim(c) {
                continue;
            }
            // A hyphen inside a word (जांजगीर-चांपा) is not a delimiter.
            if c == '-' {
                let next = head[i + c.len_utf8()..].chars().next();
                if next.is_some_and(|n| !n.is_whitespace() && n != '-') {
                    continue;
                }
            }
            let seg = &head[seg_start..i];
            seg_start = i + c.len_utf8();
            let norm = normalize(seg);
            if norm.is_empty() {
                continue;
            }
            segments += 1;
            if let Some(p) = self.place_suffix(&norm) {
                // "रायगढ़ (महाराष्ट्र),", "नारायणपुर (छ.ग.)": a bracketed state right after the place decides.
                if c == '(' {
                    return Some(self.qualify(p, &head[seg_start..]));
                }
                return Some(p);
            }
            if segments >= 12 {
                break;
            }
        }
        None
    }

    /// Apply a bracketed qualifier that follows a dateline place (`rest` starts after the `(`): an
    /// other-state marker makes the place non-CG, a Chhattisgarh marker makes an ambiguous name certain.
    fn qualify(&self, place: Place, rest: &str) -> Place {
        let inner = prefix_chars(rest, 40);
        let Some(close) = inner.find(')') else {
            return place;
        };
        let q = normalize(&inner[..close]);
        if q.is_empty() {
            return place;
        }
        match place {
            Place::Cg(_, _, p) if !self.other.matching(&q).is_empty() => {
                Place::Other(format!("{p} ({q})"))
            }
            Place::Cg(d, _, p) if !self.cg.matching(&q).is_empty() => {
                Place::Cg(d, false, format!("{p} ({q})"))
            }
            other => other,
        }
    }

    /// The place named by the last tokens of a segment (trailing date tokens skipped).
    fn place_suffix(&self, norm: &str) -> Option<Place> {
        let mut toks: Vec<&str> = norm.split(' ').collect();
        while let Some(last) = toks.last() {
            if last.chars().all(|c| c.is_ascii_digit()) || MONTHS.contains(last) {
                toks.pop();
            } else {
                break;
            }
        }
        let n = toks.len();
        for k in (1..=4.min(n)).rev() {
            let tail = &toks[n - k..];
            if let Some((a, len)) = districts::aliases().match_at(&toks, n - k)
                && len == k
            {
                return Some(Place::Cg(a.district, a.ambiguous, tail.join(" ")));
            }
            if self
                .other_places
                .iter()
                .any(|p| p.len() == k && p.iter().zip(tail).all(|(a, b)| a == b))
            {
                return Some(Place::Other(tail.join(" ")));
            }
        }
        None
    }

    fn region(
        &self,
        raw_body: &str,
        title: &str,
        body: &str,
        url: &str,
        reasons: &mut Vec<String>,
    ) -> (bool, Option<District>) {
        // Marker counts.
        let count = |m: &Matcher, text: &str| -> (usize, Vec<String>) {
            let idx = m.matching(text);
            let starts = token_starts(text);
            let mut n = 0;
            let mut labels = Vec::new();
            for i in idx {
                n += m.positions(i, text, &starts).len();
                labels.push(m.labels[i].clone());
            }
            (n, labels)
        };
        let (cg_t, cg_tl) = count(&self.cg, title);
        let (cg_b, cg_bl) = count(&self.cg, body);
        let (cg_u, _) = count(&self.cg, url);
        let (ot_t, ot_tl) = count(&self.other, title);
        let (ot_b, ot_bl) = count(&self.other, body);
        let cg_markers = 2 * cg_t + cg_b + cg_u;
        let other_markers = 2 * ot_t + ot_b;

        let title_d = districts::find_all(title);
        let body_d = districts::find_all(body);
        let url_d = districts::find_all(url);
        let unamb = |v: &[(&'static District, usize, bool)]| v.iter().filter(|x| !x.2).count();
        let cg_evidence = cg_markers + 2 * unamb(&title_d) + unamb(&body_d) + unamb(&url_d);

        let mut other_labels: Vec<String> = ot_tl.into_iter().chain(ot_bl).collect();
        other_labels.dedup();
        let mut cg_labels: Vec<String> = cg_tl.into_iter().chain(cg_bl).collect();
        cg_labels.dedup();

        let dl = self.dateline(raw_body);
        let (is_cg, anchor): (bool, Option<&'static District>) = match &dl {
            Some(Place::Other(p)) => {
                if cg_markers > other_markers + 2 {
                    reasons.push(format!(
                        "region: dateline \"{p}\" is outside Chhattisgarh, but CG markers dominate ({cg_markers} vs {other_markers})"
                    ));
                    (true, None)
                } else {
                    reasons.push(format!(
                        "region: dateline \"{p}\" is outside Chhattisgarh → not CG"
                    ));
                    (false, None)
                }
            }
            Some(Place::Cg(d, amb, p)) => {
                if *amb && other_markers > 0 && other_markers >= cg_evidence.saturating_sub(1) {
                    reasons.push(format!(
                        "region: dateline \"{p}\" is ambiguous and other-state markers {} are present → not CG",
                        quote(&other_labels)
                    ));
                    (false, None)
                } else if !*amb && other_markers > cg_evidence + 3 {
                    reasons.push(format!(
                        "region: dateline \"{p}\" → {} but other-state markers {} dominate → not CG",
                        d.en,
                        quote(&other_labels)
                    ));
                    (false, None)
                } else if *amb && cg_evidence == 0 {
                    reasons.push(format!(
                        "region: dateline \"{p}\" → {} (Chhattisgarh): ambiguous name, but no other-state marker",
                        d.en
                    ));
                    (true, Some(*d))
                } else {
                    reasons.push(format!(
                        "region: dateline \"{p}\" → {} ({}, Chhattisgarh)",
                        d.en, d.hi
                    ));
                    (true, Some(*d))
                }
            }
            None => {
                if let Some((d, _, _)) = url_d.iter().find(|x| !x.2) {
                    reasons.push(format!("region: URL slug names {} (Chhattisgarh)", d.en));
                    (true, Some(*d))
                } else if cg_evidence > 0 && cg_evidence > other_markers {
                    reasons.push(format!(
                        "region: Chhattisgarh evidence {} ({cg_evidence}) outweighs other-state markers ({other_markers})",
                        quote(&cg_labels)
                    ));
                    (true, None)
                } else if other_markers > 0 {
                    reasons.push(format!(
                        "region: {} mentioned, CG evidence {cg_evidence} ≤ {other_markers} → not CG",
                        quote(&other_labels)
                    ));
                    (false, None)
                } else {
                    reasons.push("region: no Chhattisgarh evidence → not CG".into());
                    (false, None)
                }
            }
        };
        if !is_cg {
            return (false, None);
        }

        // District resolution.
        let trust = |x: &&(&'static District, usize, bool)| !x.2 || cg_evidence > 0;
        let first_title = title_d.iter().find(trust).map(|x| x.0);
        let district = match anchor {
            Some(d) if d.en == "Raipur" => match first_title.filter(|t| t.en != "Raipur") {
                Some(t) => {
                    reasons.push(format!(
                        "district: रायपुर dateline is the state capital; title names {} → {}",
                        t.en, t.en
                    ));
                    Some(*t)
                }
                None => match lead_district(body, &body_d) {
                    Some(t) if t.en != "Raipur" => {
                        reasons.push(format!(
                            "district: रायपुर dateline is the state capital; the lead names \"{} जिले\" → {}",
                            t.hi, t.en
                        ));
                        Some(*t)
                    }
                    _ => Some(*d),
                },
            },
            Some(d) => Some(*d),
            None => {
                if let Some(d) = url_d.iter().find(|x| !x.2).map(|x| x.0) {
                    reasons.push(format!("district: URL slug → {}", d.en));
                    Some(*d)
                } else if let Some(d) = first_title {
                    reasons.push(format!("district: title names {}", d.en));
                    Some(*d)
                } else {
                    // Most mentioned district in the body.
                    let mut counts: BTreeMap<&str, (usize, usize, &'static District)> =
                        BTreeMap::new();
                    for (d, pos, _) in body_d.iter().filter(trust) {
                        let e = counts.entry(d.en).or_insert((0, *pos, d));
                        e.0 += 1;
                    }
                    let best = counts
                        .values()
                        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
                        .map(|x| x.2);
                    if let Some(d) = best {
                        reasons.push(format!("district: most mentioned in body → {}", d.en));
                    }
                    best.copied()
                }
            }
        };
        if district.is_none() {
            reasons.push("district: unknown".into());
        }
        (true, district)
    }
}

/// Tokens of the body's lead searched for an explicit "<district> जिले" phrase.
const LEAD_TOKENS: usize = 40;

/// The first unambiguous district in the lead followed (within the next 4 tokens) by the word
/// जिला/जिले/district: "कोरबा जिले में आज … बैठक हुई" in a रायपुर-datelined state note.
fn lead_district(
    body: &str,
    found: &[(&'static District, usize, bool)],
) -> Option<&'static District> {
    let toks: Vec<&str> = body.split(' ').filter(|t| !t.is_empty()).collect();
    found
        .iter()
        .filter(|(_, pos, amb)| *pos < LEAD_TOKENS && !*amb)
        .find(|(_, pos, _)| {
            toks.iter()
                .skip(pos + 1)
                .take(4)
                .any(|t| matches!(*t, "जिले" | "जिला" | "district"))
        })
        .map(|x| x.0)
}

fn quote(v: &[String]) -> String {
    let shown: Vec<String> = v.iter().take(4).map(|s| format!("\"{s}\"")).collect();
    shown.join(", ")
}

/// Normalised path of a URL (percent-decoded), without scheme and host.
fn url_slug(url: &str) -> String {
    let decoded = percent_decode(url);
    let path = match decoded.find("://") {
        Some(i) => {
            let rest = &decoded[i + 3..];
            match rest.find('/') {
                Some(j) => &rest[j..],
                None => "",
            }
        }
        None => decoded.as_str(),
    };
    normalize(prefix_chars(path, 300))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det() -> &'static Detector {
        static D: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
        D.get_or_init(|| {
            Detector::new(Vocabulary::embedded().expect("embedded vocab parses")).expect("compiles")
        })
    }

    fn classify(title: &str, body: &str, url: Option<&str>) -> Verdict {
        det().classify(&Document { title, body, url })
    }

    #[test]
    fn seed_article_is_topic_cg_durg() {
        let src = include_str!("../../tests/fixtures/corpus/seed-article.txt");
        let lines: Vec<&str> = src.lines().collect();
        let title = lines[2];
        let body = lines[3..].join("\n");
        let v = classify(title, &body, None);
        assert!(v.topic, "{:?}", v.reasons);
        assert!(v.chhattisgarh, "{:?}", v.reasons);
        assert_eq!(v.district.map(|d| d.en), Some("Durg"), "{:?}", v.reasons);
        assert!(v.post());
        assert!(v.reasons.iter().any(|r| r.contains("committee phrase")));
        assert!(v.reasons.iter().any(|r| r.contains("dateline \"दुर्ग\"")));
    }

    #[test]
    fn every_hq_dateline_resolves_end_to_end() {
        for (en, hq) in districts::HQ {
            let body = format!(
                "{hq}, 12 मई 2022/ कलेक्टर की अध्यक्षता में जिला निर्यात संवर्धन समिति की बैठक आयोजित की गई।"
            );
            let v = classify("जिला निर्यात संवर्धन समिति की बैठक आयोजित", &body, None);
            assert!(v.post(), "{hq}: {:?}", v.reasons);
            assert_eq!(v.district.map(|d| d.en), Some(*en), "{hq}: {:?}", v.reasons);
        }
    }

    /// Classify the dev.jsonl row whose URL contains `url_part`.
    fn dev_row(url_part: &str) -> Verdict {
        let rows =
            crate::core::eval::parse_jsonl(include_str!("../../tests/fixtures/corpus/dev.jsonl"))
                .expect("dev.jsonl parses");
        let row = rows
            .iter()
            .find(|r| r.url.as_deref().is_some_and(|u| u.contains(url_part)))
            .expect("row present");
        det().classify(&Document {
            title: &row.title,
            body: &row.text,
            url: row.url.as_deref(),
        })
    }

    /// Classify the synthetic.jsonl row whose title starts with `title_start`.
    fn synthetic_row(title_start: &str) -> Verdict {
        let rows = crate::core::eval::parse_jsonl(include_str!(
            "../../tests/fixtures/corpus/synthetic.jsonl"
        ))
        .expect("synthetic.jsonl parses");
        let row = rows
            .iter()
            .find(|r| r.title.starts_with(title_start))
            .expect("row present");
        det().classify(&Document {
            title: &row.title,
            body: &row.text,
            url: row.url.as_deref(),
        })
    }

    #[test]
    fn bracketed_state_after_dateline_decides() {
        // Raigad (Maharashtra) is written रायगढ़ in Hindi: the bracket after the dateline wins.
        let v = synthetic_row("रायगढ़ (महाराष्ट्र) में निर्यात");
        assert!(v.topic && !v.chhattisgarh, "{:?}", v.reasons);
        assert!(
            v.reasons.iter().any(|r| r.contains("महाराष्ट्र")),
            "{:?}",
            v.reasons
        );
        // (छ.ग.) after an ambiguous name makes it certain.
        let v = synthetic_row("नारायणपुर (छ.ग.)");
        assert!(v.post(), "{:?}", v.reasons);
        assert_eq!(v.district.map(|d| d.en), Some("Narayanpur"));
        assert!(
            v.reasons.iter().any(|r| r.contains("(छ ग)")),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn hard_negative_in_title_outweighs_a_committee_mention() {
        let v = synthetic_row("समय-सीमा बैठक: निर्यात संवर्धन समिति");
        assert!(!v.topic, "{:?}", v.reasons);
        assert!(
            v.reasons
                .iter()
                .any(|r| r.starts_with("-6.0 hard negative: time-limit")
                    && r.ends_with("×1.5 as the title's subject = -9.0")),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn ignored_phrases_are_not_export_evidence() {
        for title in [
            "ऊर्जा विभाग की समीक्षा बैठक",
            "कलेक्टर ने ली बैंकर्स की बैठक",
            "आयात-निर्यात प्रबंधन पाठ्यक्रम",
        ] {
            let v = synthetic_row(title);
            assert!(!v.topic, "{title}: {:?}", v.reasons);
            assert!(
                v.reasons.iter().any(|r| r.starts_with("ignored")),
                "{title}: {:?}",
                v.reasons
            );
        }
        // "आयात-निर्यात" is masked token by token: positions stay, other words survive.
        let d = det();
        let mut hits = Vec::new();
        assert_eq!(
            d.mask("पर आयात निर्यात कर", &mut hits),
            "पर _ _ कर".to_string()
        );
        assert_eq!(hits, ["आयात निर्यात"]);
    }

    #[test]
    fn close_cooccurrence_tier() {
        // "एक्सपोटर्स मीट" (typo): only the close tier and the title's export word carry it.
        let v = synthetic_row("जशपुर के काजू और चाय के लिए एक्सपोटर्स मीट");
        assert!(v.post(), "{:?}", v.reasons);
        assert!(
            v.reasons
                .iter()
                .any(|r| r.starts_with("+3.5") && r.contains("right next to")),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn cooccurrence_stays_within_one_sentence() {
        let body = "कोरबा, 1 मई 2023/ कलेक्टर की अध्यक्षता में जिला पंचायत सभाकक्ष में बैठक आयोजित की गई। जिले से एल्युमिनियम का निर्यात बढ़ रहा है।";
        let v = classify("जिला पंचायत की बैठक", body, None);
        assert!(
            !v.reasons.iter().any(|r| r.contains("event word")),
            "{:?}",
            v.reasons
        );
        let one = body.replace('।', ",");
        let v = classify("जिला पंचायत की बैठक", &one, None);
        assert!(
            v.reasons.iter().any(|r| r.contains("near event word")),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn sentences_split_on_danda_and_full_stop() {
        assert_eq!(
            split_sentences("बैठक हुई। निर्यात पर चर्चा.\nMr. X met 3.5 (छ.ग.) ok"),
            ["बैठक हुइ", "निर्यात पर चर्चा", "mr", "x met 3 5 छ ग ok"]
        );
        assert!(split_sentences("।।  . ").is_empty());
    }

    #[test]
    fn raipur_dateline_yields_to_a_district_named_in_the_lead() {
        let v = synthetic_row("कोरबा जिले में डीईपीसी की बैठक");
        assert!(v.post(), "{:?}", v.reasons);
        assert_eq!(v.district.map(|d| d.en), Some("Korba"), "{:?}", v.reasons);
        let v = classify(
            "निर्यात संवर्धन समिति की बैठक",
            "रायपुर, 18 सितंबर 2022/ जिले में आज जिला निर्यात संवर्धन समिति की बैठक हुई। कोरबा जिले के उत्पादों पर भी चर्चा हुई।",
            None,
        );
        assert_eq!(v.district.map(|d| d.en), Some("Raipur"), "{:?}", v.reasons);
    }

    #[test]
    fn corpus_traps() {
        // Bilaspur, Himachal Pradesh (ODOP meeting chaired by an ADC): not CG.
        let v = dev_row("sp_ae9vs1lt3ggbg");
        assert!(!v.chhattisgarh, "{:?}", v.reasons);
        // Bilaspur, Chhattisgarh: ambiguous dateline, no other-state marker → CG, Bilaspur.
        let v = dev_row("cgwall.com/immense-possibilities-bilaspur");
        assert!(v.post(), "{:?}", v.reasons);
        assert_eq!(v.district.map(|d| d.en), Some("Bilaspur"));
        // State-level committee datelined रायपुर: the corpus labels it Raipur.
        let v = dev_row("chhattisgarh-state-level-ex");
        assert!(v.post(), "{:?}", v.reasons);
        assert_eq!(v.district.map(|d| d.en), Some("Raipur"));
        // State news datelined रायपुर about a meeting at Ambikapur: Surguja.
        let v = dev_row("tazakhabar36garh.com/2019/06/04");
        assert!(v.chhattisgarh && !v.topic, "{:?}", v.reasons);
        assert_eq!(v.district.map(|d| d.en), Some("Surguja"), "{:?}", v.reasons);
        // Mirzapur (UP) DEPC meeting: on topic, not CG.
        let v = dev_row("mirzapurnews.com");
        assert!(v.topic && !v.chhattisgarh, "{:?}", v.reasons);
        // Rice export ban: off topic.
        let v = dev_row("babuaa.com");
        assert!(!v.topic, "{:?}", v.reasons);
        assert!(v.reasons.iter().any(|r| r.contains("export ban")));
    }

    #[test]
    fn raigad_maharashtra_is_not_raigarh() {
        let v = classify(
            "जिला निर्यात प्रोत्साहन समिति की बैठक",
            "रायगड, 5 जून 2023/ जिलाधिकारी की अध्यक्षता में जिला निर्यात प्रोत्साहन समिति की बैठक आयोजित हुई।",
            None,
        );
        assert!(v.topic);
        assert!(!v.chhattisgarh, "{:?}", v.reasons);
        assert_eq!(v.district, None);
    }

    #[test]
    fn sindhudurg_is_not_durg() {
        let v = classify(
            "जिला निर्यात प्रोत्साहन समिति की बैठक संपन्न",
            "सिंधुदुर्ग, 12 मई 2022/ जिलाधिकारी की अध्यक्षता में जिला निर्यात प्रोत्साहन समिति की बैठक आयोजित की गई।",
            None,
        );
        assert!(v.topic);
        assert!(!v.chhattisgarh, "{:?}", v.reasons);
        assert_eq!(v.district, None);
    }

    #[test]
    fn bilaspur_himachal_is_not_cg() {
        let v = classify(
            "बिलासपुर में निर्यात संवर्धन समिति की बैठक",
            "बिलासपुर, 3 जून 2024/ हिमाचल प्रदेश के बिलासपुर जिले में अतिरिक्त उपायुक्त की अध्यक्षता में जिला निर्यात संवर्धन समिति की बैठक आयोजित हुई।",
            None,
        );
        assert!(!v.chhattisgarh, "{:?}", v.reasons);
        let v = classify(
            "बिलासपुर में निर्यात संवर्धन समिति की बैठक",
            "बिलासपुर, 3 जून 2024/ छत्तीसगढ़ के बिलासपुर जिले में कलेक्टर की अध्यक्षता में जिला निर्यात संवर्धन समिति की बैठक आयोजित हुई।",
            None,
        );
        assert!(v.chhattisgarh, "{:?}", v.reasons);
        assert_eq!(v.district.map(|d| d.en), Some("Bilaspur"));
    }

    #[test]
    fn balrampur_up_is_not_cg() {
        let v = classify(
            "जिला निर्यात प्रोत्साहन समिति की बैठक सम्पन्न",
            "बलरामपुर, 10 जनवरी 2023- जिलाधिकारी की अध्यक्षता में जनपद में जिला निर्यात प्रोत्साहन समिति की बैठक सम्पन्न हुई, उत्तर प्रदेश सरकार की ओडीओपी योजना।",
            None,
        );
        assert!(v.topic);
        assert!(!v.chhattisgarh, "{:?}", v.reasons);
    }

    #[test]
    fn korea_country_is_not_koriya() {
        let v = classify(
            "Exporters conclave held",
            "New Delhi, March 3: An exporters conclave was held to boost exports to Korea and Japan. South Korea is a key market.",
            None,
        );
        assert!(v.topic);
        assert!(!v.chhattisgarh, "{:?}", v.reasons);
        assert_eq!(v.district, None);
    }

    #[test]
    fn raipur_state_level_dateline_defers_to_title_district() {
        // Corpus row 96 shape: state news datelined रायपुर about a meeting at Ambikapur (Surguja).
        let v = classify(
            "सरगुजा में निर्यात संवर्धन समिति की बैठक आयोजित",
            "रायपुर। मुख्यमंत्री की उपस्थिति में आज सरगुजा संभाग के मुख्यालय अम्बिकापुर स्थित कलेक्टोरेट सभाकक्ष में निर्यात संवर्धन समिति की बैठक आयोजित की गई।",
            None,
        );
        assert!(v.chhattisgarh);
        assert_eq!(v.district.map(|d| d.en), Some("Surguja"), "{:?}", v.reasons);
    }

    #[test]
    fn hard_negative_fires() {
        let v = classify(
            "कलेक्टर की अध्यक्षता में समय-सीमा की बैठक",
            "महासमुंद 13 अक्टूबर 2020/ कलेक्टर की अध्यक्षता में समय-सीमा की बैठक आयोजित। निर्यात संबंधी प्रकरणों की समीक्षा।",
            None,
        );
        assert!(!v.topic, "{:?}", v.reasons);
        assert!(
            v.reasons
                .iter()
                .any(|r| r.starts_with("-6.0 hard negative"))
        );
        assert!(v.chhattisgarh);
        assert_eq!(v.district.map(|d| d.en), Some("Mahasamund"));
    }

    #[test]
    fn dprcg_url_slug_gives_district() {
        let v = classify(
            "निर्यात संवर्धन समिति की बैठक सम्पन्न",
            "कलेक्टर की अध्यक्षता में जिला निर्यात संवर्धन समिति की बैठक सम्पन्न हुई।",
            Some(
                "https://dprcg.gov.in/post/1790772080/%E0%A4%A7%E0%A4%AE%E0%A4%A4%E0%A4%B0%E0%A5%80-%E0%A4%AC%E0%A5%88%E0%A4%A0%E0%A4%95",
            ),
        );
        assert!(v.post(), "{:?}", v.reasons);
        assert_eq!(v.district.map(|d| d.en), Some("Dhamtari"));
    }

    #[test]
    fn extension_bad_entry_names_origin_and_entry() {
        let err =
            Vocabulary::from_toml_str("[topic]\nphrases = [\"re:(\"]\n", "config/extra-vocab.toml")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
        assert!(
            err.starts_with("config/extra-vocab.toml: [topic.phrases] entry \"re:(\""),
            "{err}"
        );
        let err = Vocabulary::from_toml_str("[topic]\nphrases = [\"(\"]\n", "x.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("x.toml") && err.contains("\"(\"") && err.contains("not a valid pattern"),
            "{err}"
        );
    }

    #[test]
    fn extension_unknown_key_rejected() {
        let err =
            Vocabulary::from_toml_str("[topic]\nphrase = [\"x\"]\n", "config/extra-vocab.toml")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
        assert!(err.starts_with("config/extra-vocab.toml:"), "{err}");
        assert!(err.contains("phrase"), "{err}");
        assert!(Vocabulary::from_toml_str("[topics]\n", "a.toml").is_err());
    }

    #[test]
    fn extension_merges_and_takes_effect() {
        let title = "ग्लोबल ट्रेड मीट सम्पन्न";
        let body = "दुर्ग , मई 2022/ कलेक्टर की अध्यक्षता में ग्लोबल ट्रेड मीट सम्पन्न हुई।";
        let before = det().classify(&Document {
            title,
            body,
            url: None,
        });
        assert!(!before.topic);
        let mut v = Vocabulary::embedded().expect("embedded");
        let ext =
            Vocabulary::from_toml_str("[topic]\nphrases = [\"ग्लोबल ट्रेड मीट\"]\n", "extra.toml")
                .expect("valid extension");
        v.merge(ext);
        let d = Detector::new(v).expect("compiles");
        let after = d.classify(&Document {
            title,
            body,
            url: None,
        });
        assert!(after.topic, "{:?}", after.reasons);
        assert!(after.reasons.iter().any(|r| r.contains("ग्लोबल ट्रेड मीट")));
    }

    #[test]
    fn extension_scalars_override_only_when_set() {
        let mut v = Vocabulary::embedded().expect("embedded");
        let t = v.threshold;
        v.merge(Vocabulary::from_toml_str("[topic]\nphrases = [\"x y\"]\n", "a.toml").expect("ok"));
        assert_eq!(v.threshold, t);
        v.merge(Vocabulary::from_toml_str("[topic]\nthreshold = 9.5\n", "b.toml").expect("ok"));
        assert_eq!(v.threshold, 9.5);
        let (cw, cwt) = (v.close_window, v.close_weight);
        assert!(
            cw > 0 && cwt > 0.0,
            "embedded vocabulary sets the close tier"
        );
        v.merge(
            Vocabulary::from_toml_str("[cooccur]\nclose_weight = 1.0\n", "d.toml").expect("ok"),
        );
        assert_eq!((v.close_window, v.close_weight), (cw, 1.0));
        let err = Vocabulary::from_toml_str("[cooccur]\nclose_window = 5000\n", "e.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("e.toml: [cooccur]"), "{err}");
        v.merge(
            Vocabulary::from_toml_str("[ignore]\nphrases = [\"निर्यात मेला\"]\n", "f.toml")
                .expect("ok"),
        );
        assert!(v.ignore.iter().any(|e| e.text == "निर्यात मेला"));
        let err = Vocabulary::from_toml_str("[cooccur]\nwindow = 5000\n", "c.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("c.toml: [cooccur]"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn classify_never_panics(title in ".{0,200}", body in ".{0,2000}", url in proptest::option::of(".{0,100}")) {
            let d = det();
            let _ = d.classify(&Document { title: &title, body: &body, url: url.as_deref() });
        }

        #[test]
        fn classify_never_panics_devanagari(body in "[\\u0900-\\u097F ,।/:%\\-]{0,600}") {
            let d = det();
            let _ = d.classify(&Document { title: &body, body: &body, url: Some(&body) });
        }
    }
}
