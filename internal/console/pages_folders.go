package console

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// folderRoutes are the catalog folders of a project: the tree with the
// default path each folder gives its services, create, rename, move,
// change the path (with a confirmation page naming the URLs it moves) and
// delete.
func folderRoutes() []pageRoute {
	const F = "/p/{p}/folders"
	return []pageRoute{
		{pattern: "GET " + F, perm: rbac.FolderRead, scope: scopeProject, handle: func(q *req) error { return foldersView(q, q.page(q.t("nav.folders"), "folders"), 200) }},
		{pattern: "POST " + F, perm: rbac.FolderWrite, scope: scopeProject, handle: (*req).createFolder},
		{pattern: "POST " + F + "/{f}", perm: rbac.FolderWrite, scope: scopeProject, handle: (*req).updateFolder},
		{pattern: "POST " + F + "/{f}/delete", perm: rbac.FolderWrite, scope: scopeProject, handle: (*req).deleteFolder},
	}
}

// folderRow is a folder in the tree: its depth under the top level.
type folderRow struct {
	F     spec.Folder
	Depth int
}

// Indent is the row's indentation as the page draws it.
func (r folderRow) Indent() string { return strings.Repeat("— ", r.Depth) }

// foldersPageSize bounds the folders the page reads.
const foldersPageSize = 500

func (q *req) foldersPath() string {
	return "/projects/" + url.PathEscape(q.r.PathValue("p")) + "/folders"
}

func (q *req) foldersPage() string { return "/p/" + url.PathEscape(q.r.PathValue("p")) + "/folders" }

// folderTree orders folders depth first under their parents, by name. A
// folder whose parent is missing, or that sits in a loop the store should
// never hold, is shown at the top level rather than lost.
func folderTree(all []spec.Folder) []folderRow {
	byID := map[string]bool{}
	kids := map[string][]spec.Folder{}
	for _, f := range all {
		byID[f.ID] = true
	}
	for _, f := range all {
		parent := f.ParentID
		if !byID[parent] {
			parent = ""
		}
		kids[parent] = append(kids[parent], f)
	}
	for _, k := range kids {
		sort.Slice(k, func(i, j int) bool { return k[i].Name < k[j].Name })
	}
	out := make([]folderRow, 0, len(all))
	seen := map[string]bool{}
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		for _, f := range kids[parent] {
			if seen[f.ID] {
				continue
			}
			seen[f.ID] = true
			out = append(out, folderRow{F: f, Depth: depth})
			walk(f.ID, depth+1)
		}
	}
	walk("", 0)
	for _, f := range all {
		if !seen[f.ID] {
			seen[f.ID] = true
			out = append(out, folderRow{F: f})
		}
	}
	return out
}

func foldersView(q *req, p *page, status int) error {
	var l webpage.List[spec.Folder]
	if err := q.call("GET", q.foldersPath()+"?page_size=500", nil, &l); err != nil {
		return err
	}
	p.Data = folderTree(l.Items)
	q.render(status, "folders", p)
	return nil
}

// folderBody is a folder as the form gives it.
func folderBody(f url.Values) map[string]any {
	return map[string]any{"name": strings.TrimSpace(f.Get("name")), "path": strings.TrimSpace(f.Get("path")),
		"parent_id": f.Get("parent_id"), "description": f.Get("description")}
}

func (q *req) createFolder() error {
	if err := q.call("POST", q.foldersPath(), folderBody(q.r.PostForm), nil); err != nil {
		return q.reshow(err, "new-folder", foldersView, q.t("nav.folders"), "folders")
	}
	q.redirect(q.foldersPage(), "created")
	return nil
}

// folderMove is the confirmation page of a folder change that moves the
// URLs of running services: what was typed, to send again with
// confirm=true, and each URL that moves.
type folderMove struct {
	ID      string
	Form    url.Values
	Detail  string
	Changes []urlChange
}

// urlChange is one URL a change moves (the admin API's 409 lists them).
type urlChange struct {
	Group   string `json:"group"`
	Service string `json:"service"`
	Route   string `json:"route"`
	From    string `json:"from"`
	To      string `json:"to"`
}

// updateFolder replaces the folder with the form's fields. A new path
// that moves running URLs is refused by the admin API with the list of
// them: the page then asks for a confirmation naming each, and only the
// confirmation's post (confirm=true) sends ?confirm=true.
func (q *req) updateFolder() error {
	path := q.foldersPath() + "/" + url.PathEscape(q.r.PathValue("f"))
	confirmed := q.r.PostForm.Get("confirm") == "true"
	if confirmed {
		path += "?confirm=true"
	}
	ans, err := q.c.api.Call(q.r, q.token, "PUT", path, folderBody(q.r.PostForm), nil)
	var ae *webpage.Refusal
	if err != nil && errors.As(err, &ae) && ae.Status == http.StatusConflict && !confirmed {
		var problem struct {
			Changes []urlChange `json:"changes"`
		}
		if ans.Decode(&problem) == nil && len(problem.Changes) > 0 {
			p := q.page(q.t("fold.confirm_title"), "folders")
			form := url.Values{}
			for _, k := range []string{"name", "path", "parent_id", "description"} {
				form.Set(k, q.r.PostForm.Get(k))
			}
			p.Data = folderMove{ID: q.r.PathValue("f"), Form: form, Detail: ae.Detail, Changes: problem.Changes}
			q.render(http.StatusConflict, "folder_move", p)
			return nil
		}
	}
	if err != nil {
		return q.reshow(err, "folder-"+q.r.PathValue("f"), foldersView, q.t("nav.folders"), "folders")
	}
	q.redirect(q.foldersPage(), "saved")
	return nil
}

func (q *req) deleteFolder() error {
	if err := q.call("DELETE", q.foldersPath()+"/"+url.PathEscape(q.r.PathValue("f")), nil, nil); err != nil {
		return q.reshow(err, "", foldersView, q.t("nav.folders"), "folders")
	}
	q.redirect(q.foldersPage(), "deleted")
	return nil
}

// folderField is the stored value of a folder form's field.
func folderField(f spec.Folder, name string) string {
	switch name {
	case "name":
		return f.Name
	case "path":
		return f.Path
	case "parent_id":
		return f.ParentID
	case "description":
		return f.Description
	}
	return ""
}

type folderForm = editForm[spec.Folder]

type folderFields struct {
	P    *page
	F    folderForm
	Rows []folderRow
}

func init() {
	funcs["folderForm"] = func(p *page, f spec.Folder) folderForm {
		return folderForm{P: p, Stored: f, Form: "folder-" + f.ID, field: folderField}
	}
	funcs["newFolderForm"] = func(p *page) folderForm { return folderForm{P: p, Form: "new-folder", field: folderField} }
	// folderFields hands the fields of a folder form their page, form and
	// the tree its parent is picked from.
	funcs["folderFields"] = func(p *page, f folderForm, rows []folderRow) folderFields {
		return folderFields{P: p, F: f, Rows: rows}
	}
}
