package adminapi

import (
	"errors"
	"strconv"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Listing launches a service into the catalog and removes it from there,
// each by a request its project's listing approver decides. Listing is
// separate from running: disabling a listed service hides it from the
// catalog and enabling it shows it again; delisting leaves it running.

// listingRequest is the body of POST …/listing.
type listingRequest struct {
	// Version is the version whose documentation the catalog shows;
	// default: the one running in the project's production group.
	Version     string `json:"version,omitempty"`
	AutoApprove bool   `json:"auto_approve,omitempty"`
	Comment     string `json:"comment,omitempty"`
}

// listingPatch is the body of PATCH …/listing.
type listingPatch struct {
	AutoApprove *bool `json:"auto_approve"`
}

func listingResource(project, service string) string {
	return "/projects/" + project + "/services/" + service + "/listing"
}

func (c *call) getListing() (any, error) {
	var l spec.Listing
	err := c.view(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		l, err = tx.GetListing(c.ctx(), s.ID)
		return onNotFound(err, "service %q is not listed in the catalog", s.Name)
	})
	return l, err
}

// pendingRequest finds a pending request of kind about subject.
func (c *call) pendingRequest(tx store.Tx, kind, subject string) (spec.Approval, bool, error) {
	items, _, err := tx.ListApprovals(c.ctx(), store.ApprovalFilter{Kind: kind, Subject: subject, State: spec.ApprovalPending},
		store.ListQuery{Page: 1, PageSize: 1})
	if err != nil || len(items) == 0 {
		return spec.Approval{}, false, err
	}
	return items[0], true, nil
}

// requestListing asks to launch the service (or to change the listed
// version and auto-approval): 202 with the request, approved at once
// when the caller may approve it.
func (c *call) requestListing() (any, error) {
	var req listingRequest
	if err := c.decodeCommented(&req, &req.Comment); err != nil {
		return nil, err
	}
	var a spec.Approval
	err := c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		p, err := c.loadProject(tx, s.ProjectID)
		if err != nil {
			return err
		}
		if req.Version == "" {
			d, err := tx.GetDeployment(c.ctx(), p.ProductionGroup, s.ID)
			if errors.Is(err, store.ErrNotFound) {
				return fieldError("version", "is required: service %q runs in no version in the production group %q", s.Name, p.ProductionGroup)
			}
			if err != nil {
				return err
			}
			req.Version = d.Version
		}
		if _, err := tx.GetVersion(c.ctx(), s.ID, req.Version); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fieldError("version", "service %q has no version %q", s.Name, req.Version)
			}
			return err
		}
		a, err = c.askListing(tx, s, p, spec.ApprovalListing, map[string]string{
			"version": req.Version, "auto_approve": strconv.FormatBool(req.AutoApprove)}, req.Comment)
		return err
	})
	return a, err
}

// askListing opens a listing or delisting request for s; one already
// pending is 409.
func (c *call) askListing(tx store.Tx, s spec.Service, p spec.Project, kind string, detail map[string]string, comment string) (spec.Approval, error) {
	for _, k := range []string{spec.ApprovalListing, spec.ApprovalDelisting} {
		if old, ok, err := c.pendingRequest(tx, k, s.ID); err != nil {
			return spec.Approval{}, err
		} else if ok {
			return spec.Approval{}, withDetail(store.ErrConflict, "a %s request of service %q is pending already (approval %s)", k, s.Name, old.ID)
		}
	}
	a := spec.Approval{Kind: kind, Project: s.ProjectID, Service: s.ID, ServiceName: s.Name, Subject: s.ID,
		ApproverRole: p.ListingApprover, Comment: comment, Detail: detail}
	if a.ApproverRole == "" {
		a.ApproverRole = spec.ApproverProjectAdmin
	}
	if err := c.openApproval(tx, &a); err != nil {
		return a, err
	}
	return a, c.nameApproval(tx, &a)
}

// requestDelisting asks to remove the service from the catalog.
func (c *call) requestDelisting() (any, error) {
	var req approvalDecision
	if err := c.decodeCommented(&req, &req.Comment); err != nil {
		return nil, err
	}
	var a spec.Approval
	err := c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		if _, err := tx.GetListing(c.ctx(), s.ID); err != nil {
			return onNotFound(err, "service %q is not listed in the catalog", s.Name)
		}
		p, err := c.loadProject(tx, s.ProjectID)
		if err != nil {
			return err
		}
		a, err = c.askListing(tx, s, p, spec.ApprovalDelisting, nil, req.Comment)
		return err
	})
	return a, err
}

// patchListing turns auto-approval of subscriptions on or off: a decision
// of whoever approves the project's requests.
func (c *call) patchListing() (any, error) {
	var req listingPatch
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.AutoApprove == nil {
		return nil, fieldError("auto_approve", "is required")
	}
	var l spec.Listing
	err := c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		if l, err = tx.GetListing(c.ctx(), s.ID); err != nil {
			return onNotFound(err, "service %q is not listed in the catalog", s.Name)
		}
		before := l
		l.AutoApprove = *req.AutoApprove
		if err := tx.PutListing(c.ctx(), &l); err != nil {
			return err
		}
		return c.auditChange(tx, "listing.update", listingResource(s.ProjectID, s.ID), before, l)
	})
	return l, err
}

// followProduction keeps a listed service's listed version that of its
// production group after a lifecycle publish or republish; a published
// service that is not listed yet asks to be (approved at once for a
// caller who may approve it, as a project admin publishing does).
func (c *call) followProduction(tx store.Tx, project, service, version string) error {
	if version == "" {
		return nil
	}
	l, err := tx.GetListing(c.ctx(), service)
	switch {
	case err == nil:
		if l.Version == version {
			return nil
		}
		before := l
		l.Version = version
		if err := tx.PutListing(c.ctx(), &l); err != nil {
			return err
		}
		return c.auditChangeIn(tx, project, "listing.update", listingResource(project, service), before, l)
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	s, err := tx.GetService(c.ctx(), project, service)
	if err != nil {
		return err
	}
	p, err := c.loadProject(tx, project)
	if err != nil {
		return err
	}
	if _, pending, err := c.pendingRequest(tx, spec.ApprovalListing, s.ID); err != nil || pending {
		return err
	}
	_, err = c.askListing(tx, s, p, spec.ApprovalListing, map[string]string{"version": version, "auto_approve": "false"},
		"published through the publishing lifecycle")
	return err
}

// Plans: what a service offers a subscription.

func planResource(project, service, id string) string {
	return "/projects/" + project + "/services/" + service + "/plans/" + id
}

func (c *call) listPlans() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		all, err := tx.ListPlans(c.ctx(), s.ID)
		items, total := pageOf(all, q, func(p spec.Plan) string { return p.Name })
		res = list(items, total)
		return err
	})
	return res, err
}

func (c *call) getPlan() (any, error) {
	var p spec.Plan
	err := c.view(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		p, err = tx.GetPlan(c.ctx(), s.ID, c.path("plan"))
		return onNotFound(err, "plan %q of service %q not found", c.path("plan"), s.Name)
	})
	return p, err
}

func (c *call) createPlan() (any, error) {
	var p spec.Plan
	if err := c.decode(&p); err != nil {
		return nil, err
	}
	if p.ID != "" || p.ServiceID != "" || p.ProjectID != "" {
		return nil, fieldError("id", "id, service and project are set by the server")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	err := c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		p.ID, p.ServiceID, p.ProjectID = newID(), s.ID, s.ProjectID
		if err := tx.CreatePlan(c.ctx(), &p); err != nil {
			return onConflict(err, "service %q has a plan named %q already", s.Name, p.Name)
		}
		return c.auditChange(tx, "plan.create", planResource(s.ProjectID, s.ID, p.ID), nil, p)
	})
	return p, err
}

// putPlan replaces a plan; subscriptions on it count by its new quotas
// from the next revision on.
func (c *call) putPlan() (any, error) {
	var p spec.Plan
	if err := c.decode(&p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	err := c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		old, err := tx.GetPlan(c.ctx(), s.ID, c.path("plan"))
		if err != nil {
			return onNotFound(err, "plan %q of service %q not found", c.path("plan"), s.Name)
		}
		if (p.ID != "" && p.ID != old.ID) || (p.ServiceID != "" && p.ServiceID != s.ID) || (p.ProjectID != "" && p.ProjectID != s.ProjectID) {
			return fieldError("id", "id, service and project cannot change")
		}
		p.ID, p.ServiceID, p.ProjectID = old.ID, s.ID, s.ProjectID
		if err := tx.UpdatePlan(c.ctx(), &p); err != nil {
			return onConflict(err, "service %q has a plan named %q already", s.Name, p.Name)
		}
		res := planResource(s.ProjectID, s.ID, p.ID)
		if err := c.auditChange(tx, "plan.update", res, old, p); err != nil {
			return err
		}
		return c.commitConsumers(tx, "plan.update", res)
	})
	return p, err
}

func (c *call) deletePlan() (any, error) {
	return nil, c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		p, err := tx.GetPlan(c.ctx(), s.ID, c.path("plan"))
		if err != nil {
			return onNotFound(err, "plan %q of service %q not found", c.path("plan"), s.Name)
		}
		if err := tx.DeletePlan(c.ctx(), s.ID, p.ID); err != nil {
			return onConflict(err, "plan %q is used by subscriptions; they must end first", p.Name)
		}
		return c.auditChange(tx, "plan.delete", planResource(s.ProjectID, s.ID, p.ID), p, nil)
	})
}
