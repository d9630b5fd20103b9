-- Updates as fetched from Telegram, kept until processed: Telegram forgets an update once the
-- next getUpdates confirms it, which can happen before the bot has processed it.
CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,
    data         TEXT    NOT NULL,
    received_at  TEXT    NOT NULL
);
