-- What each revision of a group changed, so that a gateway a few
-- revisions behind reloads only the services that changed, and an index
-- of the path shapes of the routes each group runs, so that a release
-- checks its routes for collisions without loading the whole group.
--
-- revision_changes: one row per (group, revision, service); service_id ''
-- says the revision changed the whole group (its settings, consumers, data
-- sources, or more services than the log keeps one by one). The log is
-- pruned to the newest revisions; a group's changes_from is the oldest
-- revision the log can answer from (a gateway at an older one reloads the
-- whole group). Rows go with their group.
--
-- route_shapes: one row per public path shape of an online route of a
-- service deployed in a group (the release package computes them). Rows go
-- with the deployment, hence with the group. A group's
-- route_shapes_complete says its index holds every service it runs: a
-- group that ran services before this migration is incomplete until the
-- release package rebuilds its index; an empty one is complete.

-- +goose Up
CREATE TABLE revision_changes (
    group_name TEXT NOT NULL REFERENCES gateway_groups (name) ON DELETE CASCADE,
    revision   BIGINT NOT NULL,
    service_id TEXT NOT NULL, -- '': the whole group
    PRIMARY KEY (group_name, revision, service_id)
);
-- Pruning deletes by revision across groups.
CREATE INDEX revision_changes_revision ON revision_changes (revision);

ALTER TABLE gateway_groups ADD COLUMN changes_from BIGINT NOT NULL DEFAULT 0;
UPDATE gateway_groups SET changes_from = revision;
ALTER TABLE gateway_groups ADD COLUMN route_shapes_complete INTEGER NOT NULL DEFAULT 0;
UPDATE gateway_groups SET route_shapes_complete = 1
    WHERE NOT EXISTS (SELECT 1 FROM deployments d WHERE d.group_name = gateway_groups.name);

CREATE TABLE route_shapes (
    group_name   TEXT NOT NULL,
    service_id   TEXT NOT NULL,
    route_name   TEXT NOT NULL,
    shape        TEXT NOT NULL,
    path         TEXT NOT NULL,
    methods      TEXT NOT NULL, -- JSON list; null or []: every method
    hosts        TEXT NOT NULL, -- JSON list; null or []: every host
    project_id   TEXT NOT NULL,
    service_name TEXT NOT NULL,
    -- Keyed by shape first: the collision check looks shapes up.
    PRIMARY KEY (group_name, shape, service_id, route_name),
    FOREIGN KEY (group_name, service_id) REFERENCES deployments (group_name, service_id) ON DELETE CASCADE
);
-- A service's shapes are replaced, and go with its deployment, by this.
CREATE INDEX route_shapes_service ON route_shapes (group_name, service_id);

-- The consumers of a group are found from the projects deployed in it
-- (store.groupConsumers), without listing its services.
CREATE INDEX deployments_group_project ON deployments (group_name, project_id);

-- +goose Down
DROP INDEX deployments_group_project;
DROP TABLE route_shapes;
ALTER TABLE gateway_groups DROP COLUMN route_shapes_complete;
ALTER TABLE gateway_groups DROP COLUMN changes_from;
DROP TABLE revision_changes;
