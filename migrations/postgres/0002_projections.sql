-- Read models kept by the projection runner, one table per projection, one row per child. The
-- view is the projection's JSON for that child, computed from the child's events 1..last_sequence;
-- applied_events counts the events the runner applied to it (it must equal last_sequence).
-- Each projection's checkpoint is the (transaction_id, position) of the last event it applied;
-- the runner writes a batch's rows and its checkpoint in one transaction.
CREATE TABLE projection_checkpoints
(
    projection     text PRIMARY KEY,
    transaction_id xid8        NOT NULL DEFAULT '0',
    position       bigint      NOT NULL DEFAULT 0,
    -- the follow-up thresholds the views were computed with; a change triggers a rebuild
    config         text        NOT NULL DEFAULT '',
    updated_at     timestamptz NOT NULL DEFAULT now()
);

INSERT INTO projection_checkpoints (projection)
VALUES ('action_plan'), ('trajectory'), ('follow_up');

CREATE TABLE proj_action_plan
(
    child_id       text PRIMARY KEY,
    centre         text,
    applied_events bigint NOT NULL,
    last_sequence  bigint NOT NULL,
    view           jsonb  NOT NULL
);

CREATE TABLE proj_trajectory
(
    child_id       text PRIMARY KEY,
    centre         text,
    applied_events bigint NOT NULL,
    last_sequence  bigint NOT NULL,
    view           jsonb  NOT NULL
);

CREATE TABLE proj_follow_up
(
    child_id       text PRIMARY KEY,
    centre         text,
    applied_events bigint NOT NULL,
    last_sequence  bigint NOT NULL,
    view           jsonb  NOT NULL
);
