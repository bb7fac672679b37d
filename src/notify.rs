//! Delivery to Telegram (teloxide over rustls), or to stdout in dry-run.
//!
//! The sender keeps to Telegram's limits with two governor rate limiters (per second and per
//! minute, from `[telegram]`), waits out a 429 for exactly the `retry_after` Telegram gives, follows
//! `migrate_to_chat_id` (at most twice per message), falls back to the post's plain text when
//! Telegram can't parse the HTML, and sorts failures: [`NotifyError::Failed`] (Telegram answered
//! with an error: retry later), [`NotifyError::Uncertain`] (no answer came: Telegram may have the
//! message), [`NotifyError::Blocked`] (the chat refuses the bot until the operator acts) and
//! [`NotifyError::Gone`] (the message to edit no longer exists). Every request is bounded by a
//! timeout, and by shutdown: a request still in flight [`SHUTDOWN_GRACE`] after shutdown is asked
//! for is abandoned as uncertain. The bot token never appears in a message or a log line: every
//! error text is passed through [`BotToken::redact`].

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
use crate::core::article::Post;
use crate::core::render::escape_html;
use crate::core::summary::shorten_by;
use crate::shutdown::Shutdown;

/// Name of the environment variable holding the bot token.
pub const TOKEN_ENV: &str = "TELEGRAM_BOT_TOKEN";
/// Size (UTF-16 units) of the shortened plain-text fallback for "message is too long".
const SHORT_PLAIN: usize = 3000;
/// How many 429s in a row one send waits out before giving up until the next pass.
const MAX_RETRY_AFTER_ROUNDS: usize = 5;
/// How many chat migrations one send follows.
const MAX_MIGRATIONS: usize = 2;
/// How long a request already in flight may still take once shutdown is asked for. With the
/// other steps of a shutdown this keeps it well inside Docker's 10 s.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

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

/// A request that did not go through. The text is already redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Telegram answered with an error (5xx, repeated 429, a refused connection): not sent; retry
    /// with backoff.
    #[error("{0}")]
    Failed(String),
    /// No answer came (timeout, connection lost after the request left, shutdown mid-request):
    /// Telegram may have the message. Retried with backoff, so it may appear twice.
    #[error("{0}")]
    Uncertain(String),
    /// The chat refuses the bot (not found, kicked, no rights, bad token): stop sending to that
    /// chat this pass; the post stays queued until the operator fixes it.
    #[error("{0}")]
    Blocked(String),
    /// The message to edit is gone or can no longer be edited: permanent.
    #[error("{0}")]
    Gone(String),
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
    /// The token it sends with (`None` in dry-run): a reloaded app keeps it.
    pub fn token(&self) -> Option<BotToken> {
        match self {
            Self::Telegram(t) => Some(t.token.clone()),
            Self::DryRun(_) => None,
        }
    }

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
        post: &Post,
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
                    println!(
                        "--- dry-run: would post to {chat} (post #{post_id}) ---\n{}\n",
                        post.html
                    );
                }
                Ok(Delivered::Printed)
            }
            Self::Telegram(t) => t.send(chat, post, shutdown).await,
        }
    }

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
            Self::Telegram(t) => {
                let post = Post {
                    html: escape_html(text),
                    plain: text.to_owned(),
                };
                t.send(chat, &post, shutdown).await.map(|_| ())
            }
        }
    }
}

/// How a request ended when it did not return.
enum Interrupted {
    Timeout,
    Shutdown,
}

impl TelegramSender {
    /// Run one Bot API request within the timeout; once shutdown is asked for, give it at most
    /// [`SHUTDOWN_GRACE`] more.
    async fn bounded<T>(
        &self,
        request: impl std::future::Future<Output = T>,
        shutdown: &Shutdown,
    ) -> Result<T, Interrupted> {
        let request = tokio::time::timeout(self.timeout, request);
        tokio::pin!(request);
        tokio::select! {
            r = &mut request => return r.map_err(|_| Interrupted::Timeout),
            () = shutdown.wait() => {}
        }
        match tokio::time::timeout(SHUTDOWN_GRACE, request).await {
            Ok(r) => r.map_err(|_| Interrupted::Timeout),
            Err(_) => Err(Interrupted::Shutdown),
        }
    }

    fn interrupted(&self, what: &str, i: Interrupted) -> NotifyError {
        NotifyError::Uncertain(match i {
            Interrupted::Timeout => format!(
                "{what}: no answer from Telegram within {} s (timeout); Telegram may have it",
                self.timeout.as_secs()
            ),
            Interrupted::Shutdown => {
                format!(
                    "{what}: shutdown while waiting for Telegram's answer; Telegram may have it"
                )
            }
        })
    }

    /// Sort a failed request: an answer with an error, or no answer.
    fn failure(&self, what: &str, e: &RequestError) -> NotifyError {
        let text = format!(
            "{what} failed: {}",
            self.token.redact(&crate::errors::chain(e))
        );
        match e {
            // The connection was refused or never made: the request cannot have arrived.
            RequestError::Network(n) if n.is_connect() || n.is_builder() => {
                NotifyError::Failed(text)
            }
            RequestError::Network(_) | RequestError::Io(_) => NotifyError::Uncertain(text),
            _ => NotifyError::Failed(text),
        }
    }

    async fn send(
        &self,
        chat: &str,
        post: &Post,
        shutdown: &Shutdown,
    ) -> Result<Delivered, NotifyError> {
        // Fallbacks: the plain text when Telegram cannot parse our HTML; the plain text cut to
        // SHORT_PLAIN UTF-16 units when it says the message is too long.
        let mut plain = false;
        let mut short = false;
        let mut rounds = 0;
        let mut migrations = 0;
        let what = format!("sending to chat {chat}");
        loop {
            self.per_second.until_ready().await;
            self.per_minute.until_ready().await;
            let recipient = self.recipient(chat);
            let request = async {
                if plain {
                    let text = if short {
                        short_plain(&post.plain)
                    } else {
                        post.plain.clone()
                    };
                    self.bot.send_message(recipient, text).await
                } else {
                    self.bot
                        .send_message(recipient, post.html.as_str())
                        .parse_mode(ParseMode::Html)
                        .await
                }
            };
            let result = self
                .bounded(request, shutdown)
                .await
                .map_err(|i| self.interrupted(&what, i))?;
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
                        return Err(NotifyError::Failed(format!(
                            "{what}: Telegram rate limit (429) {rounds} times in a row; last retry_after {} s",
                            wait.as_secs()
                        )));
                    }
                    tracing::warn!(
                        chat,
                        retry_after_secs = wait.as_secs(),
                        "Telegram rate limit (429): waiting as told"
                    );
                    if !shutdown.sleep(wait).await {
                        return Err(NotifyError::Failed(format!(
                            "{what}: shutdown while waiting out a Telegram rate limit"
                        )));
                    }
                }
                Err(RequestError::MigrateToChatId(new_id)) => {
                    migrations += 1;
                    if migrations > MAX_MIGRATIONS {
                        return Err(NotifyError::Failed(format!(
                            "{what}: Telegram says the chat moved {migrations} times in a row (last to {}); set telegram.channel to the new id",
                            new_id.0
                        )));
                    }
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
                Err(e) => return Err(self.failure(&what, &e)),
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
        let what = format!("editing message {message_id} in chat {chat}");
        let id = i32::try_from(message_id)
            .map_err(|_| NotifyError::Gone(format!("{what}: message id out of range")))?;
        for _ in 0..MAX_RETRY_AFTER_ROUNDS {
            self.per_second.until_ready().await;
            self.per_minute.until_ready().await;
            let request = async {
                self.bot
                    .edit_message_text(self.recipient(chat), MessageId(id), html)
                    .parse_mode(ParseMode::Html)
                    .await
            };
            let res = self
                .bounded(request, shutdown)
                .await
                .map_err(|i| self.interrupted(&what, i))?;
            match res {
                Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => return Ok(()),
                Err(RequestError::RetryAfter(secs)) => {
                    if !shutdown.sleep(secs.duration()).await {
                        break;
                    }
                }
                Err(RequestError::Api(
                    api @ (ApiError::MessageToEditNotFound
                    | ApiError::MessageCantBeEdited
                    | ApiError::MessageIdInvalid),
                )) => {
                    return Err(NotifyError::Gone(format!(
                        "{what}: {}",
                        self.token.redact(&api.to_string())
                    )));
                }
                Err(RequestError::Api(api)) if is_blocking(&api) => {
                    return Err(NotifyError::Blocked(format!(
                        "{what}: Telegram refused: {}",
                        self.token.redact(&api.to_string())
                    )));
                }
                Err(e) => return Err(self.failure(&what, &e)),
            }
        }
        Err(NotifyError::Failed(format!(
            "{what}: rate-limited, will retry"
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
    if let ApiError::Unknown(text) = e {
        // Refusals teloxide has no variant for, e.g. "Forbidden: bot is not a member of the
        // channel chat", "Bad Request: need administrator rights in the channel chat",
        // "Bad Request: not enough rights to send text messages to the chat".
        let t = text.to_ascii_lowercase();
        return t.starts_with("forbidden:")
            || t.contains("rights to send")
            || t.contains("administrator rights")
            || t.contains("chat_write_forbidden");
    }
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

/// The plain text cut to [`SHORT_PLAIN`] UTF-16 units, keeping its last line (the link to the
/// article) whole.
fn short_plain(plain: &str) -> String {
    let (head, last) = plain.rsplit_once('\n').unwrap_or(("", plain));
    let budget = SHORT_PLAIN.saturating_sub(last.encode_utf16().count() + 1);
    format!("{}\n{last}", shorten_by(head, budget, char::len_utf16))
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
    fn the_short_plain_text_keeps_the_link_line_whole() {
        let link = "पूरी खबर: https://dprcg.gov.in/post/1652345678/a";
        let long = format!("{}\n{link}", "निर्यात संवर्धन समिति की बैठक। ".repeat(400));
        let short = short_plain(&long);
        assert!(
            short.encode_utf16().count() <= SHORT_PLAIN,
            "{}",
            short.len()
        );
        assert!(short.ends_with(&format!("\n{link}")), "{short}");
    }
}
