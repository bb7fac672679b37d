//! Delivery to Telegram (teloxide over rustls), or to stdout in dry-run.
//!
//! The sender keeps to Telegram's limits with governor rate limiters ([`Limits`]): the channel's
//! own (per second and per minute, from `[telegram]`), one per private chat (keyed by user id,
//! `per_chat_per_second`, 1 by default) and one over everything sent (`overall_per_second`, 30 by
//! default). It waits out a 429 for exactly the `retry_after` Telegram gives, follows
//! `migrate_to_chat_id` (at most twice per message), falls back to the post's plain text when
//! Telegram can't parse the HTML, and sorts failures: [`NotifyError::Failed`] (Telegram answered
//! with an error: retry later), [`NotifyError::Uncertain`] (no answer came: Telegram may have the
//! message), [`NotifyError::Blocked`] (the chat refuses the bot until the operator acts) and
//! [`NotifyError::Gone`] (the message to edit no longer exists). Every request is bounded by a
//! timeout, and by shutdown: a request still in flight [`SHUTDOWN_GRACE`] after shutdown is asked
//! for is abandoned as uncertain. The bot token never appears in a message or a log line: every
//! error text is passed through [`BotToken::redact`].
//!
//! Posts carry inline URL buttons and `link_preview_options` (`[telegram] link_preview`; the
//! preview shows the source, since the text itself has no link); posts in quiet hours go out with
//! `disable_notification`. The bot's replies go through the same limits.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use prometheus_client::metrics::counter::Counter;
use teloxide::payloads::{
    AnswerCallbackQuerySetters, EditMessageTextSetters, SendMessageSetters, SetMyCommandsSetters,
};
use teloxide::prelude::Requester;
use teloxide::types::{
    BotCommand, CallbackQueryId, ChatId, InlineKeyboardButton, InlineKeyboardMarkup,
    LinkPreviewOptions, MessageId, ParseMode, Recipient,
};
use teloxide::{ApiError, Bot, RequestError};

use crate::config::{LinkPreview, TelegramSettings};
use crate::core::article::Post;
use crate::core::render::{Button, Keyboard, escape_html, plain_text};
use crate::core::replies::Reply;
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
    limits: Limits,
    link_preview: LinkPreview,
    api_url: url::Url,
    /// Longest wait for Telegram's answer to one request (the shared HTTP client has none).
    timeout: Duration,
    /// Chats Telegram told us moved (group → supergroup).
    migrated: Mutex<HashMap<String, i64>>,
    /// Seconds spent waiting out Telegram's `retry_after` (the `/metrics` counter).
    retry_waited: Counter<f64, AtomicU64>,
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
                    limits: Limits::new(settings),
                    link_preview: settings.link_preview,
                    api_url: settings.api_url.clone(),
                    timeout,
                    migrated: Mutex::new(HashMap::new()),
                    retry_waited: Counter::default(),
                }))
            }
        }
    }

    /// The count of seconds waited on Telegram's `retry_after` (always zero in dry-run).
    pub fn retry_after_waited(&self) -> Counter<f64, AtomicU64> {
        match self {
            Self::Telegram(t) => t.retry_waited.clone(),
            Self::DryRun(_) => Counter::default(),
        }
    }

    pub fn is_dry_run(&self) -> bool {
        matches!(self, Self::DryRun(_))
    }

    /// Send one post. `post_id` identifies it for dry-run de-duplication of output; `silent`
    /// sends it without a notification sound (quiet hours).
    pub async fn send(
        &self,
        post_id: i64,
        chat: &str,
        post: &Post,
        silent: bool,
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
                        "--- dry-run: would post to {chat} (post #{post_id}){} ---\n{}{}\n",
                        if silent {
                            ", silently (quiet hours)"
                        } else {
                            ""
                        },
                        post.html,
                        show_buttons(&post.buttons)
                    );
                }
                Ok(Delivered::Printed)
            }
            Self::Telegram(t) => {
                let opts = Options {
                    silent,
                    preview: true,
                };
                t.send(chat, post, opts, shutdown)
                    .await
                    .map(|message_id| Delivered::Sent { message_id })
            }
        }
    }

    /// Replace the text and buttons of a sent message (to add "also at" links). "message is not
    /// modified" counts as done.
    pub async fn edit(
        &self,
        chat: &str,
        message_id: i64,
        post: &Post,
        shutdown: &Shutdown,
    ) -> Result<(), NotifyError> {
        match self {
            Self::DryRun(_) => {
                println!(
                    "--- dry-run: would edit message {message_id} in {chat} ---\n{}{}\n",
                    post.html,
                    show_buttons(&post.buttons)
                );
                Ok(())
            }
            Self::Telegram(t) => t.edit(chat, message_id, post, true, shutdown).await,
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
                    buttons: Vec::new(),
                };
                t.send(chat, &post, Options::default(), shutdown)
                    .await
                    .map(|_| ())
            }
        }
    }

    /// The bot's answer in a private chat (no link preview). Returns the message id.
    pub async fn reply(
        &self,
        chat: i64,
        reply: &Reply,
        shutdown: &Shutdown,
    ) -> Result<i64, NotifyError> {
        let post = reply_post(reply);
        match self {
            Self::DryRun(_) => {
                println!(
                    "--- dry-run: reply to {chat} ---\n{}{}\n",
                    post.html,
                    show_buttons(&post.buttons)
                );
                Ok(0)
            }
            Self::Telegram(t) => {
                t.send(&chat.to_string(), &post, Options::default(), shutdown)
                    .await
            }
        }
    }

    /// Show another page of a list in the message that holds it.
    pub async fn edit_reply(
        &self,
        chat: i64,
        message_id: i64,
        reply: &Reply,
        shutdown: &Shutdown,
    ) -> Result<(), NotifyError> {
        let post = reply_post(reply);
        match self {
            Self::DryRun(_) => Ok(()),
            Self::Telegram(t) => {
                t.edit(&chat.to_string(), message_id, &post, false, shutdown)
                    .await
            }
        }
    }

    /// Answer a callback query (a tap on an inline button), with an optional notice.
    pub async fn answer_callback(
        &self,
        id: &str,
        notice: Option<&str>,
        shutdown: &Shutdown,
    ) -> Result<(), NotifyError> {
        let Self::Telegram(t) = self else {
            return Ok(());
        };
        let what = "answering a button tap";
        let mut request = t.bot.answer_callback_query(CallbackQueryId(id.to_owned()));
        if let Some(n) = notice {
            request = request.text(n);
        }
        match t.bounded(async { request.await }, shutdown).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(t.failure(what, &e)),
            Err(i) => Err(t.interrupted(what, i)),
        }
    }

    /// Register the command menu for users whose language is `language` (`None`: everyone else).
    pub async fn set_commands(
        &self,
        language: Option<&str>,
        commands: &[(&str, &str)],
        shutdown: &Shutdown,
    ) -> Result<(), NotifyError> {
        let Self::Telegram(t) = self else {
            return Ok(());
        };
        let what = format!(
            "registering the command menu ({})",
            language.unwrap_or("default")
        );
        let list: Vec<BotCommand> = commands
            .iter()
            .map(|(c, d)| BotCommand::new(*c, *d))
            .collect();
        let mut request = t.bot.set_my_commands(list);
        if let Some(lang) = language {
            request = request.language_code(lang);
        }
        match t.bounded(async { request.await }, shutdown).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(t.failure(&what, &e)),
            Err(i) => Err(t.interrupted(&what, i)),
        }
    }

    /// A bot for long polling (`getUpdates`): same token and API, its own HTTP client whose
    /// timeout outlasts a long poll of `poll` (the shared client's request timeout would cut it).
    /// `None` in dry-run.
    pub fn polling_bot(&self, poll: Duration) -> Option<Bot> {
        let Self::Telegram(t) = self else {
            return None;
        };
        let client = teloxide::net::default_reqwest_settings()
            .timeout(poll + t.timeout)
            .build()
            .ok()?;
        Some(Bot::with_client(t.token.0.clone(), client).set_api_url(t.api_url.clone()))
    }

    /// Redact the token from a text (for logging errors of requests made elsewhere).
    pub fn redact(&self, text: &str) -> String {
        match self {
            Self::Telegram(t) => t.token.redact(text),
            Self::DryRun(_) => text.to_owned(),
        }
    }
}

/// A reply as a post: its plain-text fallback is what the HTML shows.
fn reply_post(reply: &Reply) -> Post {
    Post {
        html: reply.html.clone(),
        plain: plain_text(&reply.html),
        buttons: reply.keyboard.clone(),
    }
}

/// Buttons as dry-run prints them.
fn show_buttons(rows: &Keyboard) -> String {
    rows.iter()
        .flatten()
        .map(|b| match b {
            Button::Url { text, url } => format!("\n[{text}] → {url}"),
            Button::Callback { text, data } => format!("\n[{text}] ({data})"),
        })
        .collect()
}

/// The inline keyboard Telegram gets; a URL it would refuse is left out (the plain text keeps
/// the link).
fn markup(rows: &Keyboard) -> Option<InlineKeyboardMarkup> {
    let rows: Vec<Vec<InlineKeyboardButton>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|b| match b {
                    Button::Url { text, url } => url::Url::parse(url)
                        .ok()
                        .map(|u| InlineKeyboardButton::url(text.clone(), u)),
                    Button::Callback { text, data } => {
                        Some(InlineKeyboardButton::callback(text.clone(), data.clone()))
                    }
                })
                .collect::<Vec<_>>()
        })
        .filter(|row| !row.is_empty())
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

/// How one message is sent.
#[derive(Debug, Clone, Copy, Default)]
struct Options {
    /// Without a notification sound.
    silent: bool,
    /// With the link preview `[telegram] link_preview` asks for (else none).
    preview: bool,
}

/// A private chat: a user's id (positive; groups and channels are negative or `@names`).
fn private_chat(chat: &str) -> Option<i64> {
    chat.parse::<i64>().ok().filter(|id| *id > 0)
}

/// Telegram's limits: the channel's own rate (per second and per minute, from `[telegram]`),
/// one per private chat, and one over every message sent.
pub struct Limits<C: Clock = DefaultClock> {
    channel_second: Direct<C>,
    channel_minute: Direct<C>,
    per_chat: RateLimiter<i64, DefaultKeyedStateStore<i64>, C, NoOpMiddleware<C::Instant>>,
    overall: Direct<C>,
}

type Direct<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Private chats remembered by the per-chat limiter before idle ones are forgotten.
const PER_CHAT_KEYS: usize = 10_000;

impl Limits {
    pub fn new(settings: &TelegramSettings) -> Self {
        Self::with_clock(settings, &DefaultClock::default())
    }

    /// Wait until a message to `chat` may go.
    async fn admit(&self, chat: &str) {
        match private_chat(chat) {
            Some(user) => {
                if self.per_chat.len() > PER_CHAT_KEYS {
                    self.per_chat.retain_recent();
                }
                self.per_chat.until_key_ready(&user).await;
            }
            None => {
                self.channel_second.until_ready().await;
                self.channel_minute.until_ready().await;
            }
        }
        self.overall.until_ready().await;
    }
}

impl<C: Clock + Clone> Limits<C> {
    pub fn with_clock(t: &TelegramSettings, clock: &C) -> Self {
        Self {
            channel_second: RateLimiter::direct_with_clock(
                Quota::per_second(nonzero(t.per_second)),
                clock.clone(),
            ),
            channel_minute: RateLimiter::direct_with_clock(
                Quota::per_minute(nonzero(t.per_minute)).allow_burst(nonzero(t.per_minute)),
                clock.clone(),
            ),
            per_chat: RateLimiter::dashmap_with_clock(
                Quota::per_second(nonzero(t.per_chat_per_second)),
                clock.clone(),
            ),
            overall: RateLimiter::direct_with_clock(
                Quota::per_second(nonzero(t.overall_per_second)),
                clock.clone(),
            ),
        }
    }

    /// Whether a message to `chat` may go now (and count it): the decision [`Limits::admit`]
    /// waits for.
    pub fn check(&self, chat: &str) -> bool {
        let own = match private_chat(chat) {
            Some(user) => self.per_chat.check_key(&user).is_ok(),
            None => self.channel_second.check().is_ok() && self.channel_minute.check().is_ok(),
        };
        own && self.overall.check().is_ok()
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

    /// The link preview options of a message.
    fn preview(&self, post: &Post, opts: Options) -> LinkPreviewOptions {
        let mut o = LinkPreviewOptions {
            is_disabled: true,
            url: None,
            prefer_small_media: false,
            prefer_large_media: false,
            show_above_text: false,
        };
        let url = post.preview_url().filter(|_| opts.preview);
        match (self.link_preview, url) {
            (LinkPreview::Off, _) | (_, None) => {}
            (size, Some(u)) => {
                o.is_disabled = false;
                o.url = Some(u.to_owned());
                o.prefer_small_media = size == LinkPreview::Small;
                o.prefer_large_media = size == LinkPreview::Large;
            }
        }
        o
    }

    /// Send one message; returns Telegram's message id.
    async fn send(
        &self,
        chat: &str,
        post: &Post,
        opts: Options,
        shutdown: &Shutdown,
    ) -> Result<i64, NotifyError> {
        // Fallbacks: the plain text when Telegram cannot parse our HTML; the plain text cut to
        // SHORT_PLAIN UTF-16 units when it says the message is too long; no buttons when it
        // refuses one of them (the plain text spells the links out).
        let mut plain = false;
        let mut short = false;
        let mut buttons = true;
        let mut rounds = 0;
        let mut migrations = 0;
        let what = format!("sending to chat {chat}");
        let preview = self.preview(post, opts);
        loop {
            self.limits.admit(chat).await;
            let recipient = self.recipient(chat);
            let request = async {
                let mut request = if plain {
                    let text = if short {
                        short_plain(&post.plain)
                    } else {
                        post.plain.clone()
                    };
                    self.bot.send_message(recipient, text)
                } else {
                    self.bot
                        .send_message(recipient, post.html.as_str())
                        .parse_mode(ParseMode::Html)
                };
                request = request.link_preview_options(preview.clone());
                if let Some(m) = markup(&post.buttons).filter(|_| buttons) {
                    request = request.reply_markup(m);
                }
                if opts.silent {
                    request = request.disable_notification(true);
                }
                request.await
            };
            let result = self
                .bounded(request, shutdown)
                .await
                .map_err(|i| self.interrupted(&what, i))?;
            match result {
                Ok(msg) => return Ok(i64::from(msg.id.0)),
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
                    let waited = shutdown.sleep(wait).await;
                    self.retry_waited.inc_by(wait.as_secs_f64());
                    if !waited {
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
                Err(RequestError::Api(
                    ApiError::ButtonUrlInvalid | ApiError::ButtonDataInvalid,
                )) if buttons => {
                    tracing::warn!(
                        chat,
                        "Telegram refused a button; sending the plain text (with its links) without buttons"
                    );
                    plain = true;
                    buttons = false;
                }
                Err(RequestError::Api(api)) if is_blocking(&api) => {
                    let why = self.token.redact(&api.to_string());
                    return Err(NotifyError::Blocked(match private_chat(chat) {
                        Some(_) => format!(
                            "Telegram refused the message to user {chat}: {why} (the user blocked the bot or left Telegram)"
                        ),
                        None => format!(
                            "Telegram refused the post for chat {chat}: {why} — check that the bot is an administrator of the channel with the right to post, and that the token and channel are right"
                        ),
                    }));
                }
                Err(e) => return Err(self.failure(&what, &e)),
            }
        }
    }

    async fn edit(
        &self,
        chat: &str,
        message_id: i64,
        post: &Post,
        preview: bool,
        shutdown: &Shutdown,
    ) -> Result<(), NotifyError> {
        let what = format!("editing message {message_id} in chat {chat}");
        let id = i32::try_from(message_id)
            .map_err(|_| NotifyError::Gone(format!("{what}: message id out of range")))?;
        let opts = Options {
            silent: false,
            preview,
        };
        for _ in 0..MAX_RETRY_AFTER_ROUNDS {
            self.limits.admit(chat).await;
            let request = async {
                let mut request = self
                    .bot
                    .edit_message_text(self.recipient(chat), MessageId(id), post.html.as_str())
                    .parse_mode(ParseMode::Html)
                    .link_preview_options(self.preview(post, opts));
                if let Some(m) = markup(&post.buttons) {
                    request = request.reply_markup(m);
                }
                request.await
            };
            let res = self
                .bounded(request, shutdown)
                .await
                .map_err(|i| self.interrupted(&what, i))?;
            match res {
                Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => return Ok(()),
                Err(RequestError::RetryAfter(secs)) => {
                    let waited = shutdown.sleep(secs.duration()).await;
                    self.retry_waited.inc_by(secs.duration().as_secs_f64());
                    if !waited {
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

/// The plain text cut to [`SHORT_PLAIN`] UTF-16 units, keeping its last block (the links to
/// the article and the hashtags) whole.
fn short_plain(plain: &str) -> String {
    let (head, tail) = plain.rsplit_once("\n\n").unwrap_or(("", plain));
    let budget = SHORT_PLAIN.saturating_sub(tail.encode_utf16().count() + 2);
    format!("{}\n\n{tail}", shorten_by(head, budget, char::len_utf16))
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
    fn the_short_plain_text_keeps_the_links_and_hashtags_whole() {
        let tail = "पूरी खबर पढ़ें: https://dprcg.gov.in/post/1652345678/a\n#Durg #DEPC";
        let long = format!(
            "शीर्षक\n\n{}\n\n{tail}",
            "निर्यात संवर्धन समिति की बैठक। ".repeat(400)
        );
        let short = short_plain(&long);
        assert!(
            short.encode_utf16().count() <= SHORT_PLAIN,
            "{}",
            short.len()
        );
        assert!(short.ends_with(&format!("…\n\n{tail}")), "{short}");
    }

    fn settings(per_chat: u32, overall: u32) -> TelegramSettings {
        TelegramSettings {
            channel: "@c".into(),
            api_url: url::Url::parse("https://api.telegram.org").unwrap(),
            admin_chat: None,
            per_second: 1,
            per_minute: 20,
            per_chat_per_second: per_chat,
            overall_per_second: overall,
            link_preview: LinkPreview::Off,
            quiet_hours: None,
            admins: Vec::new(),
        }
    }

    #[test]
    fn private_chats_get_one_message_a_second_each_and_the_channel_keeps_its_own_limit() {
        let clock = governor::clock::FakeRelativeClock::default();
        let limits = Limits::with_clock(&settings(1, 30), &clock);
        assert!(limits.check("111"));
        assert!(
            !limits.check("111"),
            "a second message to the same user waits"
        );
        assert!(limits.check("222"), "another user is not held up");
        assert!(limits.check("@c"), "the channel has its own limit");
        assert!(!limits.check("@c"), "the channel's 1/s");
        clock.advance(Duration::from_secs(1));
        assert!(limits.check("111") && limits.check("@c"));
    }

    #[test]
    fn thirty_messages_a_second_overall() {
        let clock = governor::clock::FakeRelativeClock::default();
        let limits = Limits::with_clock(&settings(1, 30), &clock);
        for user in 1..=30 {
            assert!(limits.check(&user.to_string()), "user {user}");
        }
        assert!(!limits.check("31"), "the 31st message in a second waits");
        clock.advance(Duration::from_millis(34));
        assert!(limits.check("32"));
    }
}
