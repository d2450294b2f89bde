-- The person's use of their items: what their other software recorded
-- (a media centre's play count and their rating in an .nfo, a player's
-- play counter in a tag) and, later, imports and their use of Moodshelf.
-- User data: it is the person's history, never the item's metadata, and
-- it is kept across rescans (items keep their id when files move).
CREATE TABLE history (
    item_id     INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    -- Whose record it is: 'kodi' (.nfo), and so on.
    source      TEXT    NOT NULL,
    -- 1 when it was read from the item's own files, which are read
    -- again on every change: a file's record replaces its earlier one.
    from_file   INTEGER NOT NULL,
    plays       INTEGER,
    -- Unix seconds.
    last_played INTEGER,
    -- The person's own rating, 0-10.
    rating      REAL,
    -- Share read or watched, 0-1.
    progress    REAL,
    -- 1: watched, read or finished.
    finished    INTEGER,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (item_id, source)
);
