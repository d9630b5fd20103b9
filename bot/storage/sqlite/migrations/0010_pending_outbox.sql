-- The outbox's look-ups only ever want what is still owed, so their indexes hold only pending
-- entries: recording a message as sent takes it out of them and writes nothing new, and they
-- stay a few pages however long the outbox's history grows. Erasing a case still finds its
-- entries by case (the cascade of cases' foreign key).
DROP INDEX outbox_due;
DROP INDEX outbox_by_chat;
DROP INDEX outbox_by_case;
CREATE INDEX outbox_due ON outbox (due_at, id) WHERE state = 'pending';
CREATE INDEX outbox_by_chat ON outbox (chat_id, id) WHERE state = 'pending';
CREATE INDEX outbox_by_case ON outbox (case_id) WHERE case_id IS NOT NULL;
