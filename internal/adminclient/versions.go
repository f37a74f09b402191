package adminclient

import (
	"context"
	"fmt"
	"net/url"

	"github.com/portico-gw/portico/internal/spec"
)

// ServiceDiff is what changes from one configuration of a service to
// another (GET …/services/{s}/diff): From and To are version strings or
// "template".
type ServiceDiff struct {
	From    string             `json:"from"`
	To      string             `json:"to"`
	Changes []spec.FieldChange `json:"changes"`
}

// DiffService compares version from of a service with version to; to ""
// is the service template.
func (c *Client) DiffService(ctx context.Context, project, service, from, to string) (ServiceDiff, error) {
	q := url.Values{"from": {from}}
	if to != "" {
		q.Set("to", to)
	}
	var d ServiceDiff
	if err := c.Get(ctx, ServicePath(project, service)+"/diff", q, &d); err != nil {
		return d, fmt.Errorf("diff %s %s → %s: %w", service, from, orTemplate(to), err)
	}
	return d, nil
}

// RestoreVersion makes the service template what version holds ("edit
// from this version") and answers the template.
func (c *Client) RestoreVersion(ctx context.Context, project, service, version string) (spec.Service, error) {
	var s spec.Service
	if err := c.Post(ctx, ServicePath(project, service)+"/versions/"+url.PathEscape(version)+"/restore", nil, &s); err != nil {
		return s, fmt.Errorf("copy version %s of %s into the template: %w", version, service, err)
	}
	return s, nil
}

func orTemplate(v string) string {
	if v == "" {
		return "template"
	}
	return v
}
