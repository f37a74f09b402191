-- Data sources: databases registered in a project that the sql
-- backends of generated data APIs query. spec is the JSON of the data
-- source without its password; sealed is the password encrypted with the
-- control plane's key (credential.Keyring, the id as associated data).
-- data_source_maps: per group and service, which data source stands in for
-- which (publish/sync to test and production databases).

-- +goose Up
CREATE TABLE data_sources (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id),
    name       TEXT NOT NULL,
    spec       TEXT NOT NULL,
    sealed     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX data_sources_order ON data_sources (project_id, created_at, id);

CREATE TABLE data_source_maps (
    group_name TEXT NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    mapping    TEXT NOT NULL,
    PRIMARY KEY (group_name, service_id)
);

-- +goose Down
DROP TABLE data_source_maps;
DROP TABLE data_sources;
