-- niryat schema v1. Migrations are forward-only: never edit a released file, add a new one.

-- Per-source state: whether its first pass (the baseline) has happened, and its health.
CREATE TABLE sources (
    id                   TEXT PRIMARY KEY,
    url                  TEXT NOT NULL,
    initialized_at       TEXT,             -- first completed pass (baseline recorded)
    last_pass_at         TEXT,
    last_success_at      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT
);

-- Every article URL a listing has shown us, canonicalised. A URL here is never "new" again.
CREATE TABLE seen (
    url           TEXT PRIMARY KEY,
    source_id     TEXT NOT NULL,
    listing_title TEXT NOT NULL DEFAULT '',
    baseline      INTEGER NOT NULL DEFAULT 0,  -- 1: already listed at the source's first pass, not fetched
    first_seen    TEXT NOT NULL
);

-- Every fetched and classified article.
CREATE TABLE articles (
    id           INTEGER PRIMARY KEY,
    source_id    TEXT NOT NULL,
    url          TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    published    TEXT,                      -- YYYY-MM-DD when known
    body         TEXT NOT NULL,
    topic        INTEGER NOT NULL,          -- detector: export-promotion event reported
    chhattisgarh INTEGER NOT NULL,          -- detector: about Chhattisgarh
    relevant     INTEGER NOT NULL,          -- topic AND chhattisgarh: posted
    score        REAL NOT NULL,
    reasons      TEXT NOT NULL,             -- JSON array of strings
    district     TEXT,                      -- English district name
    first_seen   TEXT NOT NULL
);
CREATE INDEX articles_source ON articles(source_id, first_seen);
CREATE INDEX articles_relevant ON articles(relevant, first_seen);

-- The outbox: one row per article to post, written in the same transaction as the article.
CREATE TABLE posts (
    id              INTEGER PRIMARY KEY,
    article_id      INTEGER NOT NULL UNIQUE REFERENCES articles(id),
    chat            TEXT NOT NULL,
    text            TEXT NOT NULL,          -- rendered Telegram HTML
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    message_id      INTEGER,
    last_error      TEXT,
    next_attempt_at TEXT,                   -- RFC 3339; NULL = as soon as possible
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX posts_due ON posts(status, next_attempt_at);

-- One row per pass: a heartbeat and a history for `status` and metrics.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    report      TEXT NOT NULL               -- JSON
);
