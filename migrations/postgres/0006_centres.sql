-- The centres' own settings: the time zone in which a centre's "today" is judged (no clinical
-- date after today). A centre without a row uses the default zone (README.md, "Centres").
CREATE TABLE centres
(
    centre     text PRIMARY KEY,
    time_zone  text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
