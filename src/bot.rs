//! The bot in private chat: teloxide's dispatcher with long polling, in the daemon's process.
//!
//! [`start`] registers the command menu (`setMyCommands`, Hindi and English) and runs the
//! dispatcher; [`BotHandle::stop`] stops it through teloxide's `ShutdownToken` when the daemon
//! shuts down (the scheduler stops at the same time, see [`crate::schedule`]). Each message is
//! read as a command ([`crate::core::bot::Command`]) and answered with a reply from
//! [`crate::core::replies`], through the notifier, so replies keep to Telegram's limits. Lists
//! longer than a page are remembered (`bot_lists`) and paged with ◀ / ▶ buttons; every button
//! tap is answered. A user who sends more than 20 commands a minute gets one slow-down notice and
//! is then ignored for a minute. Admin commands (`/status`, `/pause`, `/resume`, `/resend`) are
//! for `[telegram] admins` only; anyone else gets a polite refusal, and the attempt is logged.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use teloxide::RequestError;
use teloxide::dispatching::{Dispatcher, ShutdownToken, UpdateFilterExt};
use teloxide::dptree;
use teloxide::types::{CallbackQuery, Message, Update, User};
use teloxide::update_listeners::Polling;
use tracing::{debug, error, info, warn};

use crate::app::App;
use crate::core::bot::{
    AbuseGuard, Admission, Command, DistrictMatch, Scope, district_by_code, find_district,
    latest_count, scope_of, user_lang,
};
use crate::core::replies::{self, ListKind, PauseOutcome, Reply, ResendOutcome, SourceLine};
use crate::core::text::Lang;
use crate::shutdown::Shutdown;
use crate::store::{ReportFilter, StoreError, fts_query};

/// How long one `getUpdates` long poll waits for an update.
pub const POLL: Duration = Duration::from_secs(25);
/// Longest wait between attempts to reach Telegram when it cannot be reached.
const MAX_RETRY: Duration = Duration::from_secs(300);
/// How long stopping the dispatcher may take before it is abandoned.
const STOP_DEADLINE: Duration = Duration::from_secs(5);

/// The running bot.
pub struct BotHandle {
    token: ShutdownToken,
    task: tokio::task::JoinHandle<()>,
}

struct Ctx {
    app: Arc<App>,
    guard: Mutex<AbuseGuard>,
    shutdown: Shutdown,
}

/// Start the bot, unless the notifier is in dry-run (no token): then `None`, with a warning.
pub fn start(app: Arc<App>, shutdown: Shutdown) -> Option<BotHandle> {
    let Some(bot) = app.notifier.polling_bot(POLL) else {
        warn!(
            "[bot] enabled = true, but there is no TELEGRAM_BOT_TOKEN (dry-run): the bot does not start"
        );
        return None;
    };
    let ctx = Arc::new(Ctx {
        app,
        guard: Mutex::new(AbuseGuard::standard()),
        shutdown: shutdown.clone(),
    });
    let handler = dptree::entry()
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback));
    let mut dispatcher = Dispatcher::builder(bot.clone(), handler)
        .dependencies(dptree::deps![Arc::clone(&ctx)])
        .default_handler(|_| async {})
        .build();
    let token = dispatcher.shutdown_token();
    let task = tokio::spawn(async move {
        register_menu(&ctx).await;
        let mut failures = 0u32;
        while !shutdown.is_triggered() {
            let listener = Polling::builder(bot.clone())
                .timeout(POLL)
                .delete_webhook()
                .await
                .build();
            let redact_app = Arc::clone(&ctx.app);
            let on_error = Arc::new(move |e: RequestError| {
                let text = redact_app.notifier.redact(&crate::errors::chain(&e));
                async move { warn!(error = %text, "bot: getting updates failed; retrying") }
            });
            match dispatcher
                .try_dispatch_with_listener(listener, on_error)
                .await
            {
                Ok(()) => break,
                Err(e) => {
                    failures += 1;
                    let wait =
                        crate::backoff::exponential(Duration::from_secs(5), failures, MAX_RETRY);
                    warn!(
                        error = %ctx.app.notifier.redact(&crate::errors::chain(&e)),
                        retry_in_secs = wait.as_secs(),
                        "bot: cannot reach Telegram"
                    );
                    if !shutdown.sleep(wait).await {
                        break;
                    }
                }
            }
        }
        info!("bot stopped");
    });
    info!("bot started (long polling)");
    Some(BotHandle { token, task })
}

impl BotHandle {
    /// Stop the dispatcher: no new updates are taken, the updates being answered finish.
    pub async fn stop(self) {
        let deadline = Instant::now() + STOP_DEADLINE;
        while !self.task.is_finished() && Instant::now() < deadline {
            match self.token.shutdown() {
                Ok(done) => {
                    let _ = tokio::time::timeout(
                        deadline.saturating_duration_since(Instant::now()),
                        done,
                    )
                    .await;
                    break;
                }
                // Not dispatching yet (starting, or waiting to retry): it sees the shutdown itself.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        let task = self.task;
        if tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), async {
            while !task.is_finished() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .is_err()
        {
            warn!("the bot did not stop in time; abandoning it");
            task.abort();
        }
    }
}

/// `setMyCommands` in Hindi, in English, and (English) for every other language.
async fn register_menu(ctx: &Ctx) {
    for (code, lang) in [
        (Some("hi"), Lang::Hi),
        (Some("en"), Lang::En),
        (None, Lang::En),
    ] {
        if let Err(e) = ctx
            .app
            .notifier
            .set_commands(code, &replies::menu(lang), &ctx.shutdown)
            .await
        {
            warn!(error = %e, "cannot register the bot's command menu");
        }
    }
}

fn user_id(u: &User) -> i64 {
    i64::try_from(u.id.0).unwrap_or(i64::MAX)
}

impl Ctx {
    fn admission(&self, user: i64) -> Admission {
        self.guard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .check(user, Instant::now())
    }

    fn is_admin(&self, user: i64) -> bool {
        self.app.settings().telegram.is_admin(user)
    }

    async fn send(&self, chat: i64, reply: &Reply) {
        if let Err(e) = self.app.notifier.reply(chat, reply, &self.shutdown).await {
            warn!(chat, error = %e, "cannot send the bot's reply");
        }
    }

    /// The answer to a command.
    async fn answer(&self, user: i64, lang: Lang, cmd: Command) -> Result<Reply, StoreError> {
        let store = &self.app.store;
        Ok(match cmd {
            Command::Start => replies::welcome(lang, true, self.is_admin(user)),
            Command::Help => replies::welcome(lang, false, self.is_admin(user)),
            Command::Latest(arg) => match latest_count(&arg) {
                Some(n) => self.list(lang, ListKind::Latest(n), 0, None).await?,
                None => replies::usage(lang, "latest"),
            },
            Command::Search(q) if q.trim().is_empty() => replies::usage(lang, "search"),
            Command::Search(q) => self.list(lang, ListKind::Search(q), 0, None).await?,
            Command::District(q) if q.trim().is_empty() => replies::usage(lang, "district"),
            Command::District(q) => match find_district(&q) {
                DistrictMatch::Found(d) => self.list(lang, ListKind::District(d), 0, None).await?,
                DistrictMatch::DidYouMean(v) => replies::did_you_mean(lang, 'd', &q, &v),
                DistrictMatch::Unknown => replies::unknown_district(lang, &q),
            },
            Command::Subscribe(arg) if arg.trim().is_empty() => replies::usage(lang, "subscribe"),
            Command::Unsubscribe(arg) if arg.trim().is_empty() => {
                replies::usage(lang, "unsubscribe")
            }
            Command::Subscribe(arg) => match scope_of(&arg) {
                Ok(scope) => self.subscribe(user, lang, scope).await?,
                Err(DistrictMatch::DidYouMean(v)) => replies::did_you_mean(lang, 's', &arg, &v),
                Err(_) => replies::unknown_district(lang, &arg),
            },
            Command::Unsubscribe(arg) => match scope_of(&arg) {
                Ok(scope) => self.unsubscribe(user, lang, scope).await?,
                Err(DistrictMatch::DidYouMean(v)) => replies::did_you_mean(lang, 'u', &arg, &v),
                Err(_) => replies::unknown_district(lang, &arg),
            },
            Command::Subscriptions => {
                let list: Vec<_> = store
                    .subscriptions(user)
                    .await?
                    .into_iter()
                    .map(|s| match s {
                        Scope::All => None,
                        Scope::District(d) => Some(d),
                    })
                    .collect();
                replies::subscriptions(lang, &list)
            }
            Command::Stats => self.list(lang, ListKind::Stats, 0, None).await?,
            Command::Status => self.list(lang, ListKind::Status, 0, None).await?,
            Command::Pause(id) if id.trim().is_empty() => replies::usage(lang, "pause"),
            Command::Resume(id) if id.trim().is_empty() => replies::usage(lang, "resume"),
            Command::Pause(id) => {
                let id = id.trim();
                let outcome = if self.app.settings().source(id).is_none() {
                    PauseOutcome::UnknownSource
                } else if store.pause_source(id, Some(user)).await? {
                    info!(source = id, admin = user, "source paused from the bot");
                    PauseOutcome::Paused
                } else {
                    PauseOutcome::AlreadyPaused
                };
                replies::pause_outcome(lang, id, outcome)
            }
            Command::Resume(id) => {
                let id = id.trim();
                let outcome = if self.app.settings().source(id).is_none() {
                    PauseOutcome::UnknownSource
                } else if store.resume_source(id).await? {
                    info!(source = id, admin = user, "source resumed from the bot");
                    PauseOutcome::Resumed
                } else {
                    PauseOutcome::NotPaused
                };
                replies::pause_outcome(lang, id, outcome)
            }
            Command::Resend(arg) => match arg.trim().trim_start_matches('#').parse::<i64>() {
                Ok(id) => self.resend(user, lang, id).await?,
                Err(_) => replies::usage(lang, "resend"),
            },
            Command::Unknown(_) | Command::Text => replies::unknown_command(lang),
        })
    }

    async fn subscribe(&self, user: i64, lang: Lang, scope: Scope) -> Result<Reply, StoreError> {
        let new = self.app.store.subscribe(user, scope).await?;
        if new {
            info!(user, scope = scope.key(), "subscribed");
        }
        Ok(replies::subscribed(lang, district_of(scope), new))
    }

    async fn unsubscribe(&self, user: i64, lang: Lang, scope: Scope) -> Result<Reply, StoreError> {
        let removed = self.app.store.unsubscribe(user, scope).await?;
        if removed > 0 {
            info!(user, scope = scope.key(), "unsubscribed");
        }
        Ok(replies::unsubscribed(lang, district_of(scope), removed))
    }

    async fn resend(&self, user: i64, lang: Lang, id: i64) -> Result<Reply, StoreError> {
        let Some(stored) = self
            .app
            .store
            .article(id)
            .await?
            .filter(|a| a.article.relevant())
        else {
            return Ok(replies::resend_outcome(lang, id, ResendOutcome::NotFound));
        };
        let post = stored.article.post(&stored.also_at);
        if !self.app.store.resend(id, post).await? {
            return Ok(replies::resend_outcome(lang, id, ResendOutcome::NotFound));
        }
        info!(
            report = id,
            admin = user,
            "report queued for the channel again from the bot"
        );
        // Deliver now rather than at the next tick.
        let app = Arc::clone(&self.app);
        tokio::spawn(async move {
            app.deliver().await;
        });
        Ok(replies::resend_outcome(lang, id, ResendOutcome::Queued))
    }

    /// Page `page` of a list; the list is remembered (for its ◀ / ▶ buttons) when it has more
    /// than one page and is not remembered yet.
    async fn list(
        &self,
        lang: Lang,
        kind: ListKind,
        page: usize,
        id: Option<i64>,
    ) -> Result<Reply, StoreError> {
        let store = &self.app.store;
        let per = kind.per_page();
        let remember = |total: usize| {
            let kind = kind.clone();
            async move {
                match id {
                    Some(id) => Ok(id),
                    None if total > per => {
                        let (k, arg) = kind.encode();
                        store.save_list(k, &arg).await
                    }
                    None => Ok(0),
                }
            }
        };
        let offset = page * per;
        Ok(match &kind {
            ListKind::Latest(n) => {
                let (mut reports, total) = store.reports(ReportFilter::All, per, offset).await?;
                let total = total.min(*n);
                reports.truncate(total.saturating_sub(offset));
                let id = remember(total).await?;
                replies::report_page(lang, &kind, &reports, page, total, id)
            }
            ListKind::Search(q) => match fts_query(q) {
                None => replies::report_page(lang, &kind, &[], 0, 0, 0),
                Some(fts) => {
                    let (reports, total) = store
                        .reports(ReportFilter::Search(fts), per, offset)
                        .await?;
                    let id = remember(total).await?;
                    replies::report_page(lang, &kind, &reports, page, total, id)
                }
            },
            ListKind::District(d) => {
                let (reports, total) = store
                    .reports(ReportFilter::District(d), per, offset)
                    .await?;
                let id = remember(total).await?;
                replies::report_page(lang, &kind, &reports, page, total, id)
            }
            ListKind::Stats => {
                let (by_district, by_month) = store.report_stats().await?;
                let lines = replies::stats_lines(lang, &by_district, &by_month);
                let id = remember(lines.len()).await?;
                replies::stats_page(lang, &lines, page, id)
            }
            ListKind::Status => {
                let records: std::collections::HashMap<String, _> = store
                    .source_records()
                    .await?
                    .into_iter()
                    .map(|r| (r.id.clone(), r))
                    .collect();
                let paused = store.paused_sources().await?;
                let sources: Vec<SourceLine> = self
                    .app
                    .settings()
                    .sources
                    .iter()
                    .map(|s| {
                        let r = records.get(&s.id).cloned().unwrap_or_default();
                        SourceLine {
                            id: s.id.clone(),
                            enabled: s.enabled,
                            paused: paused.contains(&s.id),
                            consecutive_failures: r.consecutive_failures,
                            last_success_at: r.last_success.map(|t| t.to_rfc3339()),
                            last_error: r.last_error,
                            next_try_at: r.next_try.map(|t| t.to_rfc3339()),
                        }
                    })
                    .collect();
                let id = remember(sources.len()).await?;
                replies::status_page(lang, &sources, page, id)
            }
        })
    }

    /// A button tap: another page of a list, or a "did you mean" choice.
    async fn tap(&self, user: i64, lang: Lang, data: &str) -> Result<Tap, StoreError> {
        let mut parts = data.splitn(3, ':');
        let (kind, a, b) = (parts.next(), parts.next(), parts.next());
        Ok(match (kind, a, b) {
            (Some("pg"), Some(list), Some(page)) => {
                let (Ok(list), Ok(page)) = (list.parse::<i64>(), page.parse::<usize>()) else {
                    return Ok(Tap::Notice(replies::list_expired(lang)));
                };
                let kind = self
                    .app
                    .store
                    .list(list)
                    .await?
                    .and_then(|(k, arg)| ListKind::decode(&k, &arg));
                match kind {
                    None => Tap::Notice(replies::list_expired(lang)),
                    Some(kind) if kind.admin_only() && !self.is_admin(user) => {
                        warn!(user, "admin list refused: user is not in [telegram] admins");
                        Tap::Notice(replies::plain(&replies::refused(lang)))
                    }
                    Some(kind) => Tap::Edit(self.list(lang, kind, page, Some(list)).await?),
                }
            }
            (Some(action @ ("d" | "s" | "u")), Some(code), None) => match district_by_code(code) {
                None => Tap::Notice(replies::list_expired(lang)),
                Some(d) => Tap::Send(match action {
                    "d" => self.list(lang, ListKind::District(d), 0, None).await?,
                    "s" => self.subscribe(user, lang, Scope::District(d)).await?,
                    _ => self.unsubscribe(user, lang, Scope::District(d)).await?,
                }),
            },
            _ => Tap::Notice(replies::list_expired(lang)),
        })
    }
}

/// What a button tap does.
enum Tap {
    /// Show this in the message that holds the list.
    Edit(Reply),
    /// Send this as a new message.
    Send(Reply),
    /// Only a short notice on the tap.
    Notice(String),
}

fn district_of(scope: Scope) -> Option<&'static crate::core::districts::District> {
    match scope {
        Scope::All => None,
        Scope::District(d) => Some(d),
    }
}

async fn on_message(msg: Message, ctx: Arc<Ctx>) -> Result<(), std::convert::Infallible> {
    let (Some(from), Some(text)) = (msg.from.as_ref(), msg.text()) else {
        return Ok(());
    };
    if !msg.chat.is_private() || from.is_bot {
        return Ok(());
    }
    let user = user_id(from);
    let chat = msg.chat.id.0;
    let lang = user_lang(from.language_code.as_deref());
    match ctx.admission(user) {
        Admission::Ignore => {
            debug!(user, "ignored: slowed down after too many commands");
            return Ok(());
        }
        Admission::SlowDown => {
            warn!(
                user,
                "more than 20 commands in a minute: told to slow down, ignored for a minute"
            );
            ctx.send(chat, &replies::slow_down(lang)).await;
            return Ok(());
        }
        Admission::Answer => {}
    }
    let cmd = Command::parse(text);
    debug!(user, command = cmd.name(), "bot command");
    let reply = if cmd.admin_only() && !ctx.is_admin(user) {
        warn!(
            user,
            command = cmd.name(),
            "admin command refused: user is not in [telegram] admins"
        );
        replies::refused(lang)
    } else {
        match ctx.answer(user, lang, cmd).await {
            Ok(r) => r,
            Err(e) => {
                error!(user, error = %e, "cannot answer a bot command");
                replies::trouble(lang)
            }
        }
    };
    ctx.send(chat, &reply).await;
    Ok(())
}

async fn on_callback(q: CallbackQuery, ctx: Arc<Ctx>) -> Result<(), std::convert::Infallible> {
    let user = user_id(&q.from);
    let lang = user_lang(q.from.language_code.as_deref());
    let notify = &ctx.app.notifier;
    let answer = |notice: Option<String>| {
        let ctx = Arc::clone(&ctx);
        let id = q.id.0.clone();
        async move {
            if let Err(e) = ctx
                .app
                .notifier
                .answer_callback(&id, notice.as_deref(), &ctx.shutdown)
                .await
            {
                warn!(error = %e, "cannot answer a button tap");
            }
        }
    };
    match ctx.admission(user) {
        Admission::Answer => {}
        Admission::SlowDown => {
            warn!(
                user,
                "more than 20 commands in a minute: told to slow down, ignored for a minute"
            );
            answer(Some(replies::plain(&replies::slow_down(lang)))).await;
            return Ok(());
        }
        Admission::Ignore => {
            answer(None).await;
            return Ok(());
        }
    }
    let data = q.data.clone().unwrap_or_default();
    let held = q
        .message
        .as_ref()
        .map(|m| (m.chat().id.0, i64::from(m.id().0)));
    let chat = held.map_or(user, |(c, _)| c);
    match ctx.tap(user, lang, &data).await {
        Ok(Tap::Edit(reply)) => {
            match held {
                Some((chat, message)) => {
                    if let Err(e) = notify
                        .edit_reply(chat, message, &reply, &ctx.shutdown)
                        .await
                    {
                        warn!(error = %e, "cannot show the list page");
                    }
                }
                None => ctx.send(chat, &reply).await,
            }
            answer(None).await;
        }
        Ok(Tap::Send(reply)) => {
            answer(None).await;
            ctx.send(chat, &reply).await;
        }
        Ok(Tap::Notice(text)) => answer(Some(text)).await,
        Err(e) => {
            error!(user, error = %e, "cannot answer a button tap");
            answer(Some(replies::plain(&replies::trouble(lang)))).await;
        }
    }
    Ok(())
}
