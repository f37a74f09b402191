-- The publishing lifecycle.
--
-- parked_deployments keeps what a service ran in each gateway group when a
-- lifecycle "disable" took it off, so "enable" restores exactly that version
-- with exactly that upstream. Rows go with their service (and version).

-- +goose Up
CREATE TABLE parked_deployments (
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    group_name TEXT NOT NULL REFERENCES gateway_groups (name),
    project_id TEXT NOT NULL,
    version    TEXT NOT NULL,
    upstream   TEXT NOT NULL,
    parked_at  BIGINT NOT NULL,
    PRIMARY KEY (service_id, group_name),
    FOREIGN KEY (service_id, version) REFERENCES versions (service_id, version) ON DELETE CASCADE
);

-- Per-group release history (GET /gateway-groups/{g}/history) and the
-- catalog (services in state published, across projects).
CREATE INDEX history_group ON history (group_name, id);
CREATE INDEX services_state ON services (state, name);

-- +goose Down
DROP INDEX services_state;
DROP INDEX history_group;
DROP TABLE parked_deployments;
