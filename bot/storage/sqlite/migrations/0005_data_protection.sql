-- Nothing kept longer than it is needed: a fetched update is forgotten as soon as it is
-- processed, and an owed message's content as soon as it is delivered (or given up on).
CREATE TRIGGER inbox_forgets_processed AFTER INSERT ON processed_updates
BEGIN
    DELETE FROM inbox WHERE update_id = NEW.update_id;
END;

-- (An intake's reply keeps only that it was one.)
CREATE TRIGGER outbox_forgets_delivered AFTER UPDATE OF state ON outbox
WHEN NEW.state != 'pending' AND NEW.payload NOT IN ('{}', '{"reply":{}}')
BEGIN
    UPDATE outbox SET payload = CASE
        WHEN json_extract(NEW.payload, '$.reply') IS NOT NULL THEN '{"reply":{}}' ELSE '{}'
    END WHERE id = NEW.id;
END;

-- What staff see of an erased case: its reference, when and why, and nothing personal.
CREATE TABLE erasures (
    reference        TEXT    PRIMARY KEY,
    erased_at        TEXT    NOT NULL,
    reason           TEXT    NOT NULL CHECK (reason IN ('request', 'retention')),
    card_message_id  INTEGER
);

-- Facts about this database, such as which bot's update ids it records.
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- The consent wording the person agreed to, as it was shown to them.
ALTER TABLE consents ADD COLUMN wording TEXT;

-- Updates fetched before processing removed them were already processed: forget them now.
DELETE FROM inbox WHERE update_id IN (SELECT update_id FROM processed_updates);
UPDATE outbox SET payload = '{}' WHERE state != 'pending';
