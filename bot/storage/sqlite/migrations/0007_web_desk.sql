-- The staff desk in the browser: one-time login links and sessions, each kept only as a hash of
-- its secret, so a copy of the database signs nobody in.
CREATE TABLE desk_logins (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    used_at     TEXT
);

CREATE TABLE desk_sessions (
    id_hash     TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL
);

CREATE INDEX desk_sessions_by_user ON desk_sessions (user_id);

-- The queue's tabs and filters, counted from the index alone (the case data is large).
CREATE INDEX cases_desk ON cases (is_open, status, assignee, urgent, category, created_at);
CREATE INDEX cases_desk_by_created ON cases (created_at, urgent, id);
