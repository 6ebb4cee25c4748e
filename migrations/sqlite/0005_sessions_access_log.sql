-- Sign-in for the HTTP server, and the log of every read of a child's identified data.
--
-- credentials: one live secret per session cookie or bearer token. Only the SHA-256 of the secret
-- is stored; `kind` is 'session' (a cookie for pages) or 'token' (a bearer token for programs).
-- A disabled member of staff loses access at once: every request joins the staff register.
CREATE TABLE credentials
(
    secret_hash TEXT PRIMARY KEY,
    person      TEXT    NOT NULL REFERENCES staff (person),
    kind        TEXT    NOT NULL CHECK (kind IN ('session', 'token')),
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at  INTEGER NOT NULL, -- Unix seconds
    revoked     INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;

-- Every read of identified data: who, when, what, which child, why (a stated reason, and whether
-- it was a break-glass read of a file outside the reader's centres). `person` and `role` are NULL
-- for a command-line read without --as. Append-only, like events.
CREATE TABLE access_log
(
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    person      TEXT,
    role        TEXT,
    action      TEXT    NOT NULL,
    child_id    TEXT    NOT NULL,
    centre      TEXT,
    reason      TEXT,
    break_glass INTEGER NOT NULL DEFAULT 0 CHECK (break_glass IN (0, 1)),
    channel     TEXT    NOT NULL
) STRICT;
CREATE INDEX access_log_child ON access_log (child_id, id);

CREATE TRIGGER access_log_no_update
    BEFORE UPDATE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access log is append-only: UPDATE on access_log is not allowed');
END;

CREATE TRIGGER access_log_no_delete
    BEFORE DELETE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access log is append-only: DELETE on access_log is not allowed');
END;
