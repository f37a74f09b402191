-- The API market. listings are the services launched into the catalog,
-- with the version whose documentation the catalog shows and whether a
-- subscription to it is approved without review. Services published
-- before listings existed are listed with the version running in their
-- project's production group, subscriptions approved at once, as before.
--
-- plans are what a listed service offers a subscription: quotas as a JSON
-- array of {count, period}. A subscription picks one (plan_id, '' for
-- none) and keeps the approval that admitted it.
--
-- approvals are requests (list, delist, subscribe) with their state;
-- approval_events their history, one line per step.
--
-- webhooks: a project's receiver (its secret sealed like every other
-- secret) and the deliveries waiting for it, retried with back-off.
--
-- gateway_groups gain the time zone their daily and monthly quotas count
-- in and the public address their URLs are shown on.

-- +goose Up
CREATE TABLE listings (
    service_id   TEXT PRIMARY KEY REFERENCES services (id) ON DELETE CASCADE,
    project_id   TEXT NOT NULL,
    version      TEXT NOT NULL,
    auto_approve INTEGER NOT NULL,
    listed_by    TEXT NOT NULL,
    listed_at    BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX listings_project ON listings (project_id);
INSERT INTO listings (service_id, project_id, version, auto_approve, listed_by, listed_at, updated_at)
    SELECT s.id, s.project_id,
           COALESCE((SELECT d.version FROM deployments d JOIN projects p ON p.id = s.project_id
                     WHERE d.service_id = s.id AND d.group_name = p.production_group), ''),
           1, '', s.updated_at, s.updated_at
    FROM services s WHERE s.state = 'published';

CREATE TABLE plans (
    id          TEXT PRIMARY KEY,
    service_id  TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    project_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    quotas      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (service_id, name)
);

ALTER TABLE subscriptions ADD COLUMN plan_id TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN approval_id TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE subscriptions SET updated_at = created_at;

CREATE TABLE approvals (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    service_id    TEXT NOT NULL,
    service_name  TEXT NOT NULL,
    subject       TEXT NOT NULL,
    requester     TEXT NOT NULL,
    approver_role TEXT NOT NULL,
    state         TEXT NOT NULL,
    comment       TEXT NOT NULL,
    detail        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX approvals_project ON approvals (project_id, state, created_at);
CREATE INDEX approvals_requester ON approvals (requester, created_at);
CREATE INDEX approvals_subject ON approvals (subject, state);

CREATE TABLE approval_events (
    approval_id TEXT NOT NULL REFERENCES approvals (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    comment     TEXT NOT NULL,
    PRIMARY KEY (approval_id, seq)
);

ALTER TABLE projects ADD COLUMN listing_approver TEXT NOT NULL DEFAULT 'project_admin';
ALTER TABLE projects ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN webhook_secret TEXT NOT NULL DEFAULT '';

CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    event        TEXT NOT NULL,
    body         TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    next_at      BIGINT NOT NULL,
    last_error   TEXT NOT NULL,
    delivered_at BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (delivered_at, next_at);

ALTER TABLE gateway_groups ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE gateway_groups ADD COLUMN public_url TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE gateway_groups DROP COLUMN public_url;
ALTER TABLE gateway_groups DROP COLUMN time_zone;
DROP TABLE webhook_deliveries;
ALTER TABLE projects DROP COLUMN webhook_secret;
ALTER TABLE projects DROP COLUMN webhook_url;
ALTER TABLE projects DROP COLUMN listing_approver;
DROP TABLE approval_events;
DROP TABLE approvals;
ALTER TABLE subscriptions DROP COLUMN updated_at;
ALTER TABLE subscriptions DROP COLUMN approval_id;
ALTER TABLE subscriptions DROP COLUMN plan_id;
DROP TABLE plans;
DROP TABLE listings;
