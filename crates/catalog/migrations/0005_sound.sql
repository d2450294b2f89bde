-- How each music track sounds (moodshelf_sound::Features), analysed from
-- its decoded audio in the background. Derived data, but it costs about a
-- second of CPU per track, so it is kept across rescans and index rebuilds.

CREATE TABLE sound (
    item_id     INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    -- 'a<analysis version>:<size>:<fingerprint or mtime>' of the media file
    -- it was computed from: stale when the audio or the analysis changed,
    -- kept when only the tags did.
    source      TEXT    NOT NULL,
    -- The features as JSON; NULL when the file could not be analysed.
    features    TEXT,
    -- Why it could not be (a damaged stream, a codec not decoded here).
    error       TEXT,
    analyzed_at INTEGER NOT NULL
);
