//! Hashtags that end every channel post: the district in Latin script (`#Durg`,
//! `#JanjgirChampa`) and the kind of event (`#DEPC`, `#ExportWorkshop`, `#ExportConclave`,
//! `#BuyerSellerMeet`, or `#ExportPromotion` for anything else). Telegram turns each into a
//! single tappable hashtag, so a reader can list one district's reports in the channel.
//!
//! The kind is read from the title first, then from the body: the kind whose phrase appears
//! earliest wins. Phrases are matched on normalised text ([`normalize`]) token by token, each
//! phrase token matching a text token that starts with it (so inflections such as कार्यशालाओं or
//! workshops match).

use std::sync::LazyLock;

use super::districts::District;
use super::text::{normalize, tokens};

/// The kind of export-promotion event a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum EventKind {
    /// A district export promotion committee (DEPC / DLEPC) meeting.
    Depc,
    /// A workshop, seminar, training, outreach or awareness programme on exports.
    Workshop,
    /// An export conclave or summit.
    Conclave,
    /// A buyer-seller meet or an exporters' meet.
    BuyerSellerMeet,
    /// Anything else (state committee, commerce festival, a collector's review …).
    Other,
}

impl EventKind {
    pub fn hashtag(self) -> &'static str {
        match self {
            Self::Depc => "#DEPC",
            Self::Workshop => "#ExportWorkshop",
            Self::Conclave => "#ExportConclave",
            Self::BuyerSellerMeet => "#BuyerSellerMeet",
            Self::Other => "#ExportPromotion",
        }
    }
}

/// Hashtag used when a report names no district.
pub const STATE_HASHTAG: &str = "#Chhattisgarh";

/// Phrases of each kind, as written (normalised once).
const PHRASES: &[(EventKind, &[&str])] = &[
    (
        EventKind::Depc,
        &[
            "निर्यात संवर्धन समिति",
            "निर्यात संवर्द्धन समिति",
            "निर्यात प्रोत्साहन समिति",
            "निर्यात प्रोत्साहन एवं समन्वय समिति",
            "जिला निर्यात समिति",
            "एक्सपोर्ट प्रमोशन कमेटी",
            "जिला स्तरीय एक्सपोर्ट प्रमोशन काउंसिल",
            "export promotion committee",
            "depc",
            "dlepc",
            "डीईपीसी",
            "डीएलईपीसी",
        ],
    ),
    (
        EventKind::Workshop,
        &[
            "कार्यशाला",
            "संगोष्ठी",
            "गोष्ठी",
            "सेमिनार",
            "वेबिनार",
            "प्रशिक्षण",
            "आउटरीच",
            "जागरूकता शिविर",
            "मार्गदर्शन शिविर",
            "परिचर्चा",
            "workshop",
            "seminar",
            "webinar",
            "training",
            "outreach",
            "awareness",
        ],
    ),
    (
        EventKind::Conclave,
        &["कॉन्क्लेव", "कान्क्लेव", "समिट", "conclave", "summit"],
    ),
    (
        EventKind::BuyerSellerMeet,
        &[
            "बायर सेलर",
            "बायर्स सेलर्स",
            "क्रेता विक्रेता",
            "एक्सपोर्टर्स मीट",
            "एक्सपोटर्स मीट",
            "निर्यातक सम्मेलन",
            "buyer seller",
            "buyers sellers",
            "exporters meet",
            "exporter meet",
        ],
    ),
];

/// Words that make a committee a state one (not a district's) when just before it.
const STATE_WORDS: &[&str] = &["राज्य", "state", "स्टेट", "प्रदेश"];

struct Phrase {
    kind: EventKind,
    tokens: Vec<String>,
}

static COMPILED: LazyLock<Vec<Phrase>> = LazyLock::new(|| {
    PHRASES
        .iter()
        .flat_map(|(kind, list)| {
            list.iter().map(|p| Phrase {
                kind: *kind,
                tokens: tokens(&normalize(p)).map(str::to_owned).collect(),
            })
        })
        .filter(|p| !p.tokens.is_empty())
        .collect()
});

static STATE: LazyLock<Vec<String>> =
    LazyLock::new(|| STATE_WORDS.iter().map(|w| normalize(w)).collect());

/// The kind whose phrase starts earliest in `text`, if any.
fn earliest(text: &str) -> Option<EventKind> {
    let norm = normalize(text);
    let toks: Vec<&str> = tokens(&norm).collect();
    for i in 0..toks.len() {
        for p in COMPILED.iter() {
            let n = p.tokens.len();
            if i + n > toks.len()
                || !p
                    .tokens
                    .iter()
                    .zip(&toks[i..i + n])
                    .all(|(w, t)| t.starts_with(w.as_str()))
            {
                continue;
            }
            if p.kind == EventKind::Depc
                && toks[i.saturating_sub(3)..i]
                    .iter()
                    .any(|t| STATE.iter().any(|s| t.starts_with(s.as_str())))
            {
                continue;
            }
            return Some(p.kind);
        }
    }
    None
}

/// Longest stretch of the body read for the kind (the lead carries it; a note's tail lists
/// other plans).
const BODY_CHARS: usize = 3000;

/// The kind of event a report is about: from its title, else from its body.
pub fn event_kind(title: &str, body: &str) -> EventKind {
    earliest(title)
        .or_else(|| earliest(super::text::prefix_chars(body, BODY_CHARS)))
        .unwrap_or(EventKind::Other)
}

/// `#` and the district's English name with separators dropped and each part capitalised:
/// "Janjgir-Champa" → `#JanjgirChampa`, "Baloda Bazar" → `#BalodaBazar`.
pub fn district_hashtag(d: Option<&District>) -> String {
    let Some(d) = d else {
        return STATE_HASHTAG.to_owned();
    };
    let mut out = String::from("#");
    let mut upper = true;
    for c in d.en.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

/// The hashtags that end a post: the district's, then the kind's.
pub fn hashtags(district: Option<&District>, kind: EventKind) -> Vec<String> {
    vec![district_hashtag(district), kind.hashtag().to_owned()]
}

/// Whether Telegram shows `tag` as one hashtag: `#`, a letter, then letters, digits or `_`.
pub fn is_hashtag(tag: &str) -> bool {
    let Some(rest) = tag.strip_prefix('#') else {
        return false;
    };
    let mut chars = rest.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && rest.len() <= 64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::districts::{all, by_en};

    #[test]
    fn every_district_has_one_latin_hashtag() {
        let mut seen = std::collections::HashSet::new();
        for d in all() {
            let tag = district_hashtag(Some(d));
            assert!(is_hashtag(&tag), "{tag}");
            assert!(seen.insert(tag.clone()), "{tag} twice");
        }
        let tag = |en: &str| district_hashtag(by_en(en));
        assert_eq!(tag("Durg"), "#Durg");
        assert_eq!(tag("Janjgir-Champa"), "#JanjgirChampa");
        assert_eq!(tag("Kabirdham"), "#Kabirdham");
        assert_eq!(tag("Baloda Bazar"), "#BalodaBazar");
        assert_eq!(
            tag("Mohla-Manpur-Ambagarh Chowki"),
            "#MohlaManpurAmbagarhChowki"
        );
        assert_eq!(district_hashtag(None), "#Chhattisgarh");
    }

    #[test]
    fn the_kind_comes_from_the_title_then_the_body() {
        let cases = [
            (
                "जिला स्तरीय निर्यात संवर्धन समिति का वर्चुअल बैठक का हुआ आयोजन",
                "",
                EventKind::Depc,
            ),
            (
                "जिलास्तरीय एक्सपोर्ट प्रमोशन कमेटी की बैठक सम्पन्न",
                "",
                EventKind::Depc,
            ),
            (
                "डीईपीसी की बैठक विडियो कान्फ्रेंस के माध्यम से सम्पन्न",
                "",
                EventKind::Depc,
            ),
            (
                "Collector chairs DEPC meeting, reviews export plan",
                "",
                EventKind::Depc,
            ),
            ("DLEPC meeting held at Dhamtari", "", EventKind::Depc),
            (
                "निर्यात प्रक्रिया पर उद्यमियों के लिए एक दिवसीय कार्यशाला",
                "",
                EventKind::Workshop,
            ),
            (
                "Vanijya Saptah: export awareness workshop held at Korba",
                "",
                EventKind::Workshop,
            ),
            ("निर्यात जागरुकता हेतु संगोष्ठी आयोजित", "", EventKind::Workshop),
            (
                "Export outreach programme organised in Jagdalpur",
                "",
                EventKind::Workshop,
            ),
            (
                "एक्सपोर्टर्स कॉन्क्लेव में निर्यात के लिए अनुकूल वातावरण बनाने पर दिया गया जोर",
                "",
                EventKind::Conclave,
            ),
            (
                "इंडिया राइस एक्सपोर्टर्स समिट में 20 देशों के खरीददार",
                "",
                EventKind::Conclave,
            ),
            (
                "सुकमा में इमली व महुआ के लिए बायर सेलर मीट",
                "",
                EventKind::BuyerSellerMeet,
            ),
            (
                "कोसा वस्त्रों के निर्यात को लेकर क्रेता विक्रेता सम्मेलन",
                "",
                EventKind::BuyerSellerMeet,
            ),
            (
                "Buyer-seller meet for exporters held in Dhamtari",
                "",
                EventKind::BuyerSellerMeet,
            ),
            (
                "Exporters' meet in Raigarh discusses steel exports",
                "",
                EventKind::BuyerSellerMeet,
            ),
            // A state committee is not a district's.
            (
                "छत्तीसगढ़: राज्य स्तरीय निर्यात संवर्धन समिति की बैठक सम्पन्न",
                "",
                EventKind::Other,
            ),
            (
                "रायपुर में दो दिवसीय ‘वाणिज्य उत्सव’ सम्पन्न",
                "",
                EventKind::Other,
            ),
            // An export promotion council is a national body, not the district's committee.
            (
                "शैलेक एक्सपोर्ट प्रमोशन काउंसिल ने लाख उत्पादकों को दिया प्रशिक्षण",
                "",
                EventKind::Workshop,
            ),
            (
                "जिलास्तरीय एक्सपोर्ट प्रमोशन काउंसिल की बैठक",
                "",
                EventKind::Depc,
            ),
            // The title says nothing: the body's first event word decides.
            (
                "आकर्षक और गुणवत्ता युक्त उत्पाद की मांग स्वभाविक रूप से होती है: कलेक्टर",
                "जांजगीर-चांपा, 25 सितंबर 2021/ निर्यात जागरूकता हेतु एक दिवसीय कार्यशाला आयोजित की गई। आगे बायर सेलर मीट होगी।",
                EventKind::Workshop,
            ),
        ];
        for (title, body, want) in cases {
            assert_eq!(event_kind(title, body), want, "{title}");
        }
    }

    #[test]
    fn kind_hashtags_are_single_hashtags() {
        for k in [
            EventKind::Depc,
            EventKind::Workshop,
            EventKind::Conclave,
            EventKind::BuyerSellerMeet,
            EventKind::Other,
        ] {
            assert!(is_hashtag(k.hashtag()), "{}", k.hashtag());
        }
        assert!(!is_hashtag("#Janjgir-Champa"));
        assert!(!is_hashtag("#1Durg"));
        assert!(!is_hashtag("Durg"));
    }
}
