//! Legacy Kruti Dev 010 Hindi: detection and conversion to Unicode Devanagari.
//!
//! Kruti Dev is a font that draws Devanagari glyphs in the slots of ASCII/Latin-1 characters, so text
//! extracted from PDFs and old web pages typed in it reads as ASCII gibberish (`ftyk fu;kZr` = जिला निर्यात).
//! This module owns the heuristic that spots such text ([`looks_like_krutidev`]) and the deterministic
//! remap ([`krutidev_to_unicode`]).
//!
//! Conversion works in three steps:
//! 1. greedy longest-match of Kruti Dev key sequences (up to 3 characters, e.g. `vks` = ओ, `[+k` = ख़,
//!    `.k` = ण, `Fk` = थ) against the standard Kruti Dev 010 layout table, producing Unicode characters
//!    plus two markers: `f` (the short-i matra ि, typed *before* its consonant) and `Z` (the reph र्,
//!    typed *after* its syllable);
//! 2. the short-i marker is moved after the whole following consonant cluster (`fLFkfr` = स्थिति), and
//!    the reph is moved before the cluster of the preceding syllable, skipping its vowel signs
//!    (`fu;kZr` = निर्यात, `lao/kZu` = संवर्धन);
//! 3. repeated identical marks (`<++`, `ww`, `zz`: damage typical of PDF text layers) are collapsed
//!    and the result is put in NFC.
//!
//! Characters outside the table (digits, spaces, newlines, `!`) pass through unchanged.

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

/// Kruti Dev 010 key sequences and their Unicode values (standard layout). `f` and `Z` are handled
/// separately (markers), as are sequences that only exist to work around them.
const TABLE: &[(&str, &str)] = &[
    // Independent vowels.
    ("v‚", "ऑ"),
    ("vks", "ओ"),
    ("vkS", "औ"),
    ("vk", "आ"),
    ("v", "अ"),
    ("b±", "ईं"),
    ("Ã", "ई"),
    ("bZ", "ई"),
    ("b", "इ"),
    ("m", "उ"),
    ("Å", "ऊ"),
    (",s", "ऐ"),
    (",", "ए"),
    ("_", "ऋ"),
    // Consonants: full forms (often half form + `k`) and half forms.
    ("d", "क"),
    ("Dk", "क"),
    ("D", "क्"),
    ("ô", "क्क"),
    ("[k", "ख"),
    ("[", "ख्"),
    ("x", "ग"),
    ("Xk", "ग"),
    ("X", "ग्"),
    ("Ä", "घ"),
    ("?k", "घ"),
    ("?", "घ्"),
    ("³", "ङ"),
    ("p", "च"),
    ("Pk", "च"),
    ("P", "च्"),
    ("N", "छ"),
    ("t", "ज"),
    ("Tk", "ज"),
    ("T", "ज्"),
    (">", "झ"),
    ("÷", "झ्"),
    ("Ö", "झ्"),
    ("¥", "ञ"),
    ("V", "ट"),
    ("B", "ठ"),
    ("M", "ड"),
    ("<", "ढ"),
    (".k", "ण"),
    (".", "ण्"),
    ("r", "त"),
    ("Rk", "त"),
    ("R", "त्"),
    ("Fk", "थ"),
    ("F", "थ्"),
    ("n", "द"),
    ("/k", "ध"),
    ("èk", "ध"),
    ("/", "ध्"),
    ("è", "ध्"),
    ("Ë", "ध्"),
    ("u", "न"),
    ("Uk", "न"),
    ("U", "न्"),
    ("i", "प"),
    ("Ik", "प"),
    ("I", "प्"),
    ("Q", "फ"),
    ("¶", "फ्"),
    ("c", "ब"),
    ("Ck", "ब"),
    ("C", "ब्"),
    ("Hk", "भ"),
    ("H", "भ्"),
    ("Ò", "भ"),
    ("e", "म"),
    ("Ek", "म"),
    ("E", "म्"),
    (";", "य"),
    ("¸", "य्"),
    ("j", "र"),
    ("y", "ल"),
    ("Yk", "ल"),
    ("Y", "ल्"),
    ("G", "ळ"),
    ("o", "व"),
    ("Ok", "व"),
    ("O", "व्"),
    ("'k", "श"),
    ("'", "श्"),
    ("Ük", "श"),
    ("Ü", "श्"),
    ("\"k", "ष"),
    ("\"", "ष्"),
    ("l", "स"),
    ("Lk", "स"),
    ("L", "स्"),
    ("g", "ह"),
    // Nukta forms.
    ("d+", "क़"),
    ("[+k", "ख़"),
    ("[+", "ख़्"),
    ("x+", "ग़"),
    ("t+", "ज़"),
    ("T+", "ज़्"),
    ("M+", "ड़"),
    ("<+", "ढ़"),
    ("Q+", "फ़"),
    ("¶+", "फ़्"),
    (";+", "य़"),
    ("j+", "ऱ"),
    ("u+", "ऩ"),
    // Conjunct glyphs.
    ("Ùk", "त्त"),
    ("Ù", "त्त्"),
    ("Dr", "क्त"),
    ("–", "दृ"),
    ("—", "कृ"),
    ("Ñ", "कृ"),
    ("é", "न्न"),
    ("™", "न्न्"),
    ("à", "ह्न"),
    ("á", "ह्य"),
    ("â", "हृ"),
    ("ã", "ह्म"),
    ("ºz", "ह्र"),
    ("º", "ह्"),
    ("í", "द्द"),
    ("Ì", "द्द"),
    ("{k", "क्ष"),
    ("{", "क्ष्"),
    ("=", "त्र"),
    ("«", "त्र्"),
    ("Nî", "छ्य"),
    ("Vî", "ट्य"),
    ("Bî", "ठ्य"),
    ("Mî", "ड्य"),
    ("<î", "ढ्य"),
    ("|", "द्य"),
    ("K", "ज्ञ"),
    ("}", "द्व"),
    ("J", "श्र"),
    ("Vª", "ट्र"),
    ("Mª", "ड्र"),
    ("<ªª", "ढ्र"),
    ("Nª", "छ्र"),
    ("Ø", "क्र"),
    ("Ý", "फ्र"),
    ("æ", "द्र"),
    ("ç", "प्र"),
    ("Á", "प्र"),
    ("xz", "ग्र"),
    ("#", "रु"),
    (":", "रू"),
    ("ê", "ट्ट"),
    ("Í", "ट्ट"),
    ("ë", "ट्ठ"),
    ("Î", "ट्ठ"),
    ("ì", "ड्ड"),
    ("Ï", "ड्ड"),
    ("ï", "ड्ढ"),
    ("Ô", "ड्ढ"),
    (")", "द्ध"),
    ("Ó", "्य"),
    ("z", "्र"),
    ("~j", "्र"),
    // Vowel signs and other marks.
    ("‚", "ॉ"),
    ("ks", "ो"),
    ("kS", "ौ"),
    ("k", "ा"),
    ("h", "ी"),
    ("È", "ीं"),
    ("q", "ु"),
    ("w", "ू"),
    ("`", "ृ"),
    ("s", "े"),
    ("S", "ै"),
    ("a", "ं"),
    ("¡", "ँ"),
    ("%", "ः"),
    ("W", "ॅ"),
    ("•", "ऽ"),
    ("·", "ऽ"),
    ("~", "्"),
    ("+", "़"),
    // Digits typed with the Kruti Dev Devanagari-digit keys (ASCII digits stay ASCII).
    ("å", "०"),
    ("ƒ", "१"),
    ("„", "२"),
    ("…", "३"),
    ("†", "४"),
    ("‡", "५"),
    ("ˆ", "६"),
    ("‰", "७"),
    ("Š", "८"),
    ("‹", "९"),
    // Punctuation.
    ("A", "।"),
    ("-", "."),
    ("&", "-"),
    ("]", ","),
    ("\\", "?"),
    ("@", "/"),
    ("(", ";"),
    ("¼", "("),
    ("½", ")"),
    ("¿", "{"),
    ("À", "}"),
    ("¾", "="),
    ("^^", "“"),
    ("**", "”"),
    ("^", "‘"),
    ("*", "’"),
    ("Þ", "“"),
    ("ß", "”"),
    ("Œ", "॰"),
    ("ñ", "॰"),
];

/// Longest key in [`TABLE`], in characters.
const MAX_KEY_CHARS: usize = 3;

static MAP: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| TABLE.iter().copied().collect());

/// One converted unit before reordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Ch(char),
    /// `f`: short-i matra, to be placed after the following consonant cluster.
    PreI,
    /// `Z`: reph, to be placed before the preceding syllable's consonant cluster.
    Reph,
}

const VIRAMA: char = '\u{094D}';
const NUKTA: char = '\u{093C}';
const SIGN_I: char = '\u{093F}';

fn is_consonant(c: char) -> bool {
    matches!(c, '\u{0915}'..='\u{0939}' | '\u{0958}'..='\u{095F}' | '\u{0978}'..='\u{097F}')
}

/// Dependent vowel signs and the marks that follow them in a syllable (anusvara, candrabindu, visarga).
fn is_syllable_tail_mark(c: char) -> bool {
    matches!(c, '\u{0900}'..='\u{0903}' | '\u{093A}'..='\u{093B}' | '\u{093E}'..='\u{094C}' | '\u{094E}'..='\u{094F}' | '\u{0955}'..='\u{0957}' | '\u{0962}'..='\u{0963}')
}

/// True when `s` starts with a combining Devanagari mark (so a doubled key is damage, not text).
fn is_mark_only(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| is_syllable_tail_mark(c) || c == VIRAMA || c == NUKTA)
}

/// Step 1: greedy longest-match tokenisation.
fn tokenize(text: &str) -> Vec<Tok> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::with_capacity(chars.len() * 2);
    let mut prev_key: Option<&str> = None;
    let mut i = 0;
    while let Some(&(start, c)) = chars.get(i) {
        let mut matched = None;
        for n in (1..=MAX_KEY_CHARS).rev() {
            if i + n > chars.len() {
                continue;
            }
            let end = chars.get(i + n).map_or(text.len(), |&(b, _)| b);
            if let Some(key) = text.get(start..end)
                && let Some(value) = MAP.get(key)
            {
                matched = Some((n, key, *value));
                break;
            }
        }
        match matched {
            Some((n, key, value)) => {
                let doubled = prev_key == Some(key) && is_mark_only(value);
                if !doubled {
                    out.extend(value.chars().map(Tok::Ch));
                }
                prev_key = Some(key);
                i += n;
            }
            None => {
                let tok = match c {
                    'f' => Tok::PreI,
                    'Z' => Tok::Reph,
                    other => Tok::Ch(other),
                };
                let key = text.get(start..start + c.len_utf8());
                if !(matches!(tok, Tok::PreI | Tok::Reph) && prev_key == key) {
                    out.push(tok);
                }
                prev_key = key;
                i += 1;
            }
        }
    }
    out
}

/// End (exclusive) of the consonant cluster starting at `from`, or `from` if there is none there.
fn cluster_end(toks: &[Tok], from: usize) -> usize {
    let mut j = from;
    loop {
        if !matches!(toks.get(j), Some(Tok::Ch(c)) if is_consonant(*c)) {
            return if j == from { from } else { j };
        }
        j += 1;
        if toks.get(j) == Some(&Tok::Ch(NUKTA)) {
            j += 1;
        }
        let virama_then_consonant = toks.get(j) == Some(&Tok::Ch(VIRAMA))
            && matches!(toks.get(j + 1), Some(Tok::Ch(c)) if is_consonant(*c));
        if !virama_then_consonant {
            return j;
        }
        j += 1;
    }
}

/// Step 2a: move each short-i marker after the following consonant cluster.
fn place_short_i(toks: &[Tok]) -> Vec<Tok> {
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while let Some(&t) = toks.get(i) {
        if t == Tok::PreI {
            let end = cluster_end(toks, i + 1);
            out.extend(toks.get(i + 1..end).unwrap_or_default());
            out.push(Tok::Ch(SIGN_I));
            i = end.max(i + 1);
        } else {
            out.push(t);
            i += 1;
        }
    }
    out
}

/// Step 2b: turn each reph marker into र् placed before the preceding syllable's consonant cluster.
fn place_reph(toks: &[Tok]) -> Vec<char> {
    let mut out: Vec<char> = Vec::with_capacity(toks.len() + 8);
    for &t in toks {
        match t {
            Tok::Ch(c) => out.push(c),
            Tok::PreI => out.push(SIGN_I),
            Tok::Reph => {
                let mut k = out.len();
                while k > 0 && out.get(k - 1).is_some_and(|c| is_syllable_tail_mark(*c)) {
                    k -= 1;
                }
                if k > 0 && out.get(k - 1) == Some(&NUKTA) {
                    k -= 1;
                }
                if k > 0 && out.get(k - 1).is_some_and(|c| is_consonant(*c)) {
                    k -= 1;
                    // Include preceding half consonants (consonant [nukta] virama).
                    loop {
                        if k >= 2 && out.get(k - 1) == Some(&VIRAMA) {
                            let mut m = k - 2;
                            if out.get(m) == Some(&NUKTA) && m > 0 {
                                m -= 1;
                            }
                            if out.get(m).is_some_and(|c| is_consonant(*c)) {
                                k = m;
                                continue;
                            }
                        }
                        break;
                    }
                }
                out.splice(k..k, ['\u{0930}', VIRAMA]);
            }
        }
    }
    out
}

/// Convert Kruti Dev 010 text to Unicode Devanagari in NFC. Non-Kruti characters (digits, spaces,
/// newlines) pass through; callers should only pass text for which [`looks_like_krutidev`] holds,
/// since ordinary English would be converted too.
pub fn krutidev_to_unicode(text: &str) -> String {
    let toks = tokenize(text);
    let toks = place_short_i(&toks);
    let chars = place_reph(&toks);
    let mut out = String::with_capacity(chars.len() * 3);
    let mut prev = None;
    for c in chars {
        // A doubled combining mark (ढ़़, ूू) is never text: it is a doubled key in a damaged extraction.
        let is_mark = is_syllable_tail_mark(c) || c == VIRAMA || c == NUKTA;
        if !(is_mark && prev == Some(c)) {
            out.push(c);
        }
        prev = Some(c);
    }
    out.nfc().collect()
}

/// Convert the lines of `text` that look like Kruti Dev ([`looks_like_krutidev`]) and keep the others
/// (English, Unicode Hindi, one-word lines) as they are. `None` when no line needed converting.
pub fn convert_krutidev_lines(text: &str) -> Option<String> {
    let mut changed = false;
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| {
            if looks_like_krutidev(line) {
                changed = true;
                krutidev_to_unicode(line)
            } else {
                line.to_owned()
            }
        })
        .collect();
    changed.then(|| lines.join("\n"))
}

/// Very common Kruti Dev words that are not English words (से = `ls`, के = `ds` …) plus the domain words
/// of export-promotion notes. Matched against whole whitespace-separated tokens, with Kruti Dev
/// punctuation keys (`A` = ।, `]` = ',', `^^`/`**` quotes, `¼½` brackets) stripped.
const SIGNATURE_WORDS: &[&str] = &[
    "ds",
    "dk",
    "dh",
    "gS",
    "gSa",
    "esa",
    "ls",
    "dks",
    "vkSj",
    "rFkk",
    ",oa",
    "fd",
    "fd;k",
    "x;k",
    "xbZ",
    "fy;s",
    "fy,",
    "}kjk",
    "Fkk",
    "Fks",
    "Fkh",
    ";g",
    "bl",
    "mUgksaus",
    "ftyk",
    "ftys",
    "fu;kZr",
    "cSBd",
    "lfefr",
    "dysDVj",
    "'kklu",
    "NRrhlx<+",
    "NÙkhlx<+",
    "jk;iqj",
    "Hkkjr",
    "ljdkj",
    "vk;ksftr",
    "mRikn",
    "m|ksx",
    "lao/kZu",
    "vf/kdkjh",
    "tkudkjh",
    "vk;ksftr",
    "jkT;",
    "dk;Z",
    "dk;ZØe",
    "ij",
];

/// Measurements behind [`looks_like_krutidev`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct Features {
    words: usize,
    ascii_letter_share: f64,
    devanagari: usize,
    signature_share: f64,
    k_share: f64,
    vowel_share: f64,
    odd_word_share: f64,
}

fn features(text: &str) -> Features {
    let mut ascii_letters = 0usize;
    let mut non_space = 0usize;
    let mut devanagari = 0usize;
    let mut k = 0usize;
    let mut vowels = 0usize;
    for c in text.chars() {
        if c.is_whitespace() {
            continue;
        }
        non_space += 1;
        if c.is_ascii_alphabetic() {
            ascii_letters += 1;
            match c {
                'k' => k += 1,
                'a' | 'e' | 'i' | 'o' | 'u' | 'A' | 'E' | 'I' | 'O' | 'U' => vowels += 1,
                _ => {}
            }
        } else if ('\u{0900}'..='\u{097F}').contains(&c) {
            devanagari += 1;
        }
    }
    let mut words = 0usize;
    let mut signature = 0usize;
    let mut odd = 0usize;
    for w in text.split_whitespace() {
        if !w.chars().any(|c| c.is_ascii_alphabetic()) {
            continue;
        }
        words += 1;
        let bare = w
            .trim_start_matches(['^', 'Þ', '¼'])
            .trim_end_matches(['A', ']', '-', '\\', '*', 'ß', '½']);
        if SIGNATURE_WORDS.contains(&bare) {
            signature += 1;
        }
        // Kruti Dev words carry `;`, `/`, `[`, `{`, `}`, `|`, `<`, `'` inside the word, or an upper-case
        // letter after a lower-case one (cSBd, NRrh): rare in English prose.
        let inner: Vec<char> = bare.chars().collect();
        let inner_punct = inner.iter().enumerate().any(|(i, c)| {
            i > 0
                && i + 1 < inner.len()
                && matches!(c, ';' | '/' | '[' | '{' | '}' | '|' | '<' | '\'' | '.')
        }) || inner
            .first()
            .is_some_and(|c| matches!(c, '\'' | '[' | '{' | '}' | '|' | ','))
            && inner.len() > 1;
        let camel = inner
            .windows(2)
            .any(|p| matches!(p, [a, b] if a.is_ascii_lowercase() && b.is_ascii_uppercase()));
        if inner_punct || camel {
            odd += 1;
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Features {
        words,
        ascii_letter_share: ratio(ascii_letters, non_space),
        devanagari,
        signature_share: ratio(signature, words),
        k_share: ratio(k, ascii_letters),
        vowel_share: ratio(vowels, ascii_letters),
        odd_word_share: ratio(odd, words),
    }
}

/// True when `text` (a title, paragraph or page) is very likely Kruti Dev: mostly ASCII letters, no
/// real Devanagari, and either several common Kruti Dev words (`ds`, `dh`, `esa`, `ftyk`, `fu;kZr` …) or
/// the letter statistics of Kruti Dev (`k` = ा is its most frequent letter, few a/e/i/o/u, `;`/`/` and
/// upper-case letters inside words). Ordinary English text has ~1% `k` and ~38% vowels.
pub fn looks_like_krutidev(text: &str) -> bool {
    let f = features(text);
    if f.words < 2 || f.ascii_letter_share < 0.5 || f.devanagari * 20 > f.words {
        return false;
    }
    // Measured on dev.jsonl: English titles/paragraphs reach k_share 0.067 and have vowel_share
    // 0.27..0.45; the Kruti Dev samples here have k_share 0.115..0.31 and vowel_share 0.14..0.21.
    let letters_look_kruti = f.k_share >= 0.08 && f.vowel_share <= 0.28;
    let by_words = f.signature_share >= 0.12 && letters_look_kruti;
    let by_shape =
        f.words >= 4 && letters_look_kruti && f.odd_word_share >= 0.25 && f.k_share >= 0.10;
    by_words || by_shape
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nfc(s: &str) -> String {
        s.nfc().collect()
    }

    /// (Kruti Dev 010, Unicode) pairs, each checked key by key against the layout table.
    pub(super) const PAIRS: &[(&str, &str)] = &[
        (
            "NRrhlx<+ Hkw&laink fofu;ked izkf/kdj.k] jk;iqj",
            "छत्तीसगढ़ भू-संपदा विनियामक प्राधिकरण, रायपुर",
        ),
        (
            "ftyk fu;kZr lao/kZu lfefr dh cSBd",
            "जिला निर्यात संवर्धन समिति की बैठक",
        ),
        (
            "ftyk Lrjh; fu;kZr lao/kZu lfefr dh cSBd dysDVj dh v/;{krk esa vk;ksftr dh xbZA",
            "जिला स्तरीय निर्यात संवर्धन समिति की बैठक कलेक्टर की अध्यक्षता में आयोजित की गई।",
        ),
        (
            "'kklu dh vkS|ksfxd uhfr ds rgr fu;kZr vk/kkfjr bdkbZ;ksa dks ifjogu vuqnku fn;k tk,xkA",
            "शासन की औद्योगिक नीति के तहत निर्यात आधारित इकाईयों को परिवहन अनुदान दिया जाएगा।",
        ),
        (
            "NRrhlx<+ 'kklu ds okf.kT; ,oa m|ksx foHkkx }kjk jk;iqj esa fu;kZrdksa dh dk;Z'kkyk vk;ksftr dh xbZA",
            "छत्तीसगढ़ शासन के वाणिज्य एवं उद्योग विभाग द्वारा रायपुर में निर्यातकों की कार्यशाला आयोजित की गई।",
        ),
        (
            "cSBd esa fofHkUu foHkkxksa ds vf/kdkjh mifLFkr FksA",
            "बैठक में विभिन्न विभागों के अधिकारी उपस्थित थे।",
        ),
    ];

    #[test]
    fn converts_known_sentences() {
        for (kruti, unicode) in PAIRS {
            assert_eq!(krutidev_to_unicode(kruti), nfc(unicode), "{kruti}");
        }
    }

    #[test]
    fn short_i_and_reph_reordering() {
        assert_eq!(krutidev_to_unicode("fLFkfr"), nfc("स्थिति"));
        assert_eq!(krutidev_to_unicode("fiz;"), nfc("प्रिय"));
        assert_eq!(krutidev_to_unicode("fufeZr"), nfc("निर्मित"));
        assert_eq!(krutidev_to_unicode("dk;ZØe"), nfc("कार्यक्रम"));
        assert_eq!(krutidev_to_unicode("okrkZ"), nfc("वार्ता"));
        assert_eq!(krutidev_to_unicode("lEidZ"), nfc("सम्पर्क"));
        assert_eq!(krutidev_to_unicode("v)Z"), nfc("अर्द्ध"));
        assert_eq!(krutidev_to_unicode("lEink"), nfc("सम्पदा"));
        // Dangling markers do not panic and keep their meaning.
        assert_eq!(krutidev_to_unicode("f"), nfc("ि"));
        assert_eq!(krutidev_to_unicode("Z"), nfc("र्"));
    }

    #[test]
    fn nukta_and_nfc() {
        let out = krutidev_to_unicode("<+ M+ t+ d+");
        assert_eq!(out, nfc("ढ़ ड़ ज़ क़"));
        // NFC keeps ढ + nukta decomposed (U+095D is a composition exclusion).
        assert!(out.starts_with('\u{0922}'));
    }

    #[test]
    fn damaged_pdf_extraction() {
        // sources.md §2.4: a CG RERA PDF text layer with doubled keys.
        let damaged = "NRrhlx<++ Hkw&ww laia nk fofu;ked izzkf/kdj.k , jk;iqqj";
        let out = krutidev_to_unicode(damaged);
        assert!(out.starts_with(&nfc("छत्तीसगढ़ भू-")), "{out}");
        assert!(!out.contains(&nfc("ढ़़")) && !out.contains("ूू"), "{out}");
        assert!(out.contains(&nfc("विनियामक प्राधिकरण")), "{out}");
        assert!(out.ends_with("रायपुर"), "{out}");
        assert!(looks_like_krutidev(damaged));
    }

    #[test]
    fn real_fragment_inside_english_policy_text() {
        // dev.jsonl row 38 (CG Industrial Policy 2019-24, English) quotes the slogan in Kruti Dev.
        let fragment = "^^Xk<+cks uok NÙkhlx<+**";
        assert_eq!(krutidev_to_unicode(fragment), nfc("“गढ़बो नवा छत्तीसगढ़”"));
        assert!(looks_like_krutidev(fragment));
        let para = "To attain the dream of ^^Xk<+cks uok NÙkhlx<+** (Creating a New Chhattisgarh) the State";
        assert!(
            !looks_like_krutidev(para),
            "mixed English paragraph stays English"
        );
    }

    #[test]
    fn converts_only_krutidev_lines() {
        let mixed =
            "District Export Promotion Committee\nftyk fu;kZr lao/kZu lfefr dh cSBd\nजिला दुर्ग";
        assert_eq!(
            convert_krutidev_lines(mixed).as_deref(),
            Some(
                nfc(
                    "District Export Promotion Committee\nजिला निर्यात संवर्धन समिति की बैठक\nजिला दुर्ग"
                )
                .as_str()
            )
        );
        assert_eq!(
            convert_krutidev_lines("Export outreach programme held in Raipur"),
            None
        );
    }

    #[test]
    fn detects_krutidev() {
        for (kruti, _) in PAIRS {
            assert!(looks_like_krutidev(kruti), "{kruti} {:?}", features(kruti));
        }
    }

    #[test]
    fn does_not_fire_on_corpus() {
        let corpus = include_str!("../../tests/fixtures/corpus/dev.jsonl");
        let mut checked = 0;
        for line in corpus.lines().filter(|l| !l.trim().is_empty()) {
            let row: serde_json::Value = serde_json::from_str(line).expect("dev.jsonl row");
            let title = row["title"].as_str().expect("title");
            let text = row["text"].as_str().expect("text");
            assert!(!looks_like_krutidev(title), "{title} {:?}", features(title));
            assert!(!looks_like_krutidev(text), "{title}");
            for para in text
                .split('\n')
                .filter(|p| p.split_whitespace().count() >= 2)
            {
                // Row 38 (English policy PDF) has one paragraph that *is* Kruti Dev: the slogan
                // गढ़बो नवा छत्तीसगढ़ on its own line. Detecting it is right.
                let expected = para == "^^x<+cks uok NÙkhlx<+**";
                assert_eq!(
                    looks_like_krutidev(para),
                    expected,
                    "{para} {:?}",
                    features(para)
                );
                checked += 1;
            }
        }
        assert!(checked > 200, "{checked}");
    }

    #[test]
    fn does_not_fire_on_hinglish_or_urls() {
        for s in [
            "jila niryat samiti ki baithak ka aayojan kiya gaya",
            "dm-ranjana-rajguru-ki-adhyakshta-mei-jila-niryat-protsahan-samiti-ki-pratham-baithak-ka-aayojan",
            "https://mybharattimes.com/dm-ranjana-rajguru-ki-adhyakshta-mei-jila-niryat",
            "Kokkola Kirkkonummi kukka",
            "Leave a Reply. Your email address will not be published. Required fields are marked *",
        ] {
            assert!(!looks_like_krutidev(s), "{s} {:?}", features(s));
        }
    }

    #[test]
    fn never_panics() {
        let keys: Vec<&str> = TABLE.iter().map(|(k, _)| *k).collect();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for len in 0..300usize {
            let mut s = String::new();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let pick = usize::try_from(x % 1000).unwrap_or(0);
                match pick % 5 {
                    0 => s.push('f'),
                    1 => s.push('Z'),
                    2 => s.push(
                        char::from_u32(u32::try_from(x % 0x1_0000).unwrap_or(0)).unwrap_or(' '),
                    ),
                    _ => s.push_str(keys.get(pick % keys.len()).copied().unwrap_or("k")),
                }
            }
            let out = krutidev_to_unicode(&s);
            assert!(unicode_normalization::is_nfc(&out), "{s:?} → {out:?}");
            // Converted text is Unicode: it never looks like Kruti Dev again.
            assert!(!looks_like_krutidev(&out) || out == s, "{s:?} → {out:?}");
        }
    }

    proptest::proptest! {
        /// Unicode Hindi (any mix of Devanagari, digits, danda and punctuation) is never taken
        /// for Kruti Dev, so it is never "converted" into garbage.
        #[test]
        fn unicode_hindi_is_left_alone(s in "[\\u0900-\\u097F0-9 ,।/:()\\-\\n]{0,400}") {
            proptest::prop_assert!(!looks_like_krutidev(&s));
            proptest::prop_assert_eq!(convert_krutidev_lines(&s), None);
        }
    }
}
