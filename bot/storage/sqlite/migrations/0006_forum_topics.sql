-- Forum topics, priorities and search: each case's topic in the staff group, every message the
-- bot posted about a case on the staff side (so erasing the case can take them down), an outbox
-- that can also delete what it posted and keep a summary up to date, listed by priority, and a
-- full-text index of what staff search cases by.
ALTER TABLE cases ADD COLUMN topic_id INTEGER;

CREATE UNIQUE INDEX cases_by_topic ON cases (topic_id) WHERE topic_id IS NOT NULL;

CREATE TABLE case_posts (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    thread_id   INTEGER,
    sent_at     TEXT    NOT NULL,
    -- A constituent's message relayed to staff: a caseworker's reply to it answers them.
    answerable  INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX case_posts_by_case ON case_posts (case_id);
CREATE UNIQUE INDEX case_posts_by_message ON case_posts (chat_id, message_id);

-- SQLite cannot change a CHECK constraint: the outbox is copied into a table with the new kinds.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('card', 'message', 'cleanup', 'summary')),
    chat_id         INTEGER NOT NULL,
    case_id         INTEGER REFERENCES cases (id) ON DELETE CASCADE,
    payload         TEXT    NOT NULL DEFAULT '{}',
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL,
    due_at          TEXT    NOT NULL,
    sent_at         TEXT,
    last_error      TEXT,
    -- 0 urgent, 1 a new case's card, 2 the rest, 3 background: lanes of one chat go in this order.
    priority        INTEGER NOT NULL DEFAULT 2
);

INSERT INTO outbox_new (id, kind, chat_id, case_id, payload, state, attempts, created_at, due_at,
                        sent_at, last_error)
SELECT id, kind, chat_id, case_id, payload, state, attempts, created_at, due_at, sent_at, last_error
FROM outbox;

DROP TABLE outbox;

ALTER TABLE outbox_new RENAME TO outbox;

CREATE INDEX outbox_due ON outbox (state, due_at, id);
CREATE UNIQUE INDEX outbox_one_card ON outbox (case_id) WHERE kind = 'card' AND state = 'pending';
CREATE UNIQUE INDEX outbox_one_summary ON outbox (chat_id)
    WHERE kind = 'summary' AND state = 'pending';
CREATE INDEX outbox_by_chat ON outbox (chat_id, state, id);
CREATE INDEX outbox_by_case ON outbox (case_id, state, id);

-- (Dropped with the old table: as in 0005, an intake's reply keeps only that it was one.)
CREATE TRIGGER outbox_forgets_delivered AFTER UPDATE OF state ON outbox
WHEN NEW.state != 'pending' AND NEW.payload NOT IN ('{}', '{"reply":{}}')
BEGIN
    UPDATE outbox SET payload = CASE
        WHEN json_extract(NEW.payload, '$.reply') IS NOT NULL THEN '{"reply":{}}' ELSE '{}'
    END WHERE id = NEW.id;
END;

-- What staff search a case by (rowid = the case's id): its answers, and its notes and messages.
CREATE VIRTUAL TABLE case_search USING fts5 (
    facts, messages, tokenize = 'unicode61 remove_diacritics 2'
);
