//! The bot in private chat, driven only through the fake Bot API: users' messages and button taps
//! come from `getUpdates`, and every reply is read back from the requests the bot made.

use std::time::Duration;

use niryat::core::render::{TELEGRAM_LIMIT, telegram_len};
use niryat::store::{ReportFilter, Target};
use serde_json::{Value, json};

use crate::helpers::*;

const ADMIN: i64 = 42;
/// A user whose Telegram is in Hindi.
const ASHA: i64 = 1001;
/// A user whose Telegram is in English.
const JOHN: i64 = 2002;
/// A user whose Telegram sends no language.
const RAVI: i64 = 3003;
const WAIT: Duration = Duration::from_secs(20);

async fn bot_app() -> TestApp {
    bot_app_with("").await
}

async fn bot_app_with(telegram: &str) -> TestApp {
    spawn_app_with(Options {
        bot: true,
        telegram: format!("admins = [{ADMIN}]\n{telegram}"),
        ..Options::default()
    })
    .await
}

fn lang_of(user: i64) -> Option<&'static str> {
    match user {
        ASHA => Some("hi"),
        RAVI => None,
        _ => Some("en"),
    }
}

/// Messages the bot sent to `user`'s private chat, in order.
async fn to_user(t: &TestApp, user: i64) -> Vec<Value> {
    t.sent_messages()
        .await
        .into_iter()
        .filter(|m| m["chat_id"] == json!(user))
        .collect()
}

fn text(m: &Value) -> &str {
    m["text"].as_str().unwrap_or_default()
}

/// A reply must be valid Telegram HTML within the limit.
fn check_html(m: &Value) {
    assert_eq!(m["parse_mode"], "HTML", "{m}");
    let n = telegram_len(text(m)).unwrap_or_else(|e| panic!("{e}: {}", text(m)));
    assert!(n > 0 && n <= TELEGRAM_LIMIT, "{n}");
}

/// `user` sends `msg`; returns the bot's answer (checked to be valid HTML).
async fn ask(t: &TestApp, user: i64, msg: &str) -> Value {
    let before = to_user(t, user).await.len();
    t.telegram.user_says(user, lang_of(user), msg);
    wait_until(&format!("the bot to answer {msg:?}"), WAIT, || async {
        to_user(t, user).await.len() > before
    })
    .await;
    let reply = to_user(t, user).await.remove(before);
    check_html(&reply);
    reply
}

/// `user` taps a button with `data` under message 777; returns the answer to the tap.
async fn tap(t: &TestApp, user: i64, data: &str) -> Value {
    let before = tg_requests(t, "answercallbackquery").await.len();
    t.telegram.user_taps(user, lang_of(user), 777, data);
    wait_until("the tap to be answered", WAIT, || async {
        tg_requests(t, "answercallbackquery").await.len() > before
    })
    .await;
    tg_requests(t, "answercallbackquery").await.remove(before)
}

/// The callback data of every inline button of a message.
fn callbacks(m: &Value) -> Vec<(String, String)> {
    m["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .filter_map(|b| {
            Some((
                b["text"].as_str()?.to_owned(),
                b["callback_data"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Serve `notes` (title, text) as new items of the DPR listing after a baseline, and run a pass.
async fn serve_notes(t: &TestApp, notes: &[(String, String)]) {
    t.site.set(
        "/news/district-news",
        Page::Html(listing_html(&[("/post/0/base".into(), "x".into())]).into_bytes()),
    );
    t.run_once().await;
    let mut rows = Vec::new();
    for (i, (title, body)) in notes.iter().enumerate() {
        let path = format!("/post/{}/note", 100 + i);
        t.site.set(
            &path,
            Page::Html(article_html(title, body, None).into_bytes()),
        );
        rows.insert(0, (path, title.clone()));
    }
    t.site.set(
        "/news/district-news",
        Page::Html(listing_html(&rows).into_bytes()),
    );
    let report = t.run_once().await;
    assert_eq!(report.sources[0].relevant, notes.len(), "{report:?}");
}

/// The DPR fixtures: after the baseline, three reports (Durg, Kanker, Bilaspur) are stored.
async fn dpr_reports(t: &TestApp) {
    t.baseline_then_new_reports().await;
    let r = t.run_once().await;
    assert_eq!(r.sources[0].relevant, 3, "{r:?}");
}

fn dpr_url(t: &TestApp, id: &str) -> String {
    t.site_url(dpr_article(id)["path"].as_str().unwrap())
}

const DURG: &str = "1652352665";
const KANKER: &str = "1661518844";
const BILASPUR: &str = "1663170129";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_and_help_speak_the_users_language_and_the_menu_is_registered_in_hindi_and_english() {
    let t = bot_app().await;
    let bot = t.start_bot();
    wait_until("the command menus", WAIT, || async {
        tg_requests(&t, "setmycommands").await.len() == 3
    })
    .await;
    let menus = tg_requests(&t, "setmycommands").await;
    let hi = menus
        .iter()
        .find(|m| m["language_code"] == "hi")
        .expect("a Hindi menu");
    let en = menus
        .iter()
        .find(|m| m["language_code"] == "en")
        .expect("an English menu");
    assert!(
        menus.iter().any(|m| m.get("language_code").is_none()),
        "a default menu"
    );
    assert_eq!(hi["commands"][0]["command"], "latest");
    assert_eq!(
        hi["commands"][0]["description"],
        "ताज़ा रिपोर्ट (जैसे /latest 10)"
    );
    assert_eq!(
        en["commands"][0]["description"],
        "The latest reports (e.g. /latest 10)"
    );
    assert_eq!(
        hi["commands"].as_array().unwrap().len(),
        en["commands"].as_array().unwrap().len()
    );

    let r = ask(&t, ASHA, "/start").await;
    assert!(
        text(&r).starts_with("नमस्ते! 🙏\n<b>निर्यात बैठकों की खबरें</b>"),
        "{}",
        text(&r)
    );
    assert!(text(&r).contains("/subscribe जिला या all") && !text(&r).contains("/pause"));
    let r = ask(&t, JOHN, "/start@niryat_test_bot").await;
    assert!(
        text(&r).starts_with("Hello! 🙏\n<b>Export meeting reports</b>"),
        "{}",
        text(&r)
    );
    let r = ask(&t, RAVI, "/help").await;
    assert!(
        text(&r).starts_with("<b>Export meeting reports</b>"),
        "no language: English: {}",
        text(&r)
    );
    let r = ask(&t, ASHA, "/help").await;
    assert!(text(&r).starts_with("<b>निर्यात बैठकों की खबरें</b>"));
    let r = ask(&t, ADMIN, "/help").await;
    assert!(text(&r).contains("/pause source — pause a source") && text(&r).contains("/resend id"));
    let r = ask(&t, ASHA, "/frobnicate").await;
    assert_eq!(text(&r), "यह आदेश समझ नहीं आया। सभी आदेश /help में हैं।");
    let r = ask(&t, JOHN, "hello bot").await;
    assert_eq!(text(&r), "I don't know that command. /help lists them all.");
    // Replies carry no link preview.
    assert_eq!(r["link_preview_options"], json!({"is_disabled": true}));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_lists_the_newest_reports_with_date_district_and_link() {
    let t = bot_app().await;
    dpr_reports(&t).await;
    let bot = t.start_bot();
    let r = ask(&t, JOHN, "/latest").await;
    let body = text(&r);
    assert!(
        body.starts_with("🆕 <b>The 3 latest reports</b>\n\n"),
        "{body}"
    );
    // Newest first: Bilaspur (14 Sep 2022), Kanker (26 Aug 2022), Durg (12 May 2022).
    let pos = |id: &str| {
        body.find(&format!("href=\"{}\"", dpr_url(&t, id)))
            .unwrap_or_else(|| panic!("{id}: {body}"))
    };
    assert!(
        pos(BILASPUR) < pos(KANKER) && pos(KANKER) < pos(DURG),
        "{body}"
    );
    assert!(
        body.contains(" · 🗓 14 September 2022 · 📍 Bilaspur\n<a href="),
        "{body}"
    );
    assert!(r["reply_markup"].is_null(), "one page: no buttons");
    let r = ask(&t, ASHA, "/latest 2").await;
    assert!(
        text(&r).starts_with("🆕 <b>ताज़ा 2 रिपोर्ट</b>"),
        "{}",
        text(&r)
    );
    assert!(text(&r).contains("🗓 14 सितंबर 2022 · 📍 बिलासपुर"));
    assert!(!text(&r).contains(&dpr_url(&t, DURG)));
    let r = ask(&t, JOHN, "/latest 50").await;
    assert!(
        text(&r).starts_with("🆕 <b>The 3 latest reports</b>"),
        "at most what there is"
    );
    let r = ask(&t, JOHN, "/latest many").await;
    assert_eq!(
        text(&r),
        "Write a number from 1 to 20 after /latest, e.g. /latest 10"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_is_hindi_aware_and_no_query_makes_it_fail() {
    let t = bot_app().await;
    let notes: Vec<(String, String)> = distinct_positives().into_iter().take(25).collect();
    let balod = notes
        .iter()
        .find(|(title, _)| title.contains("संवर्द्धन"))
        .expect("a note spelt संवर्द्धन")
        .0
        .clone();
    let korba = notes
        .iter()
        .find(|(title, _)| title.contains("awareness workshop"))
        .unwrap()
        .0
        .clone();
    serve_notes(&t, &notes).await;
    let bot = t.start_bot();

    // संवर्धन finds the note spelt संवर्द्धन.
    let r = ask(&t, ASHA, "/search संवर्धन 15 सितम्बर").await;
    assert!(
        text(&r).starts_with("🔎 <b>“संवर्धन 15 सितम्बर” के नतीजे</b> (1)"),
        "{}",
        text(&r)
    );
    assert!(text(&r).contains(&format!(">{balod}</a>")), "{}", text(&r));
    // English finds English reports.
    let r = ask(&t, JOHN, "/search Export Workshop").await;
    assert!(text(&r).contains(&format!(">{korba}</a>")), "{}", text(&r));
    // Nothing found: said so, with /district suggested.
    let r = ask(&t, JOHN, "/search xyzzy plugh").await;
    assert_eq!(
        text(&r),
        "No reports found for “xyzzy plugh”.\nTry /district to see all of one district's reports, e.g. /district Durg"
    );
    let r = ask(&t, ASHA, "/search").await;
    assert_eq!(text(&r), "क्या खोजें? उदाहरण: /search निर्यात कार्यशाला");
    // Any length, any script, FTS syntax, markup: always an answer, always valid HTML.
    let long = "निर्यात 輸出 تصدير \"OR\" * NEAR( ) AND - ^ <b>&amp; 😀 ".repeat(120);
    let hostile = [
        long.as_str(),
        "😀😀😀",
        "\" OR 1=1 --",
        "*",
        "NEAR(a b)",
        "\u{202E}\u{0000}x",
        "ক্ষ ஷ ⺀ Ω",
    ];
    for (i, q) in hostile.iter().enumerate() {
        // One user per query, so that the abuse limit stays out of it.
        let user = 5000 + i64::try_from(i).unwrap();
        for cmd in ["/search", "/district", "/subscribe", "/latest"] {
            let r = ask(&t, user, &format!("{cmd} {q}")).await;
            assert!(!text(&r).is_empty());
        }
    }
    let r = ask(&t, JOHN, "/search 😀😀😀").await;
    assert!(text(&r).contains("No reports found") && text(&r).contains("/district"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn district_finds_reports_by_any_name_and_suggests_close_misspellings() {
    let t = bot_app().await;
    dpr_reports(&t).await;
    let bot = t.start_bot();
    let durg = dpr_url(&t, DURG);
    for q in ["दुर्ग", "Durg", "durg district", "Bhilai", "भिलाई"] {
        let r = ask(&t, JOHN, &format!("/district {q}")).await;
        assert!(
            text(&r).starts_with("📍 <b>Durg: recent reports</b> (1)"),
            "{q}: {}",
            text(&r)
        );
        assert!(text(&r).contains(&format!("href=\"{durg}\"")), "{q}");
    }
    let r = ask(&t, ASHA, "/district कांकेर").await;
    assert!(
        text(&r).starts_with("📍 <b>कांकेर: हाल की रिपोर्ट</b> (1)"),
        "{}",
        text(&r)
    );
    let r = ask(&t, JOHN, "/district Raipur").await;
    assert_eq!(
        text(&r),
        "No reports from Raipur yet. To get the next one: /subscribe Raipur"
    );
    let r = ask(&t, JOHN, "/district Mumbai").await;
    assert!(
        text(&r).starts_with("No district called “Mumbai”."),
        "{}",
        text(&r)
    );

    // A misspelling: "did you mean" with a button per district.
    let r = ask(&t, JOHN, "/district Drug").await;
    assert_eq!(
        text(&r),
        "No district called “Drug”. Did you mean one of these?"
    );
    let buttons = callbacks(&r);
    assert_eq!(
        buttons[0],
        ("दुर्ग (Durg)".to_owned(), "d:378".to_owned()),
        "{buttons:?}"
    );
    let before = to_user(&t, JOHN).await.len();
    let answer = tap(&t, JOHN, "d:378").await;
    assert!(
        answer["callback_query_id"]
            .as_str()
            .unwrap()
            .starts_with("cb")
    );
    wait_until("the district's list", WAIT, || async {
        to_user(&t, JOHN).await.len() > before
    })
    .await;
    let list = to_user(&t, JOHN).await.remove(before);
    check_html(&list);
    assert!(text(&list).starts_with("📍 <b>Durg: recent reports</b> (1)"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_lists_are_paged_with_buttons_and_every_tap_is_answered() {
    let t = bot_app().await;
    let notes: Vec<(String, String)> = distinct_positives().into_iter().take(12).collect();
    serve_notes(&t, &notes).await;
    let bot = t.start_bot();
    let r = ask(&t, JOHN, "/latest 12").await;
    assert!(text(&r).starts_with("🆕 <b>The 12 latest reports</b>"));
    assert!(text(&r).ends_with("\n\nPage 1 of 3"), "{}", text(&r));
    assert_eq!(text(&r).matches("<a href=").count(), 5);
    let next = callbacks(&r);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].0, "Next ▶");
    let data = next[0].1.clone();
    assert!(data.starts_with("pg:") && data.ends_with(":1"), "{data}");

    let answer = tap(&t, JOHN, &data).await;
    assert!(
        answer.get("text").is_none(),
        "a page turn needs no notice: {answer}"
    );
    let edits = tg_requests(&t, "editmessagetext").await;
    assert_eq!(edits.len(), 1);
    let page2 = &edits[0];
    check_html(page2);
    assert_eq!(
        (page2["chat_id"].clone(), page2["message_id"].clone()),
        (json!(JOHN), json!(777))
    );
    assert!(text(page2).ends_with("\n\nPage 2 of 3"), "{}", text(page2));
    assert_eq!(text(page2).matches("<a href=").count(), 5);
    let nav: Vec<String> = callbacks(page2).into_iter().map(|b| b.0).collect();
    assert_eq!(nav, ["◀ Previous", "Next ▶"]);
    // No two pages show the same report.
    let first: Vec<&str> = text(&r).split("href=\"").skip(1).collect();
    assert!(
        text(page2)
            .split("href=\"")
            .skip(1)
            .all(|l| !first.contains(&l))
    );

    // A list the bot does not know (e.g. from before a database reset): a notice, no error.
    let answer = tap(&t, JOHN, "pg:99999:1").await;
    assert_eq!(answer["text"], "This list is gone; send the command again.");
    let answer = tap(&t, JOHN, "garbage").await;
    assert_eq!(answer["text"], "This list is gone; send the command again.");
    assert_eq!(tg_requests(&t, "editmessagetext").await.len(), 1);

    // /stats: reports per district and per month.
    let r = ask(&t, ASHA, "/stats").await;
    assert!(
        text(&r).starts_with("📊 <b>रिपोर्टों के आँकड़े</b>\n\n<b>जिलेवार</b>\n"),
        "{}",
        text(&r)
    );
    assert!(text(&r).contains("\n<b>महीनेवार</b>\n🗓 "), "{}", text(&r));
    let counted: i64 = text(&r)
        .lines()
        .filter(|l| l.starts_with("📍 "))
        .map(|l| l.rsplit(" — ").next().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(counted, 12);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_are_for_admins_only() {
    let t = bot_app().await;
    dpr_reports(&t).await;
    let bot = t.start_bot();
    let src = "dpr-district-news";

    // Anyone else: a polite refusal, and nothing happens.
    for cmd in [
        "/status",
        &format!("/pause {src}"),
        &format!("/resume {src}"),
        "/resend 1",
    ] {
        let r = ask(&t, JOHN, cmd).await;
        assert_eq!(
            text(&r),
            "Sorry, this command is only for the channel's admins.",
            "{cmd}"
        );
    }
    let r = ask(&t, ASHA, "/status").await;
    assert_eq!(text(&r), "माफ़ कीजिए, यह आदेश केवल चैनल के एडमिन के लिए है।");
    assert!(t.store().paused_sources().await.unwrap().is_empty());
    let channel_posts = || async {
        t.sent_messages()
            .await
            .into_iter()
            .filter(|m| m["chat_id"] == CHANNEL)
            .count()
    };
    assert_eq!(channel_posts().await, 3);

    // An admin: health, pause and resume, resend.
    let r = ask(&t, ADMIN, "/status").await;
    assert!(
        text(&r).starts_with(
            "🩺 <b>Source health</b>\n\n✅ <b>dpr-district-news</b> — ok; last read 20"
        ),
        "{}",
        text(&r)
    );
    let r = ask(&t, ADMIN, "/pause nope").await;
    assert_eq!(text(&r), "There is no source “nope”. /status lists them.");
    let r = ask(&t, ADMIN, &format!("/pause {src}")).await;
    assert!(
        text(&r).starts_with(&format!("⏸ {src} is paused")),
        "{}",
        text(&r)
    );
    let r = ask(&t, ADMIN, &format!("/pause {src}")).await;
    assert_eq!(text(&r), format!("{src} is already paused."));
    let r = ask(&t, ADMIN, "/status").await;
    assert!(
        text(&r).contains(&format!("⏸ <b>{src}</b> — paused (/resume {src})")),
        "{}",
        text(&r)
    );
    let listing_reads = t.requests_to("/news/district-news").await;
    let pass = t.run_once().await;
    assert!(
        pass.sources[0].paused && pass.sources[0].skipped,
        "{pass:?}"
    );
    assert_eq!(
        t.requests_to("/news/district-news").await,
        listing_reads,
        "a paused source is not read"
    );
    let r = ask(&t, ADMIN, &format!("/resume {src}")).await;
    assert!(text(&r).starts_with(&format!("▶️ {src} is resumed")));
    let pass = t.run_once().await;
    assert!(!pass.sources[0].paused && !pass.sources[0].skipped);
    assert!(t.requests_to("/news/district-news").await > listing_reads);

    // /resend: the report goes to the channel again, right away.
    let (reports, _) = t.store().reports(ReportFilter::All, 5, 0).await.unwrap();
    let durg = reports
        .iter()
        .find(|r| r.url == dpr_url(&t, DURG))
        .unwrap()
        .id;
    let r = ask(&t, ADMIN, &format!("/resend #{durg}")).await;
    assert_eq!(
        text(&r),
        format!("📤 Report #{durg} is queued for the channel and goes out with the next delivery.")
    );
    wait_until("the report to be posted again", WAIT, || async {
        channel_posts().await == 4
    })
    .await;
    let again = t
        .sent_messages()
        .await
        .into_iter()
        .rfind(|m| m["chat_id"] == CHANNEL)
        .unwrap();
    assert!(links_to(&again, &dpr_url(&t, DURG)), "{again}");
    assert!(text(&again).ends_with("#Durg #DEPC"));
    // Only reports can be resent: an article that was not one is refused like a missing one.
    let negative = t.store().posts().await.unwrap().len();
    let (all, _) = t.store().reports(ReportFilter::All, 50, 0).await.unwrap();
    let not_report = (1..=5).find(|id| !all.iter().any(|r| r.id == *id)).unwrap();
    let r = ask(&t, ADMIN, &format!("/resend {not_report}")).await;
    assert_eq!(text(&r), format!("There is no report #{not_report}."));
    assert_eq!(t.store().posts().await.unwrap().len(), negative);
    let r = ask(&t, ADMIN, "/resend 999").await;
    assert_eq!(text(&r), "There is no report #999.");
    let r = ask(&t, ADMIN, "/resend x").await;
    assert!(text(&r).starts_with("Write the report's id after /resend"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_and_pauses_survive_a_restart() {
    let mut t = bot_app().await;
    let bot = t.start_bot();
    let r = ask(&t, ASHA, "/subscribe दुर्ग").await;
    assert_eq!(
        text(&r),
        "🔔 हो गया: अब दुर्ग की हर नई रिपोर्ट आपको यहाँ निजी संदेश में मिलेगी। बंद करने के लिए /unsubscribe"
    );
    let r = ask(&t, ASHA, "/subscribe Durg").await;
    assert_eq!(text(&r), "आप पहले से दुर्ग की नई रिपोर्ट पा रहे हैं।");
    let r = ask(&t, ASHA, "/subscribe kawardha").await;
    assert!(text(&r).contains("कबीरधाम"));
    let r = ask(&t, JOHN, "/subscribe all").await;
    assert!(text(&r).starts_with("🔔 Done: every new report from all districts"));
    let r = ask(&t, JOHN, "/subscribe Raipr").await;
    assert_eq!(callbacks(&r)[0].1, "s:387", "did you mean Raipur");
    let r = ask(&t, ADMIN, "/pause dpr-district-news").await;
    assert!(text(&r).contains("is paused"));
    bot.stop().await;

    t.restart();
    let bot = t.start_bot();
    let r = ask(&t, ASHA, "/subscriptions").await;
    assert_eq!(text(&r), "🔔 <b>आपकी सदस्यताएँ</b>\n• दुर्ग\n• कबीरधाम");
    let r = ask(&t, JOHN, "/subscriptions").await;
    assert_eq!(text(&r), "🔔 <b>Your alerts</b>\n• all districts");
    let r = ask(&t, ADMIN, "/status").await;
    assert!(
        text(&r).contains("⏸ <b>dpr-district-news</b> — paused"),
        "{}",
        text(&r)
    );
    serve_dpr(&t.site, 1);
    let pass = t.run_once().await;
    assert!(
        pass.sources[0].paused,
        "still paused after the restart: {pass:?}"
    );
    assert_eq!(t.requests_to("/news/district-news").await, 0);

    // Unsubscribing works the same way.
    let r = ask(&t, ASHA, "/unsubscribe दुर्ग").await;
    assert_eq!(text(&r), "🔕 दुर्ग की सदस्यता बंद कर दी गई।");
    let r = ask(&t, ASHA, "/unsubscribe दुर्ग").await;
    assert_eq!(
        text(&r),
        "आपकी दुर्ग की कोई सदस्यता नहीं थी। /subscriptions देखें।"
    );
    let r = ask(&t, JOHN, "/unsubscribe all").await;
    assert_eq!(text(&r), "🔕 All your alerts are stopped.");
    let r = ask(&t, JOHN, "/subscriptions").await;
    assert!(text(&r).starts_with("You have no alerts."));
    bot.stop().await;
}

/// Private copies a user received (posts carry URL buttons; replies do not).
async fn copies_to(t: &TestApp, user: i64) -> Vec<Value> {
    to_user(t, user)
        .await
        .into_iter()
        .filter(|m| !button_urls(m).is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_gets_one_private_copy_of_each_new_report_from_their_district_only() {
    let mut t = bot_app().await;
    serve_dpr(&t.site, 1);
    t.run_once().await; // baseline
    let bot = t.start_bot();
    ask(&t, ASHA, "/subscribe दुर्ग").await;
    ask(&t, JOHN, "/subscribe Raipur").await;
    ask(&t, RAVI, "/subscribe all").await;
    serve_dpr(&t.site, 2);
    let pass = t.run_once().await;
    // Three channel posts, Durg's copy for Asha, three copies for Ravi.
    assert_eq!(pass.delivery.sent, 3 + 1 + 3, "{pass:?}");

    let durg_url = dpr_url(&t, DURG);
    let asha = copies_to(&t, ASHA).await;
    assert_eq!(asha.len(), 1, "{asha:#?}");
    assert!(links_to(&asha[0], &durg_url));
    assert!(
        text(&asha[0]).ends_with("\n\n#Durg #DEPC"),
        "{}",
        text(&asha[0])
    );
    let channel_durg = t
        .sent_messages()
        .await
        .into_iter()
        .find(|m| m["chat_id"] == CHANNEL && links_to(m, &durg_url))
        .unwrap();
    assert_eq!(
        text(&asha[0]),
        text(&channel_durg),
        "the same post as the channel's"
    );
    assert!(
        copies_to(&t, JOHN).await.is_empty(),
        "no Raipur report: nothing for John"
    );
    assert_eq!(copies_to(&t, RAVI).await.len(), 3);
    // Through the outbox, durably: one post per (report, chat), each sent once.
    let posts = t.store().posts().await.unwrap();
    let private: Vec<_> = posts
        .iter()
        .filter(|p| p.target != Target::Channel)
        .collect();
    assert_eq!(private.len(), 4);
    assert!(private.iter().all(|p| p.status == "sent"));

    // Further passes and a restart send nothing twice.
    t.run_once().await;
    bot.stop().await;
    t.restart();
    let pass = t.run_once().await;
    assert_eq!(pass.delivery.sent, 0);
    assert_eq!(copies_to(&t, ASHA).await.len(), 1);
    assert_eq!(copies_to(&t, RAVI).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_blocked_the_bot_is_unsubscribed_without_delaying_the_channel() {
    let t = bot_app_with("admin_chat = \"-100999\"").await;
    serve_dpr(&t.site, 1);
    t.run_once().await;
    let bot = t.start_bot();
    ask(&t, ASHA, "/subscribe all").await;
    ask(&t, RAVI, "/subscribe दुर्ग").await;
    bot.stop().await;
    t.telegram.refuse_chat(
        &ASHA.to_string(),
        tg_error(403, "Forbidden: bot was blocked by the user", None),
    );
    serve_dpr(&t.site, 2);
    let pass = t.run_once().await;
    let d = &pass.delivery;
    assert_eq!(
        (d.sent, d.unsubscribed, d.blocked),
        (3 + 1, 1, false),
        "{d:?}"
    );
    // Every channel post went out in this same pass, and Ravi still got his copy.
    let log = tg_log(&t).await;
    let sends: Vec<&Value> = log
        .iter()
        .filter(|(m, _)| m == "sendmessage")
        .map(|(_, b)| b)
        .collect();
    assert_eq!(sends.iter().filter(|b| b["chat_id"] == CHANNEL).count(), 3);
    // The channel goes first: no private copy (which waits on its subscriber's limit) is sent
    // before the channel's last post of the pass.
    let last_channel = sends.iter().rposition(|b| b["chat_id"] == CHANNEL).unwrap();
    let first_copy = sends
        .iter()
        .position(|b| b["chat_id"] != CHANNEL && !button_urls(b).is_empty())
        .unwrap();
    assert!(last_channel < first_copy, "{sends:#?}");
    assert_eq!(copies_to(&t, RAVI).await.len(), 1);
    // Asha was tried once, is unsubscribed, and her other copies are dropped, not retried.
    let asha_tries = sends
        .iter()
        .filter(|b| b["chat_id"] == json!(ASHA) && !button_urls(b).is_empty())
        .count();
    assert_eq!(asha_tries, 1);
    assert!(t.store().subscriptions(ASHA).await.unwrap().is_empty());
    let posts = t.store().posts().await.unwrap();
    let hers: Vec<_> = posts
        .iter()
        .filter(|p| p.target == Target::Chat(ASHA.to_string()))
        .collect();
    assert_eq!(hers.len(), 3);
    assert!(hers.iter().all(|p| p.status == "dropped"), "{hers:#?}");
    // A user's choice is not an operator alert.
    assert!(!sends.iter().any(|b| b["chat_id"] == "-100999"));
    let again = t.run_once().await;
    assert_eq!(again.delivery.sent + again.delivery.unsubscribed, 0);
    assert_eq!(
        tg_log(&t)
            .await
            .iter()
            .filter(|(m, b)| m == "sendmessage" && b["chat_id"] == json!(ASHA))
            .count(),
        1 + 1, // her /subscribe reply and the one refused copy
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_twenty_commands_a_minute_get_one_slow_down_notice_then_silence() {
    let t = bot_app().await;
    let bot = t.start_bot();
    for _ in 0..22 {
        t.telegram.user_says(JOHN, Some("en"), "/help");
    }
    wait_until("21 answers", WAIT, || async {
        to_user(&t, JOHN).await.len() >= 21
    })
    .await;
    // A tap after them is answered once the 22nd message was dealt with (one user's updates are
    // handled in order).
    let answer = tap(&t, JOHN, "pg:1:0").await;
    assert!(
        answer.get("text").is_none(),
        "ignored while slowed down: {answer}"
    );
    let replies = to_user(&t, JOHN).await;
    assert_eq!(replies.len(), 21, "20 answers and one notice");
    assert!(
        replies[..20]
            .iter()
            .all(|r| text(r).starts_with("<b>Export meeting reports</b>"))
    );
    assert_eq!(
        text(&replies[20]),
        "You are sending commands too fast. Please wait a minute and try again."
    );
    // Another user is answered as usual.
    let r = ask(&t, ASHA, "/help").await;
    assert!(text(&r).starts_with("<b>निर्यात"));
    bot.stop().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_bot_and_the_scheduler_together_and_refused_admin_commands_are_logged() {
    let mut t = bot_app().await;
    serve_dpr(&t.site, 1);
    t.release();
    let log = t.dir.path().join("niryat.log");
    let mut child = spawn_niryat(&["run"], &t.config_path, true, &log);
    t.telegram
        .user_says(JOHN, Some("en"), "/pause dpr-district-news");
    wait_until("the refusal", WAIT, || async {
        !to_user(&t, JOHN).await.is_empty()
    })
    .await;
    assert_eq!(
        text(&to_user(&t, JOHN).await[0]),
        "Sorry, this command is only for the channel's admins."
    );
    wait_until("the start-up pass", WAIT, || async {
        t.requests_to("/news/district-news").await > 0
    })
    .await;
    signal(&child, "TERM");
    let status = wait_exit(&mut child, Duration::from_secs(10)).await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(
        text.contains("admin command refused")
            && text.contains("user=2002")
            && text.contains("command=\"pause\""),
        "{text}"
    );
    assert!(
        text.contains("bot started") && text.contains("bot stopped"),
        "{text}"
    );
    assert!(text.contains("niryat::schedule: stopped"), "{text}");
    assert!(!text.contains("did not stop in time"), "{text}");
    assert!(!text.contains("TEST-niryat-fake-token"), "token in the log");
}
