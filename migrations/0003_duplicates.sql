-- niryat schema v3: cross-source duplicates (one press note republished by several sites).

-- Near-duplicate fingerprint of the normalised body (core::neardup), and the first copy this one repeats.
ALTER TABLE articles ADD COLUMN fingerprint TEXT;
ALTER TABLE articles ADD COLUMN duplicate_of INTEGER REFERENCES articles(id);
CREATE INDEX articles_duplicate_of ON articles(duplicate_of);

-- 1: the sent message must be edited (a later copy adds an "also at" link).
ALTER TABLE posts ADD COLUMN edit_pending INTEGER NOT NULL DEFAULT 0;
