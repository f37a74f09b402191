package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Change is one change the gateways will see, as Apply commits it: the
// groups whose snapshots it changes, the history events it records (each
// for one service in one of those groups), and, for a change that is no
// service's release (credentials, a group's settings), the audit entry
// that names it.
type Change struct {
	Groups []string
	// Focus is the service whose route collisions are reported; "" checks
	// every service of the groups.
	Focus  string
	Events []spec.HistoryEvent
	// Audit, when set, is recorded once with the new revision added to its
	// detail; each event is audited as release.<action> anyway.
	Audit *AuditNote
}

// AuditNote is the audit entry of a change without history events.
type AuditNote struct {
	Actor, Action, Resource string
	Detail                  map[string]any
}

// Commit is the one way a service's release reaches gateways: Apply with
// one history event in its group.
func Commit(ctx context.Context, tx store.Tx, ev spec.HistoryEvent) (int64, error) {
	return Apply(ctx, tx, Change{Groups: []string{ev.Group}, Focus: ev.ServiceID, Events: []spec.HistoryEvent{ev}})
}

// Apply is the one function every change that gateways see ends in: it
// refuses a change to a service a running canary holds, refuses routes
// that collide with another service's (a *ConflictError, 409), refuses a
// change that leaves a running composite API without an API it calls (a
// *DependencyError, 409; graph.go) and keeps the graph of those calls,
// compiles
// what changed with the gateway's own compiler, bumps the groups' revision
// (logging which services changed, so gateways are sent only those) and
// records the release history and the audit. A change confined to one
// service is checked and compiled for that service alone (scope.go); any
// other compiles the groups' whole snapshots. It runs inside the caller's
// transaction, so a refused change leaves nothing.
func Apply(ctx context.Context, tx store.Tx, c Change) (int64, error) {
	if len(c.Groups) == 0 {
		return 0, nil
	}
	for _, g := range c.Groups {
		if err := refuseUnderCanary(ctx, tx, g, c.Events); err != nil {
			return 0, err
		}
	}
	changes, err := check(ctx, tx, &c)
	if err != nil {
		return 0, err
	}
	rev, err := tx.BumpRevision(ctx, changes...)
	if err != nil {
		return 0, fmt.Errorf("bump revision of %v: %w", c.Groups, err)
	}
	for _, ev := range c.Events {
		ev.Revision = rev
		if err := tx.AddHistory(ctx, &ev); err != nil {
			return 0, fmt.Errorf("record history: %w", err)
		}
		d := map[string]any{
			"group": ev.Group, "version": ev.Version, "from_version": ev.FromVersion, "revision": rev,
		}
		if ev.Detail != "" {
			d["detail"] = ev.Detail
		}
		if err := addAudit(ctx, tx, AuditNote{Actor: ev.Actor, Action: "release." + ev.Action,
			Resource: "/projects/" + ev.ProjectID + "/services/" + ev.ServiceID, Detail: d}); err != nil {
			return 0, err
		}
	}
	if c.Audit != nil {
		d := map[string]any{"groups": c.Groups, "revision": rev}
		for k, v := range c.Audit.Detail {
			d[k] = v
		}
		note := *c.Audit
		note.Detail = d
		if err := addAudit(ctx, tx, note); err != nil {
			return 0, err
		}
	}
	return rev, nil
}

// check validates the change and answers what each group's revision
// changes: the one service of a confined change, else the whole group.
func check(ctx context.Context, tx store.Tx, c *Change) ([]store.RevisionChange, error) {
	changes := make([]store.RevisionChange, 0, len(c.Groups))
	var whole []string
	if svc := c.scopedService(); svc != "" {
		for _, g := range c.Groups {
			scoped, err := checkService(ctx, tx, g, svc)
			if err != nil {
				return nil, err
			}
			if scoped {
				changes = append(changes, store.RevisionChange{Group: g, Services: []string{svc}})
			} else {
				whole = append(whole, g)
			}
		}
	} else {
		whole = c.Groups
	}
	if len(whole) == 0 {
		return changes, nil
	}
	snap, err := tx.Snapshot(ctx, whole)
	if err != nil {
		return nil, fmt.Errorf("assemble snapshot of %v: %w", whole, err)
	}
	if err := snapshotConflicts(&snap, c.Focus); err != nil {
		return nil, err
	}
	if err := routing.Validate(&snap); err != nil {
		return nil, err
	}
	// Services' routes may have moved (a folder or a group's prefix) or
	// the group's index may not exist yet: rebuild it from what was just
	// checked. A change of consumers or credentials moves no route.
	for gi := range snap.Groups {
		name := snap.Groups[gi].Group.Name
		complete, err := tx.RouteShapesComplete(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("routes of group %s: %w", name, err)
		}
		if !complete || len(c.Events) > 0 {
			if err := resetShapes(ctx, tx, &spec.Snapshot{Groups: snap.Groups[gi : gi+1]}); err != nil {
				return nil, err
			}
			// What the composite APIs call may have changed too.
			if err := guardGroup(ctx, tx, &snap.Groups[gi], c.changedServices(name)); err != nil {
				return nil, err
			}
		}
	}
	for _, g := range whole {
		changes = append(changes, store.RevisionChange{Group: g})
	}
	return changes, nil
}

func addAudit(ctx context.Context, tx store.Tx, n AuditNote) error {
	detail, err := json.Marshal(n.Detail)
	if err != nil {
		return fmt.Errorf("record audit: %w", err)
	}
	a := spec.AuditEvent{Actor: n.Actor, Action: n.Action, Resource: n.Resource, Detail: detail}
	if err := tx.AddAudit(ctx, &a); err != nil {
		return fmt.Errorf("record audit: %w", err)
	}
	return nil
}

// refuseUnderCanary keeps a running canary meaningful: while one splits a
// service's traffic in the group, only the canary's own actions may change
// what the service runs there.
func refuseUnderCanary(ctx context.Context, tx store.Tx, group string, evs []spec.HistoryEvent) error {
	for _, ev := range evs {
		// A cache purge changes nothing the canary compares.
		if ev.Group != group || ev.ServiceID == "" || strings.HasPrefix(ev.Action, "canary.") || ev.Action == ActionCachePurge {
			continue
		}
		c, err := tx.RunningCanary(ctx, group, ev.ServiceID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("running canary in %s: %w", group, err)
		}
		return fmt.Errorf("canary %s is running for this service in group %q (%d%% to the target); promote or cancel it before a %s: %w",
			c.ID, group, c.Weight, ev.Action, store.ErrConflict)
	}
	return nil
}
