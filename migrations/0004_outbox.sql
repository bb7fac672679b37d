-- niryat schema v4: an outbox that survives a wrong channel, ambiguous sends and failed edits;
-- HTTP validators per source; items that cannot be processed; how each article was extracted.

-- posts, rebuilt (SQLite cannot widen a CHECK constraint in place).
--  * target: 'channel' means the [telegram] channel configured when the post is sent (so a post
--    queued under a wrong channel goes to the right one once the config is fixed); any other value
--    is an explicit chat id. chat: the chat it was actually sent to, recorded with message_id.
--  * status 'uncertain': a send whose answer never came (timeout, shutdown mid-send). Telegram may
--    have it: it is retried, and a retry may duplicate it. 'dropped': dropped by the operator.
--  * ambiguous: how many sends of this post ended without an answer.
--  * plain: the plain-text fallback, rendered with the HTML (NULL for posts queued by v3).
--  * edit_*: backoff and attempt count of "also at" edits of the sent message.
CREATE TABLE posts_v4 (
    id              INTEGER PRIMARY KEY,
    article_id      INTEGER NOT NULL REFERENCES articles(id),
    target          TEXT NOT NULL DEFAULT 'channel',
    chat            TEXT,
    text            TEXT NOT NULL,
    plain           TEXT,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'failed', 'uncertain', 'dropped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    ambiguous       INTEGER NOT NULL DEFAULT 0,
    message_id      INTEGER,
    last_error      TEXT,
    next_attempt_at TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    edit_pending    INTEGER NOT NULL DEFAULT 0,
    edit_attempts   INTEGER NOT NULL DEFAULT 0,
    edit_next_at    TEXT,
    edit_error      TEXT,
    UNIQUE (article_id, target)
);
INSERT INTO posts_v4 (id, article_id, target, chat, text, status, attempts, message_id, last_error,
                      next_attempt_at, created_at, sent_at, edit_pending)
SELECT id, article_id, 'channel', CASE WHEN status = 'sent' THEN chat END, text, status, attempts,
       message_id, last_error, next_attempt_at, created_at, sent_at, edit_pending
FROM posts;
DROP TABLE posts;
ALTER TABLE posts_v4 RENAME TO posts;
CREATE INDEX posts_due ON posts(status, next_attempt_at);

-- Validators belong to a source, not a URL: a renamed source, or a second one on the same URL,
-- must read the listing whole on its first pass. The old URL-keyed cache is only a cache.
DROP TABLE http_cache;
CREATE TABLE http_cache (
    source_id     TEXT NOT NULL,
    url           TEXT NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (source_id, url)
);

-- An item recorded as seen without an article: why (a page too deep to parse, given up after
-- repeated failures). NULL for ordinary items.
ALTER TABLE seen ADD COLUMN skip_reason TEXT;

-- Items whose article failed to load, and how often: retried on later passes, then given up.
CREATE TABLE item_failures (
    url        TEXT PRIMARY KEY,
    source_id  TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- How the article's text was found: 'source' (feed/API carried it), 'selectors', 'automatic', 'none'.
ALTER TABLE articles ADD COLUMN extraction TEXT;
