-- The staff queue: who has each case, its card in the staff group, internal notes and
-- messages, an audit log of every staff view and action, and a durable outbox.
ALTER TABLE cases ADD COLUMN assignee INTEGER;
ALTER TABLE cases ADD COLUMN is_open INTEGER NOT NULL DEFAULT 1;
ALTER TABLE cases ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN card_message_id INTEGER;

UPDATE cases SET is_open = CASE WHEN status IN ('closed', 'closed_unable') THEN 0 ELSE 1 END;

CREATE INDEX cases_open_queue ON cases (is_open, urgent DESC, created_at, id);
CREATE INDEX cases_open_by_assignee ON cases (is_open, assignee, urgent DESC, created_at, id);
CREATE INDEX cases_open_by_category ON cases (is_open, category, urgent DESC, created_at, id);
CREATE INDEX cases_by_created ON cases (created_at, id);

CREATE TABLE case_messages (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at          TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('note', 'to_constituent', 'from_constituent')),
    author      INTEGER,
    text        TEXT    NOT NULL,
    telegram_message_id INTEGER
);

CREATE INDEX case_messages_by_case ON case_messages (case_id, id);

-- No personal data here: who (a user id), what, which case, and plain values such as a status.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    actor       INTEGER,
    action      TEXT    NOT NULL,
    case_ref    TEXT,
    detail      TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX audit_by_case ON audit (case_ref, id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('card', 'message')),
    chat_id         INTEGER NOT NULL,
    case_id         INTEGER REFERENCES cases (id) ON DELETE CASCADE,
    payload         TEXT    NOT NULL DEFAULT '{}',
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL,
    due_at          TEXT    NOT NULL,
    sent_at         TEXT,
    last_error      TEXT
);

CREATE INDEX outbox_due ON outbox (state, due_at, id);
-- A case has at most one card update waiting: later changes fold into it.
CREATE UNIQUE INDEX outbox_one_card ON outbox (case_id) WHERE kind = 'card' AND state = 'pending';
CREATE INDEX outbox_by_chat ON outbox (chat_id, state, id);
