-- The centres' own settings: the time zone in which a centre's "today" is judged (no clinical
-- date after today). A centre without a row uses the default zone (README.md, "Centres").
CREATE TABLE centres
(
    centre     TEXT PRIMARY KEY,
    time_zone  TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
