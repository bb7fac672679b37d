//! Article summaries: language detection, sentence splitting (Hindi and English press notes),
//! chair ("… की अध्यक्षता में" / "chaired by …") and agency extraction, and the choice of the
//! 2–3 most informative sentences.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use unicode_normalization::UnicodeNormalization;

use super::dateline::{PartialDate, parse_dateline};
use super::text::{ABBREVIATIONS, Lang, detect_lang, split_sentences};

/// What the channel shows about one article.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    pub lang: Lang,
    /// Dateline date (year filled from `published` when missing), else the publish date.
    pub date: Option<PartialDate>,
    /// Who chaired the meeting, e.g. "कलेक्टर डॉ. सर्वेश्वर नरेन्द्र भुरे".
    pub chair: Option<String>,
    /// Canonical short names of the agencies mentioned, in order of first mention.
    pub agencies: Vec<&'static str>,
    /// The 2–3 most informative sentences, in document order, each ≤ [`MAX_SENTENCE`] chars.
    pub sentences: Vec<String>,
}

/// Longest sentence kept (in chars); longer ones are shortened at a word boundary with "…".
pub const MAX_SENTENCE: usize = 400;

// ---------------------------------------------------------------------------------------------
// Character classes

/// Combining marks (Indic signs/matras/virama/nukta, general combining diacritics, joiners,
/// variation selectors, emoji modifiers): a text must never be cut just before one.
pub fn is_combining(c: char) -> bool {
    let u = c as u32;
    if (0x0900..=0x0DFF).contains(&u) {
        // Same layout in every Brahmic block of this range.
        let o = u & 0x7F;
        return o <= 0x03
            || (0x3A..=0x4F).contains(&o) && o != 0x3D
            || (0x51..=0x57).contains(&o)
            || (0x62..=0x63).contains(&o)
            || o == 0x3C;
    }
    matches!(u,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A | 0x064B..=0x065F
        | 0x1AB0..=0x1AFF | 0x1CD0..=0x1CFF | 0x1DC0..=0x1DFF | 0x200C | 0x200D | 0x20D0..=0x20FF
        | 0xA8E0..=0xA8F1 | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F | 0x1F3FB..=0x1F3FF
        | 0xE0020..=0xE007F | 0xE0100..=0xE01EF)
}

/// Viramas (halant) of the Brahmic blocks and ZWJ: a cut right after one splits a conjunct.
pub fn is_joiner(c: char) -> bool {
    let u = c as u32;
    ((0x0900..=0x0DFF).contains(&u) && (u & 0x7F) == 0x4D) || u == 0x200D
}

/// Letters, marks and digits: the inside of a word.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining(c)
}

/// The last extended-grapheme-cluster boundary of `s` at or before byte `at`.
fn floor_grapheme(s: &str, at: usize) -> usize {
    use unicode_segmentation::UnicodeSegmentation;
    s.grapheme_indices(true)
        .map(|(i, _)| i)
        .take_while(|&i| i <= at)
        .last()
        .unwrap_or(0)
        .max(if at >= s.len() { s.len() } else { 0 })
}

/// Shorten `s` to at most `max` chars (counting the appended "…"), at a word boundary.
pub fn shorten_words(s: &str, max: usize) -> String {
    shorten_by(s, max, |_| 1)
}

/// Shorten `s` so that its size (sum of `size` over its chars, "…" included) is at most `max`.
/// Cuts at the last whitespace that fits; a single over-long word is cut only between whole
/// clusters (never before a combining mark nor after a virama/ZWJ). May return "" when nothing fits.
pub fn shorten_by(s: &str, max: usize, size: impl Fn(char) -> usize) -> String {
    let s = s.trim();
    if s.chars().map(&size).sum::<usize>() <= max {
        return s.to_string();
    }
    let budget = max.saturating_sub(size('…'));
    // byte index of the first char that does not fit
    let mut used = 0usize;
    let mut limit = s.len();
    for (i, c) in s.char_indices() {
        used += size(c);
        if used > budget {
            limit = i;
            break;
        }
    }
    let head = &s[..limit];
    let next = s[limit..].chars().next();
    let mut cut = if next.is_some_and(|c| !is_word_char(c)) {
        head.len()
    } else {
        head.rfind(char::is_whitespace).unwrap_or(0)
    };
    if cut == 0 {
        // one long word: cut at the last cluster boundary that fits
        cut = head.len();
        loop {
            cut = floor_grapheme(s, cut);
            let after = s[cut..].chars().next();
            let before = s[..cut].chars().next_back();
            let ok = !after.is_some_and(is_combining) && !before.is_some_and(is_joiner);
            if ok || cut == 0 {
                break;
            }
            cut -= before.map_or(1, char::len_utf8);
        }
    } else {
        // Never inside a user-perceived character (a ZWJ emoji sequence, a flag, a conjunct).
        cut = floor_grapheme(s, cut);
    }
    let kept = head[..cut].trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—|/".contains(c));
    if kept.is_empty() {
        return String::new();
    }
    format!("{kept}…")
}

/// Latin "l" typed as a danda between Hindi words ("राज्य हैं l पूरे").
static RE_L_DANDA: LazyLock<Regex> = LazyLock::new(|| {
    // Constant pattern; covered by tests.
    Regex::new(r"(\p{Devanagari})[ \t]+[lI|](\s|$)").expect("constant regex")
});

/// A leading machine date some extractors emit ("date 2026-01-10 In a major boost …").
static RE_ISO_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    // Constant pattern; covered by tests.
    Regex::new(r"^\s*(?i:date:?)?\s*(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2})?)?\s+")
        .expect("constant regex")
});

// ---------------------------------------------------------------------------------------------
// Chair

static RE_HI_CHAIR: LazyLock<Regex> = LazyLock::new(|| {
    // Constant pattern; covered by tests.
    Regex::new(r"(?:की|के)\s+(?:अध्यक्षता|सभापतित्व)\s*(?:में|मे|मंे)").expect("constant regex")
});
static RE_EN_CHAIR: LazyLock<Regex> = LazyLock::new(|| {
    // Constant pattern; covered by tests.
    Regex::new(r"(?i)\b(?:chaired by|presided over by|under the chairmanship of|under the chairpersonship of|headed by)\s+")
        .expect("constant regex")
});

/// Words that end the backwards walk from "की अध्यक्षता में".
const HI_CHAIR_STOP: &[&str] = &[
    "के",
    "की",
    "का",
    "में",
    "से",
    "ने",
    "को",
    "द्वारा",
    "अध्यक्ष",
    "आज",
    "यहां",
    "यहाँ",
    "एवं",
    "तथा",
    "व",
    "और",
    "बैठक",
    "समिति",
    "आयोजित",
    "सभाकक्ष",
    "कक्ष",
    "है",
    "हुई",
    "गई",
    "पर",
    "हेतु",
    "लिए",
];

/// Designations that start a chair's name phrase.
const HI_DESIGNATIONS: &[&str] = &[
    "मुख्यमंत्री",
    "मुख्य",
    "मंत्री",
    "कलेक्टर",
    "जिलाधीश",
    "जिलाधिकारी",
    "अपर",
    "सचिव",
    "आयुक्त",
    "संयुक्त",
    "उप",
    "महाप्रबंधक",
    "प्रबंधक",
    "सीईओ",
    "विधायक",
    "सांसद",
    "संचालक",
    "निदेशक",
    "प्रमुख",
    "अध्यक्ष",
    "डॉ.",
    "श्री",
    "श्रीमती",
    "सुश्री",
];

static RE_HI_CHAIR_NE: LazyLock<Regex> = LazyLock::new(|| {
    // Constant pattern; covered by tests.
    Regex::new(r"अध्यक्षता\s+([^।,;:|\n]{3,100}?)\s+ने\s+(?:की|किया)").expect("constant regex")
});

/// "बैठक की अध्यक्षता कलेक्टर X ने की" / "जिसकी अध्यक्षता प्रदेश के उद्योग मंत्री Y ने की".
fn hindi_chair_ne(text: &str) -> Option<String> {
    let c = RE_HI_CHAIR_NE.captures(text)?;
    let phrase = c.get(1)?.as_str();
    let mut words: Vec<&str> = phrase.split_whitespace().collect();
    // keep what follows the last genitive ("प्रदेश के उद्योग मंत्री …" → "उद्योग मंत्री …")
    if let Some(p) = words.iter().rposition(|w| matches!(*w, "के" | "की" | "का"))
        && words.len() - p > 2
    {
        words.drain(..=p);
    }
    if words.len() < 2 || words.len() > 9 {
        return None;
    }
    Some(shorten_words(&words.join(" "), 120))
}

static RE_HI_CHAIR_KI: LazyLock<Regex> = LazyLock::new(|| {
    // Constant pattern; covered by tests.
    Regex::new(r"\s+ने\s+(?:बैठक\s+की\s+|कार्यक्रम\s+की\s+)?अध्यक्षता\s+(?:की|किया)")
        .expect("constant regex")
});

/// The chair in a Hindi note: whichever of the three phrasings comes first.
fn hindi_chair(text: &str) -> Option<String> {
    let mein = RE_HI_CHAIR.find(text).map(|m| m.start());
    let ne = RE_HI_CHAIR_NE.find(text).map(|m| m.start());
    let ki = RE_HI_CHAIR_KI.find(text).map(|m| m.start());
    let first = [mein, ne, ki].into_iter().flatten().min()?;
    if Some(first) == ne {
        hindi_chair_ne(text)
    } else {
        walk_back_chair(&text[..first])
    }
}

/// The name phrase just before an anchor ("… कलेक्टर डॉ. X [की अध्यक्षता में]").
fn walk_back_chair(before: &str) -> Option<String> {
    let mut words: Vec<&str> = Vec::new();
    for w in before.split_whitespace().rev() {
        let clean = w.trim_matches(|c: char| ",;:()\"'‘’“”".contains(c));
        if clean.is_empty()
            || w.ends_with([',', ';', ':', '।', '/', '|'])
            || w.contains(['।', '/', '|'])
            || w.chars()
                .any(|c| c.is_ascii_digit() || ('०'..='९').contains(&c))
            || HI_CHAIR_STOP.contains(&clean)
            || words.len() >= 8
        {
            break;
        }
        words.push(clean);
    }
    words.reverse();
    // Start at the earliest designation if there is one ("बैठक कलेक्टर श्री X" → "कलेक्टर श्री X").
    if let Some(p) = words.iter().position(|w| HI_DESIGNATIONS.contains(w)) {
        words.drain(..p);
    }
    // a bare designation ("सचिव") says nothing
    if words.len() < 2 {
        return None;
    }
    let s = words.join(" ");
    Some(shorten_words(&s, 120))
}

fn english_chair(text: &str) -> Option<String> {
    let m = RE_EN_CHAIR.find(text)?;
    let rest = &text[m.end()..];
    let mut words: Vec<&str> = Vec::new();
    for w in rest.split_whitespace() {
        let clean = w.trim_end_matches([',', ';', ':', '.', ')']);
        let first = clean.chars().next();
        let abbrev = ABBREVIATIONS.contains(&clean.to_lowercase().as_str())
            || (clean.chars().count() == 1 && first.is_some_and(char::is_uppercase));
        let ok = first.is_some_and(|c| c.is_uppercase())
            || (words.is_empty() && clean == "the")
            || (!words.is_empty() && matches!(clean, "of" | "and"));
        if !ok || words.len() >= 9 {
            break;
        }
        words.push(if abbrev {
            w.trim_end_matches([',', ';', ':', ')'])
        } else {
            clean
        });
        if w.ends_with([',', ';', ':', ')']) || (w.ends_with('.') && !abbrev) {
            break;
        }
    }
    while words
        .last()
        .is_some_and(|w| matches!(*w, "of" | "and" | "the"))
    {
        words.pop();
    }
    let s = words.join(" ");
    (s.chars().count() >= 3).then(|| shorten_words(&s, 120))
}

// ---------------------------------------------------------------------------------------------
// Agencies

/// (canonical name, ASCII patterns matched case-insensitively at word boundaries,
/// Hindi patterns matched as substrings of the nukta-free text).
const AGENCIES: &[(&str, &str, &[&str])] = &[
    (
        "DGFT",
        r"DGFT|D\.G\.F\.T|Directorate General of Foreign Trade",
        &[
            "डीजीएफटी",
            "डी.जी.एफ.टी",
            "विदेश व्यापार महानिदेशालय",
            "विदेश व्यापार महानिदेशक",
        ],
    ),
    (
        "EEPC",
        r"EEPC\w*|Engineering Export Promotion Council",
        &[
            "ईईपीसी",
            "इईपीसी",
            "इंजीनियरिंग एक्सपोर्ट प्रमोशन काउंसिल",
            "इंजीनियरिंग निर्यात संवर्धन परिषद",
        ],
    ),
    (
        "FIEO",
        r"FIEO|Federation of Indian Export Organi[sz]ations?",
        &["फियो", "फेडरेशन ऑफ इंडियन एक्सपोर्ट", "भारतीय निर्यात संगठन महासंघ"],
    ),
    (
        "APEDA",
        r"APEDA|Agricultural and Processed Food Products Export Development Authority",
        &[
            "एपीडा",
            "एपिडा",
            "एपेडा",
            "कृषि और प्रसंस्कृत खाद्य उत्पाद निर्यात विकास प्राधिकरण",
        ],
    ),
    ("NABARD", r"NABARD", &["नाबार्ड"]),
    (
        "MSME-DI",
        r"MSME[\s\-–]*(?:DI|DFO|Development Institute|Development and Facilitation Office)",
        &[
            "एमएसएमई डीआई",
            "एमएसएमई-डीआई",
            "एमएसएमई विकास संस्थान",
            "एमएसएमई-डीएफओ",
            "एमएसएमई डीएफओ",
        ],
    ),
    (
        "CSIDC",
        r"CSIDC|Chhattisgarh State Industrial Development Corporation",
        &[
            "सीएसआईडीसी",
            "छत्तीसगढ़ राज्य औद्योगिक विकास निगम",
            "छत्तीसगढ राज्य औद्योगिक विकास निगम",
        ],
    ),
    (
        "SIDBI",
        r"SIDBI|Small Industries Development Bank",
        &["सिडबी"],
    ),
    (
        "ECGC",
        r"ECGC|Export Credit Guarantee Corporation",
        &["ईसीजीसी"],
    ),
    (
        "EXIM Bank",
        r"EXIM Bank|Export[\s\-]Import Bank",
        &["एक्जिम बैंक", "एक्सिम बैंक"],
    ),
    (
        "DTIC",
        r"DTIC|DIC|District Trade and Industries Cent(?:re|er)|District Industries Cent(?:re|er)",
        &[
            "जिला व्यापार एवं उद्योग केन्द्र",
            "जिला व्यापार एवं उद्योग केंद्र",
            "जिला व्यापार और उद्योग केंद्र",
            "जिला उद्योग केन्द्र",
            "जिला उद्योग केंद्र",
            "डीटीआईसी",
        ],
    ),
    (
        "Shellac EPC",
        r"SHEFEXIL|Shellac (?:and Forest Products )?Export Promotion Council",
        &[
            "शैलेक एक्सपोर्ट प्रमोशन काउंसिल",
            "शेलैक एक्सपोर्ट प्रमोशन काउंसिल",
            "शेफेक्सिल",
        ],
    ),
    (
        "Spices Board",
        r"Spices Board",
        &["स्पाइसेस बोर्ड", "मसाला बोर्ड"],
    ),
    ("FICCI", r"FICCI", &["फिक्की"]),
    (
        "CII",
        r"CII|Confederation of Indian Industry",
        &["भारतीय उद्योग परिसंघ"],
    ),
];

static AGENCY_RES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    AGENCIES
        .iter()
        // Constant patterns; covered by tests.
        .map(|(_, pat, _)| Regex::new(&format!(r"\b(?:{pat})\b")).expect("constant agency regex"))
        .collect()
});

/// The Hindi patterns of [`AGENCIES`], nukta-free, in the same order.
static AGENCY_HINDI: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| {
    AGENCIES
        .iter()
        .map(|(_, _, hindi)| hindi.iter().map(|h| strip_nukta(h)).collect())
        .collect()
});

fn strip_nukta(s: &str) -> String {
    s.nfd().filter(|c| *c != '\u{093C}').nfc().collect()
}

/// Agencies mentioned in `text`, canonical names in order of first mention.
pub fn find_agencies(text: &str) -> Vec<&'static str> {
    let plain = strip_nukta(text);
    let mut found: Vec<(usize, &'static str)> = Vec::new();
    for (((name, _, _), re), hindi) in AGENCIES
        .iter()
        .zip(AGENCY_RES.iter())
        .zip(AGENCY_HINDI.iter())
    {
        let mut first = re.find(&plain).map(|m| m.start());
        for h in hindi {
            if let Some(p) = plain.find(h.as_str()) {
                first = Some(first.map_or(p, |f| f.min(p)));
            }
        }
        if let Some(p) = first {
            found.push((p, name));
        }
    }
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

// ---------------------------------------------------------------------------------------------
// Sentence scoring

const FACT_WORDS: &[&str] = &[
    "निर्यात",
    "एक्सपोर्ट",
    "निर्यातक",
    "निर्यातकों",
    "व्यापार",
    "उद्योग",
    "उत्पाद",
    "कार्ययोजना",
    "कार्य योजना",
    "एक्शन प्लान",
    "निर्णय",
    "निर्देश",
    "सहमति",
    "चर्चा",
    "बैठक",
    "कार्यशाला",
    "संगोष्ठी",
    "कॉन्क्लेव",
    "उत्सव",
    "सम्मेलन",
    "समिति",
    "अध्यक्षता",
    "बाजार",
    "विदेश",
    "export",
    "exporter",
    "trade",
    "meeting",
    "workshop",
    "conclave",
    "summit",
    "decision",
    "decided",
    "directed",
    "action plan",
    "committee",
    "chaired",
    "buyer",
    "outreach",
    "products",
    "market",
];

const ATTENDANCE: &[&str] = &[
    "उपस्थित थे",
    "उपस्थित रहे",
    "उपस्थित थीं",
    "मौजूद थे",
    "मौजूद रहे",
    "शामिल थे",
    "इस अवसर पर",
    "were present",
    "was present",
    "also present",
    "were also present",
    "attended by",
];

const BOILERPLATE: &[&str] = &[
    "leave a reply",
    "your email address",
    "required fields",
    "advertisement",
    "min read",
    "share this",
    "read more",
    "click here",
    "follow us",
    "whatsapp",
    "copyright",
    "©",
    "subscribe",
    "also read",
    "यह भी पढ़ें",
    "यह भी पढ़े",
    "पूरी खबर",
    "हमसे जुड़ें",
    "विज्ञापन",
    "related posts",
    "posted in",
];

fn score(sentence: &str, index: usize, agencies: usize) -> i32 {
    let lower = sentence.to_lowercase();
    if BOILERPLATE.iter().any(|b| lower.contains(b)) {
        return -100;
    }
    let n = sentence.chars().count();
    if n < 40 {
        return -50;
    }
    let mut s = 0i32;
    // headings and captions carry no sentence-final punctuation
    if !sentence.ends_with(['।', '॥', '.', '?', '!', '"', '”', '’', ')']) {
        s -= 5;
    }
    for w in FACT_WORDS {
        if lower.contains(w) {
            s += 2;
        }
    }
    s += 3 * i32::try_from(agencies).unwrap_or(0);
    if ATTENDANCE.iter().any(|a| lower.contains(a)) {
        s -= 12;
    }
    let commas = sentence.matches([',', '،']).count();
    if commas > 6 {
        s -= i32::try_from(commas).unwrap_or(100);
    }
    s += match index {
        0 => 6,
        1 => 3,
        2 => 1,
        _ => 0,
    };
    if n > 600 {
        s -= 4;
    }
    s
}

fn normalize_for_compare(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
}

/// Summarize an article. `published` is the page/feed publish date (used for the date when the
/// body has no dated dateline, and to fill a dateline's missing year).
pub fn summarize(title: &str, body: &str, published: Option<NaiveDate>) -> Summary {
    let body: String = body.nfc().collect();
    let title: String = title.nfc().collect();
    let lang = detect_lang(&format!("{title} {body}"));
    let (iso, body_start) = match RE_ISO_PREFIX.captures(&body) {
        Some(c) => {
            let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
            let d = match (n(1), n(2), n(3)) {
                (Some(y), Some(m), Some(d)) => {
                    NaiveDate::from_ymd_opt(i32::try_from(y).unwrap_or(0), m, d)
                }
                _ => None,
            };
            (d, c.get(0).map_or(0, |m| m.end()))
        }
        None => (None, 0),
    };
    let body = body.get(body_start..).unwrap_or("");
    let body = RE_L_DANDA.replace_all(body, "$1।$2");
    let body = body.as_ref();
    let published = published.or(iso);
    let dateline = parse_dateline(body);
    let text = match &dateline {
        Some(d) => body.get(d.end..).unwrap_or(""),
        None => body,
    };
    let date = match (dateline.as_ref().and_then(|d| d.date), published) {
        (Some(d), Some(p)) => Some(d.with_year_from(p)),
        (Some(d), None) => Some(d),
        (None, Some(p)) => Some(PartialDate::from_naive(p)),
        (None, None) => None,
    };
    let chair = match lang {
        Lang::Hi => hindi_chair(text).or_else(|| english_chair(text)),
        Lang::En => english_chair(text).or_else(|| hindi_chair(text)),
    };
    let agencies = find_agencies(&format!("{title}\n{body}"));

    let title_key = normalize_for_compare(&title);
    let sentences: Vec<String> = split_sentences(text)
        .into_iter()
        .filter(|s| {
            let k = normalize_for_compare(s);
            title_key.is_empty() || !title_key.contains(&k)
        })
        .collect();
    let mut scored: Vec<(usize, i32)> = sentences
        .iter()
        .enumerate()
        .map(|(i, s)| (i, score(s, i, find_agencies(s).len())))
        .collect();
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut chosen: Vec<usize> = scored
        .iter()
        .filter(|(_, sc)| *sc > 0)
        .take(3)
        .map(|(i, _)| *i)
        .collect();
    if chosen.len() < 2 {
        for (i, sc) in &scored {
            if chosen.len() >= 2 {
                break;
            }
            if *sc > -50 && !chosen.contains(i) {
                chosen.push(*i);
            }
        }
    }
    chosen.sort_unstable();
    let sentences = chosen
        .into_iter()
        .filter_map(|i| sentences.get(i))
        .map(|s| shorten_words(s, MAX_SENTENCE))
        .filter(|s| !s.is_empty())
        .collect();
    Summary {
        lang,
        date,
        chair,
        agencies,
        sentences,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const SEED: &str = include_str!("../../tests/fixtures/corpus/seed-article.txt");

    /// (title, body) of the seed: title is line 3, body after it.
    pub(crate) fn seed() -> (String, String) {
        let lines: Vec<&str> = SEED.lines().collect();
        (lines[2].to_string(), lines[3..].join("\n"))
    }

    #[test]
    fn shortening_never_splits_a_zwj_emoji_sequence() {
        use unicode_segmentation::UnicodeSegmentation;
        let family = "👨\u{200d}👩\u{200d}👧";
        let title = format!("निर्यात{family}{family}बैठक {family} समिति");
        let clusters: Vec<&str> = title.graphemes(true).collect();
        for max in 1..title.chars().count() + 2 {
            let short = shorten_words(&title, max);
            let body = short.trim_end_matches('…');
            // What is kept is a sequence of whole clusters of the original.
            let kept: Vec<&str> = body.graphemes(true).collect();
            assert!(
                kept.iter().zip(&clusters).all(|(a, b)| a == b),
                "max {max}: {short:?}"
            );
            assert!(!body.ends_with('\u{200d}'), "max {max}: {short:?}");
        }
    }

    #[test]
    fn lang_detection() {
        let (t, b) = seed();
        assert_eq!(detect_lang(&format!("{t} {b}")), Lang::Hi);
        assert_eq!(
            detect_lang("Raipur: DGFT held an export outreach programme with APEDA and SIDBI."),
            Lang::En
        );
        assert_eq!(
            detect_lang("DGFT और EEPC की बैठक में निर्यात पर चर्चा"),
            Lang::Hi
        );
    }

    #[test]
    fn splitting_keeps_abbreviations_and_initials() {
        let (_, b) = seed();
        let s = split_sentences(&b);
        assert!(
            s.iter()
                .any(|x| x.contains("कलेक्टर डॉ. सर्वेश्वर नरेन्द्र भुरे की अध्यक्षता"))
        );
        assert!(s.iter().any(|x| x.contains("श्री एस. एस. राजपुत, उपसंचालक")));
        assert!(s.iter().any(|x| x.contains("मे. कोरफेब इण्डस्ट्रीज")));
        // danda without a following space still splits
        assert!(s.iter().any(|x| x.ends_with("आयोजन किया गया था।")));
        assert!(s.iter().any(|x| x.starts_with("बैठक में कलेक्टर डॉ. भुरे")));
        let e = split_sentences(
            "Dr. R. K. Sharma said exports grew 2.5 times. The U.S. market is key! Next?",
        );
        assert_eq!(
            e,
            vec![
                "Dr. R. K. Sharma said exports grew 2.5 times.",
                "The U.S. market is key!",
                "Next?"
            ]
        );
        assert_eq!(
            split_sentences("A grant of Rs. 5 crore was sanctioned. Next step"),
            vec!["A grant of Rs. 5 crore was sanctioned.", "Next step"]
        );
        let h = split_sentences("बैठक सम्पन्न हुई है. अब आगे");
        assert_eq!(h, vec!["बैठक सम्पन्न हुई है.", "अब आगे"]);
        assert_eq!(
            split_sentences("जानकारी दी गई । आगे"),
            vec!["जानकारी दी गई।", "आगे"]
        );
    }

    #[test]
    fn chair_on_seed_and_others() {
        let (t, b) = seed();
        let s = summarize(&t, &b, None);
        assert_eq!(s.chair.as_deref(), Some("कलेक्टर डॉ. सर्वेश्वर नरेन्द्र भुरे"));
        let c = summarize(
            "x",
            "रायपुर 29 सितम्बर 2022 : मुख्य सचिव अमिताभ जैन की अध्यक्षता में आज यहां बैठक सम्पन्न हुई।",
            None,
        );
        assert_eq!(c.chair.as_deref(), Some("मुख्य सचिव अमिताभ जैन"));
        let ne = summarize(
            "x",
            "संयुक्त बैठक का आयोजन किया गया।। बैठक की अध्यक्षता कलेक्टर इन्द्रजीत सिंह चंद्रवाल ने की।",
            None,
        );
        assert_eq!(ne.chair.as_deref(), Some("कलेक्टर इन्द्रजीत सिंह चंद्रवाल"));
        let ne2 = summarize(
            "x",
            "उत्सव का आयोजन किया है। जिसकी अध्यक्षता प्रदेश के उद्योग मंत्री कवासी लखमा ने की।",
            None,
        );
        assert_eq!(ne2.chair.as_deref(), Some("उद्योग मंत्री कवासी लखमा"));
        let ki = summarize(
            "x",
            "कोरबा। कलेक्टर श्री अजीत वसंत ने बैठक की अध्यक्षता की। निर्यात पर चर्चा हुई।",
            None,
        );
        assert_eq!(ki.chair.as_deref(), Some("कलेक्टर श्री अजीत वसंत"));
        let e = summarize(
            "Export meeting",
            "Raipur, March 5, 2023: The district export promotion committee meeting was chaired by Collector Dr. Sarveshwar Bhure, who asked officers to prepare an export action plan.",
            None,
        );
        assert_eq!(e.chair.as_deref(), Some("Collector Dr. Sarveshwar Bhure"));
    }

    #[test]
    fn agencies_on_seed() {
        let (t, b) = seed();
        let s = summarize(&t, &b, None);
        assert_eq!(s.agencies, vec!["DGFT", "EEPC", "MSME-DI", "NABARD"]);
        assert_eq!(
            find_agencies(
                "Representatives of APEDA, SIDBI and the Directorate General of Foreign Trade"
            ),
            vec!["APEDA", "SIDBI", "DGFT"]
        );
        assert_eq!(find_agencies("एपिड़ा तथा गो हार्वेस्ट"), vec!["APEDA"]);
        assert!(find_agencies("Nordic countries").is_empty());
    }

    #[test]
    fn seed_summary_sentences_and_date() {
        let (t, b) = seed();
        let pubd = NaiveDate::from_ymd_opt(2022, 5, 20);
        let s = summarize(&t, &b, pubd);
        assert_eq!(s.lang, Lang::Hi);
        assert_eq!(
            s.date,
            Some(PartialDate {
                year: Some(2022),
                month: Some(5),
                day: None
            })
        );
        assert!((2..=3).contains(&s.sentences.len()), "{:?}", s.sentences);
        assert!(
            s.sentences[0].starts_with("जिला स्तरीय निर्यात संवर्धन"),
            "{:?}",
            s.sentences
        );
        assert!(s.sentences.iter().all(|x| !x.contains("उपस्थित थे")));
        assert!(s.sentences.iter().all(|x| !x.contains("Leave a Reply")));
        assert!(
            s.sentences
                .iter()
                .all(|x| x.chars().count() <= MAX_SENTENCE)
        );
        // no dateline date → publish date
        let p = summarize("t", "बैठक में निर्यात पर चर्चा की गई।", pubd);
        assert_eq!(p.date, pubd.map(PartialDate::from_naive));
        let iso = summarize(
            "t",
            " date 2026-01-10 In a major boost for rice exporters, the state extended the fee exemption.",
            None,
        );
        assert_eq!(
            iso.date,
            NaiveDate::from_ymd_opt(2026, 1, 10).map(PartialDate::from_naive)
        );
        assert!(iso.sentences[0].starts_with("In a major boost"));
    }

    #[test]
    fn latin_l_as_danda_and_title_lines() {
        let s = summarize(
            "वाणिज्य उत्सव | 23 Sep 2021 (Drishti IAS)",
            "वाणिज्य उत्सव | 23 Sep 2021\n\nनिर्यात के मामले में छत्तीसगढ़ भरपूर सम्भावनाओं वाला राज्य है l पूरे देश का 74 प्रतिशत लघु वनोपज संग्रहित किया l",
            None,
        );
        assert_eq!(
            s.sentences,
            vec![
                "निर्यात के मामले में छत्तीसगढ़ भरपूर सम्भावनाओं वाला राज्य है।",
                "पूरे देश का 74 प्रतिशत लघु वनोपज संग्रहित किया।"
            ]
        );
    }

    #[test]
    fn shorten_at_word_boundary() {
        let s = "निर्यात संवर्धन समिति की बैठक आयोजित";
        let r = shorten_words(s, 20);
        assert!(r.ends_with('…'));
        assert!(r.chars().count() <= 20);
        let head = r.trim_end_matches('…');
        assert!(s.starts_with(head) && s[head.len()..].starts_with(' '));
        assert_eq!(shorten_words(s, 100), s);
    }
}
