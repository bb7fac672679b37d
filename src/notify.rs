//! Delivery to Telegram (teloxide over rustls), or to stdout in dry-run.
//!
//! The sender keeps to Telegram's limits with two governor rate limiters (per second and per
//! minute, from `[telegram]`), waits out a 429 for exactly the `retry_after` Telegram gives, follows
//! `migrate_to_chat_id`, falls back to plain text when Telegram can't parse the HTML, and sorts
//! failures into "retry later" and "blocked until the operator acts". The bot token never appears
//! in a message or a log line: every error text is passed through [`BotToken::redact`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use teloxide::payloads::{EditMessageTextSetters, SendMessageSetters};
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, MessageId, ParseMode, Recipient};
use teloxide::{ApiError, Bot, RequestError};

use crate::config::TelegramSettings;
use crate::core::render::escape_html;
use crate::core::summary::shorten_by;
use crate::shutdown::Shutdown;

/// Name of the environment variable holding the bot token.
pub const TOKEN_ENV: &str = "TELEGRAM_BOT_TOKEN";
/// Size (UTF-16 units) of the shortened plain-text fallback for "message is too long".
const SHORT_PLAIN: usize = 3000;
/// How many 429s in a row one send waits out before giving up until the next pass.
const MAX_RETRY_AFTER_ROUNDS: usize = 5;

/// The bot token. Its `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct BotToken(String);

impl BotToken {
    /// Read `TELEGRAM_BOT_TOKEN`; unset or blank means dry-run.
    pub fn from_env() -> Option<Self> {
        std::env::var(TOKEN_ENV)
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .map(Self)
    }

    /// For tests and embedding; production code uses [`BotToken::from_env`].
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// `text` with every occurrence of the token replaced.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_owned();
        }
        let mut out = text.replace(&self.0, "<redacted>");
        // reqwest may percent-encode the ':' in the token inside URLs.
        let encoded = self.0.replace(':', "%3A");
        if encoded != self.0 {
            out = out.replace(&encoded, "<redacted>");
        }
        out
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BotToken(<redacted>)")
    }
}

/// What happened to one post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Telegram accepted it.
    Sent { message_id: i64 },
    /// Dry-run: printed, not sent; the post stays pending.
    Printed,
}

/// A send that did not go through. The text is already redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Transient (network, 5xx, repeated 429, shutdown during a wait): retry with backoff.
    #[error("{0}")]
    Retry(String),
    /// The chat refuses the bot (not found, kicked, no rights, bad token): stop sending to it this
    /// pass; the post stays pending until the operator fixes it.
    #[error("{0}")]
    Blocked(String),
}

/// Sends posts to a chat.
pub enum Notifier {
    Telegram(Box<TelegramSender>),
    DryRun(DryRun),
}

/// Dry-run: print each message once per process.
#[derive(Default)]
pub struct DryRun {
    printed: Mutex<HashSet<i64>>,
}

pub struct TelegramSender {
    bot: Bot,
    token: BotToken,
    per_second: DefaultDirectRateLimiter,
    per_minute: DefaultDirectRateLimiter,
    /// Longest wait for Telegram's answer to one request (the shared HTTP client has none).
    timeout: Duration,
    /// Chats Telegram told us moved (group → supergroup).
    migrated: Mutex<HashMap<String, i64>>,
}

impl Notifier {
    /// Telegram when a token is given, dry-run otherwise. `timeout` bounds each request to the
    /// Bot API: a Telegram that never answers must not hold delivery forever.
    pub fn new(
        settings: &TelegramSettings,
        token: Option<BotToken>,
        client: reqwest::Client,
        timeout: Duration,
    ) -> Self {
        match token {
            None => Self::DryRun(DryRun::default()),
            Some(token) => {
                let bot =
                    Bot::with_client(token.0.clone(), client).set_api_url(settings.api_url.clone());
                Self::Telegram(Box::new(TelegramSender {
                    bot,
                    token,
                    per_second: RateLimiter::direct(Quota::per_second(nonzero(
                        settings.per_second,
                    ))),
                    per_minute: RateLimiter::direct(
                        Quota::per_minute(nonzero(settings.per_minute))
                            .allow_burst(nonzero(settings.per_minute)),
                    ),
                    timeout,
                    migrated: Mutex::new(HashMap::new()),
                }))
            }
        }
    }

    pub fn is_dry_run(&self) -> bool {
        matches!(self, Self::DryRun(_))
    }

    /// Send one post. `post_id` identifies it for dry-run de-duplication of output.
    pub async fn send(
        &self,
        post_id: i64,
        chat: &str,
        html: &str,
        shutdown: &Shutdown,
    ) -> Result<Delivered, NotifyError> {
        match self {
            Self::DryRun(d) => {
                let first = d
                    .printed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(post_id);
                if first {
                    println!("--- dry-run: would post to {chat} (post #{post_id}) ---\n{html}\n");
                }
                Ok(Delivered::Printed)
            }
            Self::Telegram(t) => t.send(chat, html, shutdown).await,
        }
    }
}

impl Notifier {
    /// Replace the text of a sent message (to add "also at" links). "message is not modified"
    /// counts as done.
    pub async fn edit(
        &self,
        chat: &str,
        message_id: i64,
        html: &str,
        shutdown: &Shutdown,
    ) -> Result<(), NotifyError> {
        match self {
            Self::DryRun(_) => {
                println!("--- dry-run: would edit message {message_id} in {chat} ---\n{html}\n");
                Ok(())
            }
            Self::Telegram(t) => t.edit(chat, message_id, html, shutdown).await,
        }
    }

    /// Send an operator alert (plain text) to `chat`. In dry-run it is only printed.
    pub async fn send_alert(
        &self,
        chat: &str,
        text: &str,
        shutdown: &Shutdown,
    ) -> Result<(), NotifyError> {
        match self {
            Self::DryRun(_) => {
                println!("--- dry-run: alert to {chat} ---\n{text}\n");
                Ok(())
            }
            Self::Telegram(t) => t.send(chat, &escape_html(text), shutdown).await.map(|_| ()),
        }
    }
}

impl TelegramSender {
    async fn send(
        &self,
        chat: &str,
        html: &str,
        shutdown: &Shutdown,
    ) -> Result<Delivered, NotifyError> {
        // Fallbacks: plain text when Telegram cannot parse our HTML; plain text cut to
        // SHORT_PLAIN UTF-16 units when it says the message is too long.
        let mut plain = false;
        let mut short = false;
        let mut rounds = 0;
        loop {
            self.per_second.until_ready().await;
            self.per_minute.until_ready().await;
            let recipient = self.recipient(chat);
            let request = async {
                if plain {
                    let text = if short {
                        short_plain(html)
                    } else {
                        html_to_plain(html)
                    };
                    self.bot.send_message(recipient, text).await
                } else {
                    self.bot
                        .send_message(recipient, html)
                        .parse_mode(ParseMode::Html)
                        .await
                }
            };
            let Ok(result) = tokio::time::timeout(self.timeout, request).await else {
                return Err(NotifyError::Retry(format!(
                    "sending to chat {chat} failed: no answer from Telegram within {} s (timeout)",
                    self.timeout.as_secs()
                )));
            };
            match result {
                Ok(msg) => {
                    return Ok(Delivered::Sent {
                        message_id: i64::from(msg.id.0),
                    });
                }
                Err(RequestError::RetryAfter(secs)) => {
                    rounds += 1;
                    let wait = secs.duration();
                    if rounds > MAX_RETRY_AFTER_ROUNDS {
                        return Err(NotifyError::Retry(format!(
                            "Telegram rate limit (429) {rounds} times in a row; last retry_after {} s",
                            wait.as_secs()
                        )));
                    }
                    tracing::warn!(
                        chat,
                        retry_after_secs = wait.as_secs(),
                        "Telegram rate limit (429): waiting as told"
                    );
                    if !shutdown.sleep(wait).await {
                        return Err(NotifyError::Retry(
                            "shutdown while waiting out a Telegram rate limit".into(),
                        ));
                    }
                }
                Err(RequestError::MigrateToChatId(new_id)) => {
                    tracing::warn!(
                        chat,
                        new_chat_id = new_id.0,
                        "chat migrated; using the new id (update telegram.channel in the config)"
                    );
                    self.migrated
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(chat.to_owned(), new_id.0);
                }
                Err(RequestError::Api(ApiError::CantParseEntities(why))) if !plain => {
                    tracing::warn!(chat, error = %self.token.redact(&why), "Telegram could not parse the HTML; sending as plain text");
                    plain = true;
                }
                Err(RequestError::Api(ApiError::MessageIsTooLong)) if !short => {
                    tracing::warn!(
                        chat,
                        "Telegram says the message is too long; sending a shortened plain-text version"
                    );
                    plain = true;
                    short = true;
                }
                Err(RequestError::Api(api)) if is_blocking(&api) => {
                    return Err(NotifyError::Blocked(format!(
                        "Telegram refused the post for chat {chat}: {} — check that the bot is an administrator of the channel with the right to post, and that the token and channel are right",
                        self.token.redact(&api.to_string())
                    )));
                }
                Err(e) => {
                    return Err(NotifyError::Retry(format!(
                        "sending to chat {chat} failed: {}",
                        self.token.redact(&error_chain(&e))
                    )));
                }
            }
        }
    }

    async fn edit(
        &self,
        chat: &str,
        message_id: i64,
        html: &str,
        shutdown: &Shutdown,
    ) -> Result<(), NotifyError> {
        let id = i32::try_from(message_id)
            .map_err(|_| NotifyError::Retry(format!("message id {message_id} out of range")))?;
        for _ in 0..MAX_RETRY_AFTER_ROUNDS {
            self.per_second.until_ready().await;
            self.per_minute.until_ready().await;
            let res = self
                .bot
                .edit_message_text(self.recipient(chat), MessageId(id), html)
                .parse_mode(ParseMode::Html)
                .await;
            match res {
                Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => return Ok(()),
                Err(RequestError::RetryAfter(secs)) => {
                    if !shutdown.sleep(secs.duration()).await {
                        break;
                    }
                }
                Err(e) => {
                    return Err(NotifyError::Retry(format!(
                        "editing message {message_id} in chat {chat} failed: {}",
                        self.token.redact(&error_chain(&e))
                    )));
                }
            }
        }
        Err(NotifyError::Retry(format!(
            "editing message {message_id} in chat {chat}: rate-limited, will retry"
        )))
    }

    fn recipient(&self, chat: &str) -> Recipient {
        if let Some(id) = self
            .migrated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(chat)
        {
            return Recipient::Id(ChatId(*id));
        }
        match chat.parse::<i64>() {
            Ok(id) => Recipient::Id(ChatId(id)),
            Err(_) => Recipient::ChannelUsername(chat.to_owned()),
        }
    }
}

fn is_blocking(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::ChatNotFound
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::BotBlocked
            | ApiError::NotEnoughRightsToPostMessages
            | ApiError::InvalidToken
            | ApiError::CantInitiateConversation
            | ApiError::UserDeactivated
    )
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Delay before retrying a post that failed `attempts` times: 1, 2, 4 … minutes, capped at 6 h,
/// with ±10 % jitter so a backlog does not retry in lockstep.
pub fn backoff(attempts: u32) -> Duration {
    use std::hash::BuildHasher;
    let base = 60u64.saturating_mul(1u64 << attempts.saturating_sub(1).min(10));
    let capped = base.min(6 * 3600);
    let spread = capped / 5 + 1;
    let jitter = std::collections::hash_map::RandomState::new().hash_one(attempts) % spread;
    Duration::from_secs(capped - capped / 10 + jitter)
}

/// The plain-text fallback cut to [`SHORT_PLAIN`] UTF-16 units, keeping its last line (the
/// link to the article) whole.
fn short_plain(html: &str) -> String {
    let plain = html_to_plain(html);
    let (head, last) = plain.rsplit_once('\n').unwrap_or(("", plain.as_str()));
    let budget = SHORT_PLAIN.saturating_sub(last.encode_utf16().count() + 1);
    format!("{}\n{last}", shorten_by(head, budget, char::len_utf16))
}

/// The text of a Telegram-HTML message without markup, for the "can't parse entities" fallback.
/// A link keeps its target after its words (`पूरी खबर: https://…`), so the post still leads to
/// the report.
pub fn html_to_plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut tag: Option<String> = None;
    let mut href: Option<String> = None;
    for c in html.chars() {
        match (&mut tag, c) {
            (None, '<') => tag = Some(String::new()),
            (Some(t), '>') => {
                let t = std::mem::take(t);
                tag = None;
                if let Some(target) = link_target(&t) {
                    href = Some(target);
                } else if t.trim().eq_ignore_ascii_case("/a")
                    && let Some(target) = href.take()
                {
                    out.push_str(": ");
                    out.push_str(&target);
                }
            }
            (Some(t), c) => t.push(c),
            (None, c) => out.push(c),
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The `href` of an `<a …>` tag's inside (`a href="…"`), still HTML-escaped.
fn link_target(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix("a ")?;
    let start = rest.find("href=\"")? + "href=\"".len();
    let value = rest.get(start..)?;
    let end = value.find('"')?;
    value.get(..end).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_redacted_everywhere() {
        let t = BotToken::new("123456:TEST-secret");
        assert_eq!(format!("{t:?}"), "BotToken(<redacted>)");
        let msg = "error sending request for url (http://127.0.0.1:9/bot123456:TEST-secret/SendMessage) and bot123456%3ATEST-secret";
        let r = t.redact(msg);
        assert!(!r.contains("TEST-secret"), "{r}");
    }

    #[test]
    fn plain_fallback_strips_tags_and_unescapes() {
        assert_eq!(
            html_to_plain(
                "<b>a &lt; b &amp; c</b>\n<a href=\"https://x.in/?a=1&amp;b=2\">पूरी खबर</a>"
            ),
            "a < b & c\nपूरी खबर: https://x.in/?a=1&b=2"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b1 = backoff(1).as_secs();
        let b3 = backoff(3).as_secs();
        assert!((54..=72).contains(&b1), "{b1}");
        assert!((216..=288).contains(&b3), "{b3}");
        assert!(backoff(30).as_secs() <= 6 * 3600 + 6 * 3600 / 5);
    }
}
