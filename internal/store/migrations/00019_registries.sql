-- Service registry connections of gateway groups: the gateways of a group
-- ask them for the nodes of discovered upstreams. spec is the JSON of the
-- connection (type, address, namespace, username, CA, whether a password
-- or token is set) without any credential; sealed is the credentials
-- (spec.RegistryCredentials: password, token) as JSON encrypted with the
-- control plane's key (credential.Keyring, the id as associated data), ''
-- when there are none. Deleting the group deletes its registries.

-- +goose Up
CREATE TABLE registries (
    id         TEXT PRIMARY KEY,
    group_name TEXT NOT NULL REFERENCES gateway_groups (name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    spec       TEXT NOT NULL,
    sealed     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (group_name, name)
);
CREATE INDEX registries_order ON registries (group_name, created_at, id);

-- +goose Down
DROP TABLE registries;
