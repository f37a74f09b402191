-- Catalog folders of a project ("目录"): a tree through parent_id;
-- path is the folder's own default API path (at most two segments, never
-- joined with the parents' paths). A service may sit in one folder.
-- Independent of 00002: only 00001's tables are referred to.

-- +goose Up
CREATE TABLE folders (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    parent_id   TEXT REFERENCES folders (id) ON DELETE CASCADE, -- NULL: top level
    name        TEXT NOT NULL,
    path        TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX folders_order ON folders (project_id, created_at, id);
CREATE INDEX folders_parent ON folders (parent_id);

ALTER TABLE services ADD COLUMN folder_id TEXT REFERENCES folders (id); -- NULL: in no folder
CREATE INDEX services_folder ON services (folder_id);

-- +goose Down
DROP INDEX services_folder;
ALTER TABLE services DROP COLUMN folder_id;
DROP TABLE folders;
