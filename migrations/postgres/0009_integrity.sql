-- Tamper evidence and erasure.
--   anchors     signed Merkle roots over every child's chain head (`lifecourse anchor`), kept as
--               taken: never updated, deleted or truncated. `signed` is the anchor file's JSON.
--   child_keys  each child's data key, encrypted under the master key (which is never stored
--               here). Erasure empties `wrapped` and sets `erased_at`; an erased key cannot come
--               back, and a key row is never deleted.
CREATE TABLE anchors
(
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL,
    root       text        NOT NULL,
    children   bigint      NOT NULL,
    events     bigint      NOT NULL,
    public_key text        NOT NULL,
    signed     text        NOT NULL
);

CREATE FUNCTION lifecourse_anchors_are_kept() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'anchors are kept as taken: % on anchors is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER anchors_kept
    BEFORE UPDATE OR DELETE ON anchors
    FOR EACH ROW EXECUTE FUNCTION lifecourse_anchors_are_kept();

CREATE TRIGGER anchors_no_truncate
    BEFORE TRUNCATE ON anchors
    FOR EACH STATEMENT EXECUTE FUNCTION lifecourse_anchors_are_kept();

CREATE TABLE child_keys
(
    aggregate_id text PRIMARY KEY,
    wrapped      bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    erased_at    timestamptz,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL))
);

CREATE FUNCTION lifecourse_child_keys_only_erased() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'a child key row is never deleted: erase the key instead (% on child_keys)', TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.wrapped IS NULL OR NEW.wrapped IS NOT NULL
        OR NEW.aggregate_id IS DISTINCT FROM OLD.aggregate_id THEN
        RAISE EXCEPTION 'a child key can only be erased, and an erased key cannot come back (% on child_keys)', TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER child_keys_only_erased
    BEFORE UPDATE OR DELETE ON child_keys
    FOR EACH ROW EXECUTE FUNCTION lifecourse_child_keys_only_erased();

CREATE TRIGGER child_keys_no_truncate
    BEFORE TRUNCATE ON child_keys
    FOR EACH STATEMENT EXECUTE FUNCTION lifecourse_child_keys_only_erased();

-- Which master key the child keys are wrapped under: a SHA-256 check value of it (never the key),
-- written by the first process that wraps a child key, so a process given another master key is
-- refused instead of mixing two keys in one store.
CREATE TABLE master_key_check
(
    id         integer PRIMARY KEY CHECK (id = 1),
    check_hash text NOT NULL
);
