-- Gateway processes serving a group, one row each, replaced by every
-- heartbeat; an id is the process's own name within its group. Deleting
-- the group deletes its rows.

-- +goose Up
CREATE TABLE gateway_instances (
    id          TEXT NOT NULL,
    group_name  TEXT NOT NULL REFERENCES gateway_groups (name) ON DELETE CASCADE,
    embedded    INTEGER NOT NULL,
    hostname    TEXT NOT NULL,
    addresses   TEXT NOT NULL,
    version     TEXT NOT NULL,
    engine      TEXT NOT NULL,
    revision    BIGINT NOT NULL,
    from_cache  INTEGER NOT NULL,
    started_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    interval_ns BIGINT NOT NULL,
    requests    BIGINT NOT NULL,
    errors      BIGINT NOT NULL,
    detail      TEXT NOT NULL,
    PRIMARY KEY (group_name, id)
);

-- +goose Down
DROP TABLE gateway_instances;
