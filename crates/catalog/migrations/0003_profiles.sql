-- What the app understood about each item, and what it keeps to avoid
-- recomputing. Derived data: every row can be rebuilt from the items and
-- the models, but enrichment takes the reasoning model seconds per item,
-- so it is kept across rescans and index rebuilds.

-- An item's scores over the descriptor vocabulary (engine/src/vocab.rs),
-- one byte per descriptor, in vocabulary order.
CREATE TABLE profiles (
    item_id   INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    -- '<profile version>:<description hash>': stale when either changed.
    source    TEXT    NOT NULL,
    -- From the item's own genres, subjects, tags, description, tempo and
    -- certificate: 0 (no evidence) to 255 (certain).
    evidence  BLOB    NOT NULL,
    -- The cosine of the item's embedding with each descriptor's
    -- prototype, as a signed byte (cosine x 127).
    zero_shot BLOB    NOT NULL
);

-- The reasoning model's reading of an item whose metadata is thin.
CREATE TABLE enrichment (
    item_id     INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    -- The description hash the model read; a changed item is read again.
    source      TEXT    NOT NULL,
    -- The model file it came from (name and size).
    model       TEXT    NOT NULL,
    -- Descriptor names, most fitting first (JSON array); empty when the
    -- model found nothing it could say.
    descriptors TEXT    NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL
);

-- Small derived blobs worth keeping between runs (the embedded
-- descriptor prototypes, keyed by model and vocabulary version).
CREATE TABLE cache (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
