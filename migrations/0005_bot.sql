-- niryat schema v5: the subscriber bot — personal alerts, paused sources, full-text search,
-- paged lists; channel posts gain inline buttons.

-- Personal alerts: a Telegram user gets a private copy of each new report of `district` (its
-- English name), or of every district when `district` is '*'.
CREATE TABLE subscriptions (
    user_id    INTEGER NOT NULL,
    district   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, district)
);
CREATE INDEX subscriptions_district ON subscriptions(district);

-- Sources an admin paused with the bot's /pause: skipped by the schedule and by `once` until
-- /resume. Kept apart from `sources` so a source that never ran can be paused too.
CREATE TABLE paused_sources (
    id         TEXT PRIMARY KEY,
    paused_at  TEXT NOT NULL,
    paused_by  INTEGER
);

-- The post's inline URL buttons (JSON rows, core::render::Button); NULL for posts queued before
-- v5, which are rendered again before they are sent.
ALTER TABLE posts ADD COLUMN buttons TEXT;

-- Full-text search over reports (relevant articles that are not copies of an earlier one):
-- title and body *normalised* as the detector normalises them (core::text::normalize), so that
-- संवर्धन finds संवर्द्धन. The text is already lower-cased, split into words and stripped of
-- punctuation, so the ascii tokenizer (which keeps every non-ASCII character in the word) splits
-- it on spaces only. rowid = articles.id; contentless: the text lives in `articles`.
CREATE VIRTUAL TABLE reports_fts USING fts5(title, body, content = '', tokenize = 'ascii');

-- Lists the bot shows a page at a time: what the list is, so that ◀ / ▶ buttons can show its
-- other pages later (their callback data carries the list id).
CREATE TABLE bot_lists (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    arg        TEXT NOT NULL,
    created_at TEXT NOT NULL
);
