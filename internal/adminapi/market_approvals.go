package adminapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Approvals are requests of the API market: launching a service into the
// catalog, removing it, subscribing to it. A request is decided by a
// project admin of the service's project (a member holding
// approval:review there) or, for a project whose listing_approver is
// super_admin, by a super admin; a super admin may decide any. Every
// state change is one transaction: the request, what it changes (the
// listing, the subscription and the gateways' consumers), the audit log
// and the project's webhook delivery.

// MarketEvents queues an approval event for the project's webhook inside
// the transaction that made it (webhook.Enqueue); nil: no webhooks.
type MarketEvents func(ctx context.Context, tx store.Tx, project, event string, data any) error

// approvalDecision is the body of approve, reject and cancel.
type approvalDecision struct {
	Comment string `json:"comment,omitempty"`
}

const maxComment = 2000

func approvalResource(id string) string { return "/approvals/" + id }

// canReview reports whether the caller may decide a.
func (c *call) canReview(a spec.Approval) bool {
	if c.who == nil {
		return false
	}
	if c.who.Super() {
		return true
	}
	return a.ApproverRole == spec.ApproverProjectAdmin && c.who.Has(rbac.ApprovalReview, a.Project)
}

// loadApproval reads a request the caller made or may decide; any other
// is answered like a missing one.
func (c *call) loadApproval(tx store.Tx, id string) (spec.Approval, error) {
	a, err := tx.GetApproval(c.ctx(), id)
	if err == nil && a.Requester != c.user.ID && !c.canReview(a) {
		err = fmt.Errorf("approval %s of another: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return a, onNotFound(err, "approval %q not found", id)
	}
	return a, c.nameApproval(tx, &a)
}

// nameApproval fills the user names of a request and its history.
func (c *call) nameApproval(tx store.Tx, a *spec.Approval) error {
	names := map[string]string{}
	name := func(id string) (string, error) {
		if id == "" {
			return "", nil
		}
		if n, ok := names[id]; ok {
			return n, nil
		}
		u, err := tx.GetUser(c.ctx(), id)
		if errors.Is(err, store.ErrNotFound) {
			names[id] = ""
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("approval %s: user %s: %w", a.ID, id, err)
		}
		names[id] = u.Username
		return u.Username, nil
	}
	var err error
	if a.RequesterName, err = name(a.Requester); err != nil {
		return err
	}
	for i := range a.History {
		if a.History[i].ActorName, err = name(a.History[i].Actor); err != nil {
			return err
		}
	}
	return nil
}

// openApproval records a new request and tells the project's webhook. A
// requester who may decide it has it approved at once (a project admin
// launching their own service), with both steps in its history.
func (c *call) openApproval(tx store.Tx, a *spec.Approval) error {
	a.Requester, a.State = c.user.ID, spec.ApprovalPending
	if err := tx.CreateApproval(c.ctx(), a); err != nil {
		return fmt.Errorf("request %s: %w", a.Kind, err)
	}
	if err := c.auditChangeIn(tx, a.Project, "approval.request", approvalResource(a.ID), nil, a); err != nil {
		return err
	}
	if err := c.marketEvent(tx, a.Project, "approval.requested", *a); err != nil {
		return err
	}
	if c.canReview(*a) {
		return c.decide(tx, a, spec.ApprovalApproved, "approved by the requester, who may approve it")
	}
	return nil
}

// decide moves a pending request to state and carries out what approving
// it means; rejecting and cancelling undo what was waiting for it.
func (c *call) decide(tx store.Tx, a *spec.Approval, state, comment string) error {
	action := map[string]string{spec.ApprovalApproved: "approved", spec.ApprovalRejected: "rejected", spec.ApprovalCancelled: "cancelled"}[state]
	ev := spec.ApprovalEvent{Actor: c.user.ID, Action: action, Comment: comment}
	if err := tx.DecideApproval(c.ctx(), a.ID, state, &ev); err != nil {
		return onConflict(err, "the request is %s, not pending", a.State)
	}
	before := *a
	a.State, a.UpdatedAt = state, ev.At
	a.History = append(a.History, ev)
	var err error
	switch {
	case state == spec.ApprovalApproved:
		err = c.carryOut(tx, *a)
	case a.Kind == spec.ApprovalSubscription:
		err = c.endSubscriptionRequest(tx, *a, state)
	}
	if err != nil {
		return err
	}
	if err := c.auditChangeIn(tx, a.Project, "approval."+action, approvalResource(a.ID), before, *a); err != nil {
		return err
	}
	return c.marketEvent(tx, a.Project, "approval."+action, *a)
}

// carryOut does what an approved request asked.
func (c *call) carryOut(tx store.Tx, a spec.Approval) error {
	switch a.Kind {
	case spec.ApprovalListing:
		auto, _ := strconv.ParseBool(a.Detail["auto_approve"])
		l := spec.Listing{ServiceID: a.Service, ProjectID: a.Project, Version: a.Detail["version"], AutoApprove: auto, ListedBy: a.Requester}
		if old, err := tx.GetListing(c.ctx(), a.Service); err == nil {
			l.ListedAt = old.ListedAt
		}
		if err := tx.PutListing(c.ctx(), &l); err != nil {
			return onNotFound(err, "service %q no longer exists", a.ServiceName)
		}
		return c.auditChangeIn(tx, a.Project, "listing.put", listingResource(a.Project, a.Service), nil, l)
	case spec.ApprovalDelisting:
		err := tx.DeleteListing(c.ctx(), a.Service)
		if errors.Is(err, store.ErrNotFound) {
			return nil // delisted meanwhile: the request's aim holds
		}
		if err != nil {
			return err
		}
		return c.auditChangeIn(tx, a.Project, "listing.delete", listingResource(a.Project, a.Service), map[string]string{"service": a.Service}, nil)
	case spec.ApprovalSubscription:
		s, err := tx.GetSubscription(c.ctx(), a.Subject)
		if err != nil {
			return onNotFound(err, "the subscription of this request no longer exists")
		}
		before := s
		s.State = spec.SubscriptionApproved
		if err := tx.UpdateSubscription(c.ctx(), &s); err != nil {
			return err
		}
		res := subscriptionResource(s.ID)
		if err := c.auditChangeIn(tx, s.ProjectID, "subscription.approve", res, before, s); err != nil {
			return err
		}
		return c.commitConsumers(tx, "subscription.approve", res)
	}
	return fmt.Errorf("approval %s: unknown kind %q", a.ID, a.Kind)
}

// endSubscriptionRequest marks a subscription whose request was rejected
// or cancelled; it never admitted anything, so the gateways keep theirs.
func (c *call) endSubscriptionRequest(tx store.Tx, a spec.Approval, state string) error {
	s, err := tx.GetSubscription(c.ctx(), a.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil // unsubscribed meanwhile
	}
	if err != nil {
		return err
	}
	if s.Approval != a.ID || s.State != spec.SubscriptionPending {
		return nil
	}
	s.State = spec.SubscriptionRejected
	if state == spec.ApprovalCancelled {
		s.State = spec.SubscriptionCancelled
	}
	return tx.UpdateSubscription(c.ctx(), &s)
}

func (c *call) marketEvent(tx store.Tx, project, event string, a spec.Approval) error {
	if c.s.events == nil {
		return nil
	}
	if err := c.s.events(c.ctx(), tx, project, event, a); err != nil {
		return fmt.Errorf("webhook %s: %w", event, err)
	}
	return nil
}

// listApprovals answers one inbox: box=mine (submitted by the caller) or
// box=todo (what the caller may decide; pending unless ?state= says
// otherwise).
func (c *call) listApprovals() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	qs := c.r.URL.Query()
	f := store.ApprovalFilter{State: qs.Get("state"), Kind: qs.Get("kind"), Service: qs.Get("service")}
	if f.State != "" && !contains(spec.ApprovalStates, f.State) {
		return nil, fieldError("state", "must be one of %v", spec.ApprovalStates)
	}
	if f.Kind != "" && !contains(spec.ApprovalKinds, f.Kind) {
		return nil, fieldError("kind", "must be one of %v", spec.ApprovalKinds)
	}
	switch box := qs.Get("box"); box {
	case "", "mine":
		f.Requester = c.user.ID
	case "todo":
		if !qs.Has("state") {
			f.State = spec.ApprovalPending
		}
		if !c.who.Super() {
			ids, _ := c.who.Projects(rbac.ApprovalReview)
			f.Projects, f.ApproverRoles = append([]string{}, ids...), []string{spec.ApproverProjectAdmin}
		} else {
			f.AllProjects = true
		}
	default:
		return nil, fieldError("box", "must be mine or todo")
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		items, total, err := tx.ListApprovals(c.ctx(), f, q)
		if err != nil {
			return fmt.Errorf("list approvals: %w", err)
		}
		for i := range items {
			if err := c.nameApproval(tx, &items[i]); err != nil {
				return err
			}
		}
		res = list(items, total)
		return nil
	})
	return res, err
}

func (c *call) getApproval() (any, error) {
	var a spec.Approval
	err := c.view(func(tx store.Tx) error {
		var err error
		a, err = c.loadApproval(tx, c.path("id"))
		return err
	})
	return a, err
}

// decideApproval is approve, reject (an approver) and cancel (the
// requester).
func decideApproval(state string) func(*call) (any, error) {
	return func(c *call) (any, error) {
		var d approvalDecision
		if err := c.decodeCommented(&d, &d.Comment); err != nil {
			return nil, err
		}
		var a spec.Approval
		err := c.tx(func(tx store.Tx) error {
			var err error
			if a, err = c.loadApproval(tx, c.path("id")); err != nil {
				return err
			}
			if state == spec.ApprovalCancelled {
				if a.Requester != c.user.ID {
					return &rbac.DeniedError{Permission: rbac.ApprovalOwn, Reason: "only the requester cancels a request"}
				}
			} else if !c.canReview(a) {
				return &rbac.DeniedError{Permission: rbac.ApprovalReview, Project: a.Project,
					Reason: "deciding this request needs a " + a.ApproverRole}
			}
			if a.State != spec.ApprovalPending {
				return withDetail(store.ErrConflict, "the request is %s; only a pending one can be %s", a.State, state)
			}
			if err := c.decide(tx, &a, state, d.Comment); err != nil {
				return err
			}
			return c.nameApproval(tx, &a)
		})
		return a, err
	}
}

// decodeCommented decodes a body that may be left out and whose comment
// (at *comment once decoded) goes into a request's history.
func (c *call) decodeCommented(v any, comment *string) error {
	if err := c.decodeOptional(v); err != nil {
		return err
	}
	if len(*comment) > maxComment {
		return fieldError("comment", "is longer than %d characters", maxComment)
	}
	return nil
}

// decodeOptional is decode for a body that may be left out.
func (c *call) decodeOptional(v any) error {
	b, err := c.readBody()
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return err
	}
	return strictDecode(b, v)
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
