package adminapi

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// audit records the caller's action inside tx; detail is marshalled as
// JSON. The event carries the caller's address and, for a resource under
// /projects/{p}, the project, so that a project admin can read the log of
// their project and nothing else.
func (c *call) audit(tx store.Tx, action, resource string, detail any) error {
	var raw json.RawMessage
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
		raw = b
	}
	e := &spec.AuditEvent{Actor: c.user.Username, Action: action, Resource: resource, Detail: raw, At: c.s.now(),
		Project: resourceProject(resource), Client: clientAddr(c.r)}
	if e.Project == "" && c.r != nil {
		e.Project = c.path("p")
	}
	if err := tx.AddAudit(c.ctx(), e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// resourceProject is the project of a resource path "/projects/{p}/…".
func resourceProject(resource string) string {
	rest, ok := strings.CutPrefix(resource, "/projects/")
	if !ok {
		return ""
	}
	p, _, _ := strings.Cut(rest, "/")
	return p
}

func (c *call) auditEvents() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	f := store.AuditFilter{}
	f.Projects, f.AllProjects = c.who.Projects(rbac.AuditRead)
	var res listResult
	err = c.view(func(tx store.Tx) error {
		items, total, err := tx.ListAudit(c.ctx(), f, q)
		if err != nil {
			return fmt.Errorf("list audit events: %w", err)
		}
		res = list(items, total)
		return nil
	})
	return res, err
}
