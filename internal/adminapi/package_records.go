package adminapi

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/portico-gw/portico/internal/manifest"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// The packages a project imported (cross-project publishing): every
// import is recorded in the target project, pending while it is applied,
// then published with what it changed or failed with the refusal, its
// zip kept so that it can be applied again with a corrected mapping.

// packageRefusal is an import's or a retry's refusal of a recorded
// package: answered as the refusal, with the package's id added.
type packageRefusal struct {
	id  string
	err error
}

func (e *packageRefusal) Error() string { return fmt.Sprintf("package %s: %v", e.id, e.err) }
func (e *packageRefusal) Unwrap() error { return e.err }

// packageIDOf is the id of the package an error refused, if any.
func packageIDOf(err error) string {
	if pr, ok := errors.AsType[*packageRefusal](err); ok {
		return pr.id
	}
	return ""
}

// errPackagePublished refuses to apply a published package again (an
// import of the zip is the way to do that).
var errPackagePublished = fmt.Errorf("the package is already published: %w", store.ErrConflict)

func packageResource(p, id string) string { return "/projects/" + p + "/packages/" + id }

// recordPackage stores an uploaded package in project p, pending.
func (c *call) recordPackage(p string, pkg *manifest.Package, zip []byte, mapping packageMapping) (spec.Package, error) {
	// A package from before names is named as its export would be now.
	name := pkg.Meta.Name
	if name == "" {
		from, at := pkg.Meta.Project, pkg.Meta.ExportedAt
		if from == "" {
			from = "package"
		}
		if at.IsZero() {
			at = c.s.now()
		}
		name = manifest.DefaultPackageName(from, at)
	}
	rec := spec.Package{Project: p, Name: name, Description: pkg.Meta.Description, SourceProject: pkg.Meta.Project,
		ExportedAt: pkg.Meta.ExportedAt, State: spec.PackagePending, Mapping: spec.PackageMapping(mapping),
		Uses: spec.PackageRefs{Upstreams: pkg.Unmapped(nil), DataSources: pkg.DataSources()}, CreatedBy: c.user.Username}
	for _, s := range pkg.Services {
		rec.Services = append(rec.Services, s.Name)
	}
	err := c.tx(func(tx store.Tx) error {
		if _, err := c.loadProject(tx, p); err != nil {
			return err
		}
		return tx.CreatePackage(c.ctx(), &rec, zip)
	})
	return rec, err
}

// attemptPackage applies a recorded package with mapping: published in
// the same transaction as the import, or, when the import is refused,
// failed in one of its own with the refusal's detail, its field errors
// and what the mapping left out. An internal failure leaves the record
// as it was (pending, for a first attempt). Every error but a missing
// record comes back as a packageRefusal.
func (c *call) attemptPackage(rec *spec.Package, pkg *manifest.Package, mapping packageMapping) (packageResult, spec.Package, error) {
	p := rec.Project
	unmapped := unmappedRefs(pkg, mapping)
	rec.Attempts++
	rec.UpdatedBy = c.user.Username
	rec.Mapping = spec.PackageMapping(mapping)
	var res packageResult
	err := c.tx(func(tx store.Tx) error {
		// Read again under the write lock: two retries at once apply once.
		cur, err := tx.GetPackage(c.ctx(), p, rec.ID)
		if err != nil {
			return onNotFound(err, "package %q not found", rec.ID)
		}
		if cur.State == spec.PackagePublished {
			return errPackagePublished
		}
		if res, err = c.applyPackage(tx, p, pkg, mapping, rec.ID); err != nil {
			return err
		}
		rec.State, rec.Reason, rec.Errors, rec.Unmapped = spec.PackagePublished, "", nil, spec.PackageRefs{}
		rec.Result = &spec.PackageResult{Diff: res.Diff, Warnings: res.Warnings, Changes: make([]spec.PackageChange, len(res.Changes))}
		for i, ch := range res.Changes {
			rec.Result.Changes[i] = spec.PackageChange(ch)
		}
		return tx.UpdatePackage(c.ctx(), rec)
	})
	if err == nil {
		res.PackageID = rec.ID
		return res, *rec, nil
	}
	// A refusal of the package fails it; not an internal failure, nor the
	// record or its project gone, nor a published one.
	prob, internal := toProblem(err)
	if internal || prob.Status == http.StatusNotFound || errors.Is(err, errPackagePublished) {
		return res, *rec, &packageRefusal{id: rec.ID, err: err}
	}
	rec.State, rec.Reason, rec.Errors, rec.Unmapped, rec.Result = spec.PackageFailed, prob.Detail, prob.Errors, unmapped, nil
	ferr := c.tx(func(tx store.Tx) error {
		if err := tx.UpdatePackage(c.ctx(), rec); err != nil {
			return err
		}
		return c.audit(tx, "package.fail", packageResource(p, rec.ID), map[string]any{"name": rec.Name, "reason": rec.Reason, "errors": rec.Errors})
	})
	if ferr != nil {
		c.s.log.Error("admin api: record a refused package", "project", p, "package", rec.ID, "err", ferr)
	}
	return res, *rec, &packageRefusal{id: rec.ID, err: err}
}

// unmappedRefs lists the upstreams and data sources of pkg that mapping
// does not name.
func unmappedRefs(pkg *manifest.Package, mapping packageMapping) spec.PackageRefs {
	var out spec.PackageRefs
	out.Upstreams = pkg.Unmapped(mapping.Upstreams)
	for _, name := range pkg.DataSources() {
		if mapping.DataSources[name] == "" {
			out.DataSources = append(out.DataSources, name)
		}
	}
	return out
}

// packageListQuery are the query parameters of a project's packages.
var packageListQuery = append(slices.Clone(listParams), "state")

func (c *call) listPackages() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	state := c.r.URL.Query().Get("state")
	if state != "" && !slices.Contains(spec.PackageStates, state) {
		return nil, fieldError("state", "must be one of %v", spec.PackageStates)
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		if _, err := c.loadProject(tx, c.path("p")); err != nil {
			return err
		}
		items, total, err := tx.ListPackages(c.ctx(), c.path("p"), state, q)
		res = list(items, total)
		return err
	})
	return res, err
}

func (c *call) loadPackage(tx store.Tx) (spec.Package, error) {
	if _, err := c.loadProject(tx, c.path("p")); err != nil {
		return spec.Package{}, err
	}
	rec, err := tx.GetPackage(c.ctx(), c.path("p"), c.path("pkg"))
	return rec, onNotFound(err, "package %q not found", c.path("pkg"))
}

func (c *call) getPackage() (any, error) {
	var rec spec.Package
	err := c.view(func(tx store.Tx) error {
		var err error
		rec, err = c.loadPackage(tx)
		return err
	})
	return rec, err
}

// retryPackage applies a pending or failed package again: with the
// mapping of the body, or, without one, with the last attempt's (say,
// after creating the upstream it named). It answers the package as it
// now stands, or the refusal (the package failed again) with its id.
func (c *call) retryPackage() (any, error) {
	var body packageMapping
	if err := c.decodeOptional(&body); err != nil {
		return nil, err
	}
	var rec spec.Package
	var zip []byte
	err := c.view(func(tx store.Tx) error {
		var err error
		if rec, err = c.loadPackage(tx); err != nil {
			return err
		}
		zip, err = tx.PackageContent(c.ctx(), rec.Project, rec.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if rec.State == spec.PackagePublished || zip == nil {
		return nil, &packageRefusal{id: rec.ID, err: errPackagePublished}
	}
	mapping := packageMapping(rec.Mapping)
	if body.Upstreams != nil || body.DataSources != nil {
		mapping = body
	}
	if err := checkMapping(mapping); err != nil {
		return nil, err
	}
	if mapping.Upstreams == nil {
		mapping.Upstreams = map[string]string{}
	}
	if mapping.DataSources == nil {
		mapping.DataSources = map[string]string{}
	}
	pkg, err := manifest.ReadPackage(zip, strictDecode)
	if err != nil {
		// It was read when uploaded: a zip that no longer reads is ours.
		return nil, fmt.Errorf("package %s: read the stored zip: %w", rec.ID, err)
	}
	_, rec, err = c.attemptPackage(&rec, &pkg, mapping)
	return rec, err
}

// checkMapping refuses an empty name on either side of a mapping.
func checkMapping(m packageMapping) error {
	var fe spec.FieldErrors
	for field, mm := range map[string]map[string]string{"upstreams": m.Upstreams, "data_sources": m.DataSources} {
		for _, src := range slices.Sorted(maps.Keys(mm)) {
			if src == "" || mm[src] == "" {
				fe.Add(field+"."+src, "must map a name to a name")
			}
		}
	}
	return fe.Err()
}

func (c *call) deletePackage() (any, error) {
	err := c.tx(func(tx store.Tx) error {
		rec, err := c.loadPackage(tx)
		if err != nil {
			return err
		}
		if err := tx.DeletePackage(c.ctx(), rec.Project, rec.ID); err != nil {
			return err
		}
		return c.audit(tx, "package.delete", packageResource(rec.Project, rec.ID), map[string]any{"name": rec.Name, "state": rec.State})
	})
	return nil, err
}
