-- cache_purges are the purges of a service's proxy-cache in one gateway
-- group: the cache epoch every key of the service carries (a purge of the
-- whole service sets a new one) and the latest purged keys as JSON
-- ([{"key","at"}]). The snapshot carries them with the deployment, so a
-- purge reaches every gateway as a revision. A row outlives an unpublish
-- (a later publish must not bring back an epoch's old entries) and goes
-- with its service or group.

-- +goose Up
CREATE TABLE cache_purges (
    group_name TEXT NOT NULL REFERENCES gateway_groups (name) ON DELETE CASCADE,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    epoch      TEXT NOT NULL,
    purged     TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (group_name, service_id)
);

-- +goose Down
DROP TABLE cache_purges;
