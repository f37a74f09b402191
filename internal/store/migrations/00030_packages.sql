-- packages are the packages imported into a project (cross-project
-- publishing), as the target project lists them: the package's name,
-- description and source project, its state (pending: uploaded, not
-- applied; published: applied, result holds what it changed; failed:
-- refused, reason and errors say why, unmapped what the mapping left
-- out), the last attempt's mapping and who made it. content is the
-- uploaded zip in base64 (TEXT in both databases), kept until the
-- package is published so it can be applied again. Rows go with their
-- project.

-- +goose Up
CREATE TABLE packages (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL,
    source_project TEXT NOT NULL,
    exported_at    BIGINT NOT NULL,
    services       TEXT NOT NULL,
    uses           TEXT NOT NULL,
    state          TEXT NOT NULL,
    reason         TEXT NOT NULL,
    errors         TEXT NOT NULL,
    unmapped       TEXT NOT NULL,
    mapping        TEXT NOT NULL,
    result         TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    size           BIGINT NOT NULL,
    content        TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_by     TEXT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX packages_project ON packages (project_id, created_at, id);

-- +goose Down
DROP TABLE packages;
