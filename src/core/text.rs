//! Text normalisation for *matching* (never for display).
//!
//! [`normalize`] turns Hindi/English press text into a canonical, space-separated token stream so that
//! vocabulary phrases, district names and dateline towns can be matched on whole-token boundaries.
//!
//! Folds, in order:
//! 1. Unicode NFC (and again at the end if a dropped format character left a composable pair); the
//!    nukta letters (precomposed क़ ड़ ढ़ ऩ ऱ ऴ or base + nukta) are mapped to their base letter.
//! 2. Drop format characters: ZWJ (U+200D), ZWNJ (U+200C), soft hyphen (U+00AD), BOM (U+FEFF), word joiner (U+2060).
//! 3. Drop the nukta (U+093C): ड़→ड, ढ़→ढ, क़→क, फ़→फ, ज़→ज … (press texts use both spellings).
//! 4. Chandrabindu (U+0901) → anusvara (U+0902): गाँव→गांव.
//! 5. Devanagari digits ०–९ → ASCII 0–9.
//! 6. Long vowel signs folded to short ones (ी→ि, ू→ु, ई→इ, ऊ→उ): जागरुकता/जागरूकता, सीमा/सिमा are spelt
//!    both ways in press notes.
//! 7. Candra-o (ॉ, ऑ) → ो/ओ: कॉन्क्लेव/कोन्क्लेव, ऑफ/ओफ.
//! 8. Half-nasal conjuncts (ङ ञ ण न म + virama) before a non-nasal stop → anusvara: सम्पन्न→संपन्न,
//!    अम्बिकापुर→अंबिकापुर, कोण्डागांव→कोंडागांव, मनेन्द्रगढ़→मनेंद्रगढ़, कॉन्क्लेव→कोंक्लेव (loanwords mix classes).
//!    Not before nasals or semivowels/sibilants: सम्मान, अन्य, जन्म stay.
//! 9. र्द्ध → र्ध: संवर्द्धन→संवर्धन, वर्द्धन→वर्धन.
//! 10. Every character that is not a letter, digit or combining mark (punctuation incl. । ॥, quotes, dashes,
//!     brackets, symbols) → space; whitespace collapsed to single spaces; trimmed.
//! 11. Lowercase (ASCII/Latin).
//! 12. Compounds split: जिलास्तरीय→जिला स्तरिय, राज्यस्तरीय→राज्य स्तरिय, संभागस्तरीय→संभाग स्तरिय,
//!     मध्यप्रदेश→मध्य प्रदेश, उत्तरप्रदेश→उत्तर प्रदेश.

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

const VIRAMA: char = '\u{094D}';
const ANUSVARA: char = '\u{0902}';

/// Normalise `s` for matching. See the module documentation for every fold.
pub fn normalize(s: &str) -> String {
    // Step 1: NFC (skipped when the quick check says the input already is NFC). NFC leaves the
    // composition-excluded nukta letters (क़ … य़) decomposed and keeps ऩ ऱ ऴ composed; both are folded below.
    let nfc: std::borrow::Cow<'_, str> = if !needs_nfc(s) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(s.nfc().collect())
    };
    // Steps 2–7: per-character folds.
    let mut chars: Vec<char> = Vec::with_capacity(nfc.len());
    for c in nfc.chars() {
        match c {
            '\u{200C}' | '\u{200D}' | '\u{00AD}' | '\u{FEFF}' | '\u{2060}' | '\u{093C}' => {}
            '\u{0929}' => chars.push('न'),
            '\u{0931}' => chars.push('र'),
            '\u{0934}' => chars.push('ळ'),
            '\u{0958}' => chars.push('क'),
            '\u{0959}' => chars.push('ख'),
            '\u{095A}' => chars.push('ग'),
            '\u{095B}' => chars.push('ज'),
            '\u{095C}' => chars.push('ड'),
            '\u{095D}' => chars.push('ढ'),
            '\u{095E}' => chars.push('फ'),
            '\u{095F}' => chars.push('य'),
            '\u{0901}' => chars.push(ANUSVARA),
            '\u{0966}'..='\u{096F}' => {
                let d = c as u32 - 0x0966;
                chars.push(char::from_digit(d, 10).unwrap_or('0'));
            }
            '\u{0940}' => chars.push('\u{093F}'), // ी → ि
            '\u{0942}' => chars.push('\u{0941}'), // ू → ु
            '\u{0908}' => chars.push('\u{0907}'), // ई → इ
            '\u{090A}' => chars.push('\u{0909}'), // ऊ → उ
            '\u{0949}' => chars.push('\u{094B}'), // ॉ → ो
            '\u{0911}' => chars.push('\u{0913}'), // ऑ → ओ
            _ => chars.push(c),
        }
    }
    // Step 8: half nasal + virama + consonant of the same varga → anusvara + consonant.
    let mut folded: Vec<char> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if i + 2 < chars.len() && chars[i + 1] == VIRAMA && same_class_nasal(c, chars[i + 2]) {
            folded.push(ANUSVARA);
            i += 2;
            continue;
        }
        // Step 9: र्द्ध → र्ध  (र ् द ् ध → र ् ध)
        if c == 'द'
            && i >= 2
            && chars[i - 1] == VIRAMA
            && chars[i - 2] == 'र'
            && i + 2 < chars.len()
            && chars[i + 1] == VIRAMA
            && chars[i + 2] == 'ध'
        {
            i += 2;
            continue;
        }
        folded.push(c);
        i += 1;
    }
    // Steps 10–11: punctuation → space, collapse, lowercase.
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in folded.into_iter() {
        let keep = if c.is_ascii() {
            c.is_ascii_alphanumeric()
        } else if ('\u{0900}'..='\u{097F}').contains(&c) {
            // Devanagari: letters, signs and digits are kept; danda, double danda and the
            // abbreviation sign are punctuation.
            !matches!(c, '\u{0964}' | '\u{0965}' | '\u{0970}')
        } else {
            c.is_alphanumeric() || is_mark(c)
        };
        if keep {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                for l in c.to_lowercase() {
                    out.push(l);
                }
            }
        } else {
            pending_space = true;
        }
    }
    // Dropping format characters may leave a Latin base + combining mark that NFC composes.
    let out: String = if !needs_nfc(&out) {
        out
    } else {
        out.nfc().collect()
    };
    // Step 12: compound splits (on whole normalised text; patterns are themselves normalised forms).
    split_compounds(&out)
}

/// True unless every character is ASCII or Devanagari (for which our folds make NFC unnecessary:
/// nukta letters are mapped explicitly in either form) or the quick check says the text is NFC.
fn needs_nfc(s: &str) -> bool {
    if s.chars()
        .all(|c| c.is_ascii() || ('\u{0900}'..='\u{097F}').contains(&c))
    {
        return false;
    }
    is_nfc_quick(s.chars()) != IsNormalized::Yes
}

/// Compound words that press notes write both joined and separated.
const COMPOUNDS: &[(&str, &str)] = &[
    ("जिलास्तरिय", "जिला स्तरिय"),
    ("जिलास्तर", "जिला स्तर"),
    ("राज्यस्तरिय", "राज्य स्तरिय"),
    ("संभागस्तरिय", "संभाग स्तरिय"),
    ("मध्यप्रदेश", "मध्य प्रदेश"),
    ("उत्तरप्रदेश", "उत्तर प्रदेश"),
    ("हिमाचलप्रदेश", "हिमाचल प्रदेश"),
];

fn split_compounds(s: &str) -> String {
    if !COMPOUNDS.iter().any(|(a, _)| s.contains(a)) {
        return s.to_string();
    }
    let mut out = s.to_string();
    for (a, b) in COMPOUNDS {
        if out.contains(a) {
            out = out.replace(a, b);
        }
    }
    out
}

/// Combining marks we keep inside words (Devanagari signs and generic combining diacritics).
fn is_mark(c: char) -> bool {
    matches!(c,
        '\u{0900}'..='\u{0903}'
        | '\u{093A}'..='\u{094F}'
        | '\u{0951}'..='\u{0957}'
        | '\u{0962}'..='\u{0963}'
        | '\u{0300}'..='\u{036F}')
}

/// True when `nasal` + virama + `next` is written interchangeably with anusvara + `next`.
fn same_class_nasal(nasal: char, next: char) -> bool {
    match nasal {
        // Loanwords are written with any nasal before any stop (कान्क्लेव, कॉन्फ्रेंस), so every nasal
        // before a non-nasal stop folds; nasal+nasal (सम्मान, अन्न), +य/र/ल/व/श/स/ह (अन्य, जन्म) do not.
        'ङ' | 'ञ' | 'ण' | 'न' | 'म' => matches!(
            next,
            'क' | 'ख'
                | 'ग'
                | 'घ'
                | 'च'
                | 'छ'
                | 'ज'
                | 'झ'
                | 'ट'
                | 'ठ'
                | 'ड'
                | 'ढ'
                | 'त'
                | 'थ'
                | 'द'
                | 'ध'
                | 'प'
                | 'फ'
                | 'ब'
                | 'भ'
        ),
        _ => false,
    }
}

/// Split normalised text into tokens (it is already single-space separated).
pub fn tokens(norm: &str) -> impl Iterator<Item = &str> {
    norm.split(' ').filter(|t| !t.is_empty())
}

/// Decode `%XX` escapes of a URL (invalid escapes are kept verbatim; invalid UTF-8 is replaced).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |x: u8| (x as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first `n` characters of `s` (char-boundary safe).
pub fn prefix_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Article language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Lang {
    Hi,
    En,
}

/// Hindi when at least a quarter of the letters are Devanagari (English press text carries
/// almost none; Hindi text often carries Latin agency names). Empty text counts as Hindi.
pub fn detect_lang(text: &str) -> Lang {
    let (mut deva, mut latin) = (0usize, 0usize);
    for c in text.chars() {
        if ('\u{0900}'..='\u{097F}').contains(&c) && c.is_alphabetic() {
            deva += 1;
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        }
    }
    // (0, 0) also lands here: empty text counts as Hindi
    if deva * 4 >= deva + latin {
        Lang::Hi
    } else {
        Lang::En
    }
}

// ---------------------------------------------------------------------------------------------
// Sentence splitting

/// Words that end with a full stop without ending a sentence (compared without the dot).
pub const ABBREVIATIONS: &[&str] = &[
    "डॉ",
    "डा",
    "श्री",
    "श्रीमती",
    "सुश्री",
    "मे",
    "कु",
    "सु",
    "प्रो",
    "लिमि",
    "प्रा",
    "क्र",
    "सं",
    "नं",
    "पं",
    "dr",
    "mr",
    "mrs",
    "ms",
    "shri",
    "smt",
    "st",
    "no",
    "nos",
    "jr",
    "sr",
    "prof",
    "govt",
    "ltd",
    "pvt",
    "co",
    "inc",
    "vs",
    "etc",
    "rs",
    "m/s",
    "hon",
    "ph",
    "e.g",
    "i.e",
    "viz",
    "approx",
    "dept",
    "sh",
    "er",
    "adv",
    "capt",
    "col",
    "gen",
    "lt",
];

/// Short Hindi words that commonly end a sentence written with "." instead of "।".
const SENTENCE_FINAL: &[&str] = &[
    "है",
    "हैं",
    "था",
    "थे",
    "थी",
    "गया",
    "गई",
    "गए",
    "गये",
    "की",
    "किया",
    "हुआ",
    "हुई",
    "हुए",
    "रहे",
    "रही",
    "रहा",
    "होगा",
    "होगी",
    "दिया",
    "दी",
    "हो",
    "लिया",
    "ली",
    "जाए",
    "सके",
    "करें",
    "कहा",
    "थीं",
    "दें",
    "लें",
    "हुईं",
    "गईं",
    "रहीं",
    "सकें",
];

/// Whether the full stop at byte `i` of `s` ends a sentence.
fn dot_ends_sentence(s: &str, i: usize) -> bool {
    // only the word before the dot matters: look at a bounded window (keeps splitting linear)
    let mut from = i.saturating_sub(64);
    while !s.is_char_boundary(from) {
        from += 1;
    }
    let before = &s[from..i];
    let after = &s[i + 1..];
    let next = after.chars().next();
    // "2.5", "U.S", "छ.ग", "लिमि.," — a dot glued to what follows is not a sentence end
    match next {
        None => return true,
        Some(c) if c.is_whitespace() || c == '"' || c == '”' || c == '’' || c == ')' => {}
        Some(_) => return false,
    }
    let word_start = before
        .rfind(|c: char| c.is_whitespace() || "(,;:\"“‘'/".contains(c))
        .map_or(0, |p| {
            p + before[p..].chars().next().map_or(1, char::len_utf8)
        });
    let word = &before[word_start..];
    if word.is_empty() {
        return true;
    }
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return false;
    }
    if SENTENCE_FINAL.contains(&word) {
        return true;
    }
    let n = word.chars().count();
    let is_deva = word.chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c));
    // initials: "एस. एस. राजपुत", "आई. टी. एस.", "R. K. Sharma"
    if is_deva && n <= 3 {
        return false;
    }
    if !is_deva
        && word
            .split('.')
            .all(|p| p.chars().count() == 1 && p.chars().all(char::is_uppercase))
    {
        return false;
    }
    true
}

/// Split text into sentences at । ॥ ? ! newlines and sentence-final full stops.
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let push = |out: &mut Vec<String>, piece: &str| {
        let t = piece.trim();
        if !t.is_empty() {
            let joined = t.split_whitespace().collect::<Vec<_>>().join(" ");
            let tidy = RE_SPACE_BEFORE_STOP.replace_all(&joined, "$1");
            out.push(RE_DOUBLE_DANDA.replace_all(&tidy, "।").into_owned());
        }
    };
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let end = i + c.len_utf8();
        let split = match c {
            '।' | '॥' | '?' | '!' | '\n' => true,
            '.' => dot_ends_sentence(text, i),
            _ => false,
        };
        if split {
            // keep runs of terminators together ("?!", "।।")
            let mut stop = end;
            while let Some(&(j, d)) = iter.peek() {
                if matches!(d, '।' | '॥' | '?' | '!' | '.' | '"' | '”' | '’') {
                    stop = j + d.len_utf8();
                    iter.next();
                } else {
                    break;
                }
            }
            push(&mut out, &text[start..stop]);
            start = stop;
        }
    }
    push(&mut out, &text[start..]);
    out
}

static RE_SPACE_BEFORE_STOP: LazyLock<Regex> = LazyLock::new(|| {
    // Constant pattern; covered by tests.
    Regex::new(r"\s+([।॥?!])").expect("constant regex")
});

static RE_DOUBLE_DANDA: LazyLock<Regex> = LazyLock::new(|| {
    // Constant pattern; covered by tests.
    Regex::new(r"।{2,}").expect("constant regex")
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_nukta() {
        assert_eq!(normalize("गढ़"), normalize("गढ"));
        assert_eq!(normalize("छत्तीसगढ़"), "छत्तिसगढ");
        assert_eq!(normalize("फ़रवरी"), normalize("फरवरी"));
        // precomposed U+095C and decomposed ड + nukta both fold to ड
        assert_eq!(normalize("\u{095C}"), "ड");
        assert_eq!(normalize("ड\u{093C}"), "ड");
        assert_eq!(normalize("\u{0929}"), "न");
        assert_eq!(normalize("Cafe\u{0301}"), "café");
    }

    #[test]
    fn folds_digits_and_punctuation() {
        assert_eq!(normalize("दुर्ग , मई २०२२/जिला"), "दुर्ग मइ 2022 जिला");
        assert_eq!(normalize("बैठक सम्पन्न।"), "बैठक संपन्न");
        assert_eq!(
            normalize("‘‘जिले के निर्यात की संभावना‘‘"),
            "जिले के निर्यात कि संभावना"
        );
        assert_eq!(normalize("छ.ग."), "छ ग");
        assert_eq!(
            normalize("Export-Promotion  COMMITTEE"),
            "export promotion committee"
        );
    }

    #[test]
    fn drops_zwj_and_friends() {
        assert_eq!(normalize("नि\u{200D}र्यात"), normalize("निर्यात"));
        assert_eq!(
            normalize("\u{FEFF}नि\u{200C}र्यात\u{00AD}"),
            normalize("निर्यात")
        );
    }

    #[test]
    fn folds_spelling_variants() {
        assert_eq!(normalize("संवर्द्धन"), normalize("संवर्धन"));
        assert_eq!(normalize("सम्पन्न"), normalize("संपन्न"));
        assert_eq!(normalize("कोण्डागांव"), normalize("कोंडागांव"));
        assert_eq!(normalize("राजनांदगाँव"), normalize("राजनांदगांव"));
        assert_eq!(normalize("जागरुकता"), normalize("जागरूकता"));
        assert_eq!(normalize("जिलास्तरीय"), normalize("जिला स्तरीय"));
        assert_eq!(normalize("मध्यप्रदेश"), normalize("मध्य प्रदेश"));
        assert_eq!(normalize("कॉन्क्लेव"), normalize("कोंक्लेव"));
        assert_eq!(normalize("कान्फ्रेंस"), normalize("कांफ्रेंस"));
        assert_eq!(normalize("अन्य"), "अन्य");
        assert_eq!(normalize("सम्मान"), "सम्मान");
    }

    #[test]
    fn percent_decoding_and_prefix() {
        assert_eq!(
            percent_decode("/post/1/%E0%A4%A7%E0%A4%AE-x"),
            "/post/1/धम-x"
        );
        assert_eq!(percent_decode("%E0%A4"), "\u{FFFD}");
        assert_eq!(percent_decode("%zz%"), "%zz%");
        assert_eq!(prefix_chars("दुर्ग", 2), "दु");
    }
}
