-- A service's lifecycle state now says where it runs, whatever put it
-- there: before, a publish or sync straight to a group left a draft
-- serving traffic. Services running in their project's production group
-- (when that is not also the test group) become published; others that
-- run somewhere become submitted. Disabled services run nothing.

-- +goose Up
UPDATE services SET state = 'published'
WHERE state IN ('', 'draft', 'submitted') AND EXISTS (
    SELECT 1 FROM deployments d, projects p
    WHERE d.service_id = services.id AND p.id = services.project_id
      AND d.group_name = COALESCE(NULLIF(p.production_group, ''), 'default')
      AND COALESCE(NULLIF(p.production_group, ''), 'default') <> COALESCE(NULLIF(p.test_group, ''), 'default'));
UPDATE services SET state = 'submitted'
WHERE state IN ('', 'draft') AND EXISTS (SELECT 1 FROM deployments d WHERE d.service_id = services.id);

-- +goose Down
-- What a state was before cannot be told apart from what it became; the
-- states stay as they are.
SELECT 1;
