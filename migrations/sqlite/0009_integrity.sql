-- Tamper evidence and erasure.
--   anchors     signed Merkle roots over every child's chain head (`lifecourse anchor`), kept as
--               taken: never updated or deleted. `signed` is the anchor file's JSON.
--   child_keys  each child's data key, encrypted under the master key (which is never stored
--               here). Erasure empties `wrapped` and sets `erased_at`; an erased key cannot come
--               back, and a key row is never deleted.
CREATE TABLE anchors
(
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT    NOT NULL,
    root       TEXT    NOT NULL,
    children   INTEGER NOT NULL,
    events     INTEGER NOT NULL,
    public_key TEXT    NOT NULL,
    signed     TEXT    NOT NULL
) STRICT;

CREATE TRIGGER anchors_no_update
    BEFORE UPDATE ON anchors
BEGIN
    SELECT RAISE(ABORT, 'anchors are kept as taken: UPDATE on anchors is not allowed');
END;

CREATE TRIGGER anchors_no_delete
    BEFORE DELETE ON anchors
BEGIN
    SELECT RAISE(ABORT, 'anchors are kept as taken: DELETE on anchors is not allowed');
END;

CREATE TABLE child_keys
(
    aggregate_id TEXT PRIMARY KEY,
    wrapped      BLOB,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    erased_at    TEXT,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL))
) STRICT;

CREATE TRIGGER child_keys_stay_erased
    BEFORE UPDATE ON child_keys
    WHEN OLD.wrapped IS NULL OR NEW.aggregate_id IS NOT OLD.aggregate_id OR NEW.wrapped IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a child key can only be erased, and an erased key cannot come back');
END;

CREATE TRIGGER child_keys_no_delete
    BEFORE DELETE ON child_keys
BEGIN
    SELECT RAISE(ABORT, 'a child key row is never deleted: erase the key instead');
END;

-- Which master key the child keys are wrapped under: a SHA-256 check value of it (never the key),
-- written by the first process that wraps a child key, so a process given another master key is
-- refused instead of mixing two keys in one store.
CREATE TABLE master_key_check
(
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    check_hash TEXT NOT NULL
) STRICT;
