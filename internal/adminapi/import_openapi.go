package adminapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/gateway/sqlbackend"
	"github.com/portico-gw/portico/internal/openapi"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// importResult answers POST …/services/import: what the import does (or,
// with dry_run, would do) and the service as it is afterwards.
type importResult struct {
	Report  openapi.Report `json:"report"`
	Service *spec.Service  `json:"service,omitempty"` // absent on a dry run
}

// readImport reads an OpenAPI document within the import size limit, which
// is separate from (and usually larger than) the JSON body limit.
func (c *call) readImport() ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, c.s.maxImport))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, withDetail(errTooLarge, "the document is larger than %d bytes", c.s.maxImport)
		}
		return nil, fmt.Errorf("read OpenAPI document: %w", err)
	}
	return b, nil
}

// importOpenAPI creates a service from an OpenAPI document or, when the
// project has a service of the document's name (or ?service= names one),
// updates it in place. Everything happens in one transaction.
func (c *call) importOpenAPI() (any, error) {
	q := c.r.URL.Query()
	dryRun, err := boolParam(q.Get("dry_run"), "dry_run")
	if err != nil {
		return nil, err
	}
	mock, err := boolParam(q.Get("mock"), "mock")
	if err != nil {
		return nil, err
	}
	body, err := c.readImport()
	if err != nil {
		return nil, err
	}
	res, err := openapi.Import(body, openapi.Options{Mock: mock, KnownPlugin: routing.Known})
	if err != nil {
		return nil, err
	}
	p := c.path("p")
	var out importResult
	err = c.txOrDryRun(dryRun, func(tx store.Tx) error {
		if _, err := c.loadProject(tx, p); err != nil {
			return err
		}
		existing, err := c.importTarget(tx, p, q.Get("service"), res.Service.Name)
		if err != nil {
			return err
		}
		plan := openapi.NewPlan(res, existing)
		plan.Report.DryRun = dryRun
		out.Report = plan.Report
		if err := c.checkImport(tx, p, plan); err != nil {
			return err
		}
		if existing != nil && plan.Changed() {
			if err := checkEdit(existing); err != nil {
				return err
			}
		}
		svc, err := c.applyImport(tx, p, plan, existing == nil)
		if err != nil {
			return err
		}
		if !dryRun { // a dry run's service is rolled back: it does not exist
			out.Service = &svc
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// importTarget is the stored service an import updates, with its routes:
// the one ?service= names, else the one named like the document; nil
// when there is none.
func (c *call) importTarget(tx store.Tx, p, named, docName string) (*spec.Service, error) {
	var s spec.Service
	var err error
	if named != "" {
		if s, err = c.loadService(tx, p, named); err != nil {
			return nil, err
		}
	} else {
		s, err = tx.GetService(c.ctx(), p, docName)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("import: find service %q: %w", docName, err)
		}
	}
	if err := c.fillRoutes(tx, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// checkImport validates what would be written like the single-object
// endpoints do; a problem is named under service or routes[NAME].
func (c *call) checkImport(tx store.Tx, p string, plan *openapi.Plan) error {
	plan.Service.ProjectID = p
	var fe spec.FieldErrors
	if err := c.checkService(tx, &plan.Service); err != nil {
		sfe, ok := errors.AsType[spec.FieldErrors](prefixed(err, "service."))
		if !ok {
			return err
		}
		fe = append(fe, sfe...)
	}
	for _, list := range [][]spec.Route{plan.Create, plan.Update} {
		for i := range list {
			if err := c.checkRoute(tx, p, &list[i]); err != nil {
				rfe, ok := errors.AsType[spec.FieldErrors](prefixed(err, fmt.Sprintf("routes[%s].", list[i].Name)))
				if !ok {
					return err
				}
				fe = append(fe, rfe...)
			}
		}
	}
	return fe.Err()
}

// applyImport writes a plan: the service, then removed, changed and new
// routes (removals first, so a new route may take a removed one's name).
func (c *call) applyImport(tx store.Tx, p string, plan *openapi.Plan, create bool) (spec.Service, error) {
	ctx := c.ctx()
	s := plan.Service
	now := c.s.now()
	switch {
	case create:
		s.ID, s.ProjectID, s.State, s.CreatedAt, s.UpdatedAt = newID(), p, spec.StateDraft, now, now
		if err := tx.CreateService(ctx, &s); err != nil {
			return s, onConflict(err, "a service named %q already exists in project %q", s.Name, p)
		}
	case plan.Report.Service.Action == "update":
		s.UpdatedAt = now
		if err := tx.UpdateService(ctx, &s); err != nil {
			return s, onConflict(err, "a service named %q already exists in project %q", s.Name, p)
		}
	}
	for _, r := range plan.Remove {
		if err := tx.DeleteRoute(ctx, s.ID, r.ID); err != nil {
			return s, onConflict(err, "route %q is still in use", r.Name)
		}
	}
	for i := range plan.Update {
		r := &plan.Update[i]
		r.UpdatedAt = now
		if err := tx.UpdateRoute(ctx, r); err != nil {
			return s, onConflict(err, "two routes would be named %q", r.Name)
		}
	}
	for i := range plan.Create {
		r := &plan.Create[i]
		r.ID, r.ServiceID, r.CreatedAt, r.UpdatedAt = newID(), s.ID, now, now
		if err := tx.CreateRoute(ctx, r); err != nil {
			return s, onConflict(err, "two routes would be named %q", r.Name)
		}
	}
	if plan.Changed() {
		rep := plan.Report
		rep.Plugins, rep.Warnings = nil, nil // the audit keeps what changed, not the whole report
		if err := c.audit(tx, "service.import", serviceResource(p, s.ID), rep); err != nil {
			return s, err
		}
	}
	withActions(&s)
	if err := c.fillRoutes(tx, &s); err != nil {
		return s, err
	}
	return s, nil
}

// exportOpenAPI answers the OpenAPI 3.1 description of a service template.
func (c *call) exportOpenAPI() (any, error) {
	asYAML, err := c.wantsYAML()
	if err != nil {
		return nil, err
	}
	p := c.path("p")
	var doc map[string]any
	err = c.view(func(tx store.Tx) error {
		s, err := c.loadService(tx, p, c.path("s"))
		if err != nil {
			return err
		}
		if err := c.fillRoutes(tx, &s); err != nil {
			return err
		}
		servers, err := c.gatewayServers(tx, &s, "")
		if err != nil {
			return err
		}
		doc, err = openapi.Export(&s, openapi.ExportOptions{Servers: servers, Portico: true, Derive: deriveOperation})
		return err
	})
	if err != nil {
		return nil, err
	}
	return openAPIAnswer(doc, asYAML)
}

// exportVersionOpenAPI answers the description of a published version:
// its frozen template, servers where that version runs.
func (c *call) exportVersionOpenAPI() (any, error) {
	asYAML, err := c.wantsYAML()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	err = c.view(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		v, err := tx.GetVersion(c.ctx(), s.ID, c.path("v"))
		if err != nil {
			return onNotFound(err, "version %q of service %q not found", c.path("v"), s.Name)
		}
		servers, err := c.gatewayServers(tx, &v.Service, v.Version)
		if err != nil {
			return err
		}
		doc, err = openapi.Export(&v.Service, openapi.ExportOptions{Servers: servers, Version: v.Version, Portico: true, Derive: deriveOperation})
		return err
	})
	if err != nil {
		return nil, err
	}
	return openAPIAnswer(doc, asYAML)
}

// gatewayServers are the URLs (group public URL + group prefix + service
// path; a path alone for a group without public_url) of the groups
// running the service, or only version.
func (c *call) gatewayServers(tx store.Tx, s *spec.Service, version string) ([]openapi.Server, error) {
	deps, err := tx.ListDeploymentsByService(c.ctx(), s.ID)
	if err != nil {
		return nil, fmt.Errorf("deployments of service %q: %w", s.Name, err)
	}
	var out []openapi.Server
	for _, d := range deps {
		if version != "" && d.Version != version {
			continue
		}
		g, err := tx.GetGroup(c.ctx(), d.Group)
		if err != nil {
			return nil, fmt.Errorf("gateway group %q: %w", d.Group, err)
		}
		url := spec.GroupPrefix(g.PathPrefix, d.ProjectID) + strings.TrimRight(s.EffectivePath(), "/")
		if url == "" {
			url = "/"
		}
		if g.PublicURL != "" {
			// Where clients reach the group: a document that works as is.
			url = strings.TrimRight(g.PublicURL+url, "/")
		}
		out = append(out, openapi.Server{URL: url, Description: fmt.Sprintf("gateway group %s (version %s)", d.Group, d.Version)})
	}
	return out, nil
}

// wantsYAML reads ?format= (json, yaml) or, without it, the Accept header.
func (c *call) wantsYAML() (bool, error) {
	switch f := c.r.URL.Query().Get("format"); f {
	case "yaml", "yml":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, fieldError("format", "must be json or yaml")
	}
	for part := range strings.SplitSeq(c.r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json", "application/*", "*/*":
			return false, nil
		case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
			return true, nil
		}
	}
	return false, nil
}

func openAPIAnswer(doc map[string]any, asYAML bool) (any, error) {
	b, err := openapi.Marshal(doc, asYAML)
	if err != nil {
		return nil, err
	}
	if asYAML {
		return rawAnswer{contentType: "application/yaml", body: b}, nil
	}
	return rawAnswer{contentType: "application/json", body: b}, nil
}

// deriveOperation is what a route's backend says of its operation: a
// generated data API's typed parameters, paging and response columns
// (the description file).
func deriveOperation(r *spec.Route) map[string]any {
	if r.Backend == nil || r.Backend.SQLBackend == nil || r.Backend.Type != "sql" {
		return nil
	}
	return sqlbackend.Operation(r.Backend.SQLBackend)
}
