-- A commit order that survives backup and restore, pg_upgrade and failover.
--
-- transaction_id (xid8) orders commits within one PostgreSQL cluster only: restored into another
-- cluster (pg_dump/pg_restore, a logical copy, pg_upgrade) the stored values mean nothing next to
-- the new cluster's. So the read order is (era, transaction_id, position): an era is a span of
-- writing in one cluster, recorded in store_eras with the cluster's system_identifier
-- (pg_control_system()). Every event row carries the era it was written in. The first write in a
-- cluster that is not the latest era's opens a new era, numbered after every era before it: all
-- rows of earlier eras were committed before the copy was taken, so they come first in the
-- order and are all below the horizon; only the current era's rows are held to
-- transaction_id < pg_snapshot_xmin(pg_current_snapshot()). A physical standby keeps its primary's
-- system_identifier and transaction ids, so a failover stays in the same era.
CREATE TABLE store_eras
(
    era               bigint PRIMARY KEY,
    system_identifier bigint      NOT NULL,
    opened_at         timestamptz NOT NULL DEFAULT now()
);

-- The rows already stored were written in this cluster: era 1.
INSERT INTO store_eras (era, system_identifier)
SELECT 1, system_identifier FROM pg_control_system();

-- The era this cluster writes in, or NULL when the latest era is another cluster's (this cluster
-- has not written since the copy). Reads only; SECURITY DEFINER so the application role needs no
-- grant on store_eras.
CREATE FUNCTION lifecourse_cluster_era() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS
$$
SELECT era FROM store_eras
 WHERE era = (SELECT max(era) FROM store_eras)
   AND system_identifier = (SELECT system_identifier FROM pg_control_system())
$$;

-- The era of a row being written: this cluster's, opened on its first write. The lock serialises
-- the opening so two first writers agree on one era.
CREATE FUNCTION lifecourse_writing_era() RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path FROM CURRENT AS
$$
DECLARE
    current bigint := lifecourse_cluster_era();
BEGIN
    IF current IS NULL THEN
        LOCK TABLE store_eras IN EXCLUSIVE MODE;
        current := lifecourse_cluster_era();
        IF current IS NULL THEN
            INSERT INTO store_eras (era, system_identifier)
            SELECT coalesce(max(era), 0) + 1, (SELECT system_identifier FROM pg_control_system())
              FROM store_eras
            RETURNING era INTO current;
        END IF;
    END IF;
    RETURN current;
END
$$;

-- A constant default first (no table rewrite: existing rows read era 1), then the real one.
ALTER TABLE events ADD COLUMN era bigint NOT NULL DEFAULT 1;
ALTER TABLE events ALTER COLUMN era SET DEFAULT lifecourse_writing_era();

CREATE INDEX events_commit_order_by_era ON events (era, transaction_id, position);
DROP INDEX events_commit_order;

-- Checkpoints are (era, transaction_id, position); one that has moved is in era 1.
ALTER TABLE projection_checkpoints ADD COLUMN era bigint NOT NULL DEFAULT 0;
UPDATE projection_checkpoints SET era = 1 WHERE position > 0;
