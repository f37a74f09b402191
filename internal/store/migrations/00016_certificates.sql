-- TLS server certificates of gateway groups. spec is the JSON of the
-- certificate (its PEM chain, names and validity) without its private
-- key; sealed is the key encrypted with the control plane's key
-- (credential.Keyring, the id as associated data). At most one certificate
-- of a group is its default (is_default = 1). Deleting the group deletes
-- its certificates.

-- +goose Up
CREATE TABLE certificates (
    id         TEXT PRIMARY KEY,
    group_name TEXT NOT NULL REFERENCES gateway_groups (name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    spec       TEXT NOT NULL,
    sealed     TEXT NOT NULL,
    is_default INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (group_name, name)
);
CREATE INDEX certificates_order ON certificates (group_name, created_at, id);

-- +goose Down
DROP TABLE certificates;
