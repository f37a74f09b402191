package release

import (
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// submit publishes the template as a new version to the test group: draft
// becomes submitted; a published service stays published (its production
// version runs on until republish). When test and production are one group
// the new version replaces what that group runs at once.
func (a *act) submit() (string, error) {
	version := a.req.Version
	if version == "" {
		vs, err := a.tx.ListVersions(a.ctx, a.svc.ID)
		if err != nil {
			return "", fmt.Errorf("versions: %w", err)
		}
		names := make([]string, len(vs))
		for i, v := range vs {
			names[i] = v.Version
		}
		version = NextVersion(names)
	}
	to := spec.StateSubmitted
	if State(&a.svc) == spec.StatePublished {
		to = spec.StatePublished
	}
	a.parts = 1
	ev := a.event(a.st.test, "", version, to)
	if _, err := publish(a.ctx, a.tx, a.actor, a.svc.ProjectID, a.svc.ID,
		PublishRequest{Group: a.st.test, Version: version, Upstream: a.req.Upstream, DataSources: a.req.DataSources}, ev); err != nil {
		return "", err
	}
	// publish committed the event; read it back with its id and revision.
	hist, _, err := a.tx.ListHistory(a.ctx, a.svc.ID, store.ListQuery{PageSize: 1})
	if err != nil || len(hist) == 0 {
		return "", fmt.Errorf("read the submit event back: %v: %w", err, store.ErrNotFound)
	}
	a.res.Changes = append(a.res.Changes, hist[0])
	a.res.Version = version
	return to, nil
}

// withdraw takes the submitted version off the test group: back to draft.
func (a *act) withdraw() (string, error) {
	a.parts = 1
	d, ok, err := a.running(a.st.test)
	if err != nil {
		return "", err
	}
	if ok {
		if err := a.tx.DeleteDeployment(a.ctx, a.st.test, a.svc.ID); err != nil {
			return "", err
		}
	}
	a.res.Version = d.Version
	return spec.StateDraft, a.commit(a.event(a.st.test, d.Version, "", spec.StateDraft))
}

// promote runs the version of the test group in the production group:
// publish (submitted → published) or republish (published stays, the
// production version is replaced). When the two are one group nothing
// moves: publish only lists the service and records it, republish has
// nothing to do.
func (a *act) promote(re bool) (string, error) {
	src, ok, err := a.running(a.st.test)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("nothing runs in the test group %q to promote; submit a version first: %w", a.st.test, store.ErrConflict)
	}
	prev, running, err := a.running(a.st.prod)
	if err != nil {
		return "", err
	}
	if re && running && prev.Version == src.Version {
		if a.st.same {
			return "", fmt.Errorf("test and production are the same gateway group %q, so version %q already runs in production (submit put it there); nothing to republish: %w",
				a.st.prod, src.Version, store.ErrConflict)
		}
		return "", fmt.Errorf("production group %q already runs version %q, the one in the test group %q; submit a new version first: %w",
			a.st.prod, src.Version, a.st.test, store.ErrConflict)
	}
	a.parts = 1
	a.res.Version = src.Version
	from := ""
	if running {
		from = prev.Version
	}
	if a.st.same && (a.req.Upstream != nil || len(a.req.DataSources) > 0) {
		// Submit already put the version in the one group, with its
		// upstream and data sources; a publish moves nothing there.
		field := "upstream"
		if a.req.Upstream == nil {
			field = "data_sources"
		}
		return "", spec.FieldErrors{{Field: field, Message: fmt.Sprintf(
			"test and production are the same gateway group %q: give the upstream and data sources when submitting", a.st.prod)}}
	}
	if !a.st.same {
		up, err := a.promotedUpstream(src, prev, running)
		if err != nil {
			return "", err
		}
		d := spec.Deployment{Group: a.st.prod, ProjectID: a.svc.ProjectID, ServiceID: a.svc.ID, Version: src.Version, Upstream: up}
		if err := a.tx.PutDeployment(a.ctx, &d); err != nil {
			return "", err
		}
		if err := mapDataSources(a.ctx, a.tx, a.svc.ProjectID, a.st.prod, a.svc.ID, a.req.DataSources); err != nil {
			return "", err
		}
	}
	return spec.StatePublished, a.commit(a.event(a.st.prod, from, src.Version, spec.StatePublished))
}

// promotedUpstream is the upstream a promotion runs with in production: the
// request's, else the one frozen in the version's template (inline or
// referenced), else the one production runs now, else the test group's.
func (a *act) promotedUpstream(src, prev spec.Deployment, running bool) (spec.Upstream, error) {
	if a.req.Upstream != nil {
		if err := a.req.Upstream.Validate("upstream.").Err(); err != nil {
			return spec.Upstream{}, err
		}
	}
	v, err := a.tx.GetVersion(a.ctx, a.svc.ID, src.Version)
	if err != nil {
		return spec.Upstream{}, fmt.Errorf("version %q: %w", src.Version, err)
	}
	var up spec.Upstream
	if a.req.Upstream == nil && v.Service.Upstream == nil && v.Service.UpstreamID == "" && !running {
		up = src.Upstream
	} else if up, err = resolveUpstream(a.ctx, a.tx, &v.Service, a.req.Upstream, prev, running); err != nil {
		return spec.Upstream{}, err
	}
	if running && switchesKind(prev.Upstream, up) {
		return spec.Upstream{}, fmt.Errorf("service %q runs in %q with %s: switching between nodes and service discovery is done through a canary release, not a promotion: %w",
			a.svc.Name, a.st.prod, upstreamKind(prev.Upstream), store.ErrConflict)
	}
	return up, nil
}

// disable takes the service off production and off the test group (a
// disabled API serves nothing, so it can be deleted) and parks exactly what
// ran in each, for enable.
func (a *act) disable() (string, error) {
	if err := a.tx.DeleteParkedDeployments(a.ctx, a.svc.ID); err != nil {
		return "", err
	}
	groups := a.st.groups()
	a.parts = len(groups)
	for _, g := range groups {
		d, ok, err := a.running(g)
		if err != nil {
			return "", err
		}
		if ok {
			if err := a.tx.ParkDeployment(a.ctx, &d); err != nil {
				return "", err
			}
			if err := a.tx.DeleteDeployment(a.ctx, g, a.svc.ID); err != nil {
				return "", err
			}
		}
		if g == a.st.prod {
			a.res.Version = d.Version
		}
		if err := a.commit(a.event(g, d.Version, "", spec.StateDisabled)); err != nil {
			return "", err
		}
	}
	return spec.StateDisabled, nil
}

// enable restores exactly what disable parked: the same versions with the
// same upstreams in the same groups.
func (a *act) enable() (string, error) {
	parked, err := a.tx.ListParkedDeployments(a.ctx, a.svc.ID)
	if err != nil {
		return "", err
	}
	if len(parked) == 0 {
		return "", fmt.Errorf("service %q has no record of what ran before it was disabled; publish a version with the lower-level publish API: %w",
			a.svc.Name, store.ErrConflict)
	}
	a.parts = len(parked)
	for _, p := range parked {
		prev, running, err := a.running(p.Group)
		if err != nil {
			return "", err
		}
		d := spec.Deployment{Group: p.Group, ProjectID: p.ProjectID, ServiceID: p.ServiceID, Version: p.Version, Upstream: p.Upstream}
		if err := a.tx.PutDeployment(a.ctx, &d); err != nil {
			return "", err
		}
		if p.Group == a.st.prod || a.res.Version == "" {
			a.res.Version = p.Version
		}
		from := ""
		if running {
			from = prev.Version
		}
		if err := a.commit(a.event(p.Group, from, p.Version, spec.StatePublished)); err != nil {
			return "", err
		}
	}
	if err := a.tx.DeleteParkedDeployments(a.ctx, a.svc.ID); err != nil {
		return "", err
	}
	return spec.StatePublished, nil
}
