-- Processed updates are looked up by id only. The sweep that forgets them after two days
-- reads the table through instead of an index by time, which every update wrote a page of.
DROP INDEX processed_updates_by_time;
