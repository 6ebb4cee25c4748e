-- The worklist's index on SQLite: one row per follow-up expectation, kept by triggers from the
-- rows of proj_follow_up (each row's view is the JSON array of its child's expectations), so
-- that `gaps` filters, orders and pages with an index instead of unpacking every child's view.
-- PostgreSQL has the same table since its 0008, kept by statement triggers.
--
-- Lean, because every catch-up after a command writes here: the expectation whole (as the fold
-- wrote it), and copies of only the fields the worklist filters and orders by. `open_until` is
-- the resolution date, or '9999-12-31' while unresolved (an expectation is open on a day before
-- it). Dates are ISO text, compared as the query over the views compared them.
--
-- SQLite has row triggers only. A row rewritten with the same view writes nothing here; a
-- changed view rewrites only the expectations that changed (the fold appends new expectations
-- and resolves old ones in place, so most keep their ordinal and their JSON). A rebuild fills
-- a scratch copy of proj_follow_up made from the table's DDL alone (no triggers, so nothing
-- is written here meanwhile) and swaps it in (rows of children it lacks deleted, the others
-- upserted), which the triggers follow, in the swap's transaction.
CREATE TABLE follow_up_expectations
(
    child_id    TEXT    NOT NULL,
    ordinal     INTEGER NOT NULL,
    centre      TEXT,
    created_on  TEXT    NOT NULL,
    due_on      TEXT    NOT NULL,
    open_until  TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    subject     TEXT,
    expectation TEXT    NOT NULL,
    PRIMARY KEY (child_id, ordinal)
) STRICT;

-- A worklist on a day reads a centre's expectations still open then (unresolved, or resolved
-- after that day): few, next to all those ever created. The index holds every field the
-- worklist filters and orders by, so that counting and ordering them reads the index alone and
-- only the expectations of the page are read from the table.
CREATE INDEX follow_up_expectations_open
    ON follow_up_expectations (centre, open_until, due_on, created_on, child_id, rule, subject);

CREATE TRIGGER follow_up_rows_inserted
    AFTER INSERT ON proj_follow_up
BEGIN
    INSERT INTO follow_up_expectations
        (child_id, ordinal, centre, created_on, due_on, open_until, rule, subject, expectation)
    SELECT NEW.child_id, e.key, json_extract(e.value, '$.centre'),
           json_extract(e.value, '$.created_on'), json_extract(e.value, '$.due_on'),
           coalesce(json_extract(e.value, '$.resolution.on'), '9999-12-31'),
           json_extract(e.value, '$.rule'), json_extract(e.value, '$.subject'), e.value
      FROM json_each(NEW.view) e;
END;

CREATE TRIGGER follow_up_rows_updated
    AFTER UPDATE OF child_id, view ON proj_follow_up
    WHEN OLD.child_id IS NOT NEW.child_id OR OLD.view IS NOT NEW.view
BEGIN
    DELETE FROM follow_up_expectations
     WHERE child_id = OLD.child_id
       AND (OLD.child_id IS NOT NEW.child_id OR ordinal >= json_array_length(NEW.view));
    INSERT INTO follow_up_expectations
        (child_id, ordinal, centre, created_on, due_on, open_until, rule, subject, expectation)
    SELECT NEW.child_id, e.key, json_extract(e.value, '$.centre'),
           json_extract(e.value, '$.created_on'), json_extract(e.value, '$.due_on'),
           coalesce(json_extract(e.value, '$.resolution.on'), '9999-12-31'),
           json_extract(e.value, '$.rule'), json_extract(e.value, '$.subject'), e.value
      FROM json_each(NEW.view) e
     WHERE true
        ON CONFLICT (child_id, ordinal) DO UPDATE
       SET centre = excluded.centre, created_on = excluded.created_on,
           due_on = excluded.due_on, open_until = excluded.open_until, rule = excluded.rule,
           subject = excluded.subject, expectation = excluded.expectation
     WHERE expectation IS NOT excluded.expectation;
END;

CREATE TRIGGER follow_up_rows_deleted
    AFTER DELETE ON proj_follow_up
BEGIN
    DELETE FROM follow_up_expectations WHERE child_id = OLD.child_id;
END;

-- The rows already there.
INSERT INTO follow_up_expectations
    (child_id, ordinal, centre, created_on, due_on, open_until, rule, subject, expectation)
SELECT p.child_id, e.key, json_extract(e.value, '$.centre'),
       json_extract(e.value, '$.created_on'), json_extract(e.value, '$.due_on'),
       coalesce(json_extract(e.value, '$.resolution.on'), '9999-12-31'),
       json_extract(e.value, '$.rule'), json_extract(e.value, '$.subject'), e.value
  FROM proj_follow_up p, json_each(p.view) e;
