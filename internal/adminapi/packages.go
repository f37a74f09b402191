package adminapi

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"slices"
	"sort"
	"strings"

	"github.com/portico-gw/portico/internal/manifest"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// packageMapping says which upstream of the target project stands for each
// upstream the package's services refer to.
type packageMapping struct {
	Upstreams   map[string]string `json:"upstreams"`
	DataSources map[string]string `json:"data_sources"`
}

// packageResult answers an import: what changed, what the target could
// not take as it was, and the package's record in the target project
// (none for a dry run).
type packageResult struct {
	manifest.Plan
	Diff      string   `json:"diff"`
	Warnings  []string `json:"warnings,omitempty"`
	PackageID string   `json:"package_id,omitempty"`
}

// exportRequest names the package an export makes (also as ?name= and
// ?description=; the body's win).
type exportRequest struct {
	Name        string `json:"name,omitempty"`        // letters, digits, _ - . (default: the project and the day)
	Description string `json:"description,omitempty"` // at most 2000 bytes
}

// exportInfo reads the package's name and description from the body or
// the query; a name left out is the project and the day.
func (c *call) exportInfo(p string) (exportRequest, error) {
	q := c.r.URL.Query()
	req := exportRequest{Name: q.Get("name"), Description: q.Get("description")}
	var body exportRequest
	if err := c.decodeOptional(&body); err != nil {
		return req, err
	}
	if body.Name != "" {
		req.Name = body.Name
	}
	if body.Description != "" {
		req.Description = body.Description
	}
	if req.Name == "" {
		req.Name = manifest.DefaultPackageName(p, c.s.now())
	}
	var fe spec.FieldErrors
	spec.ValidatePackageInfo(&fe, "", req.Name, req.Description)
	return req, fe.Err()
}

// exportPackage answers the project's services and upstreams as a package
// (a zip of JSON; no secrets, no applications).
func (c *call) exportPackage() (any, error) {
	p := c.path("p")
	info, err := c.exportInfo(p)
	if err != nil {
		return nil, err
	}
	var pkg manifest.Package
	// A write transaction, not the read view: an export is audited.
	err = c.tx(func(tx store.Tx) error {
		if _, err := c.loadProject(tx, p); err != nil {
			return err
		}
		doc, err := c.currentConfig(tx, p)
		if err != nil {
			return err
		}
		folders, err := c.folderPaths(tx, p)
		if err != nil {
			return err
		}
		pkg.Meta = manifest.PackageMeta{Name: info.Name, Description: info.Description, Project: p, ExportedAt: c.s.now()}
		pkg.Upstreams = doc.Upstreams
		for _, s := range doc.Services {
			if err := c.dataSourcesByName(tx, p, &s); err != nil {
				return err
			}
			ps := manifest.PackagedService{Service: s}
			if full, err := tx.GetService(c.ctx(), p, s.Name); err == nil && full.FolderID != "" {
				ps.Folder = folders[full.FolderID]
			}
			pkg.Services = append(pkg.Services, ps)
		}
		return c.audit(tx, "project.export", projectResource(p), map[string]any{"name": info.Name, "services": len(pkg.Services)})
	})
	if err != nil {
		return nil, err
	}
	b, err := manifest.WritePackage(&pkg)
	if err != nil {
		return nil, err
	}
	c.w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.portico.zip"`, info.Name))
	return rawAnswer{contentType: "application/zip", body: b}, nil
}

// folderPaths maps a project's folder ids to their paths.
func (c *call) folderPaths(tx store.Tx, p string) (map[string]string, error) {
	fs, err := store.All(func(q store.ListQuery) ([]spec.Folder, int, error) { return tx.ListFolders(c.ctx(), p, q) })
	if err != nil {
		return nil, fmt.Errorf("folders of %q: %w", p, err)
	}
	out := make(map[string]string, len(fs))
	for _, f := range fs {
		out[f.ID] = f.Path
	}
	return out, nil
}

// readPackageRequest takes the zip and the mapping from a multipart form
// (parts "package" and "mapping") or from a raw zip body with
// ?upstream=SOURCE:TARGET parameters.
func (c *call) readPackageRequest() ([]byte, packageMapping, error) {
	m := packageMapping{Upstreams: map[string]string{}, DataSources: map[string]string{}}
	for param, into := range map[string]map[string]string{"upstream": m.Upstreams, "data_source": m.DataSources} {
		for _, pair := range c.r.URL.Query()[param] {
			src, dst, ok := strings.Cut(pair, ":")
			if !ok || src == "" || dst == "" {
				return nil, m, fieldError(param, "must be SOURCE:TARGET, not %q", pair)
			}
			into[src] = dst
		}
	}
	mt, _, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		b, err := c.readBody()
		return b, m, err
	}
	if err := c.r.ParseMultipartForm(c.s.maxBody); err != nil {
		return nil, m, fieldError("body", "not a multipart form: %v", err)
	}
	if v := c.r.FormValue("mapping"); v != "" {
		var fm packageMapping
		if err := strictDecode([]byte(v), &fm); err != nil {
			return nil, m, prefixed(err, "mapping.")
		}
		for k, v := range fm.Upstreams {
			m.Upstreams[k] = v
		}
		for k, v := range fm.DataSources {
			m.DataSources[k] = v
		}
	}
	f, _, err := c.r.FormFile("package")
	if err != nil {
		return nil, m, fieldError("package", "is required (the zip from POST …/export)")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, c.s.maxBody+1))
	if err != nil {
		return nil, m, fmt.Errorf("read package: %w", err)
	}
	if int64(len(b)) > c.s.maxBody {
		return nil, m, withDetail(errTooLarge, "the package is larger than %d bytes", c.s.maxBody)
	}
	return b, m, nil
}

// importPackage brings a package's services into the project in one
// transaction: new services arrive as drafts, existing ones have their
// template and routes replaced; every upstream and data source the
// services use must be mapped to one of the project's, or nothing happens
// and every unmapped one is listed. The package is recorded in the
// project first (package_records.go): published with what it changed, or
// failed with the refusal, which answers as before with the package's id
// added, so it can be retried. ?dry_run=true runs the very same import
// and rolls it back, so its answer (plan or refusal) is the real
// import's; it records nothing.
func (c *call) importPackage() (any, error) {
	dryRun, err := boolParam(c.r.URL.Query().Get("dry_run"), "dry_run")
	if err != nil {
		return nil, err
	}
	b, mapping, err := c.readPackageRequest()
	if err != nil {
		return nil, err
	}
	pkg, err := manifest.ReadPackage(b, strictDecode)
	if err != nil {
		return nil, prefixed(err, "package.")
	}
	p := c.path("p")
	if !dryRun {
		rec, err := c.recordPackage(p, &pkg, b, mapping)
		if err != nil {
			return nil, err
		}
		res, _, err := c.attemptPackage(&rec, &pkg, mapping)
		return res, err
	}
	var res packageResult
	err = c.txOrDryRun(true, func(tx store.Tx) error {
		if _, err := c.loadProject(tx, p); err != nil {
			return err
		}
		res, err = c.applyPackage(tx, p, &pkg, mapping, "")
		return err
	})
	return res, err
}

// applyPackage imports pkg into project p in tx with mapping (see
// importPackage); id is the package's record, "" for a dry run. It maps
// pkg's data sources in place.
func (c *call) applyPackage(tx store.Tx, p string, pkg *manifest.Package, mapping packageMapping, id string) (packageResult, error) {
	var res packageResult
	var fe spec.FieldErrors
	for _, name := range pkg.Unmapped(mapping.Upstreams) {
		fe.Add("mapping.upstreams."+name, "upstream %q of the package is not mapped to an upstream of project %q", name, p)
	}
	srcs := make([]string, 0, len(mapping.Upstreams))
	for src := range mapping.Upstreams {
		srcs = append(srcs, src)
	}
	sort.Strings(srcs)
	for _, src := range srcs {
		if _, err := tx.GetUpstream(c.ctx(), p, mapping.Upstreams[src]); err != nil {
			fe.Add("mapping.upstreams."+src, "project %q has no upstream %q", p, mapping.Upstreams[src])
		}
	}
	for _, name := range pkg.DataSources() {
		to, ok := mapping.DataSources[name]
		if !ok {
			fe.Add("mapping.data_sources."+name, "data source %q of the package is not mapped to a data source of project %q", name, p)
		} else if _, err := tx.GetDataSource(c.ctx(), p, to); err != nil {
			fe.Add("mapping.data_sources."+name, "project %q has no data source %q", p, to)
		}
	}
	folders, warnings, err := c.packageFolders(tx, p, pkg.Services, &fe)
	if err != nil {
		return res, err
	}
	if err := fe.Err(); err != nil {
		return res, err
	}
	pkg.MapDataSources(mapping.DataSources)
	cur, err := c.currentConfig(tx, p)
	if err != nil {
		return res, err
	}
	want := cur
	want.Services = nil
	incoming := map[string]bool{}
	for _, ps := range pkg.Services {
		s := ps.Service
		if s.UpstreamID != "" {
			s.UpstreamID = mapping.Upstreams[s.UpstreamID]
		}
		incoming[s.Name] = true
		want.Services = append(want.Services, s)
	}
	for _, s := range cur.Services {
		if !incoming[s.Name] {
			want.Services = append(want.Services, s)
		}
	}
	manifest.Normalize(&want, nil)
	res.Plan = manifest.Diff(&cur, &want, false)
	res.Diff = res.Plan.String()
	if err := c.applyConfig(tx, p, &want, res.Plan, folders); err != nil {
		return res, err
	}
	if err := c.placeInFolders(tx, p, folders); err != nil {
		return res, err
	}
	res.Warnings = warnings
	detail := map[string]any{"from": pkg.Meta.Project, "changes": res.Changes}
	if id != "" {
		detail["package"], detail["name"] = id, pkg.Meta.Name
	}
	return res, c.audit(tx, "project.import", projectResource(p), detail)
}

// packageFolders finds the target's folder for each packaged service by
// the folder's path: the answer maps service names to folder ids. A path
// the target has no folder for is a warning, and the service stays where
// it is (a new one in no folder); but a service whose path is "default"
// (its folder's path) would then have none, which is a field error in fe.
func (c *call) packageFolders(tx store.Tx, p string, services []manifest.PackagedService, fe *spec.FieldErrors) (map[string]string, []string, error) {
	paths, err := c.folderPaths(tx, p)
	if err != nil {
		return nil, nil, err
	}
	byPath := map[string]string{}
	for id, path := range paths {
		byPath[path] = id
	}
	folders := map[string]string{}
	var warnings []string
	for _, ps := range services {
		if id, ok := byPath[ps.Folder]; ok && ps.Folder != "" {
			folders[ps.Name] = id
			continue
		}
		if ps.Path == spec.DefaultPath {
			cur, err := tx.GetService(c.ctx(), p, ps.Name)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, nil, fmt.Errorf("service %q: %w", ps.Name, err)
			}
			if cur.FolderID == "" {
				fe.Add("services["+ps.Name+"].path", `"default" is the path of the service's folder %q, and project %q has no folder with that path: create one first, or give the service a path of its own`, ps.Folder, p)
				continue
			}
		}
		if ps.Folder != "" {
			warnings = append(warnings, fmt.Sprintf("service %q: project %q has no folder with path %q; the service stays where it is (a new one in no folder)", ps.Name, p, ps.Folder))
		}
	}
	return folders, warnings, nil
}

// placeInFolders moves imported services the plan did not change into
// the folder packageFolders found for them.
func (c *call) placeInFolders(tx store.Tx, p string, folders map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(folders)) {
		s, err := tx.GetService(c.ctx(), p, name)
		if err != nil {
			return err
		}
		if s.FolderID == folders[name] {
			continue
		}
		s.FolderID = folders[name]
		if err := tx.UpdateService(c.ctx(), &s); err != nil {
			return fmt.Errorf("place %q in folder %s: %w", s.Name, folders[name], err)
		}
	}
	return nil
}

// packageQuery documents the import's query parameters.
var packageQuery = []string{"dry_run", "upstream", "data_source"}

// dataSourcesByName makes a service's generated data APIs name their data
// source, so a package can be mapped in another install.
func (c *call) dataSourcesByName(tx store.Tx, p string, s *spec.Service) error {
	for i := range s.Routes {
		b := s.Routes[i].Backend
		if b == nil || b.SQLBackend == nil || b.SQLBackend.DataSource == "" {
			continue
		}
		d, err := tx.GetDataSource(c.ctx(), p, b.SQLBackend.DataSource)
		if err != nil {
			return fmt.Errorf("route %s/%s: data source %q: %w", s.Name, s.Routes[i].Name, b.SQLBackend.DataSource, err)
		}
		nb, sb := *b, *b.SQLBackend
		sb.DataSource = d.Name
		nb.SQLBackend = &sb
		s.Routes[i].Backend = &nb
	}
	return nil
}
