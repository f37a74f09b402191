package release

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// URLChange is one public path that a change of a folder's or a gateway
// group's path moves.
type URLChange struct {
	Group     string `json:"group"`
	ProjectID string `json:"project_id"`
	ServiceID string `json:"service_id"`
	Service   string `json:"service"`
	Route     string `json:"route"`
	From      string `json:"from"`
	To        string `json:"to"`
}

// MoveError refuses an unconfirmed change that would move the URLs of
// running services. It wraps store.ErrConflict (HTTP 409).
type MoveError struct {
	What    string // "changing the path of folder user"
	Changes []URLChange
}

func (e *MoveError) Error() string {
	parts := make([]string, 0, len(e.Changes))
	for _, c := range e.Changes {
		parts = append(parts, fmt.Sprintf("%s %s → %s (group %s)", c.Service, c.From, c.To, c.Group))
	}
	return fmt.Sprintf("%s moves %d URL(s) of running services: %s; send confirm=true to do it anyway",
		e.What, len(e.Changes), strings.Join(parts, ", "))
}

func (e *MoveError) Unwrap() error { return store.ErrConflict }

// Move finishes a change, already written in tx, that moves the public URLs
// of running services without changing what version runs: a folder's path
// or a gateway group's path prefix. before is the snapshot of the groups
// concerned, taken in tx before the change. Without confirm, a change that
// moves any URL is refused with a *MoveError listing them (the caller's
// transaction then rolls back). With confirm, every group where URLs moved
// is committed (collisions and the compiler checked, a new revision) with a
// "move" history event per moved service. It answers the URLs that moved.
func Move(ctx context.Context, tx store.Tx, actor, what string, before spec.Snapshot, confirm bool) ([]URLChange, error) {
	groups := make([]string, len(before.Groups))
	for i, g := range before.Groups {
		groups[i] = g.Group.Name
	}
	after, err := tx.Snapshot(ctx, groups)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	changes := urlChanges(&before, &after)
	if len(changes) == 0 {
		return []URLChange{}, nil
	}
	if !confirm {
		return nil, &MoveError{What: what, Changes: changes}
	}
	type key struct{ group, service string }
	var order []string
	events := map[string][]spec.HistoryEvent{}
	done := map[key]bool{}
	for _, c := range changes {
		if done[key{c.Group, c.ServiceID}] {
			continue
		}
		done[key{c.Group, c.ServiceID}] = true
		if _, ok := events[c.Group]; !ok {
			order = append(order, c.Group)
		}
		v := runningVersion(&after, c.Group, c.ServiceID)
		events[c.Group] = append(events[c.Group], spec.HistoryEvent{ProjectID: c.ProjectID, ServiceID: c.ServiceID,
			Group: c.Group, Action: "move", Version: v, FromVersion: v, Actor: actor, Detail: what})
	}
	for _, g := range order {
		if _, err := Apply(ctx, tx, Change{Groups: []string{g}, Events: events[g]}); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	return changes, nil
}

func runningVersion(snap *spec.Snapshot, group, service string) string {
	for _, gs := range snap.Groups {
		if gs.Group.Name != group {
			continue
		}
		for _, ds := range gs.Services {
			if ds.Service.ID == service {
				return ds.Version
			}
		}
	}
	return ""
}

// urlChanges lists the public paths of the same routes that differ between
// two snapshots of the same groups, by group, project, service and route.
func urlChanges(before, after *spec.Snapshot) []URLChange {
	type key struct{ group, service, route string }
	old := map[key][]string{}
	for _, gs := range before.Groups {
		for si := range gs.Services {
			ds := &gs.Services[si]
			for ri := range ds.Service.Routes {
				r := &ds.Service.Routes[ri]
				old[key{gs.Group.Name, ds.Service.ID, r.ID + "/" + r.Name}] = spec.RoutePaths(gs.Group.PathPrefix, ds.ProjectID, &ds.Service, r)
			}
		}
	}
	out := []URLChange{}
	for _, gs := range after.Groups {
		for si := range gs.Services {
			ds := &gs.Services[si]
			for ri := range ds.Service.Routes {
				r := &ds.Service.Routes[ri]
				from, ok := old[key{gs.Group.Name, ds.Service.ID, r.ID + "/" + r.Name}]
				to := spec.RoutePaths(gs.Group.PathPrefix, ds.ProjectID, &ds.Service, r)
				if !ok || slices.Equal(from, to) {
					continue
				}
				for i := range to {
					if i < len(from) && from[i] != to[i] {
						out = append(out, URLChange{Group: gs.Group.Name, ProjectID: ds.ProjectID, ServiceID: ds.Service.ID,
							Service: ds.Service.Name, Route: r.Name, From: from[i], To: to[i]})
					}
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b URLChange) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.ProjectID, b.ProjectID),
			strings.Compare(a.Service, b.Service), strings.Compare(a.Route, b.Route))
	})
	return out
}
