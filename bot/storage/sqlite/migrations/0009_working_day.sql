-- The working day: the date each case is promised a reply by, a date to chase an
-- organisation, when it was first replied to and closed, and which channel it came from.
ALTER TABLE cases ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram';
ALTER TABLE cases ADD COLUMN reply_by TEXT;
ALTER TABLE cases ADD COLUMN due_on TEXT;
ALTER TABLE cases ADD COLUMN first_reply_at TEXT;
ALTER TABLE cases ADD COLUMN closed_at TEXT;

-- Cases from before: the first reply from their messages, the close from their last change.
UPDATE cases SET first_reply_at = (
    SELECT min(at) FROM case_messages
    WHERE case_messages.case_id = cases.id AND kind = 'to_constituent'
);
UPDATE cases SET closed_at = updated_at WHERE is_open = 0;
UPDATE cases SET data = json_set(data, '$.first_reply_at', first_reply_at)
WHERE first_reply_at IS NOT NULL;
UPDATE cases SET data = json_set(data, '$.closed_at', closed_at) WHERE closed_at IS NOT NULL;

CREATE INDEX cases_open_by_due ON cases (is_open, due_on, urgent DESC, created_at, id);

-- London dates for the office's statistics: the day each case arrived and was first replied
-- to. For cases from before, they are worked out here from British Summer Time's rule (from
-- 01:00 UTC on the last Sunday in March to 01:00 UTC on the last Sunday in October).
ALTER TABLE cases ADD COLUMN received_on TEXT;
ALTER TABLE cases ADD COLUMN first_reply_on TEXT;
UPDATE cases SET received_on = date(created_at, CASE
    WHEN substr(created_at, 1, 16) >= date(substr(created_at, 1, 4) || '-03-31', '-6 days', 'weekday 0') || 'T01:00'
     AND substr(created_at, 1, 16) < date(substr(created_at, 1, 4) || '-10-31', '-6 days', 'weekday 0') || 'T01:00'
    THEN '+1 hour' ELSE '+0 hours' END);
UPDATE cases SET first_reply_on = date(first_reply_at, CASE
    WHEN substr(first_reply_at, 1, 16) >= date(substr(first_reply_at, 1, 4) || '-03-31', '-6 days', 'weekday 0') || 'T01:00'
     AND substr(first_reply_at, 1, 16) < date(substr(first_reply_at, 1, 4) || '-10-31', '-6 days', 'weekday 0') || 'T01:00'
    THEN '+1 hour' ELSE '+0 hours' END)
WHERE first_reply_at IS NOT NULL;
CREATE INDEX cases_by_received ON cases (received_on, category);

-- How consent was given: in the bot, or told to a caseworker (who is recorded).
ALTER TABLE consents ADD COLUMN given_via TEXT NOT NULL DEFAULT 'telegram';
ALTER TABLE consents ADD COLUMN recorded_by INTEGER;
ALTER TABLE consents ADD COLUMN how TEXT;

-- Standard replies, seeded from flows/templates/replies.yaml on the first run, then edited
-- at the desk.
CREATE TABLE reply_templates (
    name        TEXT    PRIMARY KEY,
    body        TEXT    NOT NULL,
    updated_at  TEXT,
    updated_by  INTEGER
);

-- The office's staff, seeded from STAFF_USER_IDS on the first run, then changed by an office
-- manager. Someone removed keeps a row (removed_at), so the case history still names them.
CREATE TABLE staff (
    user_id      INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('caseworker', 'manager')),
    may_export   INTEGER NOT NULL DEFAULT 1,
    specialisms  TEXT    NOT NULL DEFAULT '',
    position     INTEGER NOT NULL,
    added_at     TEXT    NOT NULL,
    removed_at   TEXT
);
