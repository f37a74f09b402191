-- People and permissions. users gain what an account needs beyond a
-- password: a display name, an email, whether it is disabled, where it
-- comes from (local, or an OpenID provider's issuer and subject in
-- external), when it last logged in. The system role 'admin' becomes
-- 'super_admin'; every other user's system role is 'user'.
--
-- tokens hold every secret a user presents, by kind: 'session' (a login),
-- 'pat' (a personal access token with a scope), 'invite' and 'reset'
-- (one-time links that set a password). Only the SHA-256 is stored.
--
-- members give users a role in a project: a built-in project role or a
-- custom role of the roles table (permissions: JSON array).
--
-- audit gains the project an event belongs to and the caller's address.

-- +goose Up
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN external TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_login_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE users SET role = 'super_admin' WHERE role = 'admin';
UPDATE users SET role = 'user' WHERE role <> 'super_admin';
UPDATE users SET updated_at = created_at;

ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'session';
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN client TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
UPDATE tokens SET kind = 'pat' WHERE name <> 'session';

CREATE TABLE roles (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE members (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX members_user ON members (user_id);
CREATE INDEX members_role ON members (role);

ALTER TABLE audit ADD COLUMN project TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN client TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_project ON audit (project, id);

-- +goose Down
DROP INDEX audit_project;
DROP INDEX audit_at;
ALTER TABLE audit DROP COLUMN client;
ALTER TABLE audit DROP COLUMN project;
DROP TABLE members;
DROP TABLE roles;
ALTER TABLE tokens DROP COLUMN user_agent;
ALTER TABLE tokens DROP COLUMN client;
ALTER TABLE tokens DROP COLUMN last_used_at;
ALTER TABLE tokens DROP COLUMN scope;
ALTER TABLE tokens DROP COLUMN kind;
UPDATE users SET role = 'admin' WHERE role = 'super_admin';
ALTER TABLE users DROP COLUMN updated_at;
ALTER TABLE users DROP COLUMN last_login_at;
ALTER TABLE users DROP COLUMN external;
ALTER TABLE users DROP COLUMN disabled;
ALTER TABLE users DROP COLUMN email;
ALTER TABLE users DROP COLUMN display_name;
