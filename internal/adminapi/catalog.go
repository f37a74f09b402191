package adminapi

import (
	"fmt"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/openapi"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// catalogEntry is one listed service as the market shows it: what it is,
// what runs where and on which URLs, what it offers a subscription.
type catalogEntry struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Description     string            `json:"description,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	Project         string            `json:"project"`
	Folder          *catalogFolder    `json:"folder,omitempty"`
	Listing         spec.Listing      `json:"listing"`
	TestGroup       string            `json:"test_group"`
	ProductionGroup string            `json:"production_group"`
	Versions        map[string]string `json:"versions"` // gateway group → the version running there
	// URLs are the public paths of the online routes per gateway group;
	// PublicURLs the same as absolute URLs on the groups that have a
	// public_url.
	URLs       map[string][]string `json:"urls"`
	PublicURLs map[string][]string `json:"public_urls,omitempty"`
	Plans      []spec.Plan         `json:"plans"`
	// Subscriptions are the caller's own to the service (one entry only).
	Subscriptions []spec.Subscription `json:"subscriptions,omitempty"`
	UpdatedAt     time.Time           `json:"updated_at"`
}

type catalogFolder struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Path string `json:"path,omitempty"`
}

// catalogEntryOf reads where a listed service runs and what it offers.
func (c *call) catalogEntryOf(tx store.Tx, s spec.Service) (catalogEntry, error) {
	e := catalogEntry{ID: s.ID, Name: s.Name, Description: s.Description, Labels: s.Labels, Project: s.ProjectID,
		Versions: map[string]string{}, URLs: map[string][]string{}, UpdatedAt: s.UpdatedAt}
	p, err := tx.GetProject(c.ctx(), s.ProjectID)
	if err != nil {
		return e, fmt.Errorf("catalog entry %q: project: %w", s.Name, err)
	}
	e.TestGroup, e.ProductionGroup = p.TestGroup, p.ProductionGroup
	if e.Listing, err = tx.GetListing(c.ctx(), s.ID); err != nil {
		return e, fmt.Errorf("catalog entry %q: %w", s.Name, err)
	}
	if s.FolderID != "" {
		f, err := tx.GetFolder(c.ctx(), s.ProjectID, s.FolderID)
		if err != nil {
			return e, fmt.Errorf("catalog entry %q: folder: %w", s.Name, err)
		}
		e.Folder = &catalogFolder{ID: f.ID, Name: f.Name, Path: f.Path}
	}
	if e.Plans, err = tx.ListPlans(c.ctx(), s.ID); err != nil {
		return e, fmt.Errorf("catalog entry %q: %w", s.Name, err)
	}
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
		if g.PublicURL != "" {
			if e.PublicURLs == nil {
				e.PublicURLs = map[string][]string{}
			}
			abs := make([]string, len(urls))
			for i, u := range urls {
				abs[i] = g.PublicURL + u
			}
			e.PublicURLs[d.Group] = abs
		}
	}
	return e, nil
}

// listCatalog lists the listed, published services of every project by
// name; a draft, submitted, disabled or unlisted one is not shown.
func (c *call) listCatalog() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	qs := c.r.URL.Query()
	f := store.CatalogFilter{Q: q.Q, Folder: qs.Get("folder"), Tag: qs.Get("tag"), Project: qs.Get("project")}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		svcs, total, err := tx.ListCatalog(c.ctx(), f, q)
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

// findListed finds a listed service by id, or by name (?project= picks
// one when several projects list a service of that name).
func (c *call) findListed(tx store.Tx, key, project string) (spec.Service, error) {
	var found []spec.Service
	for page := 1; ; page++ {
		svcs, total, err := tx.ListCatalog(c.ctx(), store.CatalogFilter{Project: project}, store.ListQuery{Page: page, PageSize: 500})
		if err != nil {
			return spec.Service{}, fmt.Errorf("find %q in the catalog: %w", key, err)
		}
		for _, s := range svcs {
			if s.ID == key {
				return s, nil
			}
			if s.Name == key {
				found = append(found, s)
			}
		}
		if len(svcs) == 0 || page*500 >= total {
			break
		}
	}
	switch len(found) {
	case 0:
		return spec.Service{}, withDetail(store.ErrNotFound, "service %q is not listed in the catalog", key)
	case 1:
		return found[0], nil
	}
	projects := make([]string, len(found))
	for i, s := range found {
		projects[i] = s.ProjectID
	}
	return spec.Service{}, withDetail(store.ErrConflict, "projects %q each list a service named %q; pick one with ?project= or use its id", projects, key)
}

// getCatalogEntry answers one listed service with the caller's own
// subscriptions to it ("already requested", "approved").
func (c *call) getCatalogEntry() (any, error) {
	var out catalogEntry
	err := c.view(func(tx store.Tx) error {
		s, err := c.findListed(tx, c.path("service"), c.r.URL.Query().Get("project"))
		if err != nil {
			return err
		}
		if out, err = c.catalogEntryOf(tx, s); err != nil {
			return err
		}
		subs, err := store.All(func(q store.ListQuery) ([]spec.Subscription, int, error) {
			return tx.ListSubscriptions(c.ctx(), store.SubscriptionFilter{ServiceID: s.ID, Owner: c.user.ID}, q)
		})
		out.Subscriptions = subs
		return err
	})
	return out, err
}

// catalogOpenAPI answers the description of the listed version: what the
// portal renders as the service's documentation.
func (c *call) catalogOpenAPI() (any, error) {
	asYAML, err := c.wantsYAML()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	err = c.view(func(tx store.Tx) error {
		s, err := c.findListed(tx, c.path("service"), c.r.URL.Query().Get("project"))
		if err != nil {
			return err
		}
		l, err := tx.GetListing(c.ctx(), s.ID)
		if err != nil {
			return err
		}
		v, err := tx.GetVersion(c.ctx(), s.ID, l.Version)
		if err != nil {
			return onNotFound(err, "the listed version %q of service %q no longer exists", l.Version, s.Name)
		}
		servers, err := c.gatewayServers(tx, &v.Service, "")
		if err != nil {
			return err
		}
		doc, err = openapi.Export(&v.Service, openapi.ExportOptions{Servers: servers, Version: v.Version, Derive: deriveOperation})
		return err
	})
	if err != nil {
		return nil, err
	}
	return openAPIAnswer(doc, asYAML)
}

// tryListed sends one request to a listed service through its project's
// test group, as the portal's "try it" does: with the caller's own
// credential in the headers, so it proves what their subscription admits.
func (c *call) tryListed() (any, error) {
	var req debugRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Group != "" {
		return nil, fieldError("group", "try it always goes to the service's test group")
	}
	ref, err := checkDebugRequest(&req)
	if err != nil {
		return nil, err
	}
	var target string
	err = c.view(func(tx store.Tx) error {
		s, err := c.findListed(tx, c.path("service"), c.r.URL.Query().Get("project"))
		if err != nil {
			return err
		}
		p, err := c.loadProject(tx, s.ProjectID)
		if err != nil {
			return err
		}
		if _, err := tx.GetDeployment(c.ctx(), p.TestGroup, s.ID); err != nil {
			return onNotFound(err, "service %q does not run in its test group %q", s.Name, p.TestGroup)
		}
		g, err := tx.GetGroup(c.ctx(), p.TestGroup)
		if err != nil {
			return fmt.Errorf("try: group %q: %w", p.TestGroup, err)
		}
		req.Group = g.Name
		target = spec.GroupPrefix(g.PathPrefix, s.ProjectID) + strings.TrimRight(s.EffectivePath(), "/")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c.sendToGroup(req, target, ref)
}
