-- OpenAPI import and export: the document-level part of an
-- imported description (services.openapi) and each operation
-- (routes.openapi), so that the description file round-trips. '' is none.
-- Independent of 00002-00006: only 00001's tables are altered.

-- +goose Up
ALTER TABLE services ADD COLUMN openapi TEXT NOT NULL DEFAULT '';
ALTER TABLE routes ADD COLUMN openapi TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE routes DROP COLUMN openapi;
ALTER TABLE services DROP COLUMN openapi;
