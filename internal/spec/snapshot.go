package spec

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Snapshot is the full configuration of some gateway groups at a revision:
// what a gateway compiles into its routing table.
type Snapshot struct {
	Revision int64           `json:"revision"`
	Groups   []GroupSnapshot `json:"groups"`
}

// GroupSnapshot is what runs in one group.
type GroupSnapshot struct {
	Group    GatewayGroup      `json:"group"`
	Services []DeployedService `json:"services"`
	// Consumers are the applications admitted to a service of the group
	// (consumer.go), for the authentication plugins.
	Consumers []Consumer `json:"consumers,omitempty"`
	// DataSources are the databases the group's sql routes query, their
	// passwords sealed (datasource.go); the routes name them by id.
	DataSources []DataSource `json:"data_sources,omitempty"`
	// Certificates are the group's TLS certificates, their private keys
	// sealed (certificate.go). A change of them comes as a whole snapshot,
	// never in a delta.
	Certificates []Certificate `json:"certificates,omitempty"`
	// Registries are the group's service registry connections, their
	// credentials sealed (registry.go). A change of them comes as a
	// whole snapshot, never in a delta.
	Registries []Registry `json:"registries,omitempty"`
	// ServicesJSON, when set, holds the services still as the feed sent
	// them (each one JSON object) instead of Services: a gateway decodes
	// and compiles them one at a time, so a large group is never in
	// memory whole beside its table. Never encoded.
	ServicesJSON []json.RawMessage `json:"-"`
}

// DeployedService is one running service version with its upstream.
type DeployedService struct {
	ProjectID string   `json:"project_id"`
	Version   string   `json:"version"`
	Service   Service  `json:"service"` // from the version: routes included
	Upstream  Upstream `json:"upstream"`
	// Canary, when set, sends part of the traffic to another upstream.
	Canary *CanaryRoute `json:"canary,omitempty"`
	// Cache, when set, are the purges of the service's proxy-cache in
	// the group (cache.go).
	Cache *CachePurges `json:"cache,omitempty"`
	// VersionRouting, when set, says how a request names one of Versions,
	// the other versions running beside this one (versionrouting.go).
	VersionRouting *VersionRouting   `json:"version_routing,omitempty"`
	Versions       []DeployedVersion `json:"versions,omitempty"`
}

// SnapshotDelta is what changed in some groups from revision Base to
// Revision, for a gateway that serves Base: each group's services that run
// now and changed (added ones included), the ids of those that stopped
// running, and the data sources the changed services use. Anything else a
// group carries (its settings, consumers, the data sources' content) is
// unchanged; a change to it is sent as a whole Snapshot instead.
type SnapshotDelta struct {
	Base     int64        `json:"base"`
	Revision int64        `json:"revision"`
	Groups   []GroupDelta `json:"groups"`
}

// GroupDelta is one group's part of a SnapshotDelta.
type GroupDelta struct {
	Group       GatewayGroup      `json:"group"`
	Services    []DeployedService `json:"services,omitempty"`
	Removed     []string          `json:"removed,omitempty"` // service ids
	DataSources []DataSource      `json:"data_sources,omitempty"`
}

// SnapshotUpdate is what a gateway is handed: the whole Snapshot, or a
// Delta to the revision it serves. Exactly one is set.
type SnapshotUpdate struct {
	Snapshot *Snapshot
	Delta    *SnapshotDelta
}

// Revision is the revision the update brings the gateway to.
func (u SnapshotUpdate) Revision() int64 {
	if u.Delta != nil {
		return u.Delta.Revision
	}
	if u.Snapshot != nil {
		return u.Snapshot.Revision
	}
	return 0
}

// ApplyDelta brings s from d.Base to d.Revision: each group's changed
// services replace (or join) its own, removed ones go, and the data
// sources the delta carries join the group's. A delta from another
// revision, or naming a group s does not hold, is refused and s is left
// as it was. A data source the delta carries replaces the one of its id.
func (s *Snapshot) ApplyDelta(d *SnapshotDelta) error {
	if d.Base != s.Revision {
		return fmt.Errorf("a delta from revision %d onto a snapshot at %d", d.Base, s.Revision)
	}
	groups := make([]int, len(d.Groups))
	for i := range d.Groups {
		groups[i] = slices.IndexFunc(s.Groups, func(g GroupSnapshot) bool { return g.Group.Name == d.Groups[i].Group.Name })
		if groups[i] < 0 {
			return fmt.Errorf("a delta of group %q, which the snapshot does not hold", d.Groups[i].Group.Name)
		}
	}
	for i := range d.Groups {
		gd, gs := &d.Groups[i], &s.Groups[groups[i]]
		gs.Group = gd.Group
		gone := make(map[string]bool, len(gd.Removed)+len(gd.Services))
		for _, id := range gd.Removed {
			gone[id] = true
		}
		for _, ds := range gd.Services {
			gone[ds.Service.ID] = true
		}
		gs.Services = slices.DeleteFunc(gs.Services, func(ds DeployedService) bool { return gone[ds.Service.ID] })
		gs.Services = append(gs.Services, gd.Services...)
		for _, src := range gd.DataSources {
			if i := slices.IndexFunc(gs.DataSources, func(x DataSource) bool { return x.ID == src.ID }); i >= 0 {
				gs.DataSources[i] = src // as the gateway's table takes it
			} else {
				gs.DataSources = append(gs.DataSources, src)
			}
		}
	}
	s.Revision = d.Revision
	return nil
}

// GroupPrefix fills the {project} placeholder of a group's path prefix.
func GroupPrefix(template, project string) string {
	p := strings.ReplaceAll(template, "{project}", project)
	return strings.TrimRight(p, "/")
}

// RoutePaths returns the public paths of a route in a group: group prefix +
// service path (its folder's path when the service's path is "default") +
// route path. A route without paths answers on /{name}.
func RoutePaths(groupPrefix, project string, svc *Service, r *Route) []string {
	prefix := GroupPrefix(groupPrefix, project) + strings.TrimRight(svc.EffectivePath(), "/")
	paths := r.Paths
	if len(paths) == 0 {
		paths = []string{"/" + r.Name}
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = prefix + p
	}
	return out
}
