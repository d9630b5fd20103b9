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

-- What the statistics count, worked out when a case is written: minutes to the first reply
-- and to closing, and whether the first reply kept the promised date (1) or not (0).
ALTER TABLE cases ADD COLUMN reply_minutes INTEGER;
ALTER TABLE cases ADD COLUMN close_minutes INTEGER;
ALTER TABLE cases ADD COLUMN reply_kept INTEGER;
UPDATE cases SET
    reply_minutes = CAST((julianday(first_reply_at) - julianday(created_at)) * 1440 AS INTEGER),
    close_minutes = CAST((julianday(closed_at) - julianday(created_at)) * 1440 AS INTEGER);
UPDATE cases SET reply_kept = (first_reply_on <= reply_by)
WHERE first_reply_on IS NOT NULL AND reply_by IS NOT NULL;

-- The medians read a covering index over the period (no case is read whole).
CREATE INDEX cases_reply_time ON cases (received_on, reply_minutes);
CREATE INDEX cases_close_time ON cases (received_on, close_minutes);
CREATE INDEX cases_open_by_status ON cases (is_open, assignee, status);

-- Counts by the London day a case arrived, kept in step with the cases by triggers, so a
-- period's counts are a few hundred rows whatever the number of cases: by category
-- ('received'), and by where the promise stands ('promise': kept '1', broken '0', or the
-- promised date while unanswered). Numbers only; an erased case is taken out of them.
CREATE TABLE case_counts (
    kind  TEXT    NOT NULL,
    day   TEXT    NOT NULL,
    key   TEXT    NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (kind, day, key)
) WITHOUT ROWID;

INSERT INTO case_counts (kind, day, key, n)
SELECT 'received', received_on, category, count(*) FROM cases
WHERE received_on IS NOT NULL GROUP BY received_on, category;
INSERT INTO case_counts (kind, day, key, n)
SELECT 'promise', received_on, coalesce(CAST(reply_kept AS TEXT), reply_by), count(*) FROM cases
WHERE received_on IS NOT NULL AND reply_by IS NOT NULL GROUP BY 2, 3;

CREATE TRIGGER case_counts_insert AFTER INSERT ON cases WHEN NEW.received_on IS NOT NULL
BEGIN
    INSERT INTO case_counts (kind, day, key, n) VALUES ('received', NEW.received_on, NEW.category, 1)
    ON CONFLICT (kind, day, key) DO UPDATE SET n = n + 1;
    INSERT INTO case_counts (kind, day, key, n)
    SELECT 'promise', NEW.received_on, coalesce(CAST(NEW.reply_kept AS TEXT), NEW.reply_by), 1
    WHERE NEW.reply_by IS NOT NULL
    ON CONFLICT (kind, day, key) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER case_counts_delete AFTER DELETE ON cases WHEN OLD.received_on IS NOT NULL
BEGIN
    UPDATE case_counts SET n = n - 1
    WHERE kind = 'received' AND day = OLD.received_on AND key = OLD.category;
    UPDATE case_counts SET n = n - 1
    WHERE kind = 'promise' AND day = OLD.received_on
      AND key = coalesce(CAST(OLD.reply_kept AS TEXT), OLD.reply_by);
    DELETE FROM case_counts WHERE n <= 0;
END;

CREATE TRIGGER case_counts_update AFTER UPDATE OF category, reply_kept, reply_by ON cases
WHEN NEW.received_on IS NOT NULL
 AND (OLD.category IS NOT NEW.category OR OLD.reply_kept IS NOT NEW.reply_kept
      OR OLD.reply_by IS NOT NEW.reply_by)
BEGIN
    UPDATE case_counts SET n = n - 1
    WHERE kind = 'received' AND day = OLD.received_on AND key = OLD.category;
    UPDATE case_counts SET n = n - 1
    WHERE kind = 'promise' AND day = OLD.received_on
      AND key = coalesce(CAST(OLD.reply_kept AS TEXT), OLD.reply_by);
    INSERT INTO case_counts (kind, day, key, n) VALUES ('received', NEW.received_on, NEW.category, 1)
    ON CONFLICT (kind, day, key) DO UPDATE SET n = n + 1;
    INSERT INTO case_counts (kind, day, key, n)
    SELECT 'promise', NEW.received_on, coalesce(CAST(NEW.reply_kept AS TEXT), NEW.reply_by), 1
    WHERE NEW.reply_by IS NOT NULL
    ON CONFLICT (kind, day, key) DO UPDATE SET n = n + 1;
    DELETE FROM case_counts WHERE n <= 0;
END;

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
