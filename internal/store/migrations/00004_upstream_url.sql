-- Registered third-party APIs ("注册API"): an upstream may be given
-- as a URL instead of nodes, and an https upstream's certificate check may
-- be turned off. Independent of 00002 and 00003.

-- +goose Up
ALTER TABLE upstreams ADD COLUMN url TEXT NOT NULL DEFAULT '';
ALTER TABLE upstreams ADD COLUMN tls_verify INTEGER; -- NULL: verify (the default); else 0 or 1

-- +goose Down
ALTER TABLE upstreams DROP COLUMN tls_verify;
ALTER TABLE upstreams DROP COLUMN url;
