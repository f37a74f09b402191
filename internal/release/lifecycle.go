package release

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Lifecycle actions of a service (the publishing lifecycle). Edit and delete are not
// release actions (they change the template, not what runs) but the state
// table governs them too.
const (
	ActionEdit      = "edit"
	ActionSubmit    = "submit"
	ActionWithdraw  = "withdraw"
	ActionPublish   = "publish"
	ActionRepublish = "republish"
	ActionDisable   = "disable"
	ActionEnable    = "enable"
	ActionDelete    = "delete"
	// ActionUnpublish takes the service off one gateway group
	// (unpublish.go); it is not an action of the actions endpoint, as it
	// names a group.
	ActionUnpublish = "unpublish"
)

// Actions lists every lifecycle action in the order allowed_actions uses.
var Actions = []string{ActionEdit, ActionSubmit, ActionWithdraw, ActionPublish, ActionRepublish, ActionDisable, ActionEnable, ActionDelete, ActionUnpublish}

// stateTable is the publishing lifecycle's table: what each state allows.
var stateTable = map[string][]string{
	spec.StateDraft:     {ActionEdit, ActionSubmit, ActionDelete},
	spec.StateSubmitted: {ActionEdit, ActionWithdraw, ActionPublish, ActionUnpublish},
	spec.StatePublished: {ActionEdit, ActionSubmit, ActionRepublish, ActionDisable, ActionUnpublish},
	spec.StateDisabled:  {ActionEnable, ActionDelete},
}

// State is the lifecycle state of a service; a service stored without one
// is a draft.
func State(s *spec.Service) string {
	if s.State == "" {
		return spec.StateDraft
	}
	return s.State
}

// AllowedActions lists what a state allows, in the order of Actions; an
// unknown state allows nothing.
func AllowedActions(state string) []string {
	if state == "" {
		state = spec.StateDraft
	}
	return slices.Clone(stateTable[state])
}

// StateError says that a service's state does not allow an action. It
// matches ErrState with errors.Is and carries what the admin API shows.
type StateError struct {
	Service string   // name
	Action  string   // what was asked
	State   string   // the current state
	Allowed []string // what the state allows
}

func (e *StateError) Error() string {
	return fmt.Sprintf("service %q is %s: %s is not allowed; allowed actions: %s",
		e.Service, e.State, e.Action, strings.Join(e.Allowed, ", "))
}

// Is makes errors.Is(err, ErrState) hold.
func (e *StateError) Is(target error) bool { return target == ErrState }

// CheckAction returns a *StateError unless the service's state allows action.
func CheckAction(s *spec.Service, action string) error {
	state := State(s)
	allowed := AllowedActions(state)
	if slices.Contains(allowed, action) {
		return nil
	}
	return &StateError{Service: s.Name, Action: action, State: state, Allowed: allowed}
}

// ActionRequest is the optional body of POST …/actions/{action}: submit
// takes a version (default: the next patch version after the highest,
// 1.0.0 first) and an upstream for the test group; publish and republish
// take an upstream for the production group. The other actions take none.
type ActionRequest struct {
	Version  string         `json:"version,omitempty"`
	Upstream *spec.Upstream `json:"upstream,omitempty"`
	// DataSources maps data sources to the target group's own (submit:
	// the test group; publish: production), as in PublishRequest.
	DataSources map[string]string `json:"data_sources,omitempty"`
}

// ActionResult is what a lifecycle action did.
type ActionResult struct {
	Action         string              `json:"action"`
	FromState      string              `json:"from_state"`
	State          string              `json:"state"`
	AllowedActions []string            `json:"allowed_actions"`
	Version        string              `json:"version,omitempty"` // the version submitted, promoted or restored
	Changes        []spec.HistoryEvent `json:"changes"`           // release events recorded, one per group touched
	Deployments    []spec.Deployment   `json:"deployments"`       // where the service runs now
}

// LifecycleDetail is the JSON kept in HistoryEvent.Detail of a lifecycle
// event. Op ties together the events of one action (Parts of them, one per
// group it touched), so a reader can check that none is missing.
type LifecycleDetail struct {
	Op        string `json:"op"`
	Part      int    `json:"part"`
	Parts     int    `json:"parts"`
	FromState string `json:"from_state"`
	State     string `json:"state"`
}

// stages are a project's release groups; same is true when one group
// plays both roles (the default project: default and default).
type stages struct {
	test, prod string
	same       bool
}

// Act runs one lifecycle action on a service of project inside tx: it
// checks the state table, changes what runs through Commit (once per group
// touched) and sets the new state. Refusals are *StateError (the state does
// not allow it), store.ErrConflict (the content does not: nothing to
// republish, a version that exists) or spec.FieldErrors.
func Act(ctx context.Context, tx store.Tx, actor, project, service, action string, req ActionRequest) (ActionResult, error) {
	svc, err := tx.GetService(ctx, project, service)
	if err != nil {
		return ActionResult{}, fmt.Errorf("service %q in project %q: %w", service, project, err)
	}
	if action == ActionEdit || action == ActionDelete || action == ActionUnpublish || !slices.Contains(Actions, action) {
		return ActionResult{}, fmt.Errorf("%q is not a lifecycle action of the actions endpoint: %w", action, store.ErrNotFound)
	}
	if err := CheckAction(&svc, action); err != nil {
		return ActionResult{}, err
	}
	if req.Version != "" && action != ActionSubmit {
		return ActionResult{}, spec.FieldErrors{{Field: "version", Message: "is only taken by submit"}}
	}
	if req.Upstream != nil && action != ActionSubmit && action != ActionPublish && action != ActionRepublish {
		return ActionResult{}, spec.FieldErrors{{Field: "upstream", Message: "is only taken by submit, publish and republish"}}
	}
	st, err := projectStages(ctx, tx, project)
	if err != nil {
		return ActionResult{}, err
	}
	a := &act{ctx: ctx, tx: tx, actor: actor, svc: svc, st: st, req: req,
		res: ActionResult{Action: action, FromState: State(&svc), Changes: []spec.HistoryEvent{}}}
	a.op, err = newOp()
	if err != nil {
		return ActionResult{}, err
	}
	var to string
	switch action {
	case ActionSubmit:
		to, err = a.submit()
	case ActionWithdraw:
		to, err = a.withdraw()
	case ActionPublish:
		to, err = a.promote(false)
	case ActionRepublish:
		to, err = a.promote(true)
	case ActionDisable:
		to, err = a.disable()
	case ActionEnable:
		to, err = a.enable()
	}
	if err != nil {
		return ActionResult{}, fmt.Errorf("%s %s: %w", action, svc.Name, err)
	}
	return a.finish(to)
}

// act is one lifecycle action in progress.
type act struct {
	ctx   context.Context
	tx    store.Tx
	actor string
	svc   spec.Service
	st    stages
	req   ActionRequest
	op    string
	res   ActionResult
	parts int // events the action will record
	part  int // events recorded so far
}

func projectStages(ctx context.Context, tx store.Tx, project string) (stages, error) {
	p, err := tx.GetProject(ctx, project)
	if err != nil {
		return stages{}, fmt.Errorf("project %q: %w", project, err)
	}
	st := stages{test: p.TestGroup, prod: p.ProductionGroup}
	if st.test == "" {
		st.test = spec.DefaultGroup
	}
	if st.prod == "" {
		st.prod = spec.DefaultGroup
	}
	st.same = st.test == st.prod
	for _, g := range []struct{ role, name string }{{"test_group", st.test}, {"production_group", st.prod}} {
		if _, err := tx.GetGroup(ctx, g.name); errors.Is(err, store.ErrNotFound) {
			return stages{}, fmt.Errorf("the %s of project %q is gateway group %q, which does not exist; create it or change the project: %w",
				g.role, project, g.name, store.ErrConflict)
		} else if err != nil {
			return stages{}, fmt.Errorf("gateway group %q: %w", g.name, err)
		}
	}
	return st, nil
}

// groups are the distinct groups of the stages, production first.
func (st stages) groups() []string {
	if st.same {
		return []string{st.prod}
	}
	return []string{st.prod, st.test}
}

func newOp() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("lifecycle op id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// event is the history event of the next part of the action; to is the
// state the action leads to.
func (a *act) event(group, from, version, to string) spec.HistoryEvent {
	a.part++
	detail, _ := json.Marshal(LifecycleDetail{Op: a.op, Part: a.part, Parts: a.parts,
		FromState: a.res.FromState, State: to})
	return spec.HistoryEvent{ProjectID: a.svc.ProjectID, ServiceID: a.svc.ID, Group: group,
		Action: a.res.Action, Version: version, FromVersion: from, Actor: a.actor, Detail: string(detail)}
}

// commit records one part of the action through Commit.
func (a *act) commit(ev spec.HistoryEvent) error {
	rev, err := Commit(a.ctx, a.tx, ev)
	if err != nil {
		return err
	}
	ev.Revision = rev
	a.res.Changes = append(a.res.Changes, ev)
	return nil
}

// running returns the deployment of the service in group, if any.
func (a *act) running(group string) (spec.Deployment, bool, error) {
	d, err := a.tx.GetDeployment(a.ctx, group, a.svc.ID)
	if errors.Is(err, store.ErrNotFound) {
		return spec.Deployment{}, false, nil
	}
	if err != nil {
		return spec.Deployment{}, false, fmt.Errorf("deployment in %q: %w", group, err)
	}
	return d, true, nil
}

// finish stores the new state, audits the action and fills the result.
func (a *act) finish(to string) (ActionResult, error) {
	ctx, tx := a.ctx, a.tx
	if to != State(&a.svc) {
		a.svc.State = to
		if err := tx.UpdateService(ctx, &a.svc); err != nil {
			return ActionResult{}, fmt.Errorf("%s %s: set state %s: %w", a.res.Action, a.svc.Name, to, err)
		}
	}
	a.res.State = to
	a.res.AllowedActions = AllowedActions(to)
	deps, err := tx.ListDeploymentsByService(ctx, a.svc.ID)
	if err != nil {
		return ActionResult{}, fmt.Errorf("%s %s: %w", a.res.Action, a.svc.Name, err)
	}
	a.res.Deployments = deps
	groups := make([]string, len(a.res.Changes))
	for i, ev := range a.res.Changes {
		groups[i] = ev.Group
	}
	detail, _ := json.Marshal(map[string]any{"from_state": a.res.FromState, "state": to,
		"version": a.res.Version, "groups": groups, "op": a.op})
	audit := spec.AuditEvent{Actor: a.actor, Action: "service." + a.res.Action,
		Resource: "/projects/" + a.svc.ProjectID + "/services/" + a.svc.ID, Detail: detail}
	if err := tx.AddAudit(ctx, &audit); err != nil {
		return ActionResult{}, fmt.Errorf("%s %s: record audit: %w", a.res.Action, a.svc.Name, err)
	}
	return a.res, nil
}

// NextVersion is the version a submit without one uses: the next patch
// version after the highest X.Y.Z (a pre-release or build suffix counts as
// its X.Y.Z), or 1.0.0 when there is none; never one in use.
func NextVersion(existing []string) string {
	have := make(map[string]bool, len(existing))
	var best [3]int
	found := false
	for _, v := range existing {
		have[v] = true
		n, ok := parseSemver(v)
		if ok && (!found || cmpSemver(n, best) > 0) {
			best, found = n, true
		}
	}
	next := [3]int{1, 0, 0}
	if found {
		next = [3]int{best[0], best[1], best[2] + 1}
	}
	for {
		s := fmt.Sprintf("%d.%d.%d", next[0], next[1], next[2])
		if !have[s] {
			return s
		}
		next[2]++
	}
}

func parseSemver(v string) ([3]int, bool) {
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	var n [3]int
	if len(parts) != 3 {
		return n, false
	}
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 || p == "" || p[0] == '+' {
			return n, false
		}
		n[i] = x
	}
	return n, true
}

func cmpSemver(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			return a[i] - b[i]
		}
	}
	return 0
}
