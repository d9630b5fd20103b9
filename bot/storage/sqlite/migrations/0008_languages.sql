-- The language each constituent chose, with their draft and with each case, so that what the
-- office sends them later is written in it (and staff can see it). English for everything before.
ALTER TABLE drafts ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE cases ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
CREATE INDEX drafts_by_chat ON drafts (chat_id);
CREATE INDEX cases_by_chat ON cases (chat_id, created_at);
