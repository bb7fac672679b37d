-- niryat schema v2: source backoff and conditional GET.

-- When a failing source may be tried again (exponential backoff, capped at 6 h, or the site's Retry-After).
ALTER TABLE sources ADD COLUMN next_try_at TEXT;

-- HTTP validators of listing pages, for conditional GET (If-None-Match / If-Modified-Since).
CREATE TABLE http_cache (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    updated_at    TEXT NOT NULL
);
