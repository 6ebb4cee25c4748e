-- The event table of sqlite-es (same columns and names, so the crate's own INSERT and SELECT
-- statements work unchanged), rebuilt so that it can carry what the crate lacks:
--   position     global commit-order position: INTEGER PRIMARY KEY AUTOINCREMENT, which SQLite's
--                single writer hands out in commit order and never reuses (a plain rowid can be
--                reused and VACUUM may renumber it)
--   recorded_at  when the database recorded the event (UTC, millisecond precision)
--   event_id     a unique random (version 4) UUID per event
-- The crate's primary key (aggregate_type, aggregate_id, sequence) becomes a UNIQUE constraint:
-- a second writer of the same sequence still fails, and the engine reports it as a conflict.
CREATE TABLE events
(
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    aggregate_type TEXT                          NOT NULL,
    aggregate_id   TEXT                          NOT NULL,
    sequence       INTEGER CHECK (sequence >= 0) NOT NULL,
    event_type     TEXT                          NOT NULL,
    event_version  TEXT                          NOT NULL,
    payload        TEXT                          NOT NULL,
    metadata       TEXT                          NOT NULL,
    recorded_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    event_id       TEXT NOT NULL UNIQUE DEFAULT (lower(
        hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
        substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' ||
        hex(randomblob(6)))),
    UNIQUE (aggregate_type, aggregate_id, sequence)
) STRICT;

-- Events are facts: never updated or deleted. A mistake is fixed by a correcting event.
CREATE TRIGGER events_no_update
    BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are immutable: UPDATE on events is not allowed; record a correcting event instead');
END;

CREATE TRIGGER events_no_delete
    BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are immutable: DELETE on events is not allowed; record a correcting event instead');
END;
