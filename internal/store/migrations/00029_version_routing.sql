-- A deployment may run other versions of its service beside its own,
-- named by a header, a query parameter or a path segment (JSON of
-- spec.VersionRouting); NULL: only its own version.

-- +goose Up
ALTER TABLE deployments ADD COLUMN version_routing TEXT;

-- +goose Down
ALTER TABLE deployments DROP COLUMN version_routing;
