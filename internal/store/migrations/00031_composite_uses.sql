-- composite_uses is the dependency graph of composite APIs as the gateway
-- groups run it: one row per API (service name and route name, in the
-- composite's project) that an online composite route of a deployed
-- version calls, in each group. version is the version of the composite
-- that holds the route (the deployment's own, or one routed beside it);
-- uses_service_id is the service that answered to uses_service in the
-- group when the row was written (the release package refuses a change
-- that leaves a row without its API, so it stays true). Rows go with the
-- composite's deployment, hence with its group; the release package
-- rewrites a service's rows with every change of what it runs.
--
-- The table starts empty: no route could have a composite backend before
-- it existed, so no group runs one.
--
-- route_shapes_name finds the service of a group that runs under a name
-- (the composite's call resolves by name), without loading the group.

-- +goose Up
CREATE TABLE composite_uses (
    group_name      TEXT NOT NULL,
    service_id      TEXT NOT NULL,
    version         TEXT NOT NULL,
    route_name      TEXT NOT NULL,
    uses_service    TEXT NOT NULL,
    uses_route      TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    service_name    TEXT NOT NULL,
    uses_service_id TEXT NOT NULL,
    PRIMARY KEY (group_name, service_id, version, route_name, uses_service, uses_route),
    FOREIGN KEY (group_name, service_id) REFERENCES deployments (group_name, service_id) ON DELETE CASCADE
);
-- Who depends on a service: in one group (a release) or anywhere (a delete).
CREATE INDEX composite_uses_used ON composite_uses (uses_service_id, group_name);
-- What a composite uses, in every group it runs in.
CREATE INDEX composite_uses_service ON composite_uses (service_id);

CREATE INDEX route_shapes_name ON route_shapes (group_name, project_id, service_name);

-- +goose Down
DROP INDEX route_shapes_name;
DROP TABLE composite_uses;
