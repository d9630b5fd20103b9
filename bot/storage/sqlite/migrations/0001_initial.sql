-- Drafts in progress, sent cases and the consent given with each.
CREATE TABLE drafts (
    user_id     INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    state       TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

CREATE TABLE cases (
    id          INTEGER PRIMARY KEY,
    reference   TEXT    NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL,
    chat_id     INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    urgent      INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    data        TEXT    NOT NULL
);

CREATE INDEX cases_by_user ON cases (user_id, created_at);
CREATE INDEX cases_by_queue ON cases (status, urgent DESC, created_at);

CREATE TABLE consents (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    version      TEXT    NOT NULL,
    answer       TEXT    NOT NULL CHECK (answer IN ('yes', 'no')),
    recorded_at  TEXT    NOT NULL
);

CREATE INDEX consents_by_case ON consents (case_id);
