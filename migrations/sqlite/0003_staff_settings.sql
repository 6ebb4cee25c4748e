-- Who may act (the application's principals) and the settings every process shares.
--   staff.role      a staff role word (doctor, social_worker, ...) or centre_administrator,
--                   auditor, researcher; checked by the application
--   staff.centres   JSON array of centre ids the person works for
--   password_hash   reserved for the login of the HTTP server; NULL until then
CREATE TABLE staff
(
    person        TEXT PRIMARY KEY,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    centres       TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    password_hash TEXT
) STRICT;

-- Follow-up thresholds (and later other shared settings): one row per key that differs from
-- the default. Changed only by `lifecourse settings set`, which rebuilds the read models.
CREATE TABLE settings
(
    key        TEXT PRIMARY KEY,
    value      INTEGER NOT NULL,
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
