//! Delivery: draining the outbox to Telegram, editing sent messages that gained "also at" links,
//! and alerting the operator.
//!
//! Posts go out oldest first, the channel's before subscribers' private copies. A post for the
//! channel goes to the channel configured *now*, and the chat it reached is recorded with its
//! message id. A chat that refuses the bot stops only the posts to that chat for this pass; other
//! chats (the admin chat, subscribers) go on. A subscriber who refuses the bot (blocked it, left
//! Telegram) is unsubscribed at once and their unsent copies are dropped; the operator is not
//! alerted for that. Posts sent during `[telegram] quiet_hours` go out without a notification
//! sound. A send
//! that got an answer with an error is `failed`; one that got no answer is `uncertain` (Telegram
//! may have it); both are retried with backoff. Edits get the same backoff, at most
//! [`MAX_EDIT_ATTEMPTS`] tries, and an edit of a message that no longer exists is given up at once.

use std::collections::HashSet;

use chrono::Utc;
use serde::Serialize;
use tracing::{Instrument, error, info, info_span, warn};

use crate::app::App;
use crate::backoff;
use crate::core::article::Post;
use crate::notify::{Delivered, NotifyError};
use crate::store::{DuePost, PostStatus, StoreError, Target};

/// The user a post is a private copy for: a chat id that is a user's (positive).
fn subscriber(target: &Target) -> Option<i64> {
    match target {
        Target::Chat(c) => c.parse::<i64>().ok().filter(|id| *id > 0),
        Target::Channel => None,
    }
}

/// An edit that failed this many times is given up (the message keeps its text).
pub const MAX_EDIT_ATTEMPTS: u32 = 5;

/// Outcome of one delivery run.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub printed: usize,
    /// Sends that failed with an answer from Telegram.
    pub failed: usize,
    /// Sends that got no answer (Telegram may have them).
    pub uncertain: usize,
    /// Some chat refused the bot.
    pub blocked: bool,
    /// Sent messages edited (a later copy added an "also at" link).
    pub edited: usize,
    /// Subscribers unsubscribed because they refused the bot.
    pub unsubscribed: usize,
}

impl App {
    /// Send every due post: the channel's first, then subscribers' private copies, each oldest
    /// first. Stops between posts on shutdown; skips the rest of a
    /// chat's posts for this run when that chat refuses the bot.
    pub async fn deliver(&self) -> DeliveryReport {
        let mut report = DeliveryReport::default();
        let _guard = self.delivery_lock.lock().await;
        self.rerender_unsent().await;
        let due = match self.store.due_posts(Utc::now()).await {
            Ok(d) => d,
            Err(e) => {
                error!(error = %e, "cannot read pending posts");
                return report;
            }
        };
        let mut blocked: HashSet<String> = HashSet::new();
        for post in due {
            if self.shutdown.is_triggered() {
                break;
            }
            let chat = post
                .target
                .chat(&self.settings().telegram.channel)
                .to_owned();
            if blocked.contains(&chat) {
                continue;
            }
            let span = info_span!("deliver", post_id = post.id, chat = %chat);
            let write = self
                .deliver_one(&post, &chat, &mut report, &mut blocked)
                .instrument(span.clone())
                .await;
            if let Err(e) = write {
                error!(parent: &span, error = %e, "cannot record the delivery result");
            }
        }
        self.apply_edits(&mut report, &blocked).await;
        report
    }

    async fn deliver_one(
        &self,
        post: &DuePost,
        chat: &str,
        report: &mut DeliveryReport,
        blocked: &mut HashSet<String>,
    ) -> Result<(), StoreError> {
        let content = match (&post.plain, &post.buttons) {
            (Some(plain), Some(buttons)) => Post {
                html: post.html.clone(),
                plain: plain.clone(),
                buttons: buttons.clone(),
            },
            // Queued by a version that stored only the HTML, or no buttons: render it again.
            _ => match self.render(post.article_id).await {
                Some(p) => p,
                None => return Ok(()),
            },
        };
        if post.status == PostStatus::Uncertain {
            warn!(
                "resending a post whose earlier send got no answer: it may appear twice in the chat"
            );
        }
        let retry_at = |attempts: u32| {
            Utc::now()
                + chrono::Duration::from_std(backoff::delivery(attempts))
                    .unwrap_or(chrono::Duration::hours(6))
        };
        match self
            .notifier
            .send(post.id, chat, &content, self.quiet_now(), &self.shutdown)
            .await
        {
            Ok(Delivered::Sent { message_id }) => {
                report.sent += 1;
                self.metrics.post_sent();
                info!(message_id, "posted");
                self.store.mark_sent(post.id, chat, message_id).await
            }
            Ok(Delivered::Printed) => {
                report.printed += 1;
                Ok(())
            }
            Err(NotifyError::Uncertain(msg)) => {
                report.uncertain += 1;
                self.metrics.post_failed();
                warn!(error = %msg, "no answer from Telegram; the post is uncertain and will be retried");
                self.store
                    .mark_uncertain(post.id, msg, retry_at(post.attempts + 1))
                    .await
            }
            Err(NotifyError::Failed(msg) | NotifyError::Gone(msg)) => {
                report.failed += 1;
                self.metrics.post_failed();
                warn!(error = %msg, "post failed; will retry");
                self.store
                    .mark_failed(post.id, msg, retry_at(post.attempts + 1))
                    .await
            }
            Err(NotifyError::Blocked(msg)) if subscriber(&post.target).is_some() => {
                blocked.insert(chat.to_owned());
                let user = subscriber(&post.target).unwrap_or_default();
                let (alerts, dropped) = self.store.forget_subscriber(user, msg.clone()).await?;
                report.unsubscribed += 1;
                info!(user, alerts, dropped, error = %msg, "a subscriber refuses the bot: unsubscribed, their unsent copies dropped");
                Ok(())
            }
            Err(NotifyError::Blocked(msg)) => {
                report.blocked = true;
                blocked.insert(chat.to_owned());
                if self.first_alert(&msg) {
                    self.alert(&format!(
                        "niryat: Telegram refuses the bot; posts to {chat} stay queued until this is fixed (no restart needed; `niryat outbox list` shows them): {msg}"
                    ))
                    .await;
                }
                self.store.note_blocked(post.id, msg).await
            }
        }
    }

    /// Whether now is in `[telegram] quiet_hours` (in the configured time zone).
    fn quiet_now(&self) -> bool {
        let s = self.settings();
        s.telegram
            .quiet_hours
            .is_some_and(|q| q.contains(Utc::now().with_timezone(&s.timezone).time()))
    }

    /// A stored article's post, rendered with its "also at" links.
    async fn render(&self, article_id: i64) -> Option<Post> {
        match self.store.article(article_id).await {
            Ok(a) => a.map(|a| a.article.post(&a.also_at)),
            Err(e) => {
                error!(error = %e, "cannot read the article to render its post");
                None
            }
        }
    }

    /// Posts that gained "also at" links: unsent ones are re-rendered in place (before sending).
    async fn rerender_unsent(&self) {
        let list = match self.store.unsent_edits().await {
            Ok(l) => l,
            Err(e) => {
                error!(error = %e, "cannot read posts to re-render");
                return;
            }
        };
        for (post_id, article_id) in list {
            let Some(post) = self.render(article_id).await else {
                continue;
            };
            if let Err(e) = self.store.set_post_content(post_id, post).await {
                error!(error = %e, "cannot update the post text");
            }
        }
    }

    /// Sent posts that gained "also at" links: edit the Telegram message. A failed edit is retried
    /// with backoff, at most [`MAX_EDIT_ATTEMPTS`] times; a message that is gone is not retried.
    async fn apply_edits(&self, report: &mut DeliveryReport, blocked: &HashSet<String>) {
        let edits = match self.store.pending_edits(Utc::now()).await {
            Ok(e) => e,
            Err(e) => {
                error!(error = %e, "cannot read posts to edit");
                return;
            }
        };
        for edit in edits {
            if self.shutdown.is_triggered() {
                break;
            }
            if blocked.contains(&edit.chat) {
                continue;
            }
            let Some(post) = self.render(edit.article_id).await else {
                continue;
            };
            let res = self
                .notifier
                .edit(&edit.chat, edit.message_id, &post, &self.shutdown)
                .await;
            let write = match res {
                Ok(()) => {
                    report.edited += 1;
                    self.store.set_post_content(edit.post_id, post).await
                }
                Err(NotifyError::Gone(msg)) => {
                    warn!(post_id = edit.post_id, error = %msg, "the message to edit is gone; the edit is dropped (the record is kept)");
                    self.store.edit_failed(edit.post_id, msg, None).await
                }
                Err(e) => {
                    let attempts = edit.attempts + 1;
                    let retry = (attempts < MAX_EDIT_ATTEMPTS).then(|| {
                        Utc::now()
                            + chrono::Duration::from_std(backoff::delivery(attempts))
                                .unwrap_or(chrono::Duration::hours(6))
                    });
                    match retry {
                        Some(at) => {
                            warn!(post_id = edit.post_id, error = %e, retry_at = %at, "editing the message failed; will retry")
                        }
                        None => {
                            warn!(post_id = edit.post_id, error = %e, attempts, "editing the message failed again; given up")
                        }
                    }
                    self.store
                        .edit_failed(edit.post_id, e.to_string(), retry)
                        .await
                }
            };
            if let Err(e) = write {
                error!(error = %e, "cannot record the edit");
            }
        }
    }

    /// Tell the operator: an error line in the log, and a message to `[telegram] admin_chat`
    /// when one is configured (best effort: an alert that cannot be sent is only logged).
    pub async fn alert(&self, text: &str) {
        error!(alert = true, "{text}");
        let Some(admin) = &self.settings().telegram.admin_chat else {
            return;
        };
        if let Err(e) = self.notifier.send_alert(admin, text, &self.shutdown).await {
            warn!(error = %e, "cannot send the alert to the admin chat");
        }
    }

    /// Whether `msg` has not been alerted yet (and remember it).
    pub(crate) fn first_alert(&self, msg: &str) -> bool {
        self.alerted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(msg.to_owned())
    }
}
