package adminapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/webhook"
)

// alertEndpoints are the rows of alert rules: per service, and every
// rule of a project with its recent changes of state.
func (s *server) alertEndpoints() []endpoint {
	const (
		P  = "/projects/{p}"
		S  = P + "/services/{s}"
		A  = S + "/alerts/{a}"
		ok = http.StatusOK
		cr = http.StatusCreated
		nc = http.StatusNoContent
	)
	return []endpoint{
		{method: "GET", path: P + "/alerts", tag: "alerts", perm: rbac.ServiceRead, summary: "Every alert rule of the project with its state, firing ones first", resp: spec.AlertRule{}, list: true, query: listParams, status: ok, handle: (*call).listProjectAlerts},
		{method: "GET", path: P + "/alerts/events", tag: "alerts", perm: rbac.ServiceRead, summary: "The project's recent changes of alert state (newest first; each rule keeps its last 50)", resp: spec.AlertEvent{}, list: true, query: listParams, search: "rule or service name", status: ok, handle: (*call).listAlertEvents},
		{method: "GET", path: S + "/alerts", tag: "alerts", perm: rbac.ServiceRead, summary: "The service's alert rules, firing ones first", resp: spec.AlertRule{}, list: true, query: listParams, status: ok, handle: (*call).listServiceAlerts},
		{method: "POST", path: S + "/alerts", tag: "alerts", perm: rbac.ServiceWrite, summary: "Create an alert rule: the service's error_rate or p99_ms in a gateway group over a window (1m–15m) against a threshold; when passed it fires and the project's webhook gets alert.firing, then alert.resolved", req: spec.AlertRule{}, resp: spec.AlertRule{}, status: cr, handle: (*call).createAlert},
		{method: "GET", path: A, tag: "alerts", perm: rbac.ServiceRead, summary: "Get an alert rule with its state", resp: spec.AlertRule{}, status: ok, handle: (*call).getAlert},
		{method: "PATCH", path: A, tag: "alerts", perm: rbac.ServiceWrite, summary: "Change an alert rule (JSON merge patch); a firing rule that is disabled or given another metric or group resolves", req: spec.AlertRule{}, resp: spec.AlertRule{}, status: ok, handle: (*call).patchAlert},
		{method: "DELETE", path: A, tag: "alerts", perm: rbac.ServiceWrite, summary: "Delete an alert rule with its history (a firing one resolves)", status: nc, handle: (*call).deleteAlert},
	}
}

// maxAlertEvents bounds what GET …/alerts/events reads.
const maxAlertEvents = 500

func alertResource(project, service, id string) string {
	return "/projects/" + project + "/services/" + service + "/alerts/" + id
}

func (c *call) listProjectAlerts() (any, error) { return c.listAlerts(false) }
func (c *call) listServiceAlerts() (any, error) { return c.listAlerts(true) }

func (c *call) listAlerts(ofService bool) (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		service := ""
		if ofService {
			s, err := c.loadService(tx, c.path("p"), c.path("s"))
			if err != nil {
				return err
			}
			service = s.ID
		} else if _, err := c.loadProject(tx, c.path("p")); err != nil {
			return err
		}
		all, err := tx.ListAlertRules(c.ctx(), c.path("p"), service)
		items, total := pageOf(all, q, func(r spec.AlertRule) string { return r.Name })
		res = list(items, total)
		return err
	})
	return res, err
}

func (c *call) listAlertEvents() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		if _, err := c.loadProject(tx, c.path("p")); err != nil {
			return err
		}
		all, err := tx.ListAlertEvents(c.ctx(), c.path("p"), "", maxAlertEvents)
		items, total := pageOf(all, q, func(e spec.AlertEvent) string { return e.RuleName + "\n" + e.ServiceName })
		res = list(items, total)
		return err
	})
	return res, err
}

func (c *call) loadAlert(tx store.Tx) (spec.Service, spec.AlertRule, error) {
	s, err := c.loadService(tx, c.path("p"), c.path("s"))
	if err != nil {
		return s, spec.AlertRule{}, err
	}
	r, err := tx.GetAlertRule(c.ctx(), s.ID, c.path("a"))
	return s, r, onNotFound(err, "alert rule %q of service %q not found", c.path("a"), s.Name)
}

func (c *call) getAlert() (any, error) {
	var r spec.AlertRule
	err := c.view(func(tx store.Tx) error {
		var err error
		_, r, err = c.loadAlert(tx)
		return err
	})
	return r, err
}

// serverSetAlert refuses what only the server sets, naming the first
// field that differs from was (a rule as stored, or none on create).
func serverSetAlert(r, was spec.AlertRule) error {
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"id", r.ID, was.ID}, {"project", r.Project, was.Project}, {"service", r.Service, was.Service},
		{"service_name", r.ServiceName, was.ServiceName}, {"state", r.State, was.State},
		{"last_value", r.LastValue, was.LastValue}, {"fired_at", r.FiredAt, was.FiredAt},
		{"resolved_at", r.ResolvedAt, was.ResolvedAt}, {"created_at", r.CreatedAt, was.CreatedAt},
		{"updated_at", r.UpdatedAt, was.UpdatedAt},
	} {
		same := f.got == f.want
		if t, ok := f.got.(time.Time); ok {
			same = t.Equal(f.want.(time.Time))
		}
		if !same {
			return fieldError(f.name, "is set by the server")
		}
	}
	return nil
}

// checkAlert fills the defaults (the group: the project's production
// group), validates, and checks that the group exists.
func (c *call) checkAlert(tx store.Tx, r *spec.AlertRule) error {
	if r.Group == "" {
		p, err := c.loadProject(tx, r.Project)
		if err != nil {
			return err
		}
		r.Group = p.ProductionGroup
	}
	r.Defaults()
	if err := r.Validate(); err != nil {
		return err
	}
	if _, err := tx.GetGroup(c.ctx(), r.Group); err != nil {
		return onNotFound(err, "gateway group %q not found", r.Group)
	}
	return nil
}

func (c *call) createAlert() (any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	var r spec.AlertRule
	if err := strictDecode(body, &r); err != nil {
		return nil, err
	}
	if err := serverSetAlert(r, spec.AlertRule{}); err != nil {
		return nil, err
	}
	// A rule is enabled unless the body says otherwise.
	var given struct {
		Enabled *bool `json:"enabled"`
	}
	_ = json.Unmarshal(body, &given)
	r.Enabled = given.Enabled == nil || *given.Enabled
	err = c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		r.ID, r.Project, r.Service = newID(), s.ProjectID, s.ID
		if err := c.checkAlert(tx, &r); err != nil {
			return err
		}
		if err := tx.CreateAlertRule(c.ctx(), &r); err != nil {
			return onConflict(err, "service %q has an alert rule named %q already", s.Name, r.Name)
		}
		r.ServiceName = s.Name
		return c.auditChange(tx, "alert.create", alertResource(s.ProjectID, s.ID, r.ID), nil, r)
	})
	return r, err
}

func (c *call) patchAlert() (any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	var r spec.AlertRule
	err = c.tx(func(tx store.Tx) error {
		s, old, err := c.loadAlert(tx)
		if err != nil {
			return err
		}
		if r, err = decodeUpdate(body, true, old); err != nil {
			return err
		}
		if err := serverSetAlert(r, old); err != nil {
			return err
		}
		if err := c.checkAlert(tx, &r); err != nil {
			return err
		}
		// A firing rule that no longer watches what fired resolves now:
		// its receiver hears so rather than waiting for an end that the
		// evaluator would never see.
		if old.State == spec.AlertFiring && (!r.Enabled || r.Metric != old.Metric || r.Group != old.Group) {
			r.State, r.ResolvedAt = spec.AlertOK, c.s.now()
			if err := c.alertResolved(tx, old, r.ResolvedAt, true); err != nil {
				return err
			}
		}
		if err := tx.UpdateAlertRule(c.ctx(), &r); err != nil {
			return onConflict(err, "service %q has an alert rule named %q already", s.Name, r.Name)
		}
		return c.auditChange(tx, "alert.update", alertResource(s.ProjectID, s.ID, r.ID), old, r)
	})
	return r, err
}

func (c *call) deleteAlert() (any, error) {
	return nil, c.tx(func(tx store.Tx) error {
		s, r, err := c.loadAlert(tx)
		if err != nil {
			return err
		}
		if r.State == spec.AlertFiring {
			if err := c.alertResolved(tx, r, c.s.now(), false); err != nil {
				return err
			}
		}
		if err := tx.DeleteAlertRule(c.ctx(), s.ID, r.ID); err != nil {
			return onNotFound(err, "alert rule %q of service %q not found", r.ID, s.Name)
		}
		return c.auditChange(tx, "alert.delete", alertResource(s.ProjectID, s.ID, r.ID), r, nil)
	})
}

// alertResolved records that a firing rule was resolved by a change to
// it rather than by its figures: alert.resolved to the project's
// webhook, and a line of its history when the rule stays. The value is
// the one it fired with; no answers were counted for it.
func (c *call) alertResolved(tx store.Tx, r spec.AlertRule, at time.Time, keep bool) error {
	ev := spec.AlertEvent{Rule: r.ID, RuleName: r.Name, Project: r.Project, Service: r.Service, ServiceName: r.ServiceName,
		Group: r.Group, State: spec.AlertResolved, Metric: r.Metric, Value: r.LastValue, Threshold: r.Threshold,
		Window: r.Window, At: at}
	if keep {
		if err := tx.AddAlertEvent(c.ctx(), &ev, spec.AlertHistoryKept); err != nil {
			return err
		}
	}
	if c.s.events == nil {
		return nil
	}
	if err := c.s.events(c.ctx(), tx, r.Project, webhook.EventAlertResolved, ev); err != nil {
		return fmt.Errorf("webhook %s: %w", webhook.EventAlertResolved, err)
	}
	return nil
}
