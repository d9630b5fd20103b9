-- What is still owed is a handful of entries, or a few thousand after an outage: the look-ups
-- for what is due read them through the index of pending entries by chat, and there is no
-- second index of them by time, which every message owed and every delivery wrote a page of.
DROP INDEX outbox_due;
