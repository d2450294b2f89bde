-- What the reasoning model knows of each work, written once per work in
-- the background (engine/src/enrich.rs). A work is what the model reads:
-- a film, a book, a music album or artist (shared by their tracks). It
-- replaces the shallow enrichment of thin items, which is dropped.
-- Derived data, but seconds of model time per work, so it is kept across
-- rescans and index rebuilds.

DROP TABLE enrichment;

CREATE TABLE understanding (
    -- '<understanding version>:<hash of what the model reads>': two items
    -- that read alike (the tracks of one album) share one row, and a
    -- changed item or prompt is a new subject.
    subject     TEXT    PRIMARY KEY,
    -- The model file it came from (name and size).
    model       TEXT    NOT NULL,
    -- The reading as JSON (known, about, genres, moods, themes, ...).
    reading     TEXT    NOT NULL,
    -- Descriptor names the reading supports, most fitting first (JSON).
    descriptors TEXT    NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL
);

-- The work each item is read as (NULL: nothing for the model to read,
-- such as a track with neither album nor artist). Set by the describe
-- phase.
ALTER TABLE items ADD COLUMN subject TEXT;
CREATE INDEX items_subject ON items(subject);

-- Every item is described again by the next scan, which sets its subject;
-- the text (and so the index) stays the same until its work is read.
UPDATE items SET description = NULL;
