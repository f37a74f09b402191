package release

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// UnpublishRequest is the body of POST …/unpublish: the gateway group to
// take the service off.
type UnpublishRequest struct {
	Group string `json:"group"`
}

// UnpublishResult is what an unpublish did and where the service runs now.
type UnpublishResult struct {
	Group string `json:"group"`
	// Version is the version the group ran and no longer does.
	Version        string            `json:"version"`
	Revision       int64             `json:"revision"`
	FromState      string            `json:"from_state"`
	State          string            `json:"state"`
	AllowedActions []string          `json:"allowed_actions"`
	Running        []spec.Placement  `json:"running"`
	Change         spec.HistoryEvent `json:"change"`
}

// Unpublish takes a service off one gateway group (下线): the group stops
// answering its routes at the next revision, and the release history of
// the group records it. It works whatever brought the service there (a
// lifecycle action, a direct publish, a sync), so a service can always be
// taken off and then deleted. A running canary in the group holds the
// service (Apply refuses); a group the service does not run in is
// store.ErrConflict. The service's state is settled afterwards: off
// production a published service is submitted (still in test) or a draft.
func Unpublish(ctx context.Context, tx store.Tx, actor, project, service string, req UnpublishRequest) (UnpublishResult, error) {
	if req.Group == "" {
		return UnpublishResult{}, spec.FieldErrors{{Field: "group", Message: "is required"}}
	}
	if !spec.ValidSlug(req.Group) {
		return UnpublishResult{}, spec.FieldErrors{{Field: "group", Message: "is not a valid gateway group name"}}
	}
	svc, err := tx.GetService(ctx, project, service)
	if err != nil {
		return UnpublishResult{}, fmt.Errorf("service %q in project %q: %w", service, project, err)
	}
	if err := requireGroup(ctx, tx, req.Group); err != nil {
		return UnpublishResult{}, err
	}
	d, err := tx.GetDeployment(ctx, req.Group, svc.ID)
	if errors.Is(err, store.ErrNotFound) {
		return UnpublishResult{}, fmt.Errorf("service %q does not run in gateway group %q; nothing to take off: %w", svc.Name, req.Group, store.ErrConflict)
	}
	if err != nil {
		return UnpublishResult{}, fmt.Errorf("deployment of %s in %s: %w", svc.Name, req.Group, err)
	}
	if err := tx.DeleteDeployment(ctx, req.Group, svc.ID); err != nil {
		return UnpublishResult{}, fmt.Errorf("take %s off %s: %w", svc.Name, req.Group, err)
	}
	res := UnpublishResult{Group: req.Group, Version: d.Version, FromState: State(&svc)}
	ev := spec.HistoryEvent{ProjectID: project, ServiceID: svc.ID, Group: req.Group, Action: "unpublish",
		FromVersion: d.Version, Actor: actor}
	rev, err := Commit(ctx, tx, ev)
	if err != nil {
		return UnpublishResult{}, fmt.Errorf("take %s off %s: %w", svc.Name, req.Group, err)
	}
	ev.Revision = rev
	res.Revision, res.Change = rev, ev
	if res.State, err = Settle(ctx, tx, &svc); err != nil {
		return UnpublishResult{}, err
	}
	res.AllowedActions = AllowedActions(res.State)
	if res.Running, err = Placements(ctx, tx, &svc); err != nil {
		return UnpublishResult{}, err
	}
	return res, nil
}

// SettledState is the lifecycle state that says where a service runs,
// given its state now, its project's test and production groups and the
// groups it runs in: published when it runs in the production group (when
// test and production are one group, only a lifecycle publish makes it
// published: running there after a submit is submitted), submitted when
// it runs in some other group only, draft when it runs nowhere. A disabled
// service stays disabled while nothing runs: enable restores what it
// parked.
func SettledState(state, testGroup, productionGroup string, groups []string) string {
	same := testGroup == productionGroup
	switch {
	case len(groups) == 0 && state == spec.StateDisabled:
		return spec.StateDisabled
	case len(groups) == 0:
		return spec.StateDraft
	case slices.Contains(groups, productionGroup) && (!same || state == spec.StatePublished):
		return spec.StatePublished
	default:
		return spec.StateSubmitted
	}
}

// Settle brings the lifecycle state of svc in line with where it runs after
// a lower-level release action (publish to a group, sync, unpublish), so
// one set of states describes every service: a service published straight
// to production is published, not a draft serving traffic. It stores the
// new state when it changed (a service that no longer runs anywhere after
// being disabled forgets what it parked only when something runs again)
// and returns it.
func Settle(ctx context.Context, tx store.Tx, svc *spec.Service) (string, error) {
	st, err := projectStages(ctx, tx, svc.ProjectID)
	if err != nil {
		return "", err
	}
	deps, err := tx.ListDeploymentsByService(ctx, svc.ID)
	if err != nil {
		return "", fmt.Errorf("where %s runs: %w", svc.Name, err)
	}
	groups := make([]string, len(deps))
	for i, d := range deps {
		groups[i] = d.Group
	}
	from := State(svc)
	to := SettledState(from, st.test, st.prod, groups)
	if to == from {
		return to, nil
	}
	if from == spec.StateDisabled {
		// Something runs again: what disable parked no longer describes
		// what enable would restore.
		if err := tx.DeleteParkedDeployments(ctx, svc.ID); err != nil {
			return "", fmt.Errorf("forget what %s parked: %w", svc.Name, err)
		}
	}
	svc.State = to
	svc.AllowedActions = nil
	if err := tx.UpdateService(ctx, svc); err != nil {
		return "", fmt.Errorf("set the state of %s to %s: %w", svc.Name, to, err)
	}
	return to, nil
}

// settleService is Settle for the service of project with id service.
func settleService(ctx context.Context, tx store.Tx, project, service string) error {
	svc, err := tx.GetService(ctx, project, service)
	if err != nil {
		return fmt.Errorf("service %q in project %q: %w", service, project, err)
	}
	_, err = Settle(ctx, tx, &svc)
	return err
}

// Placements says where a service runs: one entry per gateway group, the
// project's production group first, then its test group, then the others
// by name, each with the version it runs and the canary release running
// there, if any.
func Placements(ctx context.Context, tx store.Tx, svc *spec.Service) ([]spec.Placement, error) {
	deps, err := tx.ListDeploymentsByService(ctx, svc.ID)
	if err != nil {
		return nil, fmt.Errorf("where %s runs: %w", svc.Name, err)
	}
	out := make([]spec.Placement, 0, len(deps))
	if len(deps) == 0 {
		return out, nil
	}
	p, err := tx.GetProject(ctx, svc.ProjectID)
	if err != nil {
		return nil, fmt.Errorf("project %q: %w", svc.ProjectID, err)
	}
	for _, d := range deps {
		pl := spec.Placement{Group: d.Group, Stage: spec.PlacementStage(d.Group, p.TestGroup, p.ProductionGroup), Version: d.Version}
		c, err := tx.RunningCanary(ctx, d.Group, svc.ID)
		switch {
		case err == nil:
			pl.Canary = &spec.PlacementCanary{ID: c.ID, Weight: c.Weight, Version: c.Target.Version}
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("canary of %s in %s: %w", svc.Name, d.Group, err)
		}
		out = append(out, pl)
	}
	spec.SortPlacements(out)
	return out, nil
}
