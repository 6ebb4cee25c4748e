-- Who may act (the application's principals) and the settings every process shares.
--   staff.role      a staff role word (doctor, social_worker, ...) or centre_administrator,
--                   auditor, researcher; checked by the application
--   staff.centres   centre ids the person works for
--   password_hash   reserved for the login of the HTTP server; NULL until then
CREATE TABLE staff
(
    person        text PRIMARY KEY,
    display_name  text        NOT NULL,
    role          text        NOT NULL,
    centres       text[]      NOT NULL,
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    password_hash text
);

-- Follow-up thresholds (and later other shared settings): one row per key that differs from
-- the default. Changed only by `lifecourse settings set`, which rebuilds the read models.
CREATE TABLE settings
(
    key        text PRIMARY KEY,
    value      bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
