package spec

import (
	"strings"
	"time"
)

// DefaultPath as a service's path means "the default path of its catalog
// folder" ("默认值"): the folder's path, read when the URL is
// composed, so changing a folder's path moves its services' URLs. A
// service without a folder has no such path: the admin API refuses it
// (DefaultPathWithoutFolder) rather than take it for "".
const DefaultPath = "default"

// DefaultPathWithoutFolder is why path "default" is refused for a service
// in no folder.
const DefaultPathWithoutFolder = `"default" is the path of the service's catalog folder, and it is in none: give folder_id, or a path of its own`

// Folder is a catalog folder of a project ("目录"). Folders form a
// tree through ParentID; Path is the folder's own default API path of at
// most two segments ("/user" or "/user/basic"), never concatenated from the
// parent folders' paths.
type Folder struct {
	ID          string    `json:"id,omitempty"`
	ProjectID   string    `json:"project_id,omitempty"`
	ParentID    string    `json:"parent_id,omitempty"` // "": a top-level folder
	Name        string    `json:"name"`
	Path        string    `json:"path,omitempty"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
}

// EffectivePath is the service path used in URLs: the folder's path when
// Path is "default", else Path.
func (s *Service) EffectivePath() string {
	if s.Path == DefaultPath {
		return s.FolderPath
	}
	return s.Path
}

// Validate checks a folder on its own (the tree is checked by the caller).
func (f *Folder) Validate() error {
	var fe FieldErrors
	validateName(&fe, "name", f.Name)
	if msg := validateFolderPath(f.Path); msg != "" {
		fe.Add("path", "%s", msg)
	}
	if f.ParentID != "" && f.ParentID == f.ID {
		fe.Add("parent_id", "a folder cannot be its own parent")
	}
	return fe.Err()
}

func validateFolderPath(p string) string {
	if p == "" {
		return ""
	}
	if msg := ValidatePath(p); msg != "" {
		return msg
	}
	segs := strings.Split(p[1:], "/")
	switch {
	case strings.ContainsAny(p, "*{:"):
		return "must be literal segments"
	case len(segs) > 2:
		return "may have at most two segments (/user or /user/basic); it is not joined to the parent folder's path"
	}
	for _, s := range segs {
		if s == "" {
			return "must not hold empty segments or end with /"
		}
	}
	return ""
}
