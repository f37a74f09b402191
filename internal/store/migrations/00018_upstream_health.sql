-- A project upstream's TLS settings (tls: CA, server name, client
-- certificate; before this they were dropped when saved), health checks
-- (checks) and retry policy (retry_policy), each JSON ('' : none); and
-- what a gateway instance reports of the health of its upstream nodes
-- (upstream_health) and of the group's service registries (registries),
-- JSON arrays ('' : none).

-- +goose Up
ALTER TABLE upstreams ADD COLUMN tls TEXT NOT NULL DEFAULT '';
ALTER TABLE upstreams ADD COLUMN checks TEXT NOT NULL DEFAULT '';
ALTER TABLE upstreams ADD COLUMN retry_policy TEXT NOT NULL DEFAULT '';
ALTER TABLE gateway_instances ADD COLUMN upstream_health TEXT NOT NULL DEFAULT '';
ALTER TABLE gateway_instances ADD COLUMN registries TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE gateway_instances DROP COLUMN registries;
ALTER TABLE gateway_instances DROP COLUMN upstream_health;
ALTER TABLE upstreams DROP COLUMN retry_policy;
ALTER TABLE upstreams DROP COLUMN checks;
ALTER TABLE upstreams DROP COLUMN tls;
