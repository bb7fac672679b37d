//! The bot's pure half: reading a command, finding a district from what a user typed (with
//! "did you mean" suggestions), the `/latest` count, and the per-user abuse limit. The replies
//! themselves are in [`super::replies`]; the dispatcher that calls these is `crate::bot`.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::districts::{self, District};
use super::text::Lang;
use super::text::{normalize, tokens};

/// The language of a user's replies: Hindi when Telegram says the user's language is Hindi,
/// English otherwise.
pub fn user_lang(language_code: Option<&str>) -> Lang {
    match language_code {
        Some(code)
            if code.eq_ignore_ascii_case("hi") || code.to_ascii_lowercase().starts_with("hi-") =>
        {
            Lang::Hi
        }
        _ => Lang::En,
    }
}

/// A message to the bot, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start,
    Help,
    /// `/latest [n]`: the raw argument.
    Latest(String),
    Search(String),
    District(String),
    Subscribe(String),
    Unsubscribe(String),
    Subscriptions,
    Stats,
    /// Admin: source health.
    Status,
    /// Admin: pause a source.
    Pause(String),
    /// Admin: resume a source.
    Resume(String),
    /// Admin: post a report to the channel again.
    Resend(String),
    /// A command the bot does not know (its name, without the slash).
    Unknown(String),
    /// Not a command.
    Text,
}

/// Longest command argument read; the rest is ignored (Telegram messages are at most 4096
/// characters anyway).
const MAX_ARG_CHARS: usize = 300;

impl Command {
    /// Read a message text: `/name[@bot] args`. The name is case-insensitive.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        let Some(rest) = text.strip_prefix('/') else {
            return Self::Text;
        };
        let (head, arg) = match rest.find(char::is_whitespace) {
            Some(i) => (&rest[..i], rest[i..].trim()),
            None => (rest, ""),
        };
        let name = head.split('@').next().unwrap_or_default().to_lowercase();
        let arg = super::text::prefix_chars(arg, MAX_ARG_CHARS).to_owned();
        match name.as_str() {
            "start" => Self::Start,
            "help" => Self::Help,
            "latest" => Self::Latest(arg),
            "search" => Self::Search(arg),
            "district" => Self::District(arg),
            "subscribe" => Self::Subscribe(arg),
            "unsubscribe" => Self::Unsubscribe(arg),
            "subscriptions" => Self::Subscriptions,
            "stats" => Self::Stats,
            "status" => Self::Status,
            "pause" => Self::Pause(arg),
            "resume" => Self::Resume(arg),
            "resend" => Self::Resend(arg),
            _ => Self::Unknown(name),
        }
    }

    /// Commands only `[telegram] admins` may use.
    pub fn admin_only(&self) -> bool {
        matches!(
            self,
            Self::Status | Self::Pause(_) | Self::Resume(_) | Self::Resend(_)
        )
    }

    /// The command's name, for logs.
    pub fn name(&self) -> &str {
        match self {
            Self::Start => "start",
            Self::Help => "help",
            Self::Latest(_) => "latest",
            Self::Search(_) => "search",
            Self::District(_) => "district",
            Self::Subscribe(_) => "subscribe",
            Self::Unsubscribe(_) => "unsubscribe",
            Self::Subscriptions => "subscriptions",
            Self::Stats => "stats",
            Self::Status => "status",
            Self::Pause(_) => "pause",
            Self::Resume(_) => "resume",
            Self::Resend(_) => "resend",
            Self::Unknown(n) => n,
            Self::Text => "(text)",
        }
    }
}

/// Reports `/latest` shows without an argument.
pub const LATEST_DEFAULT: usize = 5;
/// Most reports `/latest` shows.
pub const LATEST_MAX: usize = 20;

/// The `n` of `/latest [n]`: 5 without one, at most 20, at least 1; `None` when it is not a
/// number.
pub fn latest_count(arg: &str) -> Option<usize> {
    let arg = arg.trim();
    if arg.is_empty() {
        return Some(LATEST_DEFAULT);
    }
    if !arg.chars().all(char::is_numeric) {
        return None;
    }
    let digits = normalize(arg);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Any run of digits is a number: a huge one means "as many as allowed".
    let n = digits.parse::<usize>().unwrap_or(LATEST_MAX);
    Some(n.clamp(1, LATEST_MAX))
}

/// What a typed district name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistrictMatch {
    Found(&'static District),
    /// Close misspellings of these districts (best first).
    DidYouMean(Vec<&'static District>),
    Unknown,
}

/// Words users add around a district's name: "जिला दुर्ग", "Durg district".
const FILLER: &[&str] = &["जिला", "जिले", "जिल्हा", "district", "dist", "zila", "jila"];

/// Longest query compared for misspellings (no district name or variant is longer).
const MAX_DISTRICT_QUERY: usize = 64;
/// Most "did you mean" suggestions.
const MAX_SUGGESTIONS: usize = 3;

/// Find a district by its Hindi or English name or any known variant (HQ town, old spelling,
/// abbreviation), or suggest close misspellings.
pub fn find_district(query: &str) -> DistrictMatch {
    let norm = normalize(query);
    let toks: Vec<&str> = tokens(&norm).filter(|t| !FILLER.contains(t)).collect();
    if toks.is_empty() {
        return DistrictMatch::Unknown;
    }
    let idx = districts::aliases();
    if let Some((alias, n)) = idx.match_at(&toks, 0)
        && n == toks.len()
    {
        return DistrictMatch::Found(alias.district);
    }
    let joined = toks.join(" ");
    if let Some(d) = districts::by_en(&joined) {
        return DistrictMatch::Found(d);
    }
    if joined.chars().count() > MAX_DISTRICT_QUERY {
        return DistrictMatch::Unknown;
    }
    let q: Vec<char> = joined.chars().collect();
    let allowed = match q.len() {
        0..=2 => 0,
        3..=5 => 1,
        6..=10 => 2,
        _ => 3,
    };
    let mut best: Vec<(usize, &'static District)> = Vec::new();
    for (district, alias) in alias_strings() {
        let a: Vec<char> = alias.chars().collect();
        if a.len().abs_diff(q.len()) > allowed {
            continue;
        }
        let d = strsim::generic_damerau_levenshtein(&q, &a);
        if d <= allowed {
            match best.iter_mut().find(|(_, x)| x.lgd == district.lgd) {
                Some(entry) => entry.0 = entry.0.min(d),
                None => best.push((d, district)),
            }
        }
    }
    best.sort_by_key(|(d, district)| (*d, district.en));
    let suggestions: Vec<&'static District> = best
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, d)| d)
        .collect();
    if suggestions.is_empty() {
        DistrictMatch::Unknown
    } else {
        DistrictMatch::DidYouMean(suggestions)
    }
}

/// Every district's names and variants, normalised, with the district.
fn alias_strings() -> &'static [(&'static District, String)] {
    static ALL: std::sync::OnceLock<Vec<(&'static District, String)>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<(&'static District, String)> = Vec::new();
        for d in districts::all() {
            for name in [d.en, d.hi] {
                v.push((d, normalize(name)));
            }
        }
        for (d, alias) in districts::alias_list() {
            v.push((d, normalize(alias)));
        }
        v.sort_by(|a, b| (a.0.lgd, &a.1).cmp(&(b.0.lgd, &b.1)));
        v.dedup();
        v
    })
}

/// A district by its LGD code (what callback buttons carry).
pub fn district_by_code(code: &str) -> Option<&'static District> {
    let code: u16 = code.parse().ok()?;
    districts::all().iter().find(|d| d.lgd == code)
}

/// What `/subscribe` and `/unsubscribe` act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    District(&'static District),
}

impl Scope {
    /// As stored: the district's English name, or `*` for all.
    pub fn key(self) -> &'static str {
        match self {
            Self::All => "*",
            Self::District(d) => d.en,
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        if key == "*" {
            Some(Self::All)
        } else {
            districts::by_en(key).map(Self::District)
        }
    }
}

/// Read the argument of `/subscribe` or `/unsubscribe`: `all` (or सभी, सब), or a district.
pub fn scope_of(arg: &str) -> Result<Scope, DistrictMatch> {
    let norm = normalize(arg);
    if matches!(
        norm.as_str(),
        "all" | "सभि" | "सब" | "सभि जिले" | "all districts"
    ) || arg.trim() == "*"
    {
        return Ok(Scope::All);
    }
    match find_district(arg) {
        DistrictMatch::Found(d) => Ok(Scope::District(d)),
        other => Err(other),
    }
}

/// What to do with one user's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Answer,
    /// Over the limit: answer once with a slow-down notice.
    SlowDown,
    /// Still slowed down: ignore.
    Ignore,
}

/// The abuse limit: a user who sends more than `limit` commands within `window` is told once
/// to slow down, then ignored for `mute`. Time is passed in, so it is tested without waiting.
pub struct AbuseGuard {
    limit: usize,
    window: Duration,
    mute: Duration,
    users: HashMap<i64, UserLoad>,
}

#[derive(Default)]
struct UserLoad {
    recent: VecDeque<Instant>,
    muted_until: Option<Instant>,
}

/// Users remembered before idle ones are forgotten.
const GUARD_PRUNE_AT: usize = 10_000;

impl AbuseGuard {
    pub fn new(limit: usize, window: Duration, mute: Duration) -> Self {
        Self {
            limit,
            window,
            mute,
            users: HashMap::new(),
        }
    }

    /// The shipped limit: 20 commands a minute, then a minute of silence.
    pub fn standard() -> Self {
        Self::new(20, Duration::from_secs(60), Duration::from_secs(60))
    }

    /// Count a command from `user` at `now` and say what to do with it.
    pub fn check(&mut self, user: i64, now: Instant) -> Admission {
        if self.users.len() >= GUARD_PRUNE_AT {
            let (window, users) = (self.window, &mut self.users);
            users.retain(|_, u| {
                u.muted_until.is_some_and(|m| m > now)
                    || u.recent
                        .back()
                        .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let load = self.users.entry(user).or_default();
        if let Some(until) = load.muted_until {
            if now < until {
                return Admission::Ignore;
            }
            load.muted_until = None;
        }
        while load
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            load.recent.pop_front();
        }
        load.recent.push_back(now);
        if load.recent.len() > self.limit {
            load.recent.clear();
            load.muted_until = Some(now + self.mute);
            Admission::SlowDown
        } else {
            Admission::Answer
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read_with_their_arguments() {
        assert_eq!(Command::parse("/start"), Command::Start);
        assert_eq!(Command::parse("  /HELP@niryat_bot  "), Command::Help);
        assert_eq!(Command::parse("/latest 7"), Command::Latest("7".into()));
        assert_eq!(
            Command::parse("/search निर्यात   संवर्धन"),
            Command::Search("निर्यात   संवर्धन".into())
        );
        assert_eq!(
            Command::parse("/district@niryat_bot\nदुर्ग"),
            Command::District("दुर्ग".into())
        );
        assert_eq!(Command::parse("/pause dpr"), Command::Pause("dpr".into()));
        assert_eq!(
            Command::parse("/frobnicate x"),
            Command::Unknown("frobnicate".into())
        );
        assert_eq!(Command::parse("hello /start"), Command::Text);
        assert_eq!(Command::parse("/"), Command::Unknown(String::new()));
        assert!(Command::parse("/status").admin_only());
        assert!(Command::parse("/resend 3").admin_only());
        assert!(!Command::parse("/stats").admin_only());
        let long = format!("/search {}", "क".repeat(10_000));
        let Command::Search(arg) = Command::parse(&long) else {
            panic!("not a search");
        };
        assert_eq!(arg.chars().count(), MAX_ARG_CHARS);
    }

    #[test]
    fn the_language_is_hindi_only_for_hindi_users() {
        assert_eq!(user_lang(Some("hi")), Lang::Hi);
        assert_eq!(user_lang(Some("hi-IN")), Lang::Hi);
        assert_eq!(user_lang(Some("en")), Lang::En);
        assert_eq!(user_lang(Some("ru")), Lang::En);
        assert_eq!(user_lang(None), Lang::En);
    }

    #[test]
    fn latest_counts_default_to_five_and_stop_at_twenty() {
        assert_eq!(latest_count(""), Some(5));
        assert_eq!(latest_count("3"), Some(3));
        assert_eq!(latest_count("०७"), Some(7), "Devanagari digits");
        assert_eq!(latest_count("50"), Some(20));
        assert_eq!(latest_count("99999999999999999999999"), Some(20));
        assert_eq!(latest_count("0"), Some(1));
        assert_eq!(latest_count("five"), None);
        assert_eq!(latest_count("-3"), None);
    }

    #[test]
    fn districts_are_found_by_any_name_and_misspellings_get_suggestions() {
        let en = |q: &str| match find_district(q) {
            DistrictMatch::Found(d) => d.en,
            other => panic!("{q}: {other:?}"),
        };
        assert_eq!(en("दुर्ग"), "Durg");
        assert_eq!(en("Durg"), "Durg");
        assert_eq!(en("DURG district"), "Durg");
        assert_eq!(en("भिलाई"), "Durg");
        assert_eq!(en("जिला कबीरधाम"), "Kabirdham");
        assert_eq!(en("kawardha"), "Kabirdham");
        assert_eq!(en("Janjgir-Champa"), "Janjgir-Champa");
        assert_eq!(en("जांजगीर चाम्पा"), "Janjgir-Champa");
        assert_eq!(en("gaurela-pendra-marwahi"), "Gaurela-Pendra-Marwahi");
        assert_eq!(en("KCG"), "Khairagarh-Chhuikhadan-Gandai");
        let suggest = |q: &str| match find_district(q) {
            DistrictMatch::DidYouMean(v) => v.iter().map(|d| d.en).collect::<Vec<_>>(),
            other => panic!("{q}: {other:?}"),
        };
        assert_eq!(suggest("Drug")[0], "Durg");
        assert_eq!(suggest("raipr")[0], "Raipur");
        assert_eq!(suggest("Rajnandgoan")[0], "Rajnandgaon");
        assert_eq!(suggest("बिलसपुर")[0], "Bilaspur");
        assert!(suggest("Raigar").contains(&"Raigarh"));
        assert_eq!(find_district("Mumbai"), DistrictMatch::Unknown);
        assert_eq!(find_district(""), DistrictMatch::Unknown);
        assert_eq!(find_district("😀😀"), DistrictMatch::Unknown);
        assert_eq!(find_district(&"durg ".repeat(2000)), DistrictMatch::Unknown);
    }

    #[test]
    fn subscription_scopes() {
        assert_eq!(scope_of("all"), Ok(Scope::All));
        assert_eq!(scope_of("सभी"), Ok(Scope::All));
        let durg = districts::by_en("Durg").unwrap();
        assert_eq!(scope_of("दुर्ग"), Ok(Scope::District(durg)));
        assert!(matches!(
            scope_of("Drug"),
            Err(DistrictMatch::DidYouMean(_))
        ));
        assert_eq!(
            Scope::from_key(Scope::District(durg).key()),
            Some(Scope::District(durg))
        );
        assert_eq!(Scope::from_key("*"), Some(Scope::All));
        assert_eq!(district_by_code("378"), Some(durg));
        assert_eq!(district_by_code("x"), None);
    }

    #[test]
    fn more_than_twenty_commands_a_minute_get_one_notice_then_silence() {
        let mut g = AbuseGuard::standard();
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_millis(s);
        for i in 0..20 {
            assert_eq!(g.check(1, at(i * 100)), Admission::Answer, "command {i}");
        }
        assert_eq!(g.check(1, at(2_100)), Admission::SlowDown);
        assert_eq!(g.check(1, at(2_200)), Admission::Ignore);
        assert_eq!(
            g.check(1, at(61_000)),
            Admission::Ignore,
            "muted for a minute"
        );
        // Another user is not affected.
        assert_eq!(g.check(2, at(2_300)), Admission::Answer);
        // After the minute, the user is answered again.
        assert_eq!(g.check(1, at(62_200)), Admission::Answer);
        // Twenty a minute, spread out, never trip it.
        let mut g = AbuseGuard::standard();
        for i in 0..200 {
            assert_eq!(g.check(3, at(i * 3_000)), Admission::Answer, "{i}");
        }
    }
}
