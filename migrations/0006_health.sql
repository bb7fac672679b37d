-- niryat schema 0006: per-source health (what the last pass saw, streaks) and the alerts sent
-- about it, so each is sent once (then once on recovery), across restarts.
-- (0005 is another change's number: migrations are applied by name, in number order, whichever
-- arrives first; see store.rs.)

-- What the last pass that read the listing saw: items listed, articles fetched, relevant reports.
ALTER TABLE sources ADD COLUMN last_listed INTEGER;
ALTER TABLE sources ADD COLUMN last_fetched INTEGER;
ALTER TABLE sources ADD COLUMN last_reports INTEGER;
-- Passes in a row whose listing was read and matched zero items (stale selectors, or a dead feed).
ALTER TABLE sources ADD COLUMN empty_passes INTEGER NOT NULL DEFAULT 0;
-- The last time a pass found an item never seen before (the first pass's listing counts).
ALTER TABLE sources ADD COLUMN last_new_item_at TEXT;
-- 1 while the operator has been told about the empty-listing streak / the silence (cleared, with
-- a recovery alert, when it ends).
ALTER TABLE sources ADD COLUMN empty_alerted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN silent_alerted INTEGER NOT NULL DEFAULT 0;

-- Readiness writes here to prove the database is writable.
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at TEXT NOT NULL
);
