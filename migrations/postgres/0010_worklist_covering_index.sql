-- The worklist reads indexes alone: `open_until` (the resolution date, or '9999-12-31' while
-- unresolved, as on SQLite) is a stored column, and the first index holds every field the
-- worklist filters and orders by, and the row's key. Counting a centre's open expectations on a
-- day and choosing a page of them are then index-only scans; only the page's expectations are
-- read from the table. 0008's index on an expression could not serve an index-only scan, so
-- every open expectation was read from the table, whole JSON and all.
ALTER TABLE follow_up_expectations
    ADD COLUMN open_until text COLLATE "C" NOT NULL
        GENERATED ALWAYS AS (coalesce(resolved_on, '9999-12-31')) STORED;

CREATE INDEX follow_up_expectations_worklist
    ON follow_up_expectations (centre, open_until, due_on, created_on, child_id COLLATE "C", rule,
                               subject, ordinal);

-- The count reads only the filtered fields: from an index of those alone, a fifth of the size
-- of the one above (at 50,000 children in one centre, 34,631 open expectations counted in 15 ms
-- rather than 34 ms).
CREATE INDEX follow_up_expectations_open_count
    ON follow_up_expectations (centre, open_until, due_on, created_on);

DROP INDEX follow_up_expectations_open;

-- An index-only scan skips the table only for pages the visibility map marks all-visible, which
-- a vacuum does (0011 vacuums the table this migration rewrote). Every catch-up rewrites a few
-- children's expectations: autovacuum should vacuum this table after 2% of it has changed or
-- been added, not the default 20%.
ALTER TABLE follow_up_expectations
    SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02,
         autovacuum_analyze_scale_factor = 0.02);
