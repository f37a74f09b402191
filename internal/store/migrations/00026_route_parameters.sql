-- routes gain their design: request parameters (and where the backend
-- gets them), example answers and the error-code table, each a JSON
-- array; '' is none.

-- +goose Up
ALTER TABLE routes ADD COLUMN parameters TEXT NOT NULL DEFAULT '';
ALTER TABLE routes ADD COLUMN responses TEXT NOT NULL DEFAULT '';
ALTER TABLE routes ADD COLUMN error_codes TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE routes DROP COLUMN error_codes;
ALTER TABLE routes DROP COLUMN responses;
ALTER TABLE routes DROP COLUMN parameters;
