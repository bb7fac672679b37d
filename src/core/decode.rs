//! Bytes → text for fetched pages and feeds.
//!
//! Owns charset resolution (BOM, HTTP `Content-Type` charset, `<meta>` / XML declaration, default UTF-8),
//! the correction of mislabelled pages (government and portal sites often declare `iso-8859-1` while
//! serving UTF-8 Devanagari, or declare UTF-8 while serving windows-1252), and the repair of mojibake
//! (`à¤…` runs: UTF-8 Devanagari that was once decoded as windows-1252/Latin-1 and re-encoded).
//!
//! Rules, in order:
//! 1. A byte-order mark wins (`source = Bom`).
//! 2. Else the `charset=` parameter of the HTTP header, if it names an encoding known to `encoding_rs`.
//! 3. Else (HTML) the first `<meta charset>` / `<meta http-equiv … content="…; charset=…">` in the first
//!    4 KB (then an XHTML page's XML declaration), or (XML/JSON) the `encoding=` of the XML declaration. A UTF-16 label found *inside* the
//!    document is read as UTF-8 (the document was readable as ASCII, so it is not UTF-16).
//! 4. Else UTF-8 (`source = Default`); if the bytes are not UTF-8 at all, windows-1252 (`source = Sniffed`).
//!
//! A declared single-byte charset over bytes that are UTF-8 with non-ASCII sequences is decoded as UTF-8;
//! a declared UTF-8 over bytes that are not UTF-8 is decoded as windows-1252. A page that is *mostly*
//! valid UTF-8 with a few broken bytes (e.g. truncated mid-character) stays UTF-8 with U+FFFD
//! replacements rather than turning every Devanagari letter into mojibake. In both corrections, and
//! whenever mojibake was repaired, `mislabelled` is true; `source` always says where the *declared*
//! charset came from and `encoding` names the encoding actually used for the bytes.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Result of decoding a fetched body.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The decoded text (BOM removed, mojibake repaired).
    pub text: String,
    /// `encoding_rs` name of the encoding actually used, e.g. `"UTF-8"`, `"windows-1252"`.
    pub encoding: &'static str,
    /// Where the charset decision came from (the declaration, even when it proved wrong).
    pub source: CharsetSource,
    /// True when the declared charset did not give the final text: the bytes were decoded with a
    /// different encoding than declared, or mojibake was repaired.
    pub mislabelled: bool,
}

/// Where the charset came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    /// Byte-order mark.
    Bom,
    /// `charset=` of the HTTP Content-Type header.
    Header,
    /// `<meta charset>` / `<meta http-equiv>` (HTML) or the XML declaration's `encoding=`.
    Meta,
    /// Nothing declared and the bytes were not UTF-8: windows-1252 was chosen from the bytes.
    Sniffed,
    /// Nothing declared: UTF-8.
    Default,
}

/// How many leading bytes of an HTML document are scanned for `<meta>` charset declarations.
const META_SCAN_BYTES: usize = 4096;

/// Decode an HTML body. `content_type` is the HTTP Content-Type header value, if any.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    decode_with(bytes, content_type, |b| {
        meta_charset(b).or_else(|| xml_decl_charset(b))
    })
}

/// Decode an XML/JSON body (feeds, REST answers): BOM, header, XML declaration `encoding=`, else UTF-8.
pub fn decode_xml(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    decode_with(bytes, content_type, xml_decl_charset)
}

fn decode_with(
    bytes: &[u8],
    content_type: Option<&str>,
    in_document: fn(&[u8]) -> Option<&'static Encoding>,
) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let body = bytes.get(bom_len..).unwrap_or_default();
        let (text, _) = enc.decode_without_bom_handling(body);
        return finish(text.into_owned(), enc, CharsetSource::Bom, false);
    }
    let declared = content_type
        .and_then(header_charset)
        .map(|e| (e, CharsetSource::Header))
        .or_else(|| in_document(bytes).map(|e| (non_utf16(e), CharsetSource::Meta)));
    // Valid UTF-8 (most pages) is copied once; only other bytes are profiled.
    let valid = std::str::from_utf8(bytes).ok();
    let profile = match valid {
        Some(_) => Utf8Profile {
            // Valid: only whether there is a multi-byte character at all matters.
            multibyte: usize::from(bytes.iter().any(|&b| b >= 0x80)),
            invalid: 0,
        },
        None => Utf8Profile::of(bytes),
    };
    let lossy_utf8 = |bytes: &[u8]| match valid {
        Some(s) => s.to_owned(),
        None => String::from_utf8_lossy(bytes).into_owned(),
    };
    match declared {
        None => {
            if profile.is_utf8_enough() {
                finish(lossy_utf8(bytes), UTF_8, CharsetSource::Default, false)
            } else {
                let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
                finish(
                    text.into_owned(),
                    WINDOWS_1252,
                    CharsetSource::Sniffed,
                    false,
                )
            }
        }
        Some((enc, source)) if enc == UTF_8 => {
            if profile.is_utf8_enough() {
                finish(lossy_utf8(bytes), UTF_8, source, false)
            } else {
                let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
                finish(text.into_owned(), WINDOWS_1252, source, true)
            }
        }
        Some((enc, source))
            if enc.is_single_byte() && profile.multibyte > 0 && profile.is_utf8_enough() =>
        {
            finish(lossy_utf8(bytes), UTF_8, source, true)
        }
        Some((enc, source)) => {
            let (text, _) = enc.decode_without_bom_handling(bytes);
            finish(text.into_owned(), enc, source, false)
        }
    }
}

/// Apply mojibake repair and build the result.
fn finish(
    text: String,
    enc: &'static Encoding,
    source: CharsetSource,
    mislabelled: bool,
) -> Decoded {
    match repair_mojibake(&text) {
        Some(fixed) => Decoded {
            text: fixed,
            encoding: enc.name(),
            source,
            mislabelled: true,
        },
        None => Decoded {
            text,
            encoding: enc.name(),
            source,
            mislabelled,
        },
    }
}

/// UTF-16 cannot be declared from inside an ASCII-readable document; treat it as UTF-8 (HTML spec).
fn non_utf16(enc: &'static Encoding) -> &'static Encoding {
    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        UTF_8
    } else {
        enc
    }
}

/// Counts of valid multi-byte UTF-8 characters and invalid byte sequences.
struct Utf8Profile {
    multibyte: usize,
    invalid: usize,
}

impl Utf8Profile {
    fn of(bytes: &[u8]) -> Self {
        let mut multibyte = 0;
        let mut invalid = 0;
        let mut rest = bytes;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    multibyte += count_multibyte(s);
                    break;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    let (good, after) = rest.split_at(valid);
                    // `good` is valid UTF-8 by construction of `valid_up_to`.
                    if let Ok(s) = std::str::from_utf8(good) {
                        multibyte += count_multibyte(s);
                    }
                    invalid += 1;
                    match e.error_len() {
                        Some(n) => rest = after.get(n..).unwrap_or_default(),
                        None => break, // truncated sequence at the end
                    }
                }
            }
        }
        Utf8Profile { multibyte, invalid }
    }

    /// Valid UTF-8, or UTF-8 with a few broken sequences among many good multi-byte ones
    /// (damaged or truncated UTF-8 rather than a single-byte encoding).
    fn is_utf8_enough(&self) -> bool {
        self.invalid == 0 || (self.multibyte >= 8 && self.invalid * 20 <= self.multibyte)
    }
}

fn count_multibyte(s: &str) -> usize {
    // In valid UTF-8 every non-ASCII character starts with exactly one lead byte (0xC2..=0xF4);
    // counting bytes is one vectorisable pass instead of decoding every character.
    s.bytes().filter(|&b| b >= 0xC0).count()
}

/// Look a label up, ignoring labels `encoding_rs` maps to the "replacement" encoding.
fn lookup(label: &[u8]) -> Option<&'static Encoding> {
    Encoding::for_label(label).filter(|e| *e != encoding_rs::REPLACEMENT)
}

/// Position just after `needle` (ASCII, lowercase) in `hay`, case-insensitively, starting at `from`.
fn find_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let tail = hay.get(from..)?;
    tail.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// After `charset`/`encoding` at `pos` (just past the keyword): optional spaces, `=`, optional quote, value.
fn value_after_equals(s: &[u8], mut pos: usize) -> Option<&[u8]> {
    while s.get(pos).is_some_and(|b| b.is_ascii_whitespace()) {
        pos += 1;
    }
    if s.get(pos) != Some(&b'=') {
        return None;
    }
    pos += 1;
    while s
        .get(pos)
        .is_some_and(|b| b.is_ascii_whitespace() || *b == b'"' || *b == b'\'')
    {
        pos += 1;
    }
    let start = pos;
    while s.get(pos).is_some_and(|b| {
        !(b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b';' | b'>' | b'/' | b','))
    }) {
        pos += 1;
    }
    s.get(start..pos).filter(|v| !v.is_empty())
}

/// Charset parameter of a Content-Type header value.
fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    let b = content_type.as_bytes();
    let mut from = 0;
    while let Some(p) = find_ci(b, b"charset", from) {
        if let Some(v) = value_after_equals(b, p + 7) {
            return lookup(v);
        }
        from = p + 7;
    }
    None
}

/// First usable charset declared by a `<meta>` tag in the first [`META_SCAN_BYTES`] bytes.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = bytes.get(..META_SCAN_BYTES).unwrap_or(bytes);
    let mut from = 0;
    while let Some(p) = find_ci(head, b"<meta", from) {
        let end = head
            .get(p..)
            .and_then(|t| t.iter().position(|b| *b == b'>'))
            .map_or(head.len(), |e| p + e);
        let tag = head.get(p..end).unwrap_or_default();
        if let Some(k) = find_ci(tag, b"charset", 0)
            && let Some(enc) = value_after_equals(tag, k + 7).and_then(lookup)
        {
            return Some(enc);
        }
        from = end.max(p + 5);
    }
    None
}

/// `encoding=` of an XML declaration at the start of the document (after optional whitespace).
fn xml_decl_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = bytes.get(start..)?;
    if !rest.starts_with(b"<?xml") {
        return None;
    }
    let end = rest.windows(2).position(|w| w == b"?>")?;
    let decl = rest.get(..end)?;
    let k = find_ci(decl, b"encoding", 0)?;
    value_after_equals(decl, k + 8).and_then(lookup)
}

/// The 32 characters windows-1252 puts at 0x80..=0x9F (WHATWG: undefined bytes map to C1 controls).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

/// The byte a windows-1252 *or* ISO-8859-1 decoder would have turned into `c`.
fn mojibake_byte(c: char) -> Option<u8> {
    let cp = u32::from(c);
    if (0x80..=0xFF).contains(&cp) {
        return u8::try_from(cp).ok();
    }
    CP1252_HIGH
        .iter()
        .position(|h| *h == c)
        .and_then(|i| u8::try_from(0x80 + i).ok())
}

/// Repair runs of mojibake. Each maximal run of non-ASCII characters that are all windows-1252/Latin-1
/// images of bytes is turned back into bytes; if those bytes are valid UTF-8, the run is replaced.
/// Legitimate Latin-1 text (`café`) is left alone because `é` alone is not valid UTF-8. Returns `None`
/// when nothing changed.
fn repair_mojibake(text: &str) -> Option<String> {
    // Every UTF-8 lead byte of a multi-byte sequence decodes to a char in U+00C2..=U+00F4, which
    // UTF-8 writes as the bytes C3 82..=C3 B4: a run without one cannot be valid UTF-8 once turned
    // back into bytes. So only the runs around those bytes are looked at, and the text between
    // them is copied as it is, without decoding it character by character.
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut done = 0;
    for i in memchr::memchr_iter(0xC3, bytes) {
        if i < done || !bytes.get(i + 1).is_some_and(|b| (0x82..=0xB4).contains(b)) {
            continue;
        }
        // The maximal run of images of bytes around position i.
        let mut start = i;
        for c in text[done..i].chars().rev() {
            if mojibake_byte(c).is_none() {
                break;
            }
            start -= c.len_utf8();
        }
        let mut end = start;
        let mut run: Vec<u8> = Vec::new();
        for c in text[start..].chars() {
            match mojibake_byte(c) {
                Some(b) => {
                    run.push(b);
                    end += c.len_utf8();
                }
                None => break,
            }
        }
        done = end;
        if let Ok(fixed) = std::str::from_utf8(&run) {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[copied..start]);
            o.push_str(fixed);
            copied = end;
        }
    }
    out.map(|mut o| {
        o.push_str(&text[copied..]);
        o
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repair as first written: every character of the text decoded and looked at.
    fn repair_by_every_char(text: &str) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        let mut run: Vec<u8> = Vec::new();
        let mut run_text = String::new();
        let mut changed = false;
        let mut flush = |run: &mut Vec<u8>, run_text: &mut String, out: &mut String| {
            if !run.is_empty() {
                match std::str::from_utf8(run) {
                    Ok(s) => {
                        out.push_str(s);
                        changed = true;
                    }
                    Err(_) => out.push_str(run_text),
                }
                run.clear();
                run_text.clear();
            }
        };
        for c in text.chars() {
            match mojibake_byte(c) {
                Some(b) => {
                    run.push(b);
                    run_text.push(c);
                }
                None => {
                    flush(&mut run, &mut run_text, &mut out);
                    out.push(c);
                }
            }
        }
        flush(&mut run, &mut run_text, &mut out);
        changed.then_some(out)
    }

    proptest::proptest! {
        /// Looking only around the bytes C3 82..B4 repairs exactly what looking at every
        /// character repairs.
        #[test]
        fn repair_around_lead_bytes_is_repair_of_every_char(
            pieces in proptest::collection::vec(proptest::sample::select(&[
                "निर्यात", " ", "a", "é", "café", "Ã", "Â", "©", "à¤¨", "à¤¿", "€", "™", "â€™", "Ã©", "ß", "ô", "\u{80}", "×",
            ][..]), 0..16)
        ) {
            let text = pieces.concat();
            proptest::prop_assert_eq!(repair_mojibake(&text), repair_by_every_char(&text));
        }
    }

    const SEED: &str = include_str!("../../tests/fixtures/corpus/seed-article.txt");
    const HEADLINE: &str = "जिला स्तरीय निर्यात संवर्धन समिति का वर्चुअल बैठक का हुआ आयोजन";

    fn html(charset_meta: &str, body: &str) -> Vec<u8> {
        format!(
            "<!DOCTYPE html><html><head>{charset_meta}<title>DPR</title></head><body><h1>{HEADLINE}</h1><p>{body}</p></body></html>"
        )
        .into_bytes()
    }

    /// `s` as it looks after a UTF-8 → windows-1252 misdecode.
    fn as_mojibake(s: &str) -> String {
        WINDOWS_1252
            .decode_without_bom_handling(s.as_bytes())
            .0
            .into_owned()
    }

    #[test]
    fn plain_utf8_with_header() {
        let d = decode_html(&html("", SEED), Some("text/html; charset=UTF-8"));
        assert_eq!(d.encoding, "UTF-8");
        assert_eq!(d.source, CharsetSource::Header);
        assert!(!d.mislabelled);
        assert!(d.text.contains(HEADLINE));
        assert!(d.text.contains("सर्वेश्वर नरेन्द्र भुरे"));
    }

    #[test]
    fn default_is_utf8() {
        let d = decode_html(&html("", SEED), None);
        assert_eq!(
            (d.encoding, d.source, d.mislabelled),
            ("UTF-8", CharsetSource::Default, false)
        );
        assert!(d.text.contains(HEADLINE));
        let x = decode_xml(SEED.as_bytes(), Some("application/json"));
        assert_eq!((x.encoding, x.source), ("UTF-8", CharsetSource::Default));
        assert_eq!(x.text, SEED);
    }

    #[test]
    fn bom_wins_over_header() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(&html("<meta charset=\"windows-1252\">", SEED));
        let d = decode_html(&bytes, Some("text/html; charset=ISO-8859-1"));
        assert_eq!(
            (d.encoding, d.source, d.mislabelled),
            ("UTF-8", CharsetSource::Bom, false)
        );
        assert!(d.text.starts_with("<!DOCTYPE"), "BOM must be stripped");
        assert!(d.text.contains(HEADLINE));
    }

    #[test]
    fn utf16_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in HEADLINE.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let d = decode_xml(&bytes, None);
        assert_eq!((d.encoding, d.source), ("UTF-16LE", CharsetSource::Bom));
        assert_eq!(d.text, HEADLINE);
    }

    #[test]
    fn header_latin1_but_utf8_hindi_is_mislabelled() {
        let d = decode_html(&html("", SEED), Some("text/html; charset=iso-8859-1"));
        assert_eq!(
            (d.encoding, d.source, d.mislabelled),
            ("UTF-8", CharsetSource::Header, true)
        );
        assert!(d.text.contains(HEADLINE));
        assert!(!d.text.contains("à¤"));
    }

    #[test]
    fn meta_charset_forms() {
        let a = decode_html(&html("<meta charset=\"windows-1252\">", SEED), None);
        assert_eq!(
            (a.encoding, a.source, a.mislabelled),
            ("UTF-8", CharsetSource::Meta, true)
        );
        assert!(a.text.contains(HEADLINE));

        let b = decode_html(
            &html(
                r#"<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=utf-8">"#,
                SEED,
            ),
            None,
        );
        assert_eq!(
            (b.encoding, b.source, b.mislabelled),
            ("UTF-8", CharsetSource::Meta, false)
        );

        // A real single-byte page: windows-1252 bytes, declared in meta.
        let (bytes, _, _) =
            WINDOWS_1252.encode("<meta charset=latin1><p>DGFT “Niryat Bandhu” café – 2022</p>");
        let c = decode_html(&bytes, None);
        assert_eq!(
            (c.encoding, c.source, c.mislabelled),
            ("windows-1252", CharsetSource::Meta, false)
        );
        assert!(c.text.contains("“Niryat Bandhu” café – 2022"));
    }

    #[test]
    fn meta_utf16_means_utf8_and_unknown_labels_are_skipped() {
        let d = decode_html(
            &html("<meta charset=\"utf-16\">", SEED),
            Some("text/html; charset=bogus"),
        );
        assert_eq!(
            (d.encoding, d.source, d.mislabelled),
            ("UTF-8", CharsetSource::Meta, false)
        );
        assert!(d.text.contains(HEADLINE));
    }

    #[test]
    fn meta_beyond_4kb_is_ignored() {
        let pad = " ".repeat(5000);
        let page = format!("<html>{pad}<meta charset=windows-1252><p>café</p>");
        let (bytes, _, _) = WINDOWS_1252.encode(&page);
        let d = decode_html(&bytes, None);
        assert_eq!(
            (d.encoding, d.source),
            ("windows-1252", CharsetSource::Sniffed)
        );
        assert!(d.text.contains("café"));
    }

    #[test]
    fn header_utf8_but_cp1252_bytes() {
        let (bytes, _, _) = WINDOWS_1252.encode("<p>Export “outreach” – Raipur, café</p>");
        let d = decode_html(&bytes, Some("text/html;charset=\"utf-8\""));
        assert_eq!(
            (d.encoding, d.source, d.mislabelled),
            ("windows-1252", CharsetSource::Header, true)
        );
        assert_eq!(d.text, "<p>Export “outreach” – Raipur, café</p>");
    }

    #[test]
    fn truncated_utf8_stays_utf8() {
        let bytes = html("", SEED);
        // Cut inside a Devanagari character (3-byte sequences), and add one stray byte.
        let mut cut = bytes.get(..bytes.len() - 30).unwrap_or_default().to_vec();
        while cut.last().is_some_and(|b| *b < 0x80) {
            cut.pop();
        }
        cut.pop();
        cut.insert(200, 0xFF);
        let d = decode_html(&cut, Some("text/html; charset=utf-8"));
        assert_eq!((d.encoding, d.mislabelled), ("UTF-8", false));
        assert!(d.text.contains(HEADLINE));
        assert!(d.text.contains('\u{FFFD}'));
    }

    #[test]
    fn mojibake_served_as_utf8_is_repaired() {
        let broken = as_mojibake(SEED);
        assert!(broken.contains("à¤"));
        let d = decode_html(&html("", &broken), Some("text/html; charset=utf-8"));
        assert!(d.mislabelled);
        assert_eq!(d.encoding, "UTF-8");
        assert!(!d.text.contains("à¤"));
        assert!(
            d.text.contains(SEED.trim()),
            "repaired text must equal the original"
        );
    }

    #[test]
    fn mojibake_mixed_with_good_text_and_latin1() {
        let s = format!("café | {} | {HEADLINE}", as_mojibake("निर्यात संवर्धन समिति"));
        let d = decode_html(s.as_bytes(), None);
        assert_eq!(d.text, format!("café | निर्यात संवर्धन समिति | {HEADLINE}"));
        assert!(d.mislabelled);
        // Latin-1 (not cp1252) misdecoding: C1 controls instead of cp1252 punctuation.
        let latin1: String = "बैठक".bytes().map(char::from).collect();
        assert_eq!(repair_mojibake(&latin1).as_deref(), Some("बैठक"));
        assert_eq!(repair_mojibake("café crème"), None);
    }

    #[test]
    fn xml_declaration() {
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><title>{HEADLINE}</title></rss>"
        );
        let d = decode_xml(doc.as_bytes(), Some("application/rss+xml"));
        assert_eq!(
            (d.encoding, d.source, d.mislabelled),
            ("UTF-8", CharsetSource::Meta, true)
        );
        assert!(d.text.contains(HEADLINE));

        let (bytes, _, _) =
            WINDOWS_1252.encode("\n<?xml version='1.0' encoding='windows-1252'?><t>“café”</t>");
        let w = decode_xml(&bytes, None);
        assert_eq!(
            (w.encoding, w.source, w.mislabelled),
            ("windows-1252", CharsetSource::Meta, false)
        );
        assert!(w.text.ends_with("<t>“café”</t>"));

        // The header beats the declaration.
        let h = decode_xml(&bytes, Some("text/xml; charset=windows-1252"));
        assert_eq!(h.source, CharsetSource::Header);
        // A <meta> is not an XML declaration.
        let m = decode_xml(&html("<meta charset=windows-1252>", SEED), None);
        assert_eq!(m.source, CharsetSource::Default);
    }

    #[test]
    fn mostly_cp1252_page_with_a_utf8_island() {
        // Too little UTF-8 to call the page UTF-8: decoded as windows-1252, then the UTF-8 island
        // (now mojibake) is repaired, while the real windows-1252 characters stay.
        let mut bytes = WINDOWS_1252.encode("<p>“Export” café – ").0.into_owned();
        bytes.extend_from_slice("बैठक".as_bytes());
        bytes.extend_from_slice(b" \xe9t\xe9</p>");
        let d = decode_html(&bytes, None);
        assert_eq!(
            (d.encoding, d.source, d.mislabelled),
            ("windows-1252", CharsetSource::Sniffed, true)
        );
        assert_eq!(d.text, "<p>“Export” café – बैठक été</p>");
    }

    #[test]
    fn xhtml_xml_declaration() {
        let (bytes, _, _) = WINDOWS_1252
            .encode("<?xml version=\"1.0\" encoding=\"windows-1252\"?><html><p>café</p></html>");
        let d = decode_html(&bytes, None);
        assert_eq!(
            (d.encoding, d.source),
            ("windows-1252", CharsetSource::Meta)
        );
        assert!(d.text.contains("café"));
    }

    #[test]
    fn header_parsing() {
        assert_eq!(header_charset("text/html; charset=UTF-8"), Some(UTF_8));
        assert_eq!(
            header_charset("text/html;Charset = 'latin1' ; x=y"),
            Some(WINDOWS_1252)
        );
        assert_eq!(header_charset("text/html"), None);
        assert_eq!(header_charset("text/html; charset="), None);
        assert_eq!(header_charset("text/html; charset=iso-2022-kr"), None);
    }

    proptest::proptest! {
        /// Correctly labelled (or unlabelled) UTF-8 Hindi comes back exactly as it was: no
        /// charset guess or mojibake repair touches a page that was right.
        #[test]
        fn utf8_text_decodes_to_itself(s in "[\\u0900-\\u097F a-zA-Z0-9.,।<>/=\"\\-]{0,300}") {
            for ct in [None, Some("text/html; charset=utf-8")] {
                let d = decode_html(s.as_bytes(), ct);
                proptest::prop_assert_eq!(&d.text, &s);
                proptest::prop_assert!(!d.mislabelled);
            }
        }

        /// A single-byte charset gives one character per byte, whatever the bytes.
        #[test]
        fn a_single_byte_charset_maps_every_byte(bytes in proptest::collection::vec(0x80u8..=0xFF, 0..300)) {
            let d = decode_html(&bytes, Some("text/html; charset=windows-1252"));
            if d.encoding == "windows-1252" {
                proptest::prop_assert_eq!(d.text.chars().count(), bytes.len());
            }
        }
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 0..400usize {
            let mut bytes = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                bytes.push(x.to_le_bytes()[0]);
            }
            for ct in [
                None,
                Some("text/html; charset=utf-8"),
                Some("text/html; charset=latin1"),
            ] {
                let _ = decode_html(&bytes, ct);
                let _ = decode_xml(&bytes, ct);
            }
            let mut tagged = b"<meta charset=".to_vec();
            tagged.extend_from_slice(&bytes);
            let _ = decode_html(&tagged, None);
            let mut decl = b"<?xml encoding=".to_vec();
            decl.extend_from_slice(&bytes);
            let _ = decode_xml(&decl, None);
        }
    }
}
