//! Near-duplicate detection for press notes: one DPR note republished by several portals (different
//! headline line, site-name prefix, "ये भी पढ़ें" / "Leave a Reply" trailers, punctuation and whitespace
//! changes, truncation) must count as one report.
//!
//! Method: word 4-shingles of the normalised body, each hashed to 32 bits; the fingerprint is the
//! number of distinct shingle hashes plus a bottom-k sketch (the [`SKETCH_SIZE`] smallest hashes). For
//! bodies with at most [`SKETCH_SIZE`] shingles (a typical press note has 100–300) the sketch *is* the
//! whole set and similarity is exact; for longer ones it is a uniform sample by hash value.
//! [`similarity`] is the *containment* of the smaller shingle set in the larger one (|A∩B| / min(|A|,|B|),
//! estimated on the hash range both sketches cover completely), so a copy that lost its last paragraphs
//! or gained chrome still scores high; for tiny bodies (fewer than [`MIN_SHINGLES_FOR_CONTAINMENT`]
//! shingles) it is the Jaccard similarity instead.
//!
//! Normalisation (inside [`fingerprint`]): NFC; lower case; nukta (़) dropped and candrabindu (ँ) folded to
//! anusvara (ं), since portals differ in both; ZWJ/ZWNJ/soft hyphen removed; words are maximal runs of
//! letters and Devanagari vowel signs/virama; everything else (punctuation, danda, digits, symbols,
//! whitespace) separates words and is dropped. Digits are dropped because portals rewrite datelines
//! ("दुर्ग, 21 मई 2022/" vs "दुर्ग :") while distinct notes differ in their words anyway.
//!
//! Hashes are fixed (FNV-1a + SplitMix64 finaliser), so stored fingerprints stay comparable across
//! builds and platforms.

use std::collections::BTreeSet;

use unicode_normalization::UnicodeNormalization;

/// Words per shingle.
const SHINGLE_WORDS: usize = 4;
/// Maximum number of shingle hashes kept in a fingerprint.
pub const SKETCH_SIZE: usize = 256;
/// Below this many distinct shingles in the smaller body, similarity is the plain Jaccard estimate.
pub const MIN_SHINGLES_FOR_CONTAINMENT: u32 = 20;

/// Similarity at or above which two bodies are the same report.
///
/// Chosen from `cargo test --lib neardup::tests::print_distributions -- --ignored --nocapture`
/// (7,140 pairs of dev.jsonl rows): the largest similarity between distinct notes is 0.414 (two
/// paraphrases of one PIB statement, rows 36/37 1-based; notes about different events stay ≤ 0.142),
/// the smallest between genuine republications is 0.559 and between constructed portal copies 0.635.
pub const DUPLICATE_THRESHOLD: f64 = 0.48;

/// Storable near-duplicate fingerprint of a body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Number of distinct shingle hashes (0 for a body without words).
    shingles: u32,
    /// The `min(shingles, SKETCH_SIZE)` smallest shingle hashes, strictly ascending.
    sketch: Vec<u32>,
}

impl Fingerprint {
    /// Hex form: 8 hex digits of the shingle count, then 8 per sketch value
    /// (at most 8 × (1 + [`SKETCH_SIZE`]) = 2,056 characters).
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(8 * (self.sketch.len() + 1));
        s.push_str(&format!("{:08x}", self.shingles));
        for h in &self.sketch {
            s.push_str(&format!("{h:08x}"));
        }
        s
    }

    /// Parse the form written by [`Fingerprint::to_hex`]; `None` on any other input (wrong length,
    /// non-hex digits, a sketch that is not strictly ascending or does not match the count).
    pub fn from_hex(s: &str) -> Option<Self> {
        if !s.is_ascii() || s.is_empty() || !s.len().is_multiple_of(8) {
            return None;
        }
        let mut values = Vec::with_capacity(s.len() / 8);
        for i in 0..s.len() / 8 {
            let part = s.get(i * 8..i * 8 + 8)?;
            if !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            values.push(u32::from_str_radix(part, 16).ok()?);
        }
        let (&shingles, sketch) = values.split_first()?;
        let expected = usize::try_from(shingles).ok()?.min(SKETCH_SIZE);
        let ascending = sketch.windows(2).all(|w| matches!(w, [a, b] if a < b));
        (sketch.len() == expected && ascending).then(|| Fingerprint {
            shingles,
            sketch: sketch.to_vec(),
        })
    }

    /// Largest hash value up to which the sketch holds *every* shingle hash of the body.
    fn complete_up_to(&self) -> u32 {
        if self.sketch.len() < usize::try_from(self.shingles).unwrap_or(usize::MAX) {
            self.sketch.last().copied().unwrap_or(u32::MAX)
        } else {
            u32::MAX
        }
    }
}

/// Characters removed before splitting into words (they would otherwise split a word).
fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{00AD}' | '\u{FEFF}' | '\u{093C}'
    )
}

/// Devanagari vowel signs, anusvara/visarga and virama (not all of them are `Alphabetic`).
fn is_devanagari_mark(c: char) -> bool {
    matches!(c, '\u{0900}'..='\u{0903}' | '\u{093A}'..='\u{094F}' | '\u{0951}'..='\u{0957}' | '\u{0962}'..='\u{0963}')
}

/// Normalised words of a body.
fn words(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in body.nfc().flat_map(char::to_lowercase) {
        if is_ignorable(c) {
            continue;
        }
        let c = if c == '\u{0901}' { '\u{0902}' } else { c };
        if (c.is_alphabetic() && !c.is_numeric()) || is_devanagari_mark(c) {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// 64-bit FNV-1a of a shingle (words separated by U+001F).
fn shingle_hash(words: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            h ^= 0x1F;
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        for b in w.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    h
}

/// SplitMix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fingerprint of a body text (see the module docs for the normalisation).
pub fn fingerprint(body: &str) -> Fingerprint {
    let w = words(body);
    let hash =
        |shingle: &[String]| u32::try_from(mix(shingle_hash(shingle)) >> 32).unwrap_or(u32::MAX);
    let set: BTreeSet<u32> = if w.len() < SHINGLE_WORDS {
        if w.is_empty() {
            BTreeSet::new()
        } else {
            BTreeSet::from([hash(&w)])
        }
    } else {
        w.windows(SHINGLE_WORDS).map(hash).collect()
    };
    Fingerprint {
        shingles: u32::try_from(set.len()).unwrap_or(u32::MAX),
        sketch: set.into_iter().take(SKETCH_SIZE).collect(),
    }
}

/// Similarity in `0.0..=1.0`: containment of the smaller body's shingles in the larger one's (Jaccard for
/// tiny bodies), exact when both bodies have at most [`SKETCH_SIZE`] shingles. 0.0 when either body
/// has no words.
pub fn similarity(a: &Fingerprint, b: &Fingerprint) -> f64 {
    if a.shingles == 0 || b.shingles == 0 {
        return 0.0;
    }
    let limit = a.complete_up_to().min(b.complete_up_to());
    let in_range = |f: &Fingerprint| f.sketch.iter().take_while(|h| **h <= limit).count();
    let (ra, rb) = (in_range(a), in_range(b));
    // Both sketches are sorted: count common values by merging.
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while let (Some(x), Some(y)) = (a.sketch.get(i), b.sketch.get(j)) {
        if *x > limit || *y > limit {
            break;
        }
        match x.cmp(y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let ratio = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    if a.shingles.min(b.shingles) < MIN_SHINGLES_FOR_CONTAINMENT {
        return ratio(common, ra + rb - common);
    }
    let smaller = if a.shingles <= b.shingles { ra } else { rb };
    ratio(common, smaller).clamp(0.0, 1.0)
}

/// True when the two bodies are the same report.
pub fn is_duplicate(a: &Fingerprint, b: &Fingerprint) -> bool {
    similarity(a, b) >= DUPLICATE_THRESHOLD
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row {
        title: String,
        text: String,
    }

    fn corpus() -> Vec<Row> {
        include_str!("../../tests/fixtures/corpus/dev.jsonl")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("dev.jsonl row");
                Row {
                    title: v["title"].as_str().expect("title").to_owned(),
                    text: v["text"].as_str().expect("text").to_owned(),
                }
            })
            .collect()
    }

    /// Pairs of dev.jsonl rows (0-based) judged to be the same press note republished with edits
    /// (shared sentences verbatim, different chrome/headline/cuts). 1-based: 85/86, 85/87, 86/87
    /// (Janjgir-Champa seminar), 12/99 (exporters' conclave), 5/91 (Khairagarh DEPC meeting),
    /// 108/109 (mandi-fee exemption), 34/112 (CM at export conclave), 13/80 (Vanijya Utsav,
    /// Drishti IAS restates the DPR note), 15/16 (MP spices/handicraft workshop).
    ///
    /// *Not* listed, because they are independent write-ups of the same news (paraphrased, few shared
    /// sentences): rice export ban stories 50–54, 109/110/111, 30/31 (Srinagar), 36/37, 61–63, 48/95.
    const REPUBLISHED: &[(usize, usize)] = &[
        (83, 84),
        (83, 85),
        (84, 85),
        (11, 98),
        (4, 90),
        (107, 108),
        (33, 111),
        (12, 79),
        (14, 15),
    ];

    const TRAILER: &str =
        "Leave a Reply\nYour email address will not be published. Required fields are marked *";

    /// Body without its first line when that line is the headline.
    fn body_of(row: &Row) -> String {
        match row.text.split_once('\n') {
            Some((first, rest)) if first.trim() == row.title.trim() => rest.to_owned(),
            _ => row.text.clone(),
        }
    }

    fn first_chars(s: &str, share: f64) -> String {
        let n = s.chars().count() as f64 * share;
        s.chars().take(n as usize).collect()
    }

    fn punctuation_changes(s: &str) -> String {
        s.replace('।', ".")
            .replace(',', " ,")
            .replace(['"', '‘', '’', '“', '”'], "")
            .replace('\n', "\n\n  ")
            .replace(" - ", " — ")
    }

    /// Copies made the way portals make them, with `other` a headline from an unrelated note.
    fn portal_copies(row: &Row, other: &str) -> Vec<(&'static str, String)> {
        let body = body_of(row);
        let also = format!("ये भी पढ़ें: {other}");
        vec![
            ("new headline", format!("{other} ! ताज़ा खबर\n{body}")),
            ("site prefix", format!("MY BHARAT TIMES, RAIPUR, {body}")),
            (
                "trailer",
                format!("{}\n{body}\n{also}\n{TRAILER}", row.title),
            ),
            ("punctuation", punctuation_changes(&row.text)),
            ("truncated 20%", first_chars(&row.text, 0.8)),
            (
                "all at once",
                format!(
                    "{other}\nMY BHARAT TIMES, {}\n{also}\n{TRAILER}",
                    first_chars(&punctuation_changes(&body), 0.8)
                ),
            ),
        ]
    }

    fn is_republished(i: usize, j: usize) -> bool {
        REPUBLISHED.contains(&(i.min(j), i.max(j)))
    }

    #[test]
    fn constructed_copies_are_duplicates() {
        let rows = corpus();
        for (i, row) in rows.iter().enumerate() {
            let original = fingerprint(&row.text);
            let other = &rows[(i + 7) % rows.len()].title;
            for (kind, copy) in portal_copies(row, other) {
                let s = similarity(&original, &fingerprint(&copy));
                assert!(s >= DUPLICATE_THRESHOLD, "row {i} {kind}: {s:.3}");
            }
        }
    }

    #[test]
    fn distinct_notes_are_not_duplicates_and_republications_are() {
        let rows = corpus();
        let fps: Vec<Fingerprint> = rows.iter().map(|r| fingerprint(&r.text)).collect();
        for i in 0..fps.len() {
            for j in i + 1..fps.len() {
                let s = similarity(&fps[i], &fps[j]);
                assert_eq!(
                    is_duplicate(&fps[i], &fps[j]),
                    is_republished(i, j),
                    "{i}/{j}: {s:.3}"
                );
            }
        }
    }

    #[test]
    fn long_bodies_use_the_sampled_sketch() {
        let rows = corpus();
        // Rows 9 and 31 are long English pages (> SKETCH_SIZE shingles when joined).
        let long = format!("{}\n{}\n{}", rows[9].text, rows[31].text, rows[64].text);
        let f = fingerprint(&long);
        assert!(f.shingles as usize > SKETCH_SIZE, "{}", f.shingles);
        assert!(f.complete_up_to() < u32::MAX);
        // A page that embeds a whole note is a duplicate of it; an unrelated note is not.
        assert!(is_duplicate(&f, &fingerprint(&rows[31].text)));
        assert!(!is_duplicate(&f, &fingerprint(&rows[80].text)));
    }

    #[test]
    fn identical_symmetric_and_empty() {
        let rows = corpus();
        let a = fingerprint(&rows[80].text);
        let b = fingerprint(&rows[3].text);
        assert!((similarity(&a, &a) - 1.0).abs() < 1e-12);
        assert!((similarity(&a, &b) - similarity(&b, &a)).abs() < 1e-12);
        let empty = fingerprint(" ।, 2022 — ");
        assert_eq!(similarity(&empty, &empty), 0.0);
        assert_eq!(similarity(&a, &empty), 0.0);
        // Fewer words than a shingle still fingerprint, with Jaccard semantics.
        let short = fingerprint("निर्यात संवर्धन");
        assert!((similarity(&short, &fingerprint("निर्यात, संवर्धन!")) - 1.0).abs() < 1e-12);
        assert!(similarity(&short, &a) < DUPLICATE_THRESHOLD);
    }

    #[test]
    fn normalisation() {
        // Nukta, candrabindu, ZWJ, case, punctuation, digits and whitespace do not matter.
        let a = "छत्तीसगढ़ में बढ़ावा देने हेतु DGFT की कार्यशाला, रायपुर 21 मई 2022। यहाँ निर्यात";
        let b = "छत्तीसगढ़ में\n  बढ़ावा देने\u{200D} हेतु dgft की  कार्यशाला - रायपुर मई. यहां निर्यात";
        assert_eq!(words(a), words(b));
        assert_eq!(fingerprint(a), fingerprint(b));
        assert_eq!(words("कलेक्टर डॉ. भुरे")[0], "कलेक्टर");
        assert_eq!(words("कलेक्टर डॉ. भुरे").len(), 3);
    }

    #[test]
    fn hex_round_trip() {
        let f = fingerprint(include_str!("../../tests/fixtures/corpus/seed-article.txt"));
        let hex = f.to_hex();
        assert_eq!(hex.len(), 8 * (f.sketch.len() + 1));
        assert!(f.shingles > 0 && f.sketch.len() == SKETCH_SIZE.min(f.shingles as usize));
        assert_eq!(Fingerprint::from_hex(&hex), Some(f.clone()));
        assert_eq!(Fingerprint::from_hex(&hex.to_uppercase()), Some(f));
        assert_eq!(Fingerprint::from_hex(""), None);
        assert_eq!(Fingerprint::from_hex(&hex[1..]), None);
        let bad = format!("{}g", &hex[..hex.len() - 1]);
        assert_eq!(Fingerprint::from_hex(&bad), None);
        let multibyte = format!("{}ब", &hex[..hex.len() - 3]);
        assert_eq!(Fingerprint::from_hex(&multibyte), None);
        let plus = format!("+{}", &hex[1..]);
        assert_eq!(Fingerprint::from_hex(&plus), None);
        // Count and sketch must agree; the sketch must be ascending.
        assert_eq!(Fingerprint::from_hex(&hex[..hex.len() - 8]), None);
        assert_eq!(Fingerprint::from_hex("00000002ffffffff00000001"), None);
        assert!(Fingerprint::from_hex("0000000200000001ffffffff").is_some());
        assert_eq!(
            Fingerprint::from_hex("00000000").map(|f| f.shingles),
            Some(0)
        );
    }

    #[test]
    fn stored_fingerprints_stay_stable() {
        // Guards against an accidental change of hashing/normalisation, which would make stored
        // fingerprints incomparable with new ones.
        let f = fingerprint("जिला स्तरीय निर्यात संवर्धन समिति की बैठक");
        assert_eq!(f.shingles, 4);
        assert_eq!(f.to_hex(), STABLE_HEX);
    }

    const STABLE_HEX: &str = "0000000448fa104750e8971b87296c88edbc185f";

    /// Prints the distributions used to pick [`DUPLICATE_THRESHOLD`]:
    /// `cargo test --lib neardup::tests::print_distributions -- --ignored --nocapture`
    #[test]
    #[ignore = "measurement, prints distributions"]
    fn print_distributions() {
        let rows = corpus();
        let fps: Vec<Fingerprint> = rows.iter().map(|r| fingerprint(&r.text)).collect();
        let mut distinct = Vec::new();
        let mut republished = Vec::new();
        for i in 0..fps.len() {
            for j in i + 1..fps.len() {
                let s = similarity(&fps[i], &fps[j]);
                if is_republished(i, j) {
                    republished.push((s, i, j));
                } else {
                    distinct.push((s, i, j));
                }
            }
        }
        distinct.sort_by(|a, b| b.0.total_cmp(&a.0));
        republished.sort_by(|a, b| a.0.total_cmp(&b.0));
        println!("distinct pairs: {}", distinct.len());
        for (s, i, j) in distinct.iter().take(12) {
            println!("  distinct {s:.3} rows {i}/{j} (0-based)");
        }
        for (s, i, j) in &republished {
            println!("  republished {s:.3} rows {i}/{j} (0-based)");
        }
        let mut copies: Vec<(f64, usize, &str)> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let other = &rows[(i + 7) % rows.len()].title;
            for (kind, copy) in portal_copies(row, other) {
                copies.push((similarity(&fps[i], &fingerprint(&copy)), i, kind));
            }
        }
        copies.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (s, i, kind) in copies.iter().take(8) {
            println!("  copy {s:.3} row {i} {kind}");
        }
        let kinds = [
            "new headline",
            "site prefix",
            "trailer",
            "punctuation",
            "truncated 20%",
            "all at once",
        ];
        for k in kinds {
            let min = copies
                .iter()
                .filter(|c| c.2 == k)
                .map(|c| c.0)
                .fold(1.0, f64::min);
            println!("  min copy similarity, {k}: {min:.3}");
        }
        println!(
            "max distinct {:.3}; min republished {:.3}; min constructed copy {:.3}; threshold {DUPLICATE_THRESHOLD}",
            distinct.first().map_or(0.0, |d| d.0),
            republished.first().map_or(0.0, |d| d.0),
            copies.first().map_or(0.0, |d| d.0),
        );
    }
}
