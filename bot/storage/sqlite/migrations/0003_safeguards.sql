-- Updates already processed (so one delivered twice is processed once), blocked senders,
-- anonymous counts of intakes that keep no personal data, and consent withdrawal.
CREATE TABLE processed_updates (
    update_id     INTEGER PRIMARY KEY,
    processed_at  TEXT    NOT NULL
);

CREATE INDEX processed_updates_by_time ON processed_updates (processed_at);

CREATE TABLE blocked_users (
    user_id     INTEGER PRIMARY KEY,
    blocked_at  TEXT    NOT NULL,
    blocked_by  INTEGER NOT NULL,
    case_ref    TEXT
);

CREATE TABLE intake_counts (
    day      TEXT    NOT NULL,
    outcome  TEXT    NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (day, outcome)
);

ALTER TABLE consents ADD COLUMN withdrawn_at TEXT;
