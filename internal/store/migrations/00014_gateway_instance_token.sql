-- The join token a stand-alone gateway instance presented with its last
-- heartbeat, so that an instance whose token was revoked or expired shows
-- as refused rather than merely lost. The embedded gateway has none ('').

-- +goose Up
ALTER TABLE gateway_instances ADD COLUMN token_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE gateway_instances DROP COLUMN token_id;
