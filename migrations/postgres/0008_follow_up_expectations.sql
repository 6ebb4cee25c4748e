-- The worklist's index: one row per follow-up expectation, kept by triggers from the rows of
-- proj_follow_up (each row's view is the JSON array of its child's expectations), so that
-- `gaps` filters, orders and pages with an index instead of unpacking every child's view.
--
-- The expectation is stored whole (`expectation`, as the fold wrote it); the other columns are
-- copies of the fields the worklist filters and orders by. Dates are ISO text compared in the
-- "C" collation, as the query over the views compared them. A rebuild fills a scratch copy of
-- proj_follow_up (no triggers) and swaps it in by DELETE and INSERT, which the triggers follow,
-- in the swap's transaction.
CREATE TABLE follow_up_expectations
(
    child_id    text             NOT NULL,
    ordinal     bigint           NOT NULL,
    centre      text COLLATE "C",
    created_on  text COLLATE "C" NOT NULL,
    due_on      text COLLATE "C" NOT NULL,
    resolved_on text COLLATE "C",
    rule        text             NOT NULL,
    subject     text COLLATE "C",
    expectation jsonb            NOT NULL,
    PRIMARY KEY (child_id, ordinal)
);

-- A worklist on a day reads a centre's expectations still open then (unresolved, or resolved
-- after that day): few, next to all those ever created.
CREATE INDEX follow_up_expectations_open
    ON follow_up_expectations (centre, (coalesce(resolved_on, '9999-12-31')), due_on);

-- Written as the table's owner (SECURITY DEFINER): the application role needs no write grant on
-- follow_up_expectations, only SELECT.
CREATE FUNCTION lifecourse_follow_up_rows_written() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS
$$
BEGIN
    DELETE FROM follow_up_expectations WHERE child_id IN (SELECT child_id FROM new_rows);
    INSERT INTO follow_up_expectations
        (child_id, ordinal, centre, created_on, due_on, resolved_on, rule, subject, expectation)
    SELECT r.child_id, e.ordinal, e.value ->> 'centre', e.value ->> 'created_on',
           e.value ->> 'due_on', e.value -> 'resolution' ->> 'on', e.value ->> 'rule',
           e.value ->> 'subject', e.value
      FROM new_rows r, jsonb_array_elements(r.view) WITH ORDINALITY AS e(value, ordinal);
    RETURN NULL;
END
$$;

CREATE FUNCTION lifecourse_follow_up_rows_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS
$$
BEGIN
    DELETE FROM follow_up_expectations WHERE child_id IN (SELECT child_id FROM old_rows);
    RETURN NULL;
END
$$;

-- A trigger with transition tables serves one event, hence three.
CREATE TRIGGER follow_up_rows_inserted
    AFTER INSERT ON proj_follow_up REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lifecourse_follow_up_rows_written();

CREATE TRIGGER follow_up_rows_updated
    AFTER UPDATE ON proj_follow_up REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lifecourse_follow_up_rows_written();

CREATE TRIGGER follow_up_rows_deleted
    AFTER DELETE ON proj_follow_up REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lifecourse_follow_up_rows_deleted();

-- The rows already there.
INSERT INTO follow_up_expectations
    (child_id, ordinal, centre, created_on, due_on, resolved_on, rule, subject, expectation)
SELECT r.child_id, e.ordinal, e.value ->> 'centre', e.value ->> 'created_on',
       e.value ->> 'due_on', e.value -> 'resolution' ->> 'on', e.value ->> 'rule',
       e.value ->> 'subject', e.value
  FROM proj_follow_up r, jsonb_array_elements(r.view) WITH ORDINALITY AS e(value, ordinal);
