package adminapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/manifest"
	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// rawAnswer is an answer that is not JSON (a YAML document, an OpenAPI
// file): the handler's bytes as they are. streamed says the handler wrote
// the whole answer to c.w itself (the audit export's JSON lines, sent as
// they are read): nothing is left to send.
type rawAnswer struct {
	contentType string
	body        []byte
	streamed    bool
}

// configResult answers PUT …/config: the plan, as data and as text, and
// whether it was applied.
type configResult struct {
	manifest.Plan
	Diff    string `json:"diff"`
	Applied bool   `json:"applied"`
}

// currentConfig reads a project as a normalized document.
func (c *call) currentConfig(tx store.Tx, project string) (manifest.Document, error) {
	doc := manifest.Document{Project: project}
	ctx := c.ctx()
	var err error
	if doc.Upstreams, err = store.All(func(q store.ListQuery) ([]spec.Upstream, int, error) { return tx.ListUpstreams(ctx, project, q) }); err != nil {
		return doc, fmt.Errorf("upstreams of %q: %w", project, err)
	}
	if doc.Services, err = store.All(func(q store.ListQuery) ([]spec.Service, int, error) { return tx.ListServices(ctx, project, q) }); err != nil {
		return doc, fmt.Errorf("services of %q: %w", project, err)
	}
	if doc.Applications, err = c.projectApplications(tx, project); err != nil {
		return doc, err
	}
	byID := map[string]string{}
	for _, u := range doc.Upstreams {
		byID[u.ID] = u.Name
	}
	for i := range doc.Services {
		byID[doc.Services[i].ID] = doc.Services[i].Name
		if doc.Services[i].Routes, err = tx.ListRoutes(ctx, doc.Services[i].ID); err != nil {
			return doc, fmt.Errorf("routes of %q: %w", doc.Services[i].Name, err)
		}
	}
	manifest.Normalize(&doc, byID)
	return doc, nil
}

// projectApplications are a project's own applications.
func (c *call) projectApplications(tx store.Tx, p string) ([]spec.Application, error) {
	apps, err := store.All(func(q store.ListQuery) ([]spec.Application, int, error) {
		return tx.ListApplications(c.ctx(), store.ApplicationFilter{ProjectID: p}, q)
	})
	if err != nil {
		return nil, fmt.Errorf("applications of %q: %w", p, err)
	}
	return apps, nil
}

// projectApplication finds a project's application by name.
func (c *call) projectApplication(tx store.Tx, p, name string) (spec.Application, error) {
	apps, err := c.projectApplications(tx, p)
	if err != nil {
		return spec.Application{}, err
	}
	for _, a := range apps {
		if a.Name == name {
			return a, nil
		}
	}
	return spec.Application{}, fmt.Errorf("application %q of project %q: %w", name, p, store.ErrNotFound)
}

// putConfigApplication writes a project application (never credentials).
func (c *call) putConfigApplication(tx store.Tx, p string, want *spec.Application, action string) error {
	if action == "delete" {
		old, err := c.projectApplication(tx, p, want.Name)
		if err != nil {
			return err
		}
		return tx.DeleteApplication(c.ctx(), old.ID)
	}
	a := *want
	a.ProjectID, a.Services = p, append([]string(nil), want.Services...)
	now := c.s.now()
	if action == "create" {
		a.ID, a.Owner, a.CreatedAt = newID(), c.user.ID, now
	} else {
		old, err := c.projectApplication(tx, p, want.Name)
		if err != nil {
			return err
		}
		a.ID, a.Owner, a.CreatedAt = old.ID, old.Owner, old.CreatedAt
	}
	if err := c.checkApplication(tx, &a); err != nil {
		return prefixed(err, "applications["+a.Name+"].")
	}
	a.UpdatedAt = now
	if action == "create" {
		return tx.CreateApplication(c.ctx(), &a)
	}
	return tx.UpdateApplication(c.ctx(), &a)
}

// getConfig answers the project's declarative configuration as YAML
// (?format=json for JSON).
func (c *call) getConfig() (any, error) {
	p := c.path("p")
	var doc manifest.Document
	err := c.view(func(tx store.Tx) error {
		if _, err := c.loadProject(tx, p); err != nil {
			return err
		}
		var err error
		doc, err = c.currentConfig(tx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	if c.r.URL.Query().Get("format") == "json" {
		return doc, nil
	}
	b, err := manifest.Marshal(&doc)
	if err != nil {
		return nil, err
	}
	return rawAnswer{contentType: "application/yaml", body: b}, nil
}

// putConfig makes the project what the document says, in one transaction:
// upstreams, services and routes created or changed, routes a listed
// service no longer names removed, and with ?prune=true the services and
// upstreams the document does not name removed. ?dry_run=true runs the
// same and rolls it back, so it refuses exactly what the real run would.
func (c *call) putConfig() (any, error) {
	q := c.r.URL.Query()
	dryRun, err := boolParam(q.Get("dry_run"), "dry_run")
	if err != nil {
		return nil, err
	}
	prune, err := boolParam(q.Get("prune"), "prune")
	if err != nil {
		return nil, err
	}
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	want, err := manifest.Parse(body, strictDecode)
	if err != nil {
		return nil, err
	}
	p := c.path("p")
	if want.Project != "" && want.Project != p {
		return nil, fieldError("project", "the document is for project %q, not %q", want.Project, p)
	}
	want.Project = p
	manifest.Normalize(&want, nil)
	var res configResult
	err = c.txOrDryRun(dryRun, func(tx store.Tx) error {
		if _, err := c.loadProject(tx, p); err != nil {
			return err
		}
		cur, err := c.currentConfig(tx, p)
		if err != nil {
			return err
		}
		res.Plan = manifest.Diff(&cur, &want, prune)
		res.Diff = res.Plan.String()
		if res.Plan.Empty() {
			return nil
		}
		if err := c.applyConfig(tx, p, &want, res.Plan, nil); err != nil {
			return err
		}
		res.Applied = !dryRun
		// The plan, not before and after: those would be the whole
		// project twice in every event. The plan names each object and
		// field that changed; the objects' own history is their versions.
		return c.audit(tx, "config.apply", projectResource(p)+"/config", res.Plan)
	})
	return res, err
}

// errDryRun rolls back the transaction of a dry run that went through.
var errDryRun = errors.New("dry run: rolled back")

// txOrDryRun runs fn in one transaction; with dryRun, fn runs in full (every
// check and write of the real thing) and the transaction is rolled back,
// so a dry run can never answer differently from the real run.
func (c *call) txOrDryRun(dryRun bool, fn func(tx store.Tx) error) error {
	err := c.tx(func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if dryRun && errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

func boolParam(v, name string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fieldError(name, "must be true or false")
	}
	return b, nil
}

// applyConfig runs a plan's changes with the checks the single-object
// endpoints make; the first refusal aborts the whole transaction. folders
// maps service names to the folder a package import puts them in (a
// document names none: a service it creates is in no folder, one it
// changes keeps its own).
func (c *call) applyConfig(tx store.Tx, p string, want *manifest.Document, plan manifest.Plan, folders map[string]string) error {
	ups := map[string]*spec.Upstream{}
	for i := range want.Upstreams {
		ups[want.Upstreams[i].Name] = &want.Upstreams[i]
	}
	svcs := map[string]*spec.Service{}
	for i := range want.Services {
		svcs[want.Services[i].Name] = &want.Services[i]
	}
	apps := map[string]*spec.Application{}
	for i := range want.Applications {
		apps[want.Applications[i].Name] = &want.Applications[i]
	}
	consumersChanged := false
	var deleted []spec.Service
	for _, ch := range plan.Changes {
		var err error
		switch ch.Kind + " " + ch.Action {
		case "upstream create", "upstream update":
			err = c.putConfigUpstream(tx, p, ups[ch.Name], ch.Action == "create")
		case "service create", "service update":
			err = c.putConfigService(tx, p, svcs[ch.Name], ch.Action == "create", folders)
		case "route create", "route update", "route delete":
			svcName, routeName, _ := strings.Cut(ch.Name, "/")
			err = c.putConfigRoute(tx, p, svcs[svcName], routeName, ch.Action)
		case "application create", "application update", "application delete":
			a := apps[ch.Name]
			if a == nil {
				a = &spec.Application{Name: ch.Name}
			}
			err = c.putConfigApplication(tx, p, a, ch.Action)
			consumersChanged = true
		case "service delete":
			err = c.deleteConfigService(tx, p, ch.Name, &deleted)
		case "upstream delete":
			var u spec.Upstream
			if u, err = tx.GetUpstream(c.ctx(), p, ch.Name); err == nil {
				err = onConflict(tx.DeleteUpstream(c.ctx(), p, u.ID), "upstream %q is still used by a service", ch.Name)
			}
		}
		if err != nil {
			return fmt.Errorf("%s %s %s: %w", ch.Action, ch.Kind, ch.Name, err)
		}
	}
	for i := range deleted {
		if err := release.CheckDelete(c.ctx(), tx, &deleted[i]); err != nil {
			return fmt.Errorf("delete service %s: %w", deleted[i].Name, err)
		}
	}
	if consumersChanged {
		return c.commitConsumers(tx, "config.apply", projectResource(p)+"/config")
	}
	return nil
}

func (c *call) putConfigUpstream(tx store.Tx, p string, u *spec.Upstream, create bool) error {
	u.ProjectID = p
	if create {
		u.ID = newID()
	} else {
		old, err := tx.GetUpstream(c.ctx(), p, u.Name)
		if err != nil {
			return err
		}
		u.ID, u.CreatedAt = old.ID, old.CreatedAt
	}
	if err := checkUpstream(u); err != nil {
		return prefixed(err, "upstreams["+u.Name+"].")
	}
	now := c.s.now()
	u.UpdatedAt = now
	if create {
		u.CreatedAt = now
		return tx.CreateUpstream(c.ctx(), u)
	}
	return tx.UpdateUpstream(c.ctx(), u)
}

// putConfigService writes a service template; its routes are separate
// changes. An existing service keeps its id, state and folder, unless
// folders (a package import) places it.
func (c *call) putConfigService(tx store.Tx, p string, want *spec.Service, create bool, folders map[string]string) error {
	s := *want
	s.Routes, s.ProjectID = nil, p
	now := c.s.now()
	if create {
		s.ID, s.State, s.CreatedAt = newID(), spec.StateDraft, now
	} else {
		old, err := tx.GetService(c.ctx(), p, want.Name)
		if err != nil {
			return err
		}
		if err := checkEdit(&old); err != nil {
			return err
		}
		s.ID, s.State, s.FolderID, s.CreatedAt = old.ID, old.State, old.FolderID, old.CreatedAt
	}
	if id, ok := folders[s.Name]; ok {
		s.FolderID = id
	}
	if err := c.checkService(tx, &s); err != nil {
		return prefixed(err, "services["+s.Name+"].")
	}
	s.UpdatedAt = now
	if create {
		return tx.CreateService(c.ctx(), &s)
	}
	return tx.UpdateService(c.ctx(), &s)
}

func (c *call) putConfigRoute(tx store.Tx, p string, want *spec.Service, name, action string) error {
	svcName := name
	if want != nil {
		svcName = want.Name
	}
	s, err := tx.GetService(c.ctx(), p, svcName)
	if err != nil {
		return err
	}
	if err := checkEdit(&s); err != nil {
		return err
	}
	if action == "delete" {
		old, err := tx.GetRoute(c.ctx(), s.ID, name)
		if err != nil {
			return err
		}
		return tx.DeleteRoute(c.ctx(), s.ID, old.ID)
	}
	var r spec.Route
	for _, cand := range want.Routes {
		if cand.Name == name {
			r = cand
		}
	}
	if err := c.checkRoute(tx, p, &r); err != nil {
		return prefixed(err, "services["+s.Name+"].routes["+name+"].")
	}
	now := c.s.now()
	r.ServiceID, r.UpdatedAt = s.ID, now
	if action == "create" {
		r.ID, r.CreatedAt = newID(), now
		return tx.CreateRoute(c.ctx(), &r)
	}
	old, err := tx.GetRoute(c.ctx(), s.ID, name)
	if err != nil {
		return err
	}
	r.ID, r.CreatedAt = old.ID, old.CreatedAt
	return tx.UpdateRoute(c.ctx(), &r)
}

// deleteConfigService removes a service prune no longer finds, with the
// refusals of DELETE …/services/{s}.
// It adds the service to deleted: what composite APIs call is checked
// once the whole plan ran (applyConfig), so that a plan deleting a
// composite and what it calls is not refused for its order.
func (c *call) deleteConfigService(tx store.Tx, p, name string, deleted *[]spec.Service) error {
	s, err := tx.GetService(c.ctx(), p, name)
	if err != nil {
		return err
	}
	// Where it runs first: a running service is never a draft, and the
	// document's author needs to know it runs, not its state.
	deps, err := tx.ListDeploymentsByService(c.ctx(), s.ID)
	if err != nil {
		return err
	}
	if len(deps) > 0 {
		return withDetail(store.ErrConflict, "service %q still runs in gateway group %q; take it off (unpublish) before pruning it", s.Name, deps[0].Group)
	}
	if err := release.CheckAction(&s, release.ActionDelete); err != nil {
		return err
	}
	*deleted = append(*deleted, s)
	return tx.DeleteService(c.ctx(), p, s.ID)
}

// writeRaw sends a rawAnswer.
func writeRaw(w http.ResponseWriter, status int, a rawAnswer) {
	if a.streamed {
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.WriteHeader(status)
	_, _ = w.Write(a.body)
}
