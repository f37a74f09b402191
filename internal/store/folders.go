package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const folderCols = "id, project_id, parent_id, name, path, description, created_at, updated_at"

func scanFolder(s scanner) (spec.Folder, error) {
	var f spec.Folder
	var parent sql.NullString
	var created, updated int64
	if err := s.Scan(&f.ID, &f.ProjectID, &parent, &f.Name, &f.Path, &f.Description, &created, &updated); err != nil {
		return spec.Folder{}, err
	}
	f.ParentID = parent.String
	f.CreatedAt, f.UpdatedAt = fromNanos(created), fromNanos(updated)
	return f, nil
}

// checkFolderPlace refuses a parent in another project (ErrNotFound, like
// a missing one) and a sibling with the same name (ErrConflict).
func (t *txn) checkFolderPlace(ctx context.Context, f *spec.Folder) error {
	if f.ParentID != "" {
		if _, err := t.GetFolder(ctx, f.ProjectID, f.ParentID); err != nil {
			return fmt.Errorf("parent folder: %w", err)
		}
	}
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM folders WHERE project_id = $1 AND id <> $2 AND name = $3
		AND COALESCE(parent_id, '') = $4`, f.ProjectID, f.ID, f.Name, f.ParentID).Scan(&n)
	if err != nil {
		return fmt.Errorf("check folder name: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("a folder named %q already exists there: %w", f.Name, ErrConflict)
	}
	return nil
}

// CreateFolder stores a catalog folder. A parent that does not exist in the
// project is ErrNotFound; a sibling with the same name is ErrConflict.
func (t *txn) CreateFolder(ctx context.Context, f *spec.Folder) error {
	if err := ensureID(&f.ID); err != nil {
		return err
	}
	if err := t.checkFolderPlace(ctx, f); err != nil {
		return fmt.Errorf("create folder %q: %w", f.Name, err)
	}
	ts := now()
	f.CreatedAt, f.UpdatedAt = ts, ts
	_, err := t.exec(ctx, "INSERT INTO folders ("+folderCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		f.ID, f.ProjectID, nullString(f.ParentID), f.Name, f.Path, f.Description, toNanos(ts), toNanos(ts))
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("folder %s already exists: %w", f.ID, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create folder %q: project %q or parent %q: %w", f.Name, f.ProjectID, f.ParentID, ErrNotFound)
		}
		return fmt.Errorf("create folder %q: %w", f.Name, err)
	}
	return nil
}

func (t *txn) GetFolder(ctx context.Context, project, id string) (spec.Folder, error) {
	f, err := scanFolder(t.queryRow(ctx, "SELECT "+folderCols+" FROM folders WHERE project_id = $1 AND id = $2", project, id))
	if err != nil {
		return spec.Folder{}, notFound(err, "folder %s in project %q", id, project)
	}
	return f, nil
}

// ListFolders pages through the folders of a project in creation order;
// q.Q filters by name.
func (t *txn) ListFolders(ctx context.Context, project string, q ListQuery) ([]spec.Folder, int, error) {
	out := []spec.Folder{}
	total, err := t.page(ctx, listing{
		what:  fmt.Sprintf("list folders of project %q", project),
		cols:  folderCols,
		from:  "folders",
		where: "project_id = $1 AND " + likeClause(2, "name"),
		args:  []any{project, likePattern(q.Q)},
		order: "created_at, id",
	}, q, func(rows *sql.Rows) error {
		f, err := scanFolder(rows)
		out = append(out, f)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// UpdateFolder replaces parent, name, path and description of folder f.ID.
// A parent that is the folder itself or one of its descendants is
// ErrConflict (the tree would become a loop).
func (t *txn) UpdateFolder(ctx context.Context, f *spec.Folder) error {
	if f.ParentID != "" {
		for p := f.ParentID; p != ""; {
			if p == f.ID {
				return fmt.Errorf("update folder %s: folder %s is inside it and cannot be its parent: %w", f.ID, f.ParentID, ErrConflict)
			}
			parent, err := t.GetFolder(ctx, f.ProjectID, p)
			if errors.Is(err, ErrNotFound) {
				break // checkFolderPlace names a missing parent
			}
			if err != nil {
				return fmt.Errorf("update folder %s: %w", f.ID, err)
			}
			p = parent.ParentID
		}
	}
	if err := t.checkFolderPlace(ctx, f); err != nil {
		return fmt.Errorf("update folder %s: %w", f.ID, err)
	}
	ts := now()
	var created int64
	err := t.queryRow(ctx, `UPDATE folders SET parent_id = $3, name = $4, path = $5, description = $6, updated_at = $7
		WHERE project_id = $1 AND id = $2 RETURNING created_at`,
		f.ProjectID, f.ID, nullString(f.ParentID), f.Name, f.Path, f.Description, toNanos(ts)).Scan(&created)
	if err != nil {
		return notFound(err, "update folder %s in project %q", f.ID, f.ProjectID)
	}
	f.CreatedAt, f.UpdatedAt = fromNanos(created), ts
	return nil
}

// DeleteFolder removes an empty folder; one that still holds folders or
// services is ErrConflict.
func (t *txn) DeleteFolder(ctx context.Context, project, id string) error {
	if _, err := t.GetFolder(ctx, project, id); err != nil {
		return fmt.Errorf("delete folder: %w", err)
	}
	var children, services int
	err := t.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM folders WHERE parent_id = $1),
		(SELECT COUNT(*) FROM services WHERE folder_id = $1)`, id).Scan(&children, &services)
	if err != nil {
		return fmt.Errorf("delete folder %s: %w", id, err)
	}
	if children > 0 || services > 0 {
		return fmt.Errorf("delete folder %s: it holds %d folder(s) and %d service(s): %w", id, children, services, ErrConflict)
	}
	err = t.execOne(ctx, fmt.Sprintf("delete folder %s in project %q", id, project),
		"DELETE FROM folders WHERE project_id = $1 AND id = $2", project, id)
	if err != nil && t.kind(err) == errForeignKey {
		return fmt.Errorf("delete folder %s: still in use: %w", id, ErrConflict)
	}
	return err
}

// fillFolderPath sets s.FolderPath from the folder s.FolderID names now
// (versions keep the folder id, not its path: a folder's path is read when
// the URL is composed). A folder that no longer exists leaves it empty.
func (t *txn) fillFolderPath(ctx context.Context, s *spec.Service, cache map[string]string) error {
	if s.FolderID == "" {
		s.FolderPath = ""
		return nil
	}
	if p, ok := cache[s.FolderID]; ok {
		s.FolderPath = p
		return nil
	}
	var p string
	err := t.queryRow(ctx, "SELECT path FROM folders WHERE id = $1", s.FolderID).Scan(&p)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("path of folder %s: %w", s.FolderID, err)
	}
	if cache != nil {
		cache[s.FolderID] = p
	}
	s.FolderPath = p
	return nil
}
