package adminapi

import (
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// catalogEntry is one listed (published) service: what runs where, and on
// which public paths.
type catalogEntry struct {
	ID              string              `json:"id"`
	Name            string              `json:"name"`
	Description     string              `json:"description,omitempty"`
	Labels          map[string]string   `json:"labels,omitempty"`
	Project         string              `json:"project"`
	TestGroup       string              `json:"test_group"`
	ProductionGroup string              `json:"production_group"`
	Versions        map[string]string   `json:"versions"` // gateway group → the version running there
	URLs            map[string][]string `json:"urls"`     // gateway group → public paths of the online routes
	UpdatedAt       time.Time           `json:"updated_at"`
}

// catalogEntryOf reads where a published service runs.
func (c *call) catalogEntryOf(tx store.Tx, s spec.Service) (catalogEntry, error) {
	e := catalogEntry{ID: s.ID, Name: s.Name, Description: s.Description, Labels: s.Labels, Project: s.ProjectID,
		Versions: map[string]string{}, URLs: map[string][]string{}, UpdatedAt: s.UpdatedAt}
	p, err := tx.GetProject(c.ctx(), s.ProjectID)
	if err != nil {
		return e, fmt.Errorf("catalog entry %q: project: %w", s.Name, err)
	}
	e.TestGroup, e.ProductionGroup = p.TestGroup, p.ProductionGroup
	deps, err := tx.ListDeploymentsByService(c.ctx(), s.ID)
	if err != nil {
		return e, fmt.Errorf("catalog entry %q: %w", s.Name, err)
	}
	for _, d := range deps {
		g, err := tx.GetGroup(c.ctx(), d.Group)
		if err != nil {
			return e, fmt.Errorf("catalog entry %q: group %q: %w", s.Name, d.Group, err)
		}
		v, err := tx.GetVersion(c.ctx(), s.ID, d.Version)
		if err != nil {
			return e, fmt.Errorf("catalog entry %q: version %q: %w", s.Name, d.Version, err)
		}
		urls := []string{}
		for i := range v.Service.Routes {
			if r := &v.Service.Routes[i]; r.IsOnline() {
				urls = append(urls, spec.RoutePaths(g.PathPrefix, d.ProjectID, &v.Service, r)...)
			}
		}
		e.Versions[d.Group], e.URLs[d.Group] = d.Version, urls
	}
	return e, nil
}

// listCatalog lists the published services of every project by name; a
// draft, submitted or disabled service is not listed.
func (c *call) listCatalog() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		svcs, total, err := tx.ListServicesInState(c.ctx(), spec.StatePublished, q)
		if err != nil {
			return fmt.Errorf("list the catalog: %w", err)
		}
		items := make([]catalogEntry, 0, len(svcs))
		for _, s := range svcs {
			e, err := c.catalogEntryOf(tx, s)
			if err != nil {
				return err
			}
			items = append(items, e)
		}
		res = list(items, total)
		return nil
	})
	return res, err
}

// getCatalogEntry finds a listed service by id, or by name (?project=
// picks one when several projects list a service of that name).
func (c *call) getCatalogEntry() (any, error) {
	key, project := c.path("service"), c.r.URL.Query().Get("project")
	var out catalogEntry
	err := c.view(func(tx store.Tx) error {
		var found []spec.Service
		for page := 1; ; page++ {
			svcs, total, err := tx.ListServicesInState(c.ctx(), spec.StatePublished, store.ListQuery{Page: page, PageSize: 500})
			if err != nil {
				return fmt.Errorf("find %q in the catalog: %w", key, err)
			}
			for _, s := range svcs {
				if s.ID == key {
					found = []spec.Service{s}
					break
				}
				if s.Name == key && (project == "" || s.ProjectID == project) {
					found = append(found, s)
				}
			}
			if len(found) == 1 && found[0].ID == key || len(svcs) == 0 || page*500 >= total {
				break
			}
		}
		switch len(found) {
		case 0:
			return withDetail(store.ErrNotFound, "service %q is not listed in the catalog", key)
		case 1:
		default:
			projects := make([]string, len(found))
			for i, s := range found {
				projects[i] = s.ProjectID
			}
			return withDetail(store.ErrConflict, "projects %q each list a service named %q; pick one with ?project= or use its id", projects, key)
		}
		var err error
		out, err = c.catalogEntryOf(tx, found[0])
		return err
	})
	return out, err
}
