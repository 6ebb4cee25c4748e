-- Read models kept by the projection runner, one table per projection, one row per child. The
-- view is the projection's JSON for that child, computed from the child's events 1..last_sequence;
-- applied_events counts the events the runner applied to it (it must equal last_sequence).
-- Each projection's checkpoint is the position of the last event it applied; the runner writes
-- a batch's rows and its checkpoint in one transaction.
CREATE TABLE projection_checkpoints
(
    projection TEXT PRIMARY KEY,
    position   INTEGER NOT NULL DEFAULT 0,
    -- the follow-up thresholds the views were computed with; a change triggers a rebuild
    config     TEXT    NOT NULL DEFAULT '',
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

INSERT INTO projection_checkpoints (projection)
VALUES ('action_plan'), ('trajectory'), ('follow_up');

CREATE TABLE proj_action_plan
(
    child_id       TEXT PRIMARY KEY,
    centre         TEXT,
    applied_events INTEGER NOT NULL,
    last_sequence  INTEGER NOT NULL,
    view           TEXT    NOT NULL
) STRICT;

CREATE TABLE proj_trajectory
(
    child_id       TEXT PRIMARY KEY,
    centre         TEXT,
    applied_events INTEGER NOT NULL,
    last_sequence  INTEGER NOT NULL,
    view           TEXT    NOT NULL
) STRICT;

CREATE TABLE proj_follow_up
(
    child_id       TEXT PRIMARY KEY,
    centre         TEXT,
    applied_events INTEGER NOT NULL,
    last_sequence  INTEGER NOT NULL,
    view           TEXT    NOT NULL
) STRICT;
