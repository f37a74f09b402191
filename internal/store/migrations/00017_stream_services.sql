-- A service's type (http, the default, or stream: a layer-4 service whose
-- stream_routes, JSON, relay TCP connections) and the redirect status an
-- HTTPS-only service answers plain requests with (0: none, 426 instead).

-- +goose Up
ALTER TABLE services ADD COLUMN type TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN stream_routes TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN https_redirect_status_code INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE services DROP COLUMN https_redirect_status_code;
ALTER TABLE services DROP COLUMN stream_routes;
ALTER TABLE services DROP COLUMN type;
