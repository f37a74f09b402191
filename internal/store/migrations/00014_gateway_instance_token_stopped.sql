-- The join token a stand-alone gateway instance presented with its last
-- heartbeat, so that an instance whose token was revoked or expired shows
-- as refused rather than merely lost (the embedded gateway has none: ''),
-- and whether its last heartbeat said goodbye (a process that stopped
-- cleanly shows offline at once, not as lagging and then lost).

-- +goose Up
ALTER TABLE gateway_instances ADD COLUMN token_id TEXT NOT NULL DEFAULT '';
ALTER TABLE gateway_instances ADD COLUMN stopped INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE gateway_instances DROP COLUMN stopped;
ALTER TABLE gateway_instances DROP COLUMN token_id;
