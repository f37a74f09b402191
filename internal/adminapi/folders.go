package adminapi

import (
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func folderResource(p, id string) string { return projectResource(p) + "/folders/" + id }

func (c *call) loadFolder(tx store.Tx, project, id string) (spec.Folder, error) {
	if _, err := c.loadProject(tx, project); err != nil {
		return spec.Folder{}, err
	}
	f, err := tx.GetFolder(c.ctx(), project, id)
	return f, onNotFound(err, "folder %q not found in project %q", id, project)
}

// placeFolder writes f with create or update and answers the store's
// refusals readably: a missing parent is a 400 on parent_id.
func (c *call) placeFolder(tx store.Tx, f *spec.Folder, write func(*spec.Folder) error) error {
	if f.ParentID != "" {
		_, err := tx.GetFolder(c.ctx(), f.ProjectID, f.ParentID)
		if errors.Is(err, store.ErrNotFound) {
			return fieldError("parent_id", "folder %q does not exist in project %q", f.ParentID, f.ProjectID)
		}
		if err != nil {
			return fmt.Errorf("parent folder %q: %w", f.ParentID, err)
		}
	}
	err := write(f)
	if errors.Is(err, store.ErrConflict) {
		return withDetail(err, "folder %q: a folder of that name already exists there, or the parent is inside the folder", f.Name)
	}
	return err
}

func (c *call) listFolders() (any, error) {
	return listInProject(c, "folders", func(tx store.Tx, p string, q store.ListQuery) ([]spec.Folder, int, error) {
		return tx.ListFolders(c.ctx(), p, q)
	}, nil)
}

func (c *call) getFolder() (any, error) {
	var f spec.Folder
	err := c.view(func(tx store.Tx) error {
		var err error
		f, err = c.loadFolder(tx, c.path("p"), c.path("f"))
		return err
	})
	return f, err
}

func (c *call) createFolder() (any, error) {
	var f spec.Folder
	if err := c.decode(&f); err != nil {
		return nil, err
	}
	p := c.path("p")
	f.ID, f.ProjectID = newID(), p
	if err := f.Validate(); err != nil {
		return nil, err
	}
	err := c.tx(func(tx store.Tx) error {
		if _, err := c.loadProject(tx, p); err != nil {
			return err
		}
		err := c.placeFolder(tx, &f, func(f *spec.Folder) error { return tx.CreateFolder(c.ctx(), f) })
		if err != nil {
			return err
		}
		return c.auditChange(tx, "folder.create", folderResource(p, f.ID), nil, f)
	})
	return f, err
}

func (c *call) patchFolder() (any, error) { return c.updateFolder(true) }
func (c *call) putFolder() (any, error)   { return c.updateFolder(false) }

// updateFolder changes a folder. A new path moves the URLs of the running
// services whose version sits in the folder with path "default": without
// ?confirm=true that is refused with 409 and the URLs that would change;
// with it, every group concerned is committed (release.Move).
func (c *call) updateFolder(patch bool) (any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	confirm, err := c.confirmed()
	if err != nil {
		return nil, err
	}
	p := c.path("p")
	var f spec.Folder
	err = c.tx(func(tx store.Tx) error {
		old, err := c.loadFolder(tx, p, c.path("f"))
		if err != nil {
			return err
		}
		if f, err = decodeUpdate(body, patch, old); err != nil {
			return err
		}
		f.ID, f.ProjectID, f.CreatedAt = old.ID, old.ProjectID, old.CreatedAt
		if err := f.Validate(); err != nil {
			return err
		}
		var before spec.Snapshot
		if f.Path != old.Path {
			groups, err := c.allGroups(tx)
			if err != nil {
				return fmt.Errorf("update folder %q: %w", old.Name, err)
			}
			if before, err = tx.Snapshot(c.ctx(), groups); err != nil {
				return fmt.Errorf("update folder %q: %w", old.Name, err)
			}
		}
		err = c.placeFolder(tx, &f, func(f *spec.Folder) error {
			return onNotFound(tx.UpdateFolder(c.ctx(), f), "folder %q not found", f.ID)
		})
		if err != nil {
			return err
		}
		if f.Path != old.Path {
			what := fmt.Sprintf("changing the path of folder %q from %q to %q", old.Name, old.Path, f.Path)
			if _, err := release.Move(c.ctx(), tx, c.user.Username, what, before, confirm); err != nil {
				return err
			}
		}
		return c.auditChange(tx, "folder.update", folderResource(p, f.ID), old, f)
	})
	return f, err
}

// deleteFolder removes an empty folder: no child folders, no services, and
// no running version that takes its path from it.
func (c *call) deleteFolder() (any, error) {
	p := c.path("p")
	return nil, c.tx(func(tx store.Tx) error {
		f, err := c.loadFolder(tx, p, c.path("f"))
		if err != nil {
			return err
		}
		groups, err := c.allGroups(tx)
		if err != nil {
			return fmt.Errorf("delete folder %q: %w", f.Name, err)
		}
		snap, err := tx.Snapshot(c.ctx(), groups)
		if err != nil {
			return fmt.Errorf("delete folder %q: %w", f.Name, err)
		}
		for _, gs := range snap.Groups {
			for _, ds := range gs.Services {
				if ds.Service.FolderID == f.ID {
					return withDetail(store.ErrConflict, "folder %q: version %s of service %q runs in gateway group %q from this folder; publish it elsewhere or take it off first",
						f.Name, ds.Version, ds.Service.Name, gs.Group.Name)
				}
			}
		}
		if err := tx.DeleteFolder(c.ctx(), p, f.ID); err != nil {
			return onConflict(err, "folder %q still holds folders or services; move or delete them first", f.Name)
		}
		return c.auditChange(tx, "folder.delete", folderResource(p, f.ID), f, nil)
	})
}

// checkFolder makes sure a service's folder_id names a folder of its
// project and fills folder_path (read-only) from it; path "default" (the
// folder's path) needs a folder.
func (c *call) checkFolder(tx store.Tx, s *spec.Service) error {
	s.FolderPath = ""
	if s.FolderID == "" {
		if s.Path == spec.DefaultPath {
			return fieldError("path", "%s", spec.DefaultPathWithoutFolder)
		}
		return nil
	}
	f, err := tx.GetFolder(c.ctx(), s.ProjectID, s.FolderID)
	if errors.Is(err, store.ErrNotFound) {
		return fieldError("folder_id", "folder %q does not exist in project %q", s.FolderID, s.ProjectID)
	}
	if err != nil {
		return fmt.Errorf("check folder_id: %w", err)
	}
	s.FolderPath = f.Path
	return nil
}
