package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// audit records the caller's action inside tx; detail is marshalled as
// JSON with its secrets masked (audit_diff.go). The event carries the
// caller's address and, for a resource under /projects/{p}, the project,
// so that a project admin can read the log of their project and nothing
// else.
func (c *call) audit(tx store.Tx, action, resource string, detail any) error {
	raw, err := maskedJSON(detail)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return c.addAudit(tx, "", action, resource, raw)
}

// auditChange records a change of one object: detail {"before", "after",
// "changed"} with the objects' JSON, secrets masked, and the paths that
// differ. A nil before is a creation, a nil after a deletion. Pass the
// objects as the API shows them (redacted): masking is the second lock,
// not the first.
func (c *call) auditChange(tx store.Tx, action, resource string, before, after any) error {
	return c.auditChangeIn(tx, "", action, resource, before, after)
}

// auditChangeIn is auditChange for an object of project whose resource
// path does not say so (a project application's credential).
func (c *call) auditChangeIn(tx store.Tx, project, action, resource string, before, after any) error {
	raw, err := changeJSON(before, after)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return c.addAudit(tx, project, action, resource, raw)
}

// addAudit stores one event of the caller; project "" is the resource's
// project, or the request path's.
func (c *call) addAudit(tx store.Tx, project, action, resource string, detail json.RawMessage) error {
	e := &spec.AuditEvent{Actor: c.user.Username, Action: action, Resource: resource, Detail: detail, At: c.s.now(),
		Project: project, Client: clientAddr(c.r)}
	if e.Project == "" {
		e.Project = resourceProject(resource)
	}
	if e.Project == "" && c.r != nil {
		e.Project = c.path("p")
	}
	if err := tx.AddAudit(c.ctx(), e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// resourceProject is the project of a resource path "/projects/{p}/…".
func resourceProject(resource string) string { return store.ResourceProject(resource) }

// The query parameters of the audit log and of its export.
var (
	auditQuery       = []string{"page", "page_size", "q", "actor", "project", "resource", "action", "since", "until"}
	auditExportQuery = []string{"q", "actor", "project", "resource", "action", "since", "until", "after_id", "limit"}
)

// auditActionRe is an action (service.update) or a family of them
// (service.).
var auditActionRe = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$`)

// Bounds of the audit filters: longer values name nothing that exists.
const (
	maxAuditActor    = 256
	maxAuditResource = 1024
	maxAuditAction   = 128
)

// auditFilter reads the filters the audit log and its export share, each
// bad one a 400 naming it, and narrows them to the projects where the
// caller holds audit:read (every event, system ones included, for a
// super_admin). A project the caller may not read is not an error: it
// selects nothing, as a project without events would.
func (c *call) auditFilter() (store.AuditFilter, error) {
	q := c.r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Project: q.Get("project"), Resource: q.Get("resource"), Action: q.Get("action")}
	var fe spec.FieldErrors
	if len(f.Actor) > maxAuditActor {
		fe.Add("actor", "must be at most %d bytes", maxAuditActor)
	}
	if f.Project != "" && !spec.ValidSlug(f.Project) {
		fe.Add("project", "must be a project id")
	}
	if f.Resource != "" && (f.Resource[0] != '/' || len(f.Resource) > maxAuditResource) {
		fe.Add("resource", "must be a resource path starting with / (such as /projects/default/services/ID), at most %d bytes", maxAuditResource)
	}
	if f.Action != "" && (!auditActionRe.MatchString(f.Action) || len(f.Action) > maxAuditAction) {
		fe.Add("action", "must be an action (service.update) or a family of them ending in a dot (service.)")
	}
	var err error
	if f.Since, err = auditTime(q.Get("since")); err != nil {
		fe.Add("since", "%v", err)
	}
	if f.Until, err = auditTime(q.Get("until")); err != nil {
		fe.Add("until", "%v", err)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		fe.Add("until", "must be after since")
	}
	f.Projects, f.AllProjects = c.who.Projects(rbac.AuditRead)
	return f, fe.Err()
}

// auditTime parses an RFC 3339 time of a filter; "" is none.
func auditTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil || !spec.ValidStoredTime(t) {
		return time.Time{}, fmt.Errorf("must be an RFC 3339 time such as 2026-05-01T00:00:00Z, before 2200")
	}
	return t.UTC(), nil
}

func (c *call) auditEvents() (any, error) {
	q, qerr := c.listQuery()
	f, ferr := c.auditFilter()
	if err := fieldErrors(qerr, ferr); err != nil {
		return nil, err
	}
	var res listResult
	err := c.view(func(tx store.Tx) error {
		items, total, err := tx.ListAudit(c.ctx(), f, q)
		if err != nil {
			return fmt.Errorf("list audit events: %w", err)
		}
		res = list(items, total)
		return nil
	})
	return res, err
}

// fieldErrors joins the field errors of several checks, so that one
// answer names every bad parameter; another error is answered as is.
func fieldErrors(errs ...error) error {
	var all spec.FieldErrors
	for _, err := range errs {
		if err == nil {
			continue
		}
		fe, ok := errors.AsType[spec.FieldErrors](err)
		if !ok {
			return err
		}
		all = append(all, fe...)
	}
	return all.Err()
}
