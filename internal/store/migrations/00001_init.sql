-- Portico's schema. Conventions, kept portable between SQLite and PostgreSQL:
--   * timestamps are BIGINT unix nanoseconds in UTC; 0 means "not set";
--   * nested or variable fields are JSON in TEXT columns ('null' when absent);
--   * ids are TEXT (UUIDv7, or the slug for projects), except history and
--     audit, whose BIGINT ids come from the counters table because the two
--     databases share no auto-increment syntax.

-- +goose Up
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
-- 'revision' is the global config revision (BumpRevision); 'history' and
-- 'audit' hand out the ids of those tables.
INSERT INTO counters (name, value) VALUES ('revision', 0), ('history', 0), ('audit', 0);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    expires_at BIGINT NOT NULL, -- 0: never expires
    created_at BIGINT NOT NULL
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE projects (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    test_group       TEXT NOT NULL,
    production_group TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX projects_order ON projects (created_at, id);

CREATE TABLE gateway_groups (
    name        TEXT PRIMARY KEY,
    path_prefix TEXT NOT NULL,
    description TEXT NOT NULL,
    revision    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE upstreams (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects (id),
    name          TEXT NOT NULL,
    scheme        TEXT NOT NULL,
    load_balancer TEXT NOT NULL,
    hash_on       TEXT NOT NULL,
    nodes         TEXT NOT NULL,
    discovery     TEXT NOT NULL,
    timeout       TEXT NOT NULL,
    retries       INTEGER, -- NULL: the gateway's default
    pass_host     TEXT NOT NULL,
    upstream_host TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (project_id, name),
    -- Target of services' composite foreign key, so a service can only
    -- refer to an upstream of its own project.
    UNIQUE (project_id, id)
);
CREATE INDEX upstreams_order ON upstreams (project_id, created_at, id);

CREATE TABLE services (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    labels      TEXT NOT NULL,
    protocols   TEXT NOT NULL,
    path        TEXT NOT NULL,
    hosts       TEXT NOT NULL,
    plugins     TEXT NOT NULL,
    upstream_id TEXT, -- NULL: no shared upstream
    upstream    TEXT NOT NULL, -- inline upstream of the template
    state       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (project_id, name),
    FOREIGN KEY (project_id, upstream_id) REFERENCES upstreams (project_id, id)
);
CREATE INDEX services_order ON services (project_id, created_at, id);
CREATE INDEX services_upstream ON services (project_id, upstream_id);

CREATE TABLE routes (
    id          TEXT PRIMARY KEY,
    service_id  TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    paths       TEXT NOT NULL,
    methods     TEXT NOT NULL,
    hosts       TEXT NOT NULL,
    plugins     TEXT NOT NULL,
    backend     TEXT NOT NULL,
    online      INTEGER, -- NULL: online (the default); else 0 or 1
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (service_id, name)
);
CREATE INDEX routes_order ON routes (service_id, created_at, id);

CREATE TABLE versions (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    version    TEXT NOT NULL,
    service    TEXT NOT NULL, -- the frozen service, routes included
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (service_id, version)
);
CREATE INDEX versions_order ON versions (service_id, created_at, id);

-- No ON DELETE CASCADE from services or versions: a running deployment must
-- be removed on purpose before its service goes.
CREATE TABLE deployments (
    group_name TEXT NOT NULL REFERENCES gateway_groups (name),
    project_id TEXT NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    version    TEXT NOT NULL,
    upstream   TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (group_name, service_id),
    FOREIGN KEY (service_id, version) REFERENCES versions (service_id, version)
);
CREATE INDEX deployments_service ON deployments (service_id);

CREATE TABLE history (
    id           BIGINT PRIMARY KEY,
    project_id   TEXT NOT NULL,
    service_id   TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    group_name   TEXT NOT NULL,
    action       TEXT NOT NULL,
    version      TEXT NOT NULL,
    from_version TEXT NOT NULL,
    actor        TEXT NOT NULL,
    detail       TEXT NOT NULL,
    revision     BIGINT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX history_service ON history (service_id, id);

CREATE TABLE audit (
    id       BIGINT PRIMARY KEY,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    resource TEXT NOT NULL,
    detail   TEXT, -- raw JSON; NULL when absent
    at       BIGINT NOT NULL
);

-- +goose Down
DROP TABLE audit;
DROP TABLE history;
DROP TABLE deployments;
DROP TABLE versions;
DROP TABLE routes;
DROP TABLE services;
DROP TABLE upstreams;
DROP TABLE gateway_groups;
DROP TABLE projects;
DROP TABLE tokens;
DROP TABLE users;
DROP TABLE counters;
