-- `INSERT OR REPLACE` (and `REPLACE`) into events would delete the stored row without firing the
-- delete trigger (unless recursive_triggers is on, which the application sets on its own
-- connections but another client may not). Refuse any insert that collides with a stored event,
-- before SQLite's conflict resolution can delete it. An ordinary insert of a sequence another
-- writer took first is refused here too; the engine reads that as a concurrent write (exit 4).
CREATE TRIGGER events_no_replace
    BEFORE INSERT ON events
    WHEN EXISTS (SELECT 1 FROM events
                  WHERE (aggregate_type = NEW.aggregate_type AND aggregate_id = NEW.aggregate_id
                         AND sequence = NEW.sequence)
                     OR position = NEW.position
                     OR event_id = NEW.event_id)
BEGIN
    SELECT RAISE(ABORT, 'events are immutable: an entry with this sequence, position or event id is already stored');
END;
