-- no-transaction
-- VACUUM runs outside a transaction, hence a migration of its own, of one statement. 0010
-- rewrote follow_up_expectations; this marks its pages all-visible (so that the worklist's
-- index-only scans need not read the table) and gathers the new column's statistics (so that
-- the next worklist is planned with the new index). Run again, it only vacuums once more.
VACUUM (ANALYZE) follow_up_expectations;
