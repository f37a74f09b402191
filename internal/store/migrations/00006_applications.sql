-- Applications (consumers), their credentials and subscriptions.
-- Independent of 00002-00005: only 00001's tables are referred to.
--
-- scope is 'project:<id>' for a project's call-credential application and
-- 'user:<id>' for a user's own, so one UNIQUE constraint keeps names apart
-- per owner on both databases.
--
-- No secret is stored in clear: credentials.lookup is the hex SHA-256 of a
-- key-auth key (else the public identifier: username, access key, jwt key,
-- client id), secret_hash a bcrypt (passwords) or SHA-256 (client secrets)
-- hash, secret_sealed an AES-GCM sealed HMAC or JWT secret.

-- +goose Up
CREATE TABLE applications (
    id          TEXT PRIMARY KEY,
    scope       TEXT NOT NULL,
    project_id  TEXT REFERENCES projects (id), -- NULL: user-owned
    owner_id    TEXT NOT NULL,                 -- the user who created it
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    services    TEXT NOT NULL,                 -- JSON list narrowing a project-owned one
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (scope, name)
);
CREATE INDEX applications_order ON applications (created_at, id);
CREATE INDEX applications_project ON applications (project_id);

CREATE TABLE credentials (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    type           TEXT NOT NULL,
    lookup         TEXT NOT NULL,
    hint           TEXT NOT NULL,
    secret_hash    TEXT NOT NULL,
    secret_sealed  TEXT NOT NULL,
    algorithm      TEXT NOT NULL,
    expires_at     BIGINT NOT NULL, -- 0: never
    created_at     BIGINT NOT NULL
);
-- Not unique: a rotation keeps the identifier (username, access key, …)
-- with a new secret beside the old one until the old expires. The store
-- refuses an identifier another application holds.
CREATE INDEX credentials_lookup ON credentials (type, lookup);
CREATE INDEX credentials_application ON credentials (application_id, created_at, id);

CREATE TABLE subscriptions (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    service_id     TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    project_id     TEXT NOT NULL,
    state          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (application_id, service_id)
);
CREATE INDEX subscriptions_service ON subscriptions (service_id);

-- +goose Down
DROP TABLE subscriptions;
DROP TABLE credentials;
DROP TABLE applications;
