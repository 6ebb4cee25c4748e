-- The event table of postgres-es (same columns, names and primary key, so the crate's own
-- INSERT and SELECT statements work unchanged), extended with what the crate lacks:
--   position        global commit-order position (identity; taken at INSERT time)
--   transaction_id  the writing transaction's xid8: a reader that only reads rows with
--                   transaction_id < pg_snapshot_xmin(pg_current_snapshot()), ordered by
--                   (transaction_id, position), never skips a row of a transaction still in flight
--   recorded_at     when the database recorded the event (transaction start), never the client
--   event_id        a unique id per event
-- and jsonb (not json) payload and metadata.
CREATE TABLE events
(
    aggregate_type text                                NOT NULL,
    aggregate_id   text                                NOT NULL,
    sequence       bigint CHECK (sequence >= 0)        NOT NULL,
    event_type     text                                NOT NULL,
    event_version  text                                NOT NULL,
    payload        jsonb                               NOT NULL,
    metadata       jsonb                               NOT NULL,
    position       bigint GENERATED ALWAYS AS IDENTITY NOT NULL UNIQUE,
    transaction_id xid8        DEFAULT pg_current_xact_id() NOT NULL,
    recorded_at    timestamptz DEFAULT now()                NOT NULL,
    event_id       uuid        DEFAULT gen_random_uuid()    NOT NULL UNIQUE,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

-- The projection runner's read order.
CREATE INDEX events_commit_order ON events (transaction_id, position);

-- Events are facts: never updated, deleted or truncated. A mistake is fixed by a correcting event.
CREATE FUNCTION lifecourse_events_are_immutable() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'events are immutable: % on events is not allowed; record a correcting event instead', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION lifecourse_events_are_immutable();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION lifecourse_events_are_immutable();
