-- Canary release tasks (灰度发布).
--
-- At most one running task per service and group: a partial unique index,
-- which SQLite and PostgreSQL both enforce. The task's settings (target,
-- weight, rules, guard, final figures) are one JSON document; state and
-- the keys the store filters on are columns.

-- +goose Up
CREATE TABLE canaries (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    group_name TEXT NOT NULL REFERENCES gateway_groups (name),
    state      TEXT NOT NULL,
    spec       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX canaries_one_running ON canaries (service_id, group_name) WHERE state = 'running';
CREATE INDEX canaries_service ON canaries (service_id, created_at);
CREATE INDEX canaries_state ON canaries (state);

-- +goose Down
DROP INDEX canaries_state;
DROP INDEX canaries_service;
DROP INDEX canaries_one_running;
DROP TABLE canaries;
