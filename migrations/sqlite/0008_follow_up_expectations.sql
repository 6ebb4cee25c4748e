-- The worklist's index: one row per follow-up expectation, kept by triggers from the rows of
-- proj_follow_up (each row's view is the JSON array of its child's expectations), so that
-- `gaps` filters, orders and pages with an index instead of unpacking every child's view.
--
-- The expectation is stored whole (`expectation`, as the fold wrote it); the other columns are
-- copies of the fields the worklist filters and orders by (dates as ISO text). A rebuild fills
-- a scratch copy of proj_follow_up (no triggers) and swaps it in by DELETE and INSERT, which
-- the triggers follow, in the swap's transaction. An upsert's DO UPDATE fires the update
-- trigger.
CREATE TABLE follow_up_expectations
(
    child_id    TEXT    NOT NULL,
    ordinal     INTEGER NOT NULL,
    centre      TEXT,
    created_on  TEXT    NOT NULL,
    due_on      TEXT    NOT NULL,
    resolved_on TEXT,
    rule        TEXT    NOT NULL,
    subject     TEXT,
    expectation TEXT    NOT NULL,
    PRIMARY KEY (child_id, ordinal)
) STRICT;

-- A worklist on a day reads a centre's expectations still open then (unresolved, or resolved
-- after that day): few, next to all those ever created.
CREATE INDEX follow_up_expectations_open
    ON follow_up_expectations (centre, coalesce(resolved_on, '9999-12-31'), due_on);

CREATE TRIGGER follow_up_rows_inserted
    AFTER INSERT ON proj_follow_up
BEGIN
    DELETE FROM follow_up_expectations WHERE child_id = NEW.child_id;
    INSERT INTO follow_up_expectations
        (child_id, ordinal, centre, created_on, due_on, resolved_on, rule, subject, expectation)
    SELECT NEW.child_id, e.key, json_extract(e.value, '$.centre'),
           json_extract(e.value, '$.created_on'), json_extract(e.value, '$.due_on'),
           json_extract(e.value, '$.resolution.on'), json_extract(e.value, '$.rule'),
           json_extract(e.value, '$.subject'), e.value
      FROM json_each(NEW.view) e;
END;

CREATE TRIGGER follow_up_rows_updated
    AFTER UPDATE ON proj_follow_up
BEGIN
    DELETE FROM follow_up_expectations WHERE child_id = OLD.child_id;
    INSERT INTO follow_up_expectations
        (child_id, ordinal, centre, created_on, due_on, resolved_on, rule, subject, expectation)
    SELECT NEW.child_id, e.key, json_extract(e.value, '$.centre'),
           json_extract(e.value, '$.created_on'), json_extract(e.value, '$.due_on'),
           json_extract(e.value, '$.resolution.on'), json_extract(e.value, '$.rule'),
           json_extract(e.value, '$.subject'), e.value
      FROM json_each(NEW.view) e;
END;

CREATE TRIGGER follow_up_rows_deleted
    AFTER DELETE ON proj_follow_up
BEGIN
    DELETE FROM follow_up_expectations WHERE child_id = OLD.child_id;
END;

-- The rows already there.
INSERT INTO follow_up_expectations
    (child_id, ordinal, centre, created_on, due_on, resolved_on, rule, subject, expectation)
SELECT p.child_id, e.key, json_extract(e.value, '$.centre'),
       json_extract(e.value, '$.created_on'), json_extract(e.value, '$.due_on'),
       json_extract(e.value, '$.resolution.on'), json_extract(e.value, '$.rule'),
       json_extract(e.value, '$.subject'), e.value
  FROM proj_follow_up p, json_each(p.view) e;
