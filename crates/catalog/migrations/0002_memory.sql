-- What the user said and did: conversations, feedback, stated preferences
-- and what was shown when. User data: never derived, never rebuilt, kept
-- across rescans (items keep their id when files move).

CREATE TABLE conversations (
    id         INTEGER PRIMARY KEY,
    title      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    -- 'user' or 'assistant'
    role            TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    -- The structured reading of a user message, or of the answer's request
    -- after follow-ups were applied (JSON), for assistant messages.
    intent          TEXT,
    -- Item ids of an answer, in order (JSON array); '[]' for user messages.
    items           TEXT    NOT NULL DEFAULT '[]',
    created_at      INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);

CREATE TABLE feedback (
    id         INTEGER PRIMARY KEY,
    item_id    INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    -- 'like', 'dislike' or 'not_now'
    verdict    TEXT    NOT NULL,
    -- The request the item answered, when known, and its embedding
    -- (little-endian f32), so that a dislike applies to similar requests.
    request    TEXT,
    request_vector BLOB,
    created_at INTEGER NOT NULL
);
CREATE INDEX feedback_item ON feedback(item_id);

-- Stated preferences ("I can't stand country music"): kept and applied to
-- every later request until removed.
CREATE TABLE preferences (
    id         INTEGER PRIMARY KEY,
    -- 'avoid' or 'prefer'
    polarity   TEXT    NOT NULL,
    term       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (polarity, term)
);

-- Items shown in answers, for novelty (not the same picks every time).
CREATE TABLE shown (
    item_id  INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    shown_at INTEGER NOT NULL
);
CREATE INDEX shown_item ON shown(item_id, shown_at);
