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

-- The queue's counts under any filter from an index alone (a case's row holds its large
-- data): one led by who has the case, one by when it came in.
CREATE INDEX cases_desk ON cases (is_open, assignee, status, category, urgent, created_at);
CREATE INDEX cases_desk_by_age ON cases (is_open, created_at, assignee, status, category, urgent);
