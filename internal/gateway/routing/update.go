package routing

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/oauth2"
	"github.com/portico-gw/portico/internal/spec"
)

// ErrNeedsSnapshot says a delta cannot be compiled onto a table: it starts
// from another revision, names a group the table does not serve or with
// other settings, or touches what the table's routes share (the oauth2
// token endpoint and its path). The gateway asks for the whole snapshot instead.
var ErrNeedsSnapshot = errors.New("the change needs the whole snapshot")

// groupPart is what one group contributes to a table.
type groupPart struct {
	group       spec.GatewayGroup
	zone        *time.Location // the group's time zone, loaded once
	consumers   *consumer.Index
	dataSources map[string]*spec.DataSource
	clientCerts clientCerts               // certificates change in whole snapshots only
	registries  map[string]*spec.Registry // so do registries
	services    *serviceParts
}

// servicePart is what one deployed service added to the matcher.
type servicePart struct {
	// paths are the paths its routes were added at, separated by NUL, and
	// added how many: all it takes to take the service out again
	// (match.Builder.RemoveValue of the entries of its routes at each
	// path). One string rather than a slice: a large table keeps one per
	// service, for its whole life.
	paths   string
	added   int
	service *plugin.ServiceInfo // of its routes, and of no other route
	// versions are the ServiceInfos of the versions routed beside its
	// own, selector how requests name them by header or query (nil: by
	// path, or none) (versions.go).
	versions []*plugin.ServiceInfo
	selector *versionSelector
	canaryID string
	// oauth2 services register with the table's token endpoint, which
	// every oauth2 route of the table shares: changing one rebuilds all.
	oauth2 bool
	// calls are the targets of its default version's online routes, for
	// composite backends calling them by name (calltargets.go).
	calls string
}

// pathSep separates the paths of a servicePart; a route path holding it
// is refused.
const pathSep = "\x00"

// removeFrom takes the service's routes out of b.
func (sp *servicePart) removeFrom(b *match.Builder[*Route]) {
	for p := range strings.SplitSeq(sp.paths, pathSep) {
		b.RemoveValue(p, func(v *Route) bool { return sp.owns(v.Info.ServiceInfo) })
	}
}

// heldTokenPath reports whether the service was added at the oauth2 token
// endpoint's path.
func (sp *servicePart) heldTokenPath() bool {
	for p := range strings.SplitSeq(sp.paths, pathSep) {
		if p == oauth2.TokenPath {
			return true
		}
	}
	return false
}

// deps are the build's deps for the services of this group.
func (gp *groupPart) deps(d Deps) Deps {
	d.Consumers = gp.consumers
	d.zone = gp.zone
	d.DataSources = gp.dataSources
	d.clientCerts = gp.clientCerts
	d.registries = gp.registries
	return d
}

// Update compiles the delta onto t: the changed services are compiled
// (with the gateway's own compiler, as Build does) and every other route
// is shared with t, so a change costs what it touches, not the size of
// the table. t is left as it was and may keep serving meanwhile. An error
// wrapping ErrNeedsSnapshot means the delta cannot be applied here; other
// errors are spec.FieldErrors, as from Build.
func (t *Table) Update(d *spec.SnapshotDelta, deps Deps) (*Table, error) {
	if d.Base != t.Revision {
		return nil, fmt.Errorf("a delta from revision %d onto a table at %d: %w", d.Base, t.Revision, ErrNeedsSnapshot)
	}
	// Certificates change in whole snapshots only.
	nt := &Table{Revision: d.Revision, routes: t.routes, groups: maps.Clone(t.groups), tokens: t.tokens, certs: t.certs,
		streamServices: t.streamServices, streams: t.streams}
	streamsChanged := false
	editStreams := func() {
		if !streamsChanged {
			nt.streamServices, streamsChanged = maps.Clone(t.streamServices), true
			if nt.streamServices == nil {
				nt.streamServices = map[string][]*StreamRoute{}
			}
		}
	}
	deps.tokenEndpoint = t.tokens
	if deps.Quotas == nil {
		deps.Quotas = t.quotas
	}
	nt.quotas = deps.Quotas
	b := t.matcher.Edit()
	var fe spec.FieldErrors
	for gi := range d.Groups {
		gd := &d.Groups[gi]
		old := t.groups[gd.Group.Name]
		if old == nil || old.group.PathPrefix != gd.Group.PathPrefix || old.group.TimeZone != gd.Group.TimeZone ||
			old.group.TraceSampling() != gd.Group.TraceSampling() {
			return nil, fmt.Errorf("group %q is new or its settings changed: %w", gd.Group.Name, ErrNeedsSnapshot)
		}
		services := editServices(old.services)
		gp := &groupPart{group: gd.Group, zone: old.zone, consumers: old.consumers, dataSources: old.dataSources, clientCerts: old.clientCerts,
			registries: old.registries}
		if len(gd.DataSources) > 0 {
			// The data sources the changed services use, as they are now
			// (an edit of one in use comes as a whole snapshot; one that
			// was out of use while edited comes back here, replaced).
			gp.dataSources = maps.Clone(gp.dataSources)
			if gp.dataSources == nil {
				gp.dataSources = map[string]*spec.DataSource{}
			}
			for i := range gd.DataSources {
				gp.dataSources[gd.DataSources[i].ID] = &gd.DataSources[i]
			}
		}
		out := make([]string, 0, len(gd.Removed)+len(gd.Services))
		out = append(out, gd.Removed...)
		for si := range gd.Services {
			ds := &gd.Services[si]
			if usesOAuth2(&ds.Service) {
				return nil, fmt.Errorf("service %q runs oauth2: %w", ds.Service.Name, ErrNeedsSnapshot)
			}
			if claimsTokenPath(gd.Group, ds) {
				// Build gives the path to the service and drops the
				// endpoint; only a whole build can do that.
				return nil, fmt.Errorf("service %q claims the token endpoint's path: %w", ds.Service.Name, ErrNeedsSnapshot)
			}
			out = append(out, ds.Service.ID)
		}
		for _, id := range out {
			sp := services.s.get(id)
			if sp == nil {
				continue
			}
			if sp.oauth2 {
				return nil, fmt.Errorf("service %s ran oauth2: %w", id, ErrNeedsSnapshot)
			}
			if sp.heldTokenPath() {
				return nil, fmt.Errorf("service %s held the token endpoint's path: %w", id, ErrNeedsSnapshot)
			}
			sp.removeFrom(b)
			nt.routes -= sp.added
			services.remove(id)
			if _, ok := nt.streamServices[streamKey(gd.Group.Name, id)]; ok {
				editStreams()
				delete(nt.streamServices, streamKey(gd.Group.Name, id))
			}
		}
		for si := range gd.Services {
			ds := &gd.Services[si]
			sp, streams := compileService(b, &fe, gp.deps(deps), gd.Group, ds)
			services.set(ds.Service.ID, sp)
			nt.routes += sp.added
			if streams != nil {
				editStreams()
				nt.streamServices[streamKey(gd.Group.Name, ds.Service.ID)] = streams
			}
		}
		gp.services = services.s
		nt.groups[gd.Group.Name] = gp
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	nt.matcher = b.Build()
	nt.selectors = tableSelectors(nt.groups)
	if streamsChanged {
		nt.streams = buildStreamIndex(nt.streamServices)
	}
	return nt, nil
}

// ValidateServices compiles the services of part (one group's, with the
// data sources, certificates and registries they use) as a gateway would, without any
// I/O, and returns what it would refuse them for. It is the control
// plane's check of a change confined to these services; collisions with
// the group's other services are checked apart (they are not loaded).
func ValidateServices(part *spec.GroupSnapshot) error {
	var fe spec.FieldErrors
	b := match.NewBuilder[*Route]()
	gp := &groupPart{group: part.Group, zone: part.Group.ZoneOf(), consumers: consumer.New(nil), dataSources: dataSourceIndex(part.DataSources),
		clientCerts: groupCertificates(&fe, part.Group.Name, part.Certificates, Deps{}, nil), registries: registryIndex(part.Registries)}
	for si := range part.Services {
		compileService(b, &fe, gp.deps(Deps{}), part.Group, &part.Services[si])
	}
	return fe.Err()
}

// claimsTokenPath reports whether an online route of the service answers
// on the oauth2 token endpoint's path.
func claimsTokenPath(g spec.GatewayGroup, ds *spec.DeployedService) bool {
	for ri := range ds.Service.Routes {
		r := &ds.Service.Routes[ri]
		if r.IsOnline() && slices.Contains(spec.RoutePaths(g.PathPrefix, ds.ProjectID, &ds.Service, r), oauth2.TokenPath) {
			return true
		}
	}
	return false
}

// usesOAuth2 reports whether the service or one of its routes runs oauth2.
func usesOAuth2(svc *spec.Service) bool {
	if _, ok := svc.Plugins[oauth2Name]; ok {
		return true
	}
	for ri := range svc.Routes {
		if _, ok := svc.Routes[ri].Plugins[oauth2Name]; ok {
			return true
		}
	}
	return false
}

// CanaryIDs are the canaries the table runs: their figures stay, the
// figures of ended ones go.
func (t *Table) CanaryIDs() map[string]bool {
	ids := map[string]bool{}
	for _, gp := range t.groups {
		for _, id := range gp.services.canaries {
			ids[id] = true
		}
	}
	return ids
}

// DataSourceIDs are the data sources the table's groups know: their pools
// stay, the others close (sqlbackend.Registry.Retain).
func (t *Table) DataSourceIDs() map[string]bool {
	ids := map[string]bool{}
	for _, gp := range t.groups {
		for id := range gp.dataSources {
			ids[id] = true
		}
	}
	return ids
}
