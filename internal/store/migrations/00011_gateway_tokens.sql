-- Join tokens of stand-alone gateways: one group each, kept as the SHA-256
-- of the token. Deleting the group deletes its tokens.

-- +goose Up
CREATE TABLE gateway_tokens (
    id           TEXT PRIMARY KEY,
    group_name   TEXT NOT NULL REFERENCES gateway_groups (name) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (group_name, name)
);

-- +goose Down
DROP TABLE gateway_tokens;
