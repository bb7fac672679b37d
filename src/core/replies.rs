//! Every text the bot sends, in Hindi and English, as Telegram HTML with inline keyboards.
//!
//! A [`Reply`] is always valid Telegram HTML of at most [`TELEGRAM_LIMIT`] units: whatever a
//! user typed is escaped and shortened, report titles are shortened, and lists are cut into
//! pages ([`page`]) with ◀ / ▶ buttons that carry `pg:<list id>:<page>` as callback data.

use chrono::NaiveDate;

use super::dateline::PartialDate;
use super::districts::District;
use super::render::{Button, Keyboard, TELEGRAM_LIMIT, clean, escape_html, telegram_len};
use super::summary::shorten_by;
use super::text::Lang;

/// A message from the bot: HTML and its inline keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub html: String,
    pub keyboard: Keyboard,
}

impl Reply {
    /// A reply from HTML built here. Should it ever not be valid Telegram HTML within the
    /// limit, its text is sent escaped and shortened instead, so a reply never fails to send.
    fn new(html: String, keyboard: Keyboard) -> Self {
        let html = match telegram_len(&html) {
            Ok(n) if n <= TELEGRAM_LIMIT => html,
            _ => escape_html(&shorten_by(&html, TELEGRAM_LIMIT / 2, char::len_utf16)),
        };
        Self { html, keyboard }
    }

    fn text(html: String) -> Self {
        Self::new(html, Vec::new())
    }
}

/// One stored report in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    /// The article id (what `/resend` takes).
    pub id: i64,
    pub title: String,
    pub url: String,
    pub date: Option<NaiveDate>,
    pub district: Option<&'static District>,
}

/// One source's health, for `/status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLine {
    pub id: String,
    pub enabled: bool,
    pub paused: bool,
    pub consecutive_failures: u32,
    pub last_success_at: Option<String>,
    pub last_error: Option<String>,
    pub next_try_at: Option<String>,
}

/// Reports per page of a list.
pub const REPORTS_PER_PAGE: usize = 5;
/// Lines per page of `/stats`.
pub const STAT_LINES_PER_PAGE: usize = 30;
/// Sources per page of `/status`.
pub const SOURCES_PER_PAGE: usize = 8;

/// Longest title shown in a list (characters).
const LIST_TITLE: usize = 200;
/// Longest piece of user input echoed back (characters).
const ECHO: usize = 100;

fn hi_en(lang: Lang, hi: &str, en: &str) -> String {
    match lang {
        Lang::Hi => hi.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// User input as it may be shown: control characters dropped, shortened, escaped.
fn echo(s: &str) -> String {
    escape_html(&shorten_by(&clean(s), ECHO, |_| 1))
}

pub fn district_name(d: &District, lang: Lang) -> &'static str {
    match lang {
        Lang::Hi => d.hi,
        Lang::En => d.en,
    }
}

/// The command menu (`setMyCommands`): public commands with their description.
pub fn menu(lang: Lang) -> Vec<(&'static str, &'static str)> {
    match lang {
        Lang::Hi => vec![
            ("latest", "ताज़ा रिपोर्ट (जैसे /latest 10)"),
            ("search", "रिपोर्टों में खोजें"),
            ("district", "एक जिले की हाल की रिपोर्ट"),
            ("subscribe", "किसी जिले की नई रिपोर्ट निजी संदेश में पाएँ"),
            ("unsubscribe", "सदस्यता बंद करें"),
            ("subscriptions", "आपकी सदस्यताएँ"),
            ("stats", "जिलेवार और महीनेवार आँकड़े"),
            ("help", "मदद"),
        ],
        Lang::En => vec![
            ("latest", "The latest reports (e.g. /latest 10)"),
            ("search", "Search the reports"),
            ("district", "Recent reports of one district"),
            ("subscribe", "Get a district's new reports privately"),
            ("unsubscribe", "Stop an alert"),
            ("subscriptions", "Your alerts"),
            ("stats", "Reports per district and per month"),
            ("help", "Help"),
        ],
    }
}

/// `/start` (with a greeting) and `/help`; admins also see their commands.
pub fn welcome(lang: Lang, greeting: bool, admin: bool) -> Reply {
    let mut s = String::new();
    if greeting {
        s.push_str(&hi_en(lang, "नमस्ते! 🙏\n", "Hello! 🙏\n"));
    }
    s.push_str(&hi_en(
        lang,
        "<b>निर्यात बैठकों की खबरें</b>\nयह बॉट छत्तीसगढ़ के जिलों में निर्यात संवर्धन समिति की बैठकों, निर्यात कार्यशालाओं, कॉन्क्लेव और बायर-सेलर मीट की रिपोर्ट खोजने में, और चुने हुए जिलों की नई रिपोर्ट सीधे आपको भेजने में मदद करता है।\n\n\
/latest [n] — ताज़ा n रिपोर्ट (5, अधिकतम 20)\n\
/search शब्द — रिपोर्टों में खोजें, जैसे /search निर्यात कार्यशाला\n\
/district नाम — एक जिले की हाल की रिपोर्ट, जैसे /district दुर्ग\n\
/subscribe जिला या all — उस जिले (या सभी जिलों) की हर नई रिपोर्ट निजी संदेश में\n\
/unsubscribe जिला या all — सदस्यता बंद करें\n\
/subscriptions — आपकी सदस्यताएँ\n\
/stats — जिलेवार और महीनेवार आँकड़े\n\
/help — यह संदेश\n\n\
चैनल की हर पोस्ट के अंत में जिले और कार्यक्रम के हैशटैग होते हैं (जैसे #Durg #DEPC): किसी हैशटैग पर टैप करके उस जिले की सारी रिपोर्ट देखें।",
        "<b>Export meeting reports</b>\nThis bot finds reports of district export promotion committee meetings, export workshops, conclaves and buyer-seller meets in Chhattisgarh's districts, and sends you the new reports of the districts you choose.\n\n\
/latest [n] — the n latest reports (5, at most 20)\n\
/search words — search the reports, e.g. /search export workshop\n\
/district name — recent reports of one district, e.g. /district Durg\n\
/subscribe district or all — every new report of that district (or of all) in a private message\n\
/unsubscribe district or all — stop an alert\n\
/subscriptions — your alerts\n\
/stats — reports per district and per month\n\
/help — this message\n\n\
Every channel post ends with the district's and the event's hashtags (e.g. #Durg #DEPC): tap one to see all of that district's reports.",
    ));
    if admin {
        s.push_str(&hi_en(
            lang,
            "\n\n<b>एडमिन</b>\n/status — स्रोतों की स्थिति\n/pause स्रोत — स्रोत को रोकें\n/resume स्रोत — स्रोत फिर शुरू करें\n/resend क्रमांक — रिपोर्ट चैनल पर फिर भेजें",
            "\n\n<b>Admin</b>\n/status — source health\n/pause source — pause a source\n/resume source — resume a source\n/resend id — post a report to the channel again",
        ));
    }
    Reply::text(s)
}

/// A report as a list item: id, date, district, and the title linked to the source.
fn report_item(r: &ReportLine, lang: Lang) -> String {
    let mut head = vec![format!("<b>#{}</b>", r.id)];
    if let Some(d) = r
        .date
        .and_then(|d| PartialDate::from_naive(d).display(lang))
    {
        head.push(format!("🗓 {d}"));
    }
    if let Some(d) = r.district {
        head.push(format!("📍 {}", district_name(d, lang)));
    }
    let title = shorten_by(&clean(&r.title), LIST_TITLE, |_| 1);
    let title = if title.is_empty() {
        hi_en(lang, "(बिना शीर्षक)", "(untitled)")
    } else {
        title
    };
    let link = match url::Url::parse(&r.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && r.url.len() <= 2048 => format!(
            "<a href=\"{}\">{}</a>",
            escape_html(u.as_str()),
            escape_html(&title)
        ),
        _ => escape_html(&title),
    };
    format!("{}\n{link}", head.join(" · "))
}

/// What a paged list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListKind {
    Latest(usize),
    Search(String),
    District(&'static District),
    Stats,
    Status,
}

impl ListKind {
    /// How it is stored (`kind`, `arg`) so that its pages can be shown later.
    pub fn encode(&self) -> (&'static str, String) {
        match self {
            Self::Latest(n) => ("latest", n.to_string()),
            Self::Search(q) => ("search", q.clone()),
            Self::District(d) => ("district", d.en.to_owned()),
            Self::Stats => ("stats", String::new()),
            Self::Status => ("status", String::new()),
        }
    }

    pub fn decode(kind: &str, arg: &str) -> Option<Self> {
        Some(match kind {
            "latest" => Self::Latest(arg.parse().ok()?),
            "search" => Self::Search(arg.to_owned()),
            "district" => Self::District(super::districts::by_en(arg)?),
            "stats" => Self::Stats,
            "status" => Self::Status,
            _ => return None,
        })
    }

    pub fn per_page(&self) -> usize {
        match self {
            Self::Latest(_) | Self::Search(_) | Self::District(_) => REPORTS_PER_PAGE,
            Self::Stats => STAT_LINES_PER_PAGE,
            Self::Status => SOURCES_PER_PAGE,
        }
    }

    /// Admin lists are shown to admins only, on every page.
    pub fn admin_only(&self) -> bool {
        matches!(self, Self::Status)
    }
}

/// Number of pages for `total` items.
pub fn pages(total: usize, per_page: usize) -> usize {
    total.div_ceil(per_page.max(1)).max(1)
}

/// One page of a list: a header, the items, "page i of n" and ◀ / ▶ buttons.
pub fn page(
    lang: Lang,
    header: &str,
    items: &[String],
    page: usize,
    pages: usize,
    list_id: i64,
) -> Reply {
    let mut html = header.to_owned();
    for item in items {
        html.push_str("\n\n");
        html.push_str(item);
    }
    let mut keyboard = Vec::new();
    if pages > 1 {
        html.push_str(&match lang {
            Lang::Hi => format!("\n\nपृष्ठ {} / {pages}", page + 1),
            Lang::En => format!("\n\nPage {} of {pages}", page + 1),
        });
        let mut row = Vec::new();
        if page > 0 {
            row.push(Button::Callback {
                text: hi_en(lang, "◀ पिछला", "◀ Previous"),
                data: format!("pg:{list_id}:{}", page - 1),
            });
        }
        if page + 1 < pages {
            row.push(Button::Callback {
                text: hi_en(lang, "अगला ▶", "Next ▶"),
                data: format!("pg:{list_id}:{}", page + 1),
            });
        }
        keyboard.push(row);
    }
    Reply::new(html, keyboard)
}

/// A page of reports (`/latest`, `/search`, `/district`).
pub fn report_page(
    lang: Lang,
    kind: &ListKind,
    reports: &[ReportLine],
    page_no: usize,
    total: usize,
    list_id: i64,
) -> Reply {
    if total == 0 {
        return empty_list(lang, kind);
    }
    let header = match (kind, lang) {
        (ListKind::Latest(_), Lang::Hi) => format!("🆕 <b>ताज़ा {total} रिपोर्ट</b>"),
        (ListKind::Latest(_), Lang::En) => format!("🆕 <b>The {total} latest reports</b>"),
        (ListKind::Search(q), Lang::Hi) => {
            format!("🔎 <b>“{}” के नतीजे</b> ({total})", echo(q.as_str()))
        }
        (ListKind::Search(q), Lang::En) => {
            format!("🔎 <b>Results for “{}”</b> ({total})", echo(q.as_str()))
        }
        (ListKind::District(d), Lang::Hi) => format!("📍 <b>{}: हाल की रिपोर्ट</b> ({total})", d.hi),
        (ListKind::District(d), Lang::En) => {
            format!("📍 <b>{}: recent reports</b> ({total})", d.en)
        }
        (ListKind::Stats | ListKind::Status, _) => String::new(),
    };
    let items: Vec<String> = reports.iter().map(|r| report_item(r, lang)).collect();
    page(
        lang,
        &header,
        &items,
        page_no,
        pages(total, kind.per_page()),
        list_id,
    )
}

fn empty_list(lang: Lang, kind: &ListKind) -> Reply {
    Reply::text(match (kind, lang) {
        (ListKind::Search(q), Lang::Hi) => format!(
            "“{}” के लिए कोई रिपोर्ट नहीं मिली।\nकिसी जिले की सारी रिपोर्ट देखने के लिए /district आज़माएँ, जैसे /district दुर्ग",
            echo(q.as_str())
        ),
        (ListKind::Search(q), Lang::En) => format!(
            "No reports found for “{}”.\nTry /district to see all of one district's reports, e.g. /district Durg",
            echo(q.as_str())
        ),
        (ListKind::District(d), Lang::Hi) => format!(
            "{} की अभी कोई रिपोर्ट नहीं है। नई रिपोर्ट पाने के लिए: /subscribe {}",
            d.hi, d.hi
        ),
        (ListKind::District(d), Lang::En) => format!(
            "No reports from {} yet. To get the next one: /subscribe {}",
            d.en, d.en
        ),
        (_, Lang::Hi) => "अभी कोई रिपोर्ट नहीं है।".to_owned(),
        (_, Lang::En) => "No reports yet.".to_owned(),
    })
}

/// `/stats`: reports per district, then per month (`YYYY-MM`), as lines to page.
pub fn stats_lines(
    lang: Lang,
    by_district: &[(Option<&'static District>, i64)],
    by_month: &[(String, i64)],
) -> Vec<String> {
    let mut lines = Vec::new();
    lines.push(hi_en(lang, "<b>जिलेवार</b>", "<b>By district</b>"));
    for (d, n) in by_district {
        let name = d.map_or_else(
            || hi_en(lang, "(जिला अज्ञात)", "(no district)"),
            |d| district_name(d, lang).to_owned(),
        );
        lines.push(format!("📍 {name} — {n}"));
    }
    lines.push(hi_en(lang, "<b>महीनेवार</b>", "<b>By month</b>"));
    for (month, n) in by_month {
        let shown = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .ok()
            .and_then(|d| {
                PartialDate {
                    day: None,
                    ..PartialDate::from_naive(d)
                }
                .display(lang)
            })
            .unwrap_or_else(|| escape_html(month));
        lines.push(format!("🗓 {shown} — {n}"));
    }
    lines
}

/// One page of `/stats`.
pub fn stats_page(lang: Lang, lines: &[String], page_no: usize, list_id: i64) -> Reply {
    let per = STAT_LINES_PER_PAGE;
    let n_pages = pages(lines.len(), per);
    let page_no = page_no.min(n_pages - 1);
    let chunk = lines
        .iter()
        .skip(page_no * per)
        .take(per)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let header = hi_en(
        lang,
        "📊 <b>रिपोर्टों के आँकड़े</b>",
        "📊 <b>Report statistics</b>",
    );
    page(lang, &header, &[chunk], page_no, n_pages, list_id)
}

/// One source on `/status`.
fn source_item(s: &SourceLine, lang: Lang) -> String {
    let id = escape_html(&s.id);
    let detail = |text: &Option<String>| {
        text.as_deref()
            .map(|t| escape_html(&shorten_by(&clean(t), 200, |_| 1)))
    };
    if s.paused {
        return match lang {
            Lang::Hi => format!("⏸ <b>{id}</b> — रुका हुआ (/resume {id})"),
            Lang::En => format!("⏸ <b>{id}</b> — paused (/resume {id})"),
        };
    }
    if !s.enabled {
        return format!(
            "➖ <b>{id}</b> — {}",
            hi_en(
                lang,
                "बंद (config में enabled = false)",
                "disabled (enabled = false in the config)"
            )
        );
    }
    let last_ok = detail(&s.last_success_at).unwrap_or_else(|| hi_en(lang, "कभी नहीं", "never"));
    if s.consecutive_failures == 0 {
        return match lang {
            Lang::Hi => format!("✅ <b>{id}</b> — ठीक; आखिरी सफल पाठ {last_ok}"),
            Lang::En => format!("✅ <b>{id}</b> — ok; last read {last_ok}"),
        };
    }
    let error = detail(&s.last_error).unwrap_or_default();
    let next = detail(&s.next_try_at).unwrap_or_else(|| "-".to_owned());
    match lang {
        Lang::Hi => format!(
            "⚠️ <b>{id}</b> — लगातार {} बार विफल; आखिरी सफल {last_ok}; अगला प्रयास {next}\n{error}",
            s.consecutive_failures
        ),
        Lang::En => format!(
            "⚠️ <b>{id}</b> — failed {} time(s) in a row; last read {last_ok}; next try {next}\n{error}",
            s.consecutive_failures
        ),
    }
}

/// One page of `/status`.
pub fn status_page(lang: Lang, sources: &[SourceLine], page_no: usize, list_id: i64) -> Reply {
    let per = SOURCES_PER_PAGE;
    let n_pages = pages(sources.len(), per);
    let page_no = page_no.min(n_pages - 1);
    let items: Vec<String> = sources
        .iter()
        .skip(page_no * per)
        .take(per)
        .map(|s| source_item(s, lang))
        .collect();
    let header = hi_en(lang, "🩺 <b>स्रोतों की स्थिति</b>", "🩺 <b>Source health</b>");
    if sources.is_empty() {
        return Reply::text(hi_en(lang, "कोई स्रोत नहीं।", "No sources."));
    }
    page(lang, &header, &items, page_no, n_pages, list_id)
}

/// The callback data of a "did you mean" button: `d:` shows the district, `s:` subscribes,
/// `u:` unsubscribes; then the district's LGD code.
pub fn did_you_mean(
    lang: Lang,
    action: char,
    query: &str,
    suggestions: &[&'static District],
) -> Reply {
    let html = match lang {
        Lang::Hi => format!(
            "“{}” नाम का जिला नहीं मिला। क्या आपका मतलब इनमें से कोई है?",
            echo(query)
        ),
        Lang::En => format!(
            "No district called “{}”. Did you mean one of these?",
            echo(query)
        ),
    };
    let keyboard = suggestions
        .iter()
        .map(|d| {
            vec![Button::Callback {
                text: format!("{} ({})", d.hi, d.en),
                data: format!("{action}:{}", d.lgd),
            }]
        })
        .collect();
    Reply::new(html, keyboard)
}

pub fn unknown_district(lang: Lang, query: &str) -> Reply {
    Reply::text(match lang {
        Lang::Hi => format!(
            "“{}” नाम का कोई जिला नहीं मिला। छत्तीसगढ़ के 33 जिलों में से किसी का हिंदी या अंग्रेज़ी नाम लिखें, जैसे /district रायपुर",
            echo(query)
        ),
        Lang::En => format!(
            "No district called “{}”. Write the Hindi or English name of one of Chhattisgarh's 33 districts, e.g. /district Raipur",
            echo(query)
        ),
    })
}

/// How to use a command that needs an argument.
pub fn usage(lang: Lang, command: &str) -> Reply {
    let (hi, en) = match command {
        "search" => (
            "क्या खोजें? उदाहरण: /search निर्यात कार्यशाला",
            "What should I search for? Example: /search export workshop",
        ),
        "district" => (
            "किस जिले की रिपोर्ट? उदाहरण: /district दुर्ग",
            "Which district? Example: /district Durg",
        ),
        "latest" => (
            "/latest के बाद 1 से 20 तक की संख्या लिखें, जैसे /latest 10",
            "Write a number from 1 to 20 after /latest, e.g. /latest 10",
        ),
        "subscribe" => (
            "किस जिले की नई रिपोर्ट चाहिए? उदाहरण: /subscribe दुर्ग या /subscribe all",
            "Which district? Example: /subscribe Durg or /subscribe all",
        ),
        "unsubscribe" => (
            "कौन-सी सदस्यता बंद करें? उदाहरण: /unsubscribe दुर्ग या /unsubscribe all",
            "Which alert should I stop? Example: /unsubscribe Durg or /unsubscribe all",
        ),
        "pause" => (
            "उदाहरण: /pause dpr-district-news (स्रोत /status में)",
            "Example: /pause dpr-district-news (sources are on /status)",
        ),
        "resume" => (
            "उदाहरण: /resume dpr-district-news",
            "Example: /resume dpr-district-news",
        ),
        "resend" => (
            "/resend के बाद रिपोर्ट का क्रमांक लिखें, जैसे /resend 12 (क्रमांक सूचियों में #12 जैसा दिखता है)",
            "Write the report's id after /resend, e.g. /resend 12 (lists show it as #12)",
        ),
        _ => ("/help देखें।", "See /help."),
    };
    Reply::text(hi_en(lang, hi, en))
}

pub fn unknown_command(lang: Lang) -> Reply {
    Reply::text(hi_en(
        lang,
        "यह आदेश समझ नहीं आया। सभी आदेश /help में हैं।",
        "I don't know that command. /help lists them all.",
    ))
}

pub fn refused(lang: Lang) -> Reply {
    Reply::text(hi_en(
        lang,
        "माफ़ कीजिए, यह आदेश केवल चैनल के एडमिन के लिए है।",
        "Sorry, this command is only for the channel's admins.",
    ))
}

pub fn slow_down(lang: Lang) -> Reply {
    Reply::text(hi_en(
        lang,
        "आप बहुत जल्दी-जल्दी आदेश भेज रहे हैं। कृपया एक मिनट रुककर फिर कोशिश करें।",
        "You are sending commands too fast. Please wait a minute and try again.",
    ))
}

pub fn list_expired(lang: Lang) -> String {
    hi_en(
        lang,
        "यह सूची अब उपलब्ध नहीं है; आदेश फिर भेजें।",
        "This list is gone; send the command again.",
    )
}

fn scope_name(lang: Lang, district: Option<&District>) -> String {
    match district {
        Some(d) => district_name(d, lang).to_owned(),
        None => hi_en(lang, "सभी जिलों", "all districts"),
    }
}

/// `/subscribe`: `district` `None` means all; `new`: it was not there before.
pub fn subscribed(lang: Lang, district: Option<&District>, new: bool) -> Reply {
    let name = scope_name(lang, district);
    Reply::text(match (lang, new) {
        (Lang::Hi, true) => format!(
            "🔔 हो गया: अब {name} की हर नई रिपोर्ट आपको यहाँ निजी संदेश में मिलेगी। बंद करने के लिए /unsubscribe"
        ),
        (Lang::Hi, false) => format!("आप पहले से {name} की नई रिपोर्ट पा रहे हैं।"),
        (Lang::En, true) => format!(
            "🔔 Done: every new report from {name} will come to you here. To stop: /unsubscribe"
        ),
        (Lang::En, false) => format!("You already get the new reports from {name}."),
    })
}

/// `/unsubscribe`: `removed` alerts were stopped.
pub fn unsubscribed(lang: Lang, district: Option<&District>, removed: usize) -> Reply {
    Reply::text(match (lang, district, removed) {
        (Lang::Hi, None, 0) => "आपकी कोई सदस्यता नहीं थी।".to_owned(),
        (Lang::En, None, 0) => "You had no alerts.".to_owned(),
        (Lang::Hi, None, _) => "🔕 आपकी सभी सदस्यताएँ बंद कर दी गईं।".to_owned(),
        (Lang::En, None, _) => "🔕 All your alerts are stopped.".to_owned(),
        (Lang::Hi, Some(d), 0) => format!("आपकी {} की कोई सदस्यता नहीं थी। /subscriptions देखें।", d.hi),
        (Lang::En, Some(d), 0) => format!("You had no alert for {}. See /subscriptions.", d.en),
        (Lang::Hi, Some(d), _) => format!("🔕 {} की सदस्यता बंद कर दी गई।", d.hi),
        (Lang::En, Some(d), _) => format!("🔕 Your alert for {} is stopped.", d.en),
    })
}

/// `/subscriptions`: `None` in the list means all districts.
pub fn subscriptions(lang: Lang, list: &[Option<&'static District>]) -> Reply {
    if list.is_empty() {
        return Reply::text(hi_en(
            lang,
            "आपकी कोई सदस्यता नहीं है। शुरू करने के लिए: /subscribe दुर्ग या /subscribe all",
            "You have no alerts. To start one: /subscribe Durg or /subscribe all",
        ));
    }
    let mut s = hi_en(lang, "🔔 <b>आपकी सदस्यताएँ</b>", "🔔 <b>Your alerts</b>");
    for d in list {
        s.push_str("\n• ");
        s.push_str(&scope_name(lang, *d));
    }
    Reply::text(s)
}

/// `/pause` and `/resume`: what happened to source `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseOutcome {
    Paused,
    AlreadyPaused,
    Resumed,
    NotPaused,
    UnknownSource,
}

pub fn pause_outcome(lang: Lang, id: &str, outcome: PauseOutcome) -> Reply {
    let id = echo(id);
    Reply::text(match (outcome, lang) {
        (PauseOutcome::Paused, Lang::Hi) => format!(
            "⏸ {id} रोक दिया गया: न समय-सारणी पर पढ़ा जाएगा, न `once` में। फिर शुरू करने के लिए /resume {id}"
        ),
        (PauseOutcome::Paused, Lang::En) => format!(
            "⏸ {id} is paused: neither the schedule nor `once` reads it. To resume: /resume {id}"
        ),
        (PauseOutcome::AlreadyPaused, Lang::Hi) => format!("{id} पहले से रुका हुआ है।"),
        (PauseOutcome::AlreadyPaused, Lang::En) => format!("{id} is already paused."),
        (PauseOutcome::Resumed, Lang::Hi) => format!("▶️ {id} फिर शुरू: अगली बारी में पढ़ा जाएगा।"),
        (PauseOutcome::Resumed, Lang::En) => {
            format!("▶️ {id} is resumed: it is read at its next turn.")
        }
        (PauseOutcome::NotPaused, Lang::Hi) => format!("{id} रुका हुआ नहीं था।"),
        (PauseOutcome::NotPaused, Lang::En) => format!("{id} was not paused."),
        (PauseOutcome::UnknownSource, Lang::Hi) => {
            format!("“{id}” नाम का कोई स्रोत नहीं है। स्रोतों की सूची /status में है।")
        }
        (PauseOutcome::UnknownSource, Lang::En) => {
            format!("There is no source “{id}”. /status lists them.")
        }
    })
}

/// `/resend`: what happened to report `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendOutcome {
    /// Queued for the channel (again).
    Queued,
    /// No such report.
    NotFound,
}

pub fn resend_outcome(lang: Lang, id: i64, outcome: ResendOutcome) -> Reply {
    Reply::text(match (outcome, lang) {
        (ResendOutcome::Queued, Lang::Hi) => {
            format!("📤 रिपोर्ट #{id} चैनल के लिए कतार में है और अगली डिलीवरी में जाएगी।")
        }
        (ResendOutcome::Queued, Lang::En) => format!(
            "📤 Report #{id} is queued for the channel and goes out with the next delivery."
        ),
        (ResendOutcome::NotFound, Lang::Hi) => format!("रिपोर्ट #{id} नहीं मिली।"),
        (ResendOutcome::NotFound, Lang::En) => format!("There is no report #{id}."),
    })
}

/// A reply as a short notice on a button tap (plain text, at most 200 characters).
pub fn plain(r: &Reply) -> String {
    shorten_by(&super::render::plain_text(&r.html), 200, |_| 1)
}

/// A failure on our side (the database): the user is told, nothing is lost.
pub fn trouble(lang: Lang) -> Reply {
    Reply::text(hi_en(
        lang,
        "माफ़ कीजिए, अभी जवाब नहीं दे पा रहे। थोड़ी देर बाद फिर कोशिश करें।",
        "Sorry, I cannot answer right now. Please try again in a while.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::districts::by_en;

    fn valid(r: &Reply) {
        let n = telegram_len(&r.html).unwrap_or_else(|e| panic!("{e}: {}", r.html));
        assert!(n <= TELEGRAM_LIMIT && n > 0, "{n}");
        for b in r.keyboard.iter().flatten() {
            if let Button::Callback { data, .. } = b {
                assert!(data.len() <= 64, "{data}");
            }
        }
    }

    fn line(id: i64, title: &str) -> ReportLine {
        ReportLine {
            id,
            title: title.to_owned(),
            url: format!("https://dprcg.gov.in/post/{id}/x?a=1&b=2"),
            date: NaiveDate::from_ymd_opt(2022, 5, 12),
            district: by_en("Durg"),
        }
    }

    #[test]
    fn report_pages_link_each_title_and_page_with_buttons() {
        let reports: Vec<ReportLine> = (1..=5)
            .map(|i| line(i, &format!("बैठक <{i}> & more")))
            .collect();
        let r = report_page(Lang::Hi, &ListKind::Latest(12), &reports, 0, 12, 7);
        valid(&r);
        assert!(r.html.starts_with("🆕 <b>ताज़ा 12 रिपोर्ट</b>\n\n<b>#1</b> · 🗓 12 मई 2022 · 📍 दुर्ग\n<a href=\"https://dprcg.gov.in/post/1/x?a=1&amp;b=2\">बैठक &lt;1&gt; &amp; more</a>"), "{}", r.html);
        assert!(r.html.ends_with("पृष्ठ 1 / 3"), "{}", r.html);
        assert_eq!(
            r.keyboard,
            vec![vec![Button::Callback {
                text: "अगला ▶".into(),
                data: "pg:7:1".into()
            }]]
        );
        let last = report_page(Lang::En, &ListKind::Latest(12), &reports[..2], 2, 12, 7);
        valid(&last);
        assert!(last.html.ends_with("Page 3 of 3"));
        assert_eq!(
            last.keyboard,
            vec![vec![Button::Callback {
                text: "◀ Previous".into(),
                data: "pg:7:1".into()
            }]]
        );
        let one = report_page(Lang::En, &ListKind::Latest(5), &reports, 0, 5, 7);
        assert!(one.keyboard.is_empty() && !one.html.contains("Page"));
    }

    #[test]
    fn an_empty_search_says_so_and_suggests_district() {
        let r = report_page(Lang::Hi, &ListKind::Search("<b>क्ष".into()), &[], 0, 0, 1);
        valid(&r);
        assert!(
            r.html.contains("“&lt;b&gt;क्ष” के लिए कोई रिपोर्ट नहीं मिली"),
            "{}",
            r.html
        );
        assert!(r.html.contains("/district"));
        let r = report_page(Lang::En, &ListKind::Search("x".into()), &[], 0, 0, 1);
        assert!(r.html.contains("No reports found for “x”") && r.html.contains("/district"));
    }

    #[test]
    fn every_reply_is_valid_html_for_hostile_input() {
        let hostile = [
            "<script>&amp;</b>",
            "\u{202E}evil",
            &"क्ष".repeat(5000),
            "😀",
            "\"'",
        ];
        let durg = by_en("Durg").unwrap();
        for lang in [Lang::Hi, Lang::En] {
            valid(&welcome(lang, true, true));
            valid(&welcome(lang, false, false));
            for h in hostile {
                valid(&report_page(
                    lang,
                    &ListKind::Search(h.to_owned()),
                    &[line(1, h)],
                    0,
                    1,
                    1,
                ));
                valid(&report_page(
                    lang,
                    &ListKind::Search(h.to_owned()),
                    &[],
                    0,
                    0,
                    1,
                ));
                valid(&did_you_mean(lang, 'd', h, &[durg]));
                valid(&unknown_district(lang, h));
                valid(&pause_outcome(lang, h, PauseOutcome::UnknownSource));
                let src = SourceLine {
                    id: h.to_owned(),
                    enabled: true,
                    paused: false,
                    consecutive_failures: 3,
                    last_success_at: None,
                    last_error: Some(h.to_owned()),
                    next_try_at: Some(h.to_owned()),
                };
                valid(&status_page(lang, &vec![src; 20], 1, 1));
            }
            for cmd in [
                "search",
                "district",
                "latest",
                "subscribe",
                "unsubscribe",
                "pause",
                "resume",
                "resend",
                "x",
            ] {
                valid(&usage(lang, cmd));
            }
            for r in [
                refused(lang),
                slow_down(lang),
                unknown_command(lang),
                subscribed(lang, Some(durg), true),
                subscribed(lang, None, false),
                unsubscribed(lang, None, 2),
                unsubscribed(lang, Some(durg), 0),
                subscriptions(lang, &[Some(durg), None]),
                subscriptions(lang, &[]),
                resend_outcome(lang, 3, ResendOutcome::Queued),
                trouble(lang),
            ] {
                valid(&r);
            }
        }
    }

    #[test]
    fn stats_list_districts_then_months_and_page() {
        let by_district: Vec<(Option<&'static District>, i64)> = crate::core::districts::all()
            .iter()
            .map(|d| (Some(d), 2))
            .chain([(None, 1)])
            .collect();
        let by_month: Vec<(String, i64)> = (1..=12).map(|m| (format!("2022-{m:02}"), 3)).collect();
        let lines = stats_lines(Lang::Hi, &by_district, &by_month);
        assert_eq!(lines.len(), 1 + 34 + 1 + 12);
        assert_eq!(lines[1], "📍 बालोद — 2");
        assert_eq!(lines[36], "🗓 जनवरी 2022 — 3");
        let first = stats_page(Lang::Hi, &lines, 0, 4);
        valid(&first);
        assert_eq!(
            first.keyboard[0][0],
            Button::Callback {
                text: "अगला ▶".into(),
                data: "pg:4:1".into()
            }
        );
        let second = stats_page(Lang::Hi, &lines, 1, 4);
        valid(&second);
        assert!(second.html.contains("🗓 दिसंबर 2022 — 3"), "{}", second.html);
    }

    #[test]
    fn list_kinds_round_trip() {
        for k in [
            ListKind::Latest(7),
            ListKind::Search("निर्यात कार्यशाला".into()),
            ListKind::District(by_en("Janjgir-Champa").unwrap()),
            ListKind::Stats,
            ListKind::Status,
        ] {
            let (kind, arg) = k.encode();
            assert_eq!(ListKind::decode(kind, &arg), Some(k));
        }
        assert_eq!(ListKind::decode("nope", ""), None);
    }

    #[test]
    fn the_menu_has_the_same_commands_in_both_languages() {
        let hi: Vec<&str> = menu(Lang::Hi).iter().map(|c| c.0).collect();
        let en: Vec<&str> = menu(Lang::En).iter().map(|c| c.0).collect();
        assert_eq!(hi, en);
        assert!(hi.contains(&"latest") && hi.contains(&"subscribe"));
    }
}
