-- Failed logins per username, so that a lockout survives a restart. Kept
-- for any username tried, known or not: a lockout that only known users
-- got would tell which users exist. Rows are pruned once quiet.

-- +goose Up
CREATE TABLE login_throttle (
    username     TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    lockouts     INTEGER NOT NULL,
    last_failure BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);

-- +goose Down
DROP TABLE login_throttle;
