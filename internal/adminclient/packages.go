package adminclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/portico-gw/portico/internal/spec"
)

// PackagesPath is the admin path of a project's imported packages.
func PackagesPath(project string) string {
	return "/projects/" + url.PathEscape(project) + "/packages"
}

// Packages lists the packages imported into a project, newest first;
// state "" is every state.
func (c *Client) Packages(ctx context.Context, project, state string) ([]spec.Package, error) {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	ps, err := all[spec.Package](ctx, c, PackagesPath(project), q)
	if err != nil {
		return nil, fmt.Errorf("packages of project %s: %w", project, err)
	}
	return ps, nil
}

// Package reads one imported package.
func (c *Client) Package(ctx context.Context, project, id string) (spec.Package, error) {
	var p spec.Package
	if err := c.Get(ctx, PackagesPath(project)+"/"+url.PathEscape(id), nil, &p); err != nil {
		return p, fmt.Errorf("package %s: %w", id, err)
	}
	return p, nil
}

// RetryPackage applies a pending or failed package again with mapping
// (nil: the last attempt's) and answers it published; a refusal is an
// *Error whose PackageID names it, failed again.
func (c *Client) RetryPackage(ctx context.Context, project, id string, mapping *spec.PackageMapping) (spec.Package, error) {
	var p spec.Package
	r := Request{Method: http.MethodPost, Path: PackagesPath(project) + "/" + url.PathEscape(id) + "/retry", Out: &p}
	if mapping != nil {
		r.Body = mapping
	}
	if err := c.Do(ctx, r); err != nil {
		return p, fmt.Errorf("retry package %s: %w", id, err)
	}
	return p, nil
}

// DeletePackage removes a package's record.
func (c *Client) DeletePackage(ctx context.Context, project, id string) error {
	if err := c.Delete(ctx, PackagesPath(project)+"/"+url.PathEscape(id)); err != nil {
		return fmt.Errorf("delete package %s: %w", id, err)
	}
	return nil
}

// RefusedPackage is the id of the package an import or a retry refused
// and recorded failed (the problem's package_id), or "".
func RefusedPackage(err error) string {
	e, ok := errors.AsType[*Error](err)
	if !ok {
		return ""
	}
	var p struct {
		PackageID string `json:"package_id"`
	}
	_ = json.Unmarshal(e.Raw, &p) // not JSON: no package
	return p.PackageID
}
