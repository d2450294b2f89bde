-- Frozen once merged: later changes go into new numbered files, and new
-- columns always carry a DEFAULT.

CREATE TABLE roots (
    id           INTEGER PRIMARY KEY,
    path         TEXT    NOT NULL UNIQUE,
    added_at     INTEGER NOT NULL,
    -- 'ok' or 'unavailable' (an unmounted disk: its items are kept, hidden)
    state        TEXT    NOT NULL DEFAULT 'ok',
    last_scan_at INTEGER
);

CREATE TABLE items (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL,
    title            TEXT    NOT NULL,
    creator          TEXT,
    album            TEXT,
    year             INTEGER,
    duration_secs    REAL,
    genres           TEXT    NOT NULL DEFAULT '[]',
    -- The whole media::Metadata as JSON.
    meta             TEXT    NOT NULL,
    cover            TEXT,
    -- What the describe phase wrote for this item, and its hash; NULL when
    -- the metadata changed and the item must be described again.
    description      TEXT,
    description_hash TEXT,
    -- The description_hash the index row was built from; the index is fresh
    -- for this item when it equals description_hash.
    indexed_hash     TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE files (
    id          INTEGER PRIMARY KEY,
    root_id     INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
    path        TEXT    NOT NULL UNIQUE,
    -- 'media' (becomes an item) or 'sidecar' (.nfo, metadata.opf, covers)
    role        TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    fingerprint TEXT,
    item_id     INTEGER REFERENCES items(id) ON DELETE SET NULL,
    -- 'ok' or 'error' (read failed; retried when the file changes)
    state       TEXT    NOT NULL,
    error       TEXT
);
CREATE INDEX files_root ON files(root_id);
CREATE INDEX files_item ON files(item_id);
CREATE INDEX files_fingerprint ON files(size, fingerprint);

CREATE TABLE scan_runs (
    id          INTEGER PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    -- 'running', 'done', 'failed' or 'interrupted' (the process died)
    status      TEXT    NOT NULL,
    phase       TEXT    NOT NULL,
    discovered  INTEGER NOT NULL DEFAULT 0,
    added       INTEGER NOT NULL DEFAULT 0,
    changed     INTEGER NOT NULL DEFAULT 0,
    moved       INTEGER NOT NULL DEFAULT 0,
    removed     INTEGER NOT NULL DEFAULT 0,
    errors      INTEGER NOT NULL DEFAULT 0,
    embedded    INTEGER NOT NULL DEFAULT 0,
    message     TEXT
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
