//! The 33 Chhattisgarh districts, their LGD codes, and the alias data used to resolve a district from
//! Hindi/English names, spelling variants, headquarters and dateline towns.
//!
//! Aliases are matched on *normalised* text ([`crate::core::text::normalize`]) on whole-token boundaries, so
//! "durg" never matches inside "sindhudurg". Aliases marked ambiguous (Bilaspur, Balrampur, Bijapur,
//! Korea/कोरिया, Sakti, मानपुर, नारायणपुर, सूरजपुर) also name places or words outside Chhattisgarh; the detector only trusts them
//! with independent Chhattisgarh evidence and without a competing state marker.

use crate::core::text::normalize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// One Chhattisgarh district. `en` is spelt as in the corpus labels; `lgd` is the LGD district code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct District {
    pub en: &'static str,
    pub hi: &'static str,
    pub lgd: u16,
}

const fn d(en: &'static str, hi: &'static str, lgd: u16) -> District {
    District { en, hi, lgd }
}

static ALL: [District; 33] = [
    d("Balod", "बालोद", 646),
    d("Baloda Bazar", "बलौदाबाजार-भाटापारा", 644),
    d("Balrampur", "बलरामपुर-रामानुजगंज", 649),
    d("Bastar", "बस्तर", 374),
    d("Bemetara", "बेमेतरा", 650),
    d("Bijapur", "बीजापुर", 636),
    d("Bilaspur", "बिलासपुर", 375),
    d("Dantewada", "दंतेवाड़ा", 376),
    d("Dhamtari", "धमतरी", 377),
    d("Durg", "दुर्ग", 378),
    d("Gariaband", "गरियाबंद", 645),
    d("Gaurela-Pendra-Marwahi", "गौरेला-पेंड्रा-मरवाही", 734),
    d("Janjgir-Champa", "जांजगीर-चांपा", 379),
    d("Jashpur", "जशपुर", 380),
    d("Kabirdham", "कबीरधाम", 382),
    d("Kanker", "कांकेर", 381),
    d("Khairagarh-Chhuikhadan-Gandai", "खैरागढ़-छुईखदान-गंडई", 759),
    d("Kondagaon", "कोंडागांव", 643),
    d("Korba", "कोरबा", 383),
    d("Koriya", "कोरिया", 384),
    d("Mahasamund", "महासमुंद", 385),
    d(
        "Manendragarh-Chirmiri-Bharatpur",
        "मनेंद्रगढ़-चिरमिरी-भरतपुर",
        760,
    ),
    d(
        "Mohla-Manpur-Ambagarh Chowki",
        "मोहला-मानपुर-अंबागढ़ चौकी",
        761,
    ),
    d("Mungeli", "मुंगेली", 647),
    d("Narayanpur", "नारायणपुर", 637),
    d("Raigarh", "रायगढ़", 386),
    d("Raipur", "रायपुर", 387),
    d("Rajnandgaon", "राजनांदगांव", 388),
    d("Sakti", "सक्ती", 762),
    d("Sarangarh-Bilaigarh", "सारंगढ़-बिलाईगढ़", 763),
    d("Sukma", "सुकमा", 642),
    d("Surajpur", "सूरजपुर", 648),
    d("Surguja", "सरगुजा", 389),
];

/// Alias table: (district `en`, alias, ambiguous). The Hindi and English names are included here too.
/// HQ/dateline towns: जगदलपुर→Bastar, अंबिकापुर→Surguja, कवर्धा→Kabirdham, भिलाई→Durg, बैकुंठपुर→Koriya,
/// मोहला→MMAC, खैरागढ़→KCG, गौरेला/पेंड्रा→GPM, सारंगढ़→Sarangarh-Bilaigarh, मनेंद्रगढ़/चिरमिरी→MCB,
/// दल्लीराजहरा→Balod, भाटापारा→Baloda Bazar, रामानुजगंज→Balrampur, चांपा→Janjgir-Champa, नवा रायपुर→Raipur.
const ALIASES: &[(&str, &str, bool)] = &[
    ("Balod", "बालोद", false),
    ("Balod", "balod", false),
    ("Balod", "दल्लीराजहरा", false),
    ("Balod", "दल्ली राजहरा", false),
    ("Balod", "dalli rajhara", false),
    ("Baloda Bazar", "बलौदाबाजार", false),
    ("Baloda Bazar", "बलौदा बाजार", false),
    ("Baloda Bazar", "बलौदाबाजार भाटापारा", false),
    ("Baloda Bazar", "भाटापारा", false),
    ("Baloda Bazar", "baloda bazar", false),
    ("Baloda Bazar", "balodabazar", false),
    ("Baloda Bazar", "bhatapara", false),
    ("Balrampur", "बलरामपुर रामानुजगंज", false),
    ("Balrampur", "balrampur ramanujganj", false),
    ("Balrampur", "रामानुजगंज", false),
    ("Balrampur", "ramanujganj", false),
    ("Balrampur", "बलरामपुर", true),
    ("Balrampur", "balrampur", true),
    ("Bastar", "बस्तर", false),
    ("Bastar", "bastar", false),
    ("Bastar", "जगदलपुर", false),
    ("Bastar", "jagdalpur", false),
    ("Bemetara", "बेमेतरा", false),
    ("Bemetara", "bemetara", false),
    ("Bijapur", "बीजापुर", true),
    ("Bijapur", "bijapur", true),
    ("Bilaspur", "बिलासपुर", true),
    ("Bilaspur", "bilaspur", true),
    ("Dantewada", "दंतेवाड़ा", false),
    ("Dantewada", "दंतेवाडा", false),
    ("Dantewada", "dantewada", false),
    ("Dantewada", "dantewara", false),
    ("Dantewada", "दक्षिण बस्तर दंतेवाड़ा", false),
    ("Dhamtari", "धमतरी", false),
    ("Dhamtari", "dhamtari", false),
    ("Durg", "दुर्ग", false),
    ("Durg", "durg", false),
    ("Durg", "भिलाई", false),
    ("Durg", "bhilai", false),
    ("Gariaband", "गरियाबंद", false),
    ("Gariaband", "gariaband", false),
    ("Gariaband", "gariyaband", false),
    ("Gaurela-Pendra-Marwahi", "गौरेला पेंड्रा मरवाही", false),
    ("Gaurela-Pendra-Marwahi", "गौरेला", false),
    ("Gaurela-Pendra-Marwahi", "पेंड्रा", false),
    ("Gaurela-Pendra-Marwahi", "मरवाही", false),
    ("Gaurela-Pendra-Marwahi", "जीपीएम", false),
    ("Gaurela-Pendra-Marwahi", "gpm", false),
    ("Gaurela-Pendra-Marwahi", "gaurela", false),
    ("Gaurela-Pendra-Marwahi", "pendra", false),
    ("Janjgir-Champa", "जांजगीर चांपा", false),
    ("Janjgir-Champa", "जांजगीर", false),
    ("Janjgir-Champa", "चांपा", false),
    ("Janjgir-Champa", "janjgir champa", false),
    ("Janjgir-Champa", "janjgir", false),
    ("Jashpur", "जशपुर", false),
    ("Jashpur", "जशपुरनगर", false),
    ("Jashpur", "jashpur", false),
    ("Kabirdham", "कबीरधाम", false),
    ("Kabirdham", "कबिरधाम", false),
    ("Kabirdham", "कवर्धा", false),
    ("Kabirdham", "kabirdham", false),
    ("Kabirdham", "kabeerdham", false),
    ("Kabirdham", "kawardha", false),
    ("Kanker", "कांकेर", false),
    ("Kanker", "उत्तर बस्तर कांकेर", false),
    ("Kanker", "kanker", false),
    ("Khairagarh-Chhuikhadan-Gandai", "खैरागढ़ छुईखदान गंडई", false),
    ("Khairagarh-Chhuikhadan-Gandai", "खैरागढ़", false),
    ("Khairagarh-Chhuikhadan-Gandai", "छुईखदान", false),
    ("Khairagarh-Chhuikhadan-Gandai", "गंडई", false),
    ("Khairagarh-Chhuikhadan-Gandai", "केसीजी", false),
    ("Khairagarh-Chhuikhadan-Gandai", "kcg", false),
    ("Khairagarh-Chhuikhadan-Gandai", "khairagarh", false),
    ("Kondagaon", "कोंडागांव", false),
    ("Kondagaon", "कोंडागाव", false),
    ("Kondagaon", "kondagaon", false),
    ("Korba", "कोरबा", false),
    ("Korba", "korba", false),
    ("Koriya", "कोरिया", true),
    ("Koriya", "koriya", false),
    ("Koriya", "कोरिया जिला", false),
    ("Koriya", "कोरिया जिले", false),
    ("Koriya", "korea district", false),
    ("Koriya", "koriya district", false),
    ("Koriya", "बैकुंठपुर", false),
    ("Koriya", "baikunthpur", false),
    ("Mahasamund", "महासमुंद", false),
    ("Mahasamund", "महासमुन्द", false),
    ("Mahasamund", "mahasamund", false),
    (
        "Manendragarh-Chirmiri-Bharatpur",
        "मनेंद्रगढ़ चिरमिरी भरतपुर",
        false,
    ),
    ("Manendragarh-Chirmiri-Bharatpur", "मनेंद्रगढ़", false),
    ("Manendragarh-Chirmiri-Bharatpur", "चिरमिरी", false),
    ("Manendragarh-Chirmiri-Bharatpur", "एमसीबी", false),
    ("Manendragarh-Chirmiri-Bharatpur", "manendragarh", false),
    ("Manendragarh-Chirmiri-Bharatpur", "chirmiri", false),
    ("Manendragarh-Chirmiri-Bharatpur", "mcb", false),
    (
        "Mohla-Manpur-Ambagarh Chowki",
        "मोहला मानपुर अंबागढ़ चौकी",
        false,
    ),
    ("Mohla-Manpur-Ambagarh Chowki", "मोहला", false),
    ("Mohla-Manpur-Ambagarh Chowki", "मानपुर", true),
    ("Mohla-Manpur-Ambagarh Chowki", "अंबागढ़ चौकी", false),
    ("Mohla-Manpur-Ambagarh Chowki", "एमएमएसी", false),
    ("Mohla-Manpur-Ambagarh Chowki", "mohla", false),
    ("Mohla-Manpur-Ambagarh Chowki", "mmac", false),
    ("Mungeli", "मुंगेली", false),
    ("Mungeli", "mungeli", false),
    ("Narayanpur", "नारायणपुर", true),
    ("Narayanpur", "narayanpur", true),
    ("Raigarh", "रायगढ़", false),
    ("Raigarh", "raigarh", false),
    ("Raipur", "रायपुर", false),
    ("Raipur", "नवा रायपुर", false),
    ("Raipur", "raipur", false),
    ("Raipur", "naya raipur", false),
    ("Rajnandgaon", "राजनांदगांव", false),
    ("Rajnandgaon", "राजनांदगाव", false),
    ("Rajnandgaon", "rajnandgaon", false),
    ("Sakti", "सक्ती", false),
    ("Sakti", "sakti", true),
    ("Sarangarh-Bilaigarh", "सारंगढ़ बिलाईगढ़", false),
    ("Sarangarh-Bilaigarh", "सारंगढ़", false),
    ("Sarangarh-Bilaigarh", "बिलाईगढ़", false),
    ("Sarangarh-Bilaigarh", "sarangarh", false),
    ("Sukma", "सुकमा", false),
    ("Sukma", "sukma", false),
    ("Surajpur", "सूरजपुर", true),
    ("Surajpur", "surajpur", true),
    ("Surguja", "सरगुजा", false),
    ("Surguja", "surguja", false),
    ("Surguja", "अंबिकापुर", false),
    ("Surguja", "ambikapur", false),
];

/// Headquarters (dateline) town of each district, by `en` name (Hindi, as press notes write it).
pub const HQ: &[(&str, &str)] = &[
    ("Balod", "बालोद"),
    ("Baloda Bazar", "बलौदाबाजार"),
    ("Balrampur", "बलरामपुर"),
    ("Bastar", "जगदलपुर"),
    ("Bemetara", "बेमेतरा"),
    ("Bijapur", "बीजापुर"),
    ("Bilaspur", "बिलासपुर"),
    ("Dantewada", "दंतेवाड़ा"),
    ("Dhamtari", "धमतरी"),
    ("Durg", "दुर्ग"),
    ("Gariaband", "गरियाबंद"),
    ("Gaurela-Pendra-Marwahi", "गौरेला"),
    ("Janjgir-Champa", "जांजगीर"),
    ("Jashpur", "जशपुरनगर"),
    ("Kabirdham", "कवर्धा"),
    ("Kanker", "कांकेर"),
    ("Khairagarh-Chhuikhadan-Gandai", "खैरागढ़"),
    ("Kondagaon", "कोण्डागांव"),
    ("Korba", "कोरबा"),
    ("Koriya", "बैकुंठपुर"),
    ("Mahasamund", "महासमुंद"),
    ("Manendragarh-Chirmiri-Bharatpur", "मनेन्द्रगढ़"),
    ("Mohla-Manpur-Ambagarh Chowki", "मोहला"),
    ("Mungeli", "मुंगेली"),
    ("Narayanpur", "नारायणपुर"),
    ("Raigarh", "रायगढ़"),
    ("Raipur", "रायपुर"),
    ("Rajnandgaon", "राजनांदगांव"),
    ("Sakti", "सक्ती"),
    ("Sarangarh-Bilaigarh", "सारंगढ़"),
    ("Sukma", "सुकमा"),
    ("Surajpur", "सूरजपुर"),
    ("Surguja", "अंबिकापुर"),
];

/// All 33 districts.
pub fn all() -> &'static [District] {
    &ALL
}

/// Look a district up by its English name (case-insensitive, `-`/space-insensitive).
pub fn by_en(name: &str) -> Option<&'static District> {
    let key = en_key(name);
    ALL.iter().find(|d| en_key(d.en) == key)
}

fn en_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Every known variant of a district's name (as written, not normalised), with its district.
pub fn alias_list() -> impl Iterator<Item = (&'static District, &'static str)> {
    ALIASES
        .iter()
        .filter_map(|(en, alias, _)| by_en(en).map(|d| (d, *alias)))
}

/// One normalised alias.
#[derive(Debug, Clone)]
pub struct Alias {
    pub district: &'static District,
    /// Normalised alias tokens.
    pub tokens: Vec<String>,
    /// Also names a place/word outside Chhattisgarh.
    pub ambiguous: bool,
}

/// Normalised alias index: first token → aliases starting with it (longest first).
pub struct AliasIndex {
    by_first: HashMap<String, Vec<Alias>>,
}

impl AliasIndex {
    /// Longest alias starting at token `i` of `toks`: returns (alias, token length).
    pub fn match_at(&self, toks: &[&str], i: usize) -> Option<(&Alias, usize)> {
        let first = toks.get(i)?;
        let list = self.by_first.get(*first)?;
        list.iter().find_map(|a| {
            let n = a.tokens.len();
            if i + n <= toks.len() && a.tokens.iter().zip(&toks[i..i + n]).all(|(x, y)| x == y) {
                Some((a, n))
            } else {
                None
            }
        })
    }
}

/// The shared alias index (built once).
pub fn aliases() -> &'static AliasIndex {
    static IDX: OnceLock<AliasIndex> = OnceLock::new();
    IDX.get_or_init(|| {
        let mut by_first: HashMap<String, Vec<Alias>> = HashMap::new();
        let mut add = |district: &'static District, raw: &str, ambiguous: bool| {
            let norm = normalize(raw);
            let tokens: Vec<String> = norm.split(' ').map(str::to_string).collect();
            if let Some(first) = tokens.first().cloned() {
                let list = by_first.entry(first).or_default();
                if !list.iter().any(|a| a.tokens == tokens) {
                    list.push(Alias {
                        district,
                        tokens,
                        ambiguous,
                    });
                }
            }
        };
        for (en, alias, amb) in ALIASES {
            if let Some(dist) = by_en(en) {
                add(dist, alias, *amb);
            }
        }
        for dist in ALL.iter() {
            add(dist, dist.hi, false);
            add(dist, dist.en, false);
        }
        for list in by_first.values_mut() {
            list.sort_by_key(|a| std::cmp::Reverse(a.tokens.len()));
        }
        AliasIndex { by_first }
    })
}

/// Find every district alias in normalised text: (district, token index, ambiguous).
pub fn find_all(norm: &str) -> Vec<(&'static District, usize, bool)> {
    let toks: Vec<&str> = norm.split(' ').filter(|t| !t.is_empty()).collect();
    find_in_tokens(&toks)
}

/// Like [`find_all`] over pre-split tokens.
pub fn find_in_tokens(toks: &[&str]) -> Vec<(&'static District, usize, bool)> {
    let idx = aliases();
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some((a, n)) = idx.match_at(toks, i) {
            let prev = if i > 0 { toks[i - 1] } else { "" };
            // "दक्षिण कोरिया", "south korea": the country, not Koriya district.
            let country =
                a.district.en == "Koriya" && matches!(prev, "दक्षिण" | "उत्तर" | "south" | "north");
            if !country {
                out.push((a.district, i, a.ambiguous));
            }
            i += n;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_three_unique() {
        assert_eq!(all().len(), 33);
        let mut lgd: Vec<u16> = all().iter().map(|d| d.lgd).collect();
        lgd.sort_unstable();
        lgd.dedup();
        assert_eq!(lgd.len(), 33);
        assert_eq!(by_en("kanker").map(|d| d.lgd), Some(381));
        assert_eq!(
            by_en("khairagarh-chhuikhadan-gandai").map(|d| d.hi),
            Some("खैरागढ़-छुईखदान-गंडई")
        );
        assert!(by_en("Sindhudurg").is_none());
    }

    #[test]
    fn every_district_resolves_from_hindi_name() {
        for dist in all() {
            let found = find_all(&normalize(&format!("{} में बैठक", dist.hi)));
            assert_eq!(found.first().map(|f| f.0.en), Some(dist.en), "{}", dist.hi);
        }
    }

    #[test]
    fn every_district_resolves_from_its_hq_town() {
        assert_eq!(HQ.len(), 33);
        for dist in all() {
            let hq = HQ.iter().find(|(en, _)| *en == dist.en).map(|x| x.1);
            let hq = hq.unwrap_or_else(|| panic!("no HQ for {}", dist.en));
            let found = find_all(&normalize(&format!("{hq}, 12 मई 2022/")));
            assert_eq!(found.first().map(|f| f.0.en), Some(dist.en), "{hq}");
        }
    }

    #[test]
    fn hq_towns_resolve() {
        let cases = [
            ("जगदलपुर", "Bastar"),
            ("अम्बिकापुर", "Surguja"),
            ("कवर्धा", "Kabirdham"),
            ("भिलाई", "Durg"),
            ("बैकुंठपुर", "Koriya"),
            ("मोहला", "Mohla-Manpur-Ambagarh Chowki"),
            ("खैरागढ़", "Khairagarh-Chhuikhadan-Gandai"),
            ("गौरेला", "Gaurela-Pendra-Marwahi"),
            ("पेण्ड्रा", "Gaurela-Pendra-Marwahi"),
            ("सारंगढ़", "Sarangarh-Bilaigarh"),
            ("मनेन्द्रगढ़", "Manendragarh-Chirmiri-Bharatpur"),
            ("कोण्डागांव", "Kondagaon"),
            ("उत्तर बस्तर कांकेर", "Kanker"),
            ("दल्लीराजहरा", "Balod"),
            ("रामानुजगंज", "Balrampur"),
            ("बलौदा बाजार", "Baloda Bazar"),
            ("जांजगीर", "Janjgir-Champa"),
            ("सक्ती", "Sakti"),
            ("बेमेतरा", "Bemetara"),
            ("गरियाबन्द", "Gariaband"),
        ];
        for (town, en) in cases {
            let found = find_all(&normalize(town));
            assert_eq!(found.first().map(|f| f.0.en), Some(en), "{town}");
        }
    }

    #[test]
    fn durg_not_inside_sindhudurg() {
        assert!(find_all(&normalize("सिंधुदुर्ग में बैठक, Chitradurga and Sindhudurg")).is_empty());
        assert_eq!(find_all(&normalize("दुर्ग , मई 2022/"))[0].0.en, "Durg");
    }

    #[test]
    fn korea_country_is_not_koriya() {
        assert!(find_all(&normalize("दक्षिण कोरिया को निर्यात")).is_empty());
        assert!(find_all(&normalize("exports to South Korea and Korea")).is_empty());
        let f = find_all(&normalize("कोरिया जिले में"));
        assert_eq!(f[0].0.en, "Koriya");
        assert!(!f[0].2, "कोरिया जिले is the district");
        let f = find_all(&normalize("कोरिया में"));
        assert!(f[0].2, "bare कोरिया is ambiguous");
        assert_eq!(
            find_all(&normalize("Korea district collector"))[0].0.en,
            "Koriya"
        );
    }
}
