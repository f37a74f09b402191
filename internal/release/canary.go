package release

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// CanaryCreate is the body of POST …/canary.
type CanaryCreate struct {
	Group  string            `json:"group"`
	Name   string            `json:"name,omitempty"`
	Target spec.CanaryTarget `json:"target"`
	Weight int               `json:"weight"`
	Rules  []spec.CanaryRule `json:"rules,omitempty"`
	HashOn string            `json:"hash_on,omitempty"`
	Routes []string          `json:"routes,omitempty"`
	Guard  *spec.CanaryGuard `json:"guard,omitempty"`
}

// CanaryPatch is the body of PATCH …/canary/{id}: what a running task may
// change. The target is fixed for a task's life (cancel and create anew).
type CanaryPatch struct {
	Name   *string            `json:"name,omitempty"`
	Weight *int               `json:"weight,omitempty"`
	Rules  *[]spec.CanaryRule `json:"rules,omitempty"`
	HashOn *string            `json:"hash_on,omitempty"`
	Routes *[]string          `json:"routes,omitempty"`
	Guard  *spec.CanaryGuard  `json:"guard,omitempty"`
	// RemoveGuard turns the automatic brake off; it cannot come with Guard.
	RemoveGuard bool `json:"remove_guard,omitempty"`
}

// CanaryPromote is the body of POST …/canary/{id}/promote.
type CanaryPromote struct {
	// Version is the version string recorded for a promoted upstream
	// target; default: the next patch version. A version target keeps its
	// own.
	Version string `json:"version,omitempty"`
}

// CreateCanary starts a canary task of the service in req.Group, which must
// run the service. A second running task there is a 409, as is a target
// version the group already runs.
func CreateCanary(ctx context.Context, tx store.Tx, actor, project, service string, req CanaryCreate) (spec.Canary, error) {
	c := spec.Canary{
		ProjectID: project, Group: req.Group, Name: req.Name, State: spec.CanaryRunning,
		Target: req.Target, Weight: req.Weight, Rules: req.Rules, HashOn: req.HashOn,
		Routes: req.Routes, Guard: req.Guard, CreatedBy: actor,
	}
	if err := c.Validate().Err(); err != nil {
		return spec.Canary{}, err
	}
	svc, err := tx.GetService(ctx, project, service)
	if err != nil {
		return spec.Canary{}, fmt.Errorf("service %q in project %q: %w", service, project, err)
	}
	c.ServiceID = svc.ID
	if err := requireGroup(ctx, tx, req.Group); err != nil {
		return spec.Canary{}, err
	}
	d, err := tx.GetDeployment(ctx, req.Group, svc.ID)
	if errors.Is(err, store.ErrNotFound) {
		return spec.Canary{}, fmt.Errorf("service %q does not run in group %q; publish it there before a canary release: %w",
			svc.Name, req.Group, store.ErrConflict)
	}
	if err != nil {
		return spec.Canary{}, fmt.Errorf("deployment of %s in %s: %w", svc.Name, req.Group, err)
	}
	if running, err := tx.RunningCanary(ctx, req.Group, svc.ID); err == nil {
		return spec.Canary{}, fmt.Errorf("service %q already has canary %s running in group %q (%d%% to the target); change, cancel or promote it first: %w",
			svc.Name, running.ID, req.Group, running.Weight, store.ErrConflict)
	} else if !errors.Is(err, store.ErrNotFound) {
		return spec.Canary{}, err
	}
	base, err := tx.GetVersion(ctx, svc.ID, d.Version)
	if err != nil {
		return spec.Canary{}, fmt.Errorf("version %s@%s: %w", svc.Name, d.Version, err)
	}
	if err := checkCanaryRoutes(&base.Service, c.Routes); err != nil {
		return spec.Canary{}, err
	}
	c.BaseVersion = d.Version
	if c.TargetUpstream, err = resolveCanaryTarget(ctx, tx, &svc, &c.Target, d); err != nil {
		return spec.Canary{}, err
	}
	if err := tx.CreateCanary(ctx, &c); err != nil {
		return spec.Canary{}, err
	}
	ev := canaryEvent(&c, actor, "canary.create", d.Version,
		fmt.Sprintf("canary %s: %d%% to %s%s", c.ID, c.Weight, describeTarget(&c), describeRules(&c)))
	if _, err := Commit(ctx, tx, ev); err != nil {
		return spec.Canary{}, fmt.Errorf("start canary of %s in %s: %w", svc.Name, req.Group, err)
	}
	return c, nil
}

// UpdateCanary changes a running task's weight, rules, routes or guard.
func UpdateCanary(ctx context.Context, tx store.Tx, actor, project, service, id string, p CanaryPatch) (spec.Canary, error) {
	if p.Guard != nil && p.RemoveGuard {
		return spec.Canary{}, spec.FieldErrors{{Field: "remove_guard", Message: "give guard or remove_guard, not both"}}
	}
	svc, c, err := runningTask(ctx, tx, project, service, id, "changed")
	if err != nil {
		return spec.Canary{}, err
	}
	before := c.Weight
	if p.Name != nil {
		c.Name = *p.Name
	}
	if p.Weight != nil {
		c.Weight = *p.Weight
	}
	if p.Rules != nil {
		c.Rules = *p.Rules
	}
	if p.HashOn != nil {
		c.HashOn = *p.HashOn
	}
	if p.Routes != nil {
		c.Routes = *p.Routes
	}
	if p.Guard != nil {
		c.Guard = p.Guard
	}
	if p.RemoveGuard {
		c.Guard = nil
	}
	if err := c.Validate().Err(); err != nil {
		return spec.Canary{}, err
	}
	base, err := tx.GetVersion(ctx, svc.ID, c.BaseVersion)
	if err != nil {
		return spec.Canary{}, fmt.Errorf("version %s@%s: %w", svc.Name, c.BaseVersion, err)
	}
	if err := checkCanaryRoutes(&base.Service, c.Routes); err != nil {
		return spec.Canary{}, err
	}
	if err := tx.UpdateCanary(ctx, &c); err != nil {
		return spec.Canary{}, err
	}
	detail := fmt.Sprintf("canary %s: weight %d%% → %d%%%s", c.ID, before, c.Weight, describeRules(&c))
	if _, err := Commit(ctx, tx, canaryEvent(&c, actor, "canary.update", c.BaseVersion, detail)); err != nil {
		return spec.Canary{}, fmt.Errorf("change canary %s of %s: %w", c.ID, svc.Name, err)
	}
	return c, nil
}

// CancelCanary ends a running task: all traffic goes back to what the group
// runs. reason says why (the guard's finding, or empty for a person's
// cancel); final are the last figures seen, kept with the task.
func CancelCanary(ctx context.Context, tx store.Tx, actor, project, service, id, reason string, final []spec.CanaryWindow) (spec.Canary, error) {
	svc, c, err := runningTask(ctx, tx, project, service, id, "cancelled")
	if err != nil {
		return spec.Canary{}, err
	}
	if reason == "" {
		reason = "cancelled by " + orSomeone(actor)
	}
	end(&c, spec.CanaryCancelled, reason, final)
	if err := tx.UpdateCanary(ctx, &c); err != nil {
		return spec.Canary{}, err
	}
	ev := canaryEvent(&c, actor, "canary.cancel", c.BaseVersion, fmt.Sprintf("canary %s: %s", c.ID, reason))
	if _, err := Commit(ctx, tx, ev); err != nil {
		return spec.Canary{}, fmt.Errorf("cancel canary %s of %s: %w", c.ID, svc.Name, err)
	}
	return c, nil
}

// PromoteCanary is the canary's full release (全量发布): the target becomes what the group
// runs. A version target runs that version; an upstream target is recorded
// as a new version of the running service (req.Version, or the next patch
// version) with the target's upstream. The task is completed and frozen.
func PromoteCanary(ctx context.Context, tx store.Tx, actor, project, service, id string, req CanaryPromote, final []spec.CanaryWindow) (spec.Canary, error) {
	svc, c, err := runningTask(ctx, tx, project, service, id, "promoted")
	if err != nil {
		return spec.Canary{}, err
	}
	d, err := tx.GetDeployment(ctx, c.Group, svc.ID)
	if err != nil {
		return spec.Canary{}, fmt.Errorf("deployment of %s in %s: %w", svc.Name, c.Group, err)
	}
	from := d.Version
	switch {
	case c.Target.Version != "":
		if req.Version != "" && req.Version != c.Target.Version {
			return spec.Canary{}, spec.FieldErrors{{Field: "version", Message: fmt.Sprintf("the canary's target is version %q; a promote runs that version", c.Target.Version)}}
		}
		d.Version = c.Target.Version
	default:
		v, err := promotedVersion(ctx, tx, &svc, d.Version, req.Version, actor)
		if err != nil {
			return spec.Canary{}, err
		}
		d.Version = v
	}
	d.Upstream = c.TargetUpstream
	if err := tx.PutDeployment(ctx, &d); err != nil {
		return spec.Canary{}, fmt.Errorf("promote canary %s of %s: %w", c.ID, svc.Name, err)
	}
	c.PromotedVersion = d.Version
	end(&c, spec.CanaryCompleted, "promoted by "+orSomeone(actor), final)
	if err := tx.UpdateCanary(ctx, &c); err != nil {
		return spec.Canary{}, err
	}
	ev := canaryEvent(&c, actor, "canary.promote", d.Version,
		fmt.Sprintf("canary %s: %s now takes all traffic", c.ID, describeTarget(&c)))
	ev.FromVersion = from
	if _, err := Commit(ctx, tx, ev); err != nil {
		return spec.Canary{}, fmt.Errorf("promote canary %s of %s: %w", c.ID, svc.Name, err)
	}
	return c, nil
}

// promotedVersion records the running version's service under a new
// version string, for an upstream target that becomes the backend.
func promotedVersion(ctx context.Context, tx store.Tx, svc *spec.Service, running, want, actor string) (string, error) {
	if want != "" && !spec.ValidVersion(want) {
		return "", spec.FieldErrors{{Field: "version", Message: "is not a valid version string"}}
	}
	cur, err := tx.GetVersion(ctx, svc.ID, running)
	if err != nil {
		return "", fmt.Errorf("version %s@%s: %w", svc.Name, running, err)
	}
	if want == "" {
		all, err := tx.ListVersions(ctx, svc.ID)
		if err != nil {
			return "", fmt.Errorf("versions of %s: %w", svc.Name, err)
		}
		names := make([]string, len(all))
		for i := range all {
			names[i] = all[i].Version
		}
		want = NextVersion(names)
	}
	v := spec.Version{ProjectID: svc.ProjectID, ServiceID: svc.ID, Version: want, Service: cur.Service, CreatedBy: actor}
	if err := tx.CreateVersion(ctx, &v); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return "", errVersionExists(svc.Name, want)
		}
		return "", fmt.Errorf("create version %s@%s: %w", svc.Name, want, err)
	}
	return want, nil
}

// runningTask loads a task that must still be running to be what.
func runningTask(ctx context.Context, tx store.Tx, project, service, id, what string) (spec.Service, spec.Canary, error) {
	svc, err := tx.GetService(ctx, project, service)
	if err != nil {
		return spec.Service{}, spec.Canary{}, fmt.Errorf("service %q in project %q: %w", service, project, err)
	}
	c, err := tx.GetCanary(ctx, svc.ID, id)
	if err != nil {
		return spec.Service{}, spec.Canary{}, err
	}
	if c.State != spec.CanaryRunning {
		return spec.Service{}, spec.Canary{}, fmt.Errorf("canary %s is %s and can no longer be %s: %w", c.ID, c.State, what, store.ErrConflict)
	}
	return svc, c, nil
}

// resolveCanaryTarget turns a target into the upstream the gateway sends
// the target's share to. A version target runs with that version's own
// upstream when it has one, else with the group's.
func resolveCanaryTarget(ctx context.Context, tx store.Tx, svc *spec.Service, t *spec.CanaryTarget, d spec.Deployment) (spec.Upstream, error) {
	var up spec.Upstream
	switch {
	case t.Upstream != nil:
		up = *t.Upstream
	case t.UpstreamID != "":
		ref, err := tx.GetUpstream(ctx, svc.ProjectID, t.UpstreamID)
		if errors.Is(err, store.ErrNotFound) {
			return up, spec.FieldErrors{{Field: "target.upstream_id", Message: fmt.Sprintf("project %q has no upstream %q", svc.ProjectID, t.UpstreamID)}}
		}
		if err != nil {
			return up, fmt.Errorf("upstream %q: %w", t.UpstreamID, err)
		}
		up = ref
	default:
		if t.Version == d.Version {
			return up, fmt.Errorf("group %q already runs version %q of %q; a canary needs another version: %w", d.Group, t.Version, svc.Name, store.ErrConflict)
		}
		v, err := tx.GetVersion(ctx, svc.ID, t.Version)
		if errors.Is(err, store.ErrNotFound) {
			return up, spec.FieldErrors{{Field: "target.version", Message: fmt.Sprintf("service %q has no version %q", svc.Name, t.Version)}}
		}
		if err != nil {
			return up, fmt.Errorf("version %s@%s: %w", svc.Name, t.Version, err)
		}
		if err := sameServing(ctx, tx, svc, d, v); err != nil {
			return up, err
		}
		if up, err = versionUpstream(ctx, tx, svc, d, v); err != nil {
			return up, err
		}
		if reflect.DeepEqual(comparableUpstream(up), comparableUpstream(d.Upstream)) {
			return up, spec.FieldErrors{{Field: "target.version", Message: fmt.Sprintf(
				"version %q has no upstream of its own and would run on the one group %q runs now: the canary would split nothing; give target.upstream", t.Version, d.Group)}}
		}
	}
	if up.URL == "" {
		if err := up.RequireNodes("target.upstream.").Err(); err != nil {
			return up, err
		}
	}
	up.ID, up.ProjectID = "", ""
	up.CreatedAt, up.UpdatedAt = time.Time{}, time.Time{}
	return up, nil
}

// versionUpstream is the upstream a version target runs with: the one
// frozen in its template, else the one it runs with in another group
// (published to test on its own nodes), else the group's.
func versionUpstream(ctx context.Context, tx store.Tx, svc *spec.Service, d spec.Deployment, v spec.Version) (spec.Upstream, error) {
	if v.Service.Upstream == nil && v.Service.UpstreamID == "" {
		ds, err := tx.ListDeploymentsByService(ctx, svc.ID)
		if err != nil {
			return spec.Upstream{}, fmt.Errorf("deployments of %s: %w", svc.Name, err)
		}
		for _, other := range ds {
			if other.Version == v.Version && other.Group != d.Group {
				return other.Upstream, nil
			}
		}
	}
	return resolveUpstream(ctx, tx, &v.Service, nil, d, true)
}

// sameServing refuses a version target that serves requests differently
// from the running version (routes, plugins, backends, paths): a canary
// splits requests between two upstreams after the running version's
// routes and plugins ran, so the target's own would never run. Such a
// version is published, not canaried.
func sameServing(ctx context.Context, tx store.Tx, svc *spec.Service, d spec.Deployment, target spec.Version) error {
	running, err := tx.GetVersion(ctx, svc.ID, d.Version)
	if err != nil {
		return fmt.Errorf("version %s@%s: %w", svc.Name, d.Version, err)
	}
	if !reflect.DeepEqual(servingShape(running.Service), servingShape(target.Service)) {
		return spec.FieldErrors{{Field: "target.version", Message: fmt.Sprintf(
			"version %q serves requests differently from the running %q (routes, plugins, backends or paths); a canary splits traffic between upstreams only: publish it, or canary its upstream",
			target.Version, d.Version)}}
	}
	return nil
}

// servingShape is what of a service decides how a request is served,
// beside its upstream.
func servingShape(s spec.Service) any {
	routes := make([]spec.Route, len(s.Routes))
	for i, r := range s.Routes {
		r.ID, r.ServiceID, r.Description, r.OpenAPI = "", "", "", nil
		r.CreatedAt, r.UpdatedAt = time.Time{}, time.Time{}
		routes[i] = r
	}
	return []any{s.Type, s.Path, s.FolderPath, s.Hosts, s.Protocols, s.HTTPSRedirectStatusCode, s.Plugins, s.StreamRoutes, routes}
}

// comparableUpstream is u without what tells copies apart.
func comparableUpstream(u spec.Upstream) spec.Upstream {
	u.ID, u.ProjectID, u.Name = "", "", ""
	u.CreatedAt, u.UpdatedAt = time.Time{}, time.Time{}
	return u
}

// checkCanaryRoutes refuses route names the running version does not have.
func checkCanaryRoutes(svc *spec.Service, names []string) error {
	var fe spec.FieldErrors
	for i, name := range names {
		found := false
		for _, r := range svc.Routes {
			found = found || r.Name == name
		}
		if !found {
			fe.Add(fmt.Sprintf("routes[%d]", i), "the running version of %q has no route %q", svc.Name, name)
		}
	}
	return fe.Err()
}

func end(c *spec.Canary, state, reason string, final []spec.CanaryWindow) {
	ts := time.Now().UTC()
	c.State, c.Reason, c.EndedAt = state, reason, &ts
	if final != nil {
		c.Figures = final
	}
}

func canaryEvent(c *spec.Canary, actor, action, version, detail string) spec.HistoryEvent {
	return spec.HistoryEvent{ProjectID: c.ProjectID, ServiceID: c.ServiceID, Group: c.Group,
		Action: action, Version: version, Actor: actor, Detail: detail}
}

func describeTarget(c *spec.Canary) string {
	switch {
	case c.Target.Version != "":
		return "version " + c.Target.Version
	case c.TargetUpstream.Name != "":
		return "upstream " + c.TargetUpstream.Name
	case c.TargetUpstream.URL != "":
		return "upstream " + c.TargetUpstream.URL
	case c.TargetUpstream.Discovery != nil:
		return "service discovery"
	}
	var nodes []string
	for _, n := range c.TargetUpstream.Nodes {
		nodes = append(nodes, fmt.Sprintf("%s:%d", n.Host, n.Port))
	}
	return "upstream " + strings.Join(nodes, ",")
}

func describeRules(c *spec.Canary) string {
	if len(c.Rules) == 0 {
		return ""
	}
	return fmt.Sprintf(", and %d rule(s)", len(c.Rules))
}

func orSomeone(actor string) string {
	if actor == "" {
		return "the system"
	}
	return actor
}
