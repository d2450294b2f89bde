-- More than one person on one library: each has their own feedback,
-- stated preferences, history and corrections to their taste. Person 1
-- is the library's owner: what the files say of their use (a media
-- centre's play counts) is theirs, and every earlier record became theirs.
CREATE TABLE people (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    created_at INTEGER NOT NULL
);
INSERT INTO people (id, name, created_at) VALUES (1, 'Me', 0);

-- SQLite allows no REFERENCES on an added column with a default; removing
-- a person removes their rows in the same transaction (people.rs).
ALTER TABLE feedback ADD COLUMN person_id INTEGER NOT NULL DEFAULT 1;
CREATE INDEX feedback_person ON feedback(person_id);

CREATE TABLE preferences_by_person (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL DEFAULT 1 REFERENCES people(id) ON DELETE CASCADE,
    polarity   TEXT    NOT NULL,
    term       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (person_id, polarity, term)
);
INSERT INTO preferences_by_person (id, person_id, polarity, term, source, created_at)
    SELECT id, 1, polarity, term, source, created_at FROM preferences;
DROP TABLE preferences;
ALTER TABLE preferences_by_person RENAME TO preferences;

CREATE TABLE history_by_person (
    item_id     INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    person_id   INTEGER NOT NULL DEFAULT 1 REFERENCES people(id) ON DELETE CASCADE,
    source      TEXT    NOT NULL,
    from_file   INTEGER NOT NULL,
    plays       INTEGER,
    last_played INTEGER,
    rating      REAL,
    progress    REAL,
    finished    INTEGER,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (item_id, person_id, source)
);
INSERT INTO history_by_person
    SELECT item_id, 1, source, from_file, plays, last_played, rating, progress,
           finished, updated_at FROM history;
DROP TABLE history;
ALTER TABLE history_by_person RENAME TO history;
CREATE INDEX history_person ON history(person_id);

-- Parts of a person's taste they asked to forget ("not me"): a facet
-- ('genre', 'creator', 'era', 'theme') and its value, as shown. Works that
-- carry it no longer shape their taste; their history itself is kept.
CREATE TABLE taste_forgotten (
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    facet      TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (person_id, facet, value)
);
