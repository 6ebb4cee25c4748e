-- Sign-in for the HTTP server, and the log of every read of a child's identified data.
--
-- credentials: one live secret per session cookie or bearer token. Only the SHA-256 of the secret
-- is stored (the secret itself is shown once, to the client); `kind` is 'session' (a cookie for
-- pages) or 'token' (a bearer token for programs). A disabled member of staff loses access at once
-- because every request joins the staff register, whatever its credentials.
CREATE TABLE credentials
(
    secret_hash text PRIMARY KEY,
    person      text        NOT NULL REFERENCES staff (person),
    kind        text        NOT NULL CHECK (kind IN ('session', 'token')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  bigint      NOT NULL, -- Unix seconds
    revoked     boolean     NOT NULL DEFAULT false
);

-- Every read of identified data: who, when, what, which child, why (a stated reason, and whether
-- it was a break-glass read of a file outside the reader's centres). `person` and `role` are NULL
-- for a command-line read without --as. Append-only, like events.
CREATE TABLE access_log
(
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    person      text,
    role        text,
    action      text        NOT NULL,
    child_id    text        NOT NULL,
    centre      text,
    reason      text,
    break_glass boolean     NOT NULL DEFAULT false,
    channel     text        NOT NULL
);
CREATE INDEX access_log_child ON access_log (child_id, id);
CREATE INDEX access_log_break_glass ON access_log (centre, id) WHERE break_glass;

CREATE FUNCTION lifecourse_access_log_is_append_only() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % on access_log is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER access_log_no_update_or_delete
    BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION lifecourse_access_log_is_append_only();

CREATE TRIGGER access_log_no_truncate
    BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION lifecourse_access_log_is_append_only();
