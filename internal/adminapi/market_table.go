package adminapi

import (
	"net/http"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
)

// marketEndpoints are the rows of the API market: the catalog, listing,
// plans, subscriptions, approvals, project webhooks and sign-up.
func (s *server) marketEndpoints() []endpoint {
	const (
		P  = "/projects/{p}"
		S  = P + "/services/{s}"
		L  = S + "/listing"
		PL = S + "/plans/{plan}"
		AP = "/approvals/{id}"
		ok = http.StatusOK
		cr = http.StatusCreated
		ac = http.StatusAccepted
		nc = http.StatusNoContent
	)
	subQuery := []string{"page", "page_size", "application", "service", "state", "project"}
	return []endpoint{
		{method: "POST", path: "/auth/signup", tag: "session", summary: "Create an account (system role user) and answer a session, as login does; only on an install started with --portal-signup (404 otherwise); at most 5 per client address an hour", req: signupRequest{}, resp: loginResponse{}, status: cr, public: true, handle: (*call).signup},

		{method: "GET", path: "/catalog", tag: "catalog", perm: rbac.CatalogRead, summary: "The listed, published services of every project, with folder, listing, plans, versions and URLs per gateway group (absolute on groups with a public_url)", resp: catalogEntry{}, list: true, query: []string{"page", "page_size", "q", "tag", "folder", "project"}, search: "name or description", status: ok, handle: (*call).listCatalog},
		{method: "GET", path: "/catalog/{service}", tag: "catalog", perm: rbac.CatalogRead, summary: "One listed service, by id or name, with the caller's own subscriptions to it", resp: catalogEntry{}, query: []string{"project"}, status: ok, handle: (*call).getCatalogEntry},
		{method: "GET", path: "/catalog/{service}/openapi", tag: "catalog", perm: rbac.CatalogRead, summary: "The OpenAPI 3.1 description of the listed version (JSON; YAML with Accept: application/yaml or ?format=yaml): the service's documentation", query: []string{"project", "format"}, status: ok, handle: (*call).catalogOpenAPI},
		{method: "POST", path: "/catalog/{service}/try", tag: "catalog", perm: rbac.CatalogRead, summary: "Try it: send one request to the listed service through its project's test group (put your own credential in headers) and answer status, headers, body and latency", req: debugRequest{}, resp: debugResponse{}, query: []string{"project"}, status: ok, handle: (*call).tryListed},

		{method: "GET", path: L, tag: "catalog", perm: rbac.ServiceRead, summary: "The service's listing in the catalog (404 when not listed)", resp: spec.Listing{}, status: ok, handle: (*call).getListing},
		{method: "POST", path: L, tag: "catalog", perm: rbac.ListingRequest, summary: "Ask to launch the service into the catalog (or to change the listed version or auto-approval): answers the request, approved at once when the caller may approve it", req: listingRequest{}, resp: spec.Approval{}, status: ac, handle: (*call).requestListing},
		{method: "PATCH", path: L, tag: "catalog", perm: rbac.ApprovalReview, summary: "Turn auto-approval of subscriptions on or off", req: listingPatch{}, resp: spec.Listing{}, status: ok, handle: (*call).patchListing},
		{method: "DELETE", path: L, tag: "catalog", perm: rbac.ListingRequest, summary: "Ask to remove the service from the catalog (it keeps running): answers the request", req: approvalDecision{}, resp: spec.Approval{}, status: ac, handle: (*call).requestDelisting},

		{method: "GET", path: S + "/plans", tag: "plans", perm: rbac.ServiceRead, summary: "The plans a service offers its subscriptions", resp: spec.Plan{}, list: true, query: listParams, status: ok, handle: (*call).listPlans},
		{method: "POST", path: S + "/plans", tag: "plans", perm: rbac.ServiceWrite, summary: "Offer a plan: quotas per second, minute, hour, day or month (a day and a month in the gateway group's time zone)", req: spec.Plan{}, resp: spec.Plan{}, status: cr, handle: (*call).createPlan},
		{method: "GET", path: PL, tag: "plans", perm: rbac.ServiceRead, summary: "Get a plan (id or name)", resp: spec.Plan{}, status: ok, handle: (*call).getPlan},
		{method: "PUT", path: PL, tag: "plans", perm: rbac.ServiceWrite, summary: "Replace a plan; its subscriptions count by the new quotas from the next revision", req: spec.Plan{}, resp: spec.Plan{}, status: ok, handle: (*call).putPlan},
		{method: "DELETE", path: PL, tag: "plans", perm: rbac.ServiceWrite, summary: "Delete a plan no subscription uses (409 otherwise)", status: nc, handle: (*call).deletePlan},

		{method: "GET", path: "/subscriptions", tag: "subscriptions", perm: rbac.SubscriptionOwn, summary: "List subscriptions: the caller's own applications'; with ?project= where the caller holds subscription:read, every subscription to the project's services", resp: spec.Subscription{}, list: true, query: subQuery, status: ok, handle: (*call).listSubscriptions},
		{method: "POST", path: "/subscriptions", tag: "subscriptions", perm: rbac.SubscriptionOwn, summary: "Apply for a subscription of a user's application to a listed service (with a plan when it offers plans): approved at once when the listing says auto_approve, otherwise pending with a request to the project's admins", req: spec.Subscription{}, resp: spec.Subscription{}, status: cr, handle: (*call).createSubscription},
		{method: "GET", path: "/subscriptions/{id}", tag: "subscriptions", perm: rbac.SubscriptionOwn, summary: "Get a subscription", resp: spec.Subscription{}, status: ok, handle: (*call).getSubscription},
		{method: "GET", path: "/subscriptions/{id}/usage", tag: "subscriptions", perm: rbac.SubscriptionOwn, summary: "What the subscription used of its plan in the current periods (calls today and this month, and each quota), as the gateways count it", resp: usageAnswer{}, status: ok, handle: (*call).subscriptionUsage},
		{method: "DELETE", path: "/subscriptions/{id}", tag: "subscriptions", perm: rbac.SubscriptionOwn, summary: "Unsubscribe (no approval needed; a pending request is cancelled)", status: nc, handle: (*call).deleteSubscription},

		{method: "GET", path: "/approvals", tag: "approvals", perm: rbac.ApprovalOwn, summary: "One inbox: box=mine lists the requests the caller submitted, box=todo those the caller may decide", resp: spec.Approval{}, list: true, query: []string{"page", "page_size", "box", "state", "kind", "service"}, status: ok, handle: (*call).listApprovals},
		{method: "GET", path: AP, tag: "approvals", perm: rbac.ApprovalOwn, summary: "A request with its history (the requester's or one the caller may decide)", resp: spec.Approval{}, status: ok, handle: (*call).getApproval},
		{method: "POST", path: AP + "/approve", tag: "approvals", perm: rbac.ApprovalOwn, summary: "Approve a pending request (its project's admins, or a super admin) and carry it out", req: approvalDecision{}, resp: spec.Approval{}, status: ok, handle: decideApproval(spec.ApprovalApproved)},
		{method: "POST", path: AP + "/reject", tag: "approvals", perm: rbac.ApprovalOwn, summary: "Reject a pending request", req: approvalDecision{}, resp: spec.Approval{}, status: ok, handle: decideApproval(spec.ApprovalRejected)},
		{method: "POST", path: AP + "/cancel", tag: "approvals", perm: rbac.ApprovalOwn, summary: "Cancel a pending request (its requester)", req: approvalDecision{}, resp: spec.Approval{}, status: ok, handle: decideApproval(spec.ApprovalCancelled)},

		{method: "GET", path: P + "/webhook", tag: "projects", perm: rbac.ProjectRead, summary: "The project's webhook receiver of approval events (never its secret)", resp: spec.Webhook{}, status: ok, handle: (*call).getWebhook},
		{method: "PUT", path: P + "/webhook", tag: "projects", perm: rbac.ProjectUpdate, summary: "Set the project's webhook receiver; a secret left out is kept, or generated (when there is none, or with rotate_secret) and shown in this answer only", req: webhookRequest{}, resp: spec.Webhook{}, status: ok, handle: (*call).putWebhook},
		{method: "DELETE", path: P + "/webhook", tag: "projects", perm: rbac.ProjectUpdate, summary: "Remove the project's webhook receiver", status: nc, handle: (*call).deleteWebhook},
		{method: "GET", path: P + "/webhook/deliveries", tag: "projects", perm: rbac.ProjectRead, summary: "The webhook's deliveries (newest first) with attempts and the last error", resp: webhookDelivery{}, list: true, query: []string{"page", "page_size"}, status: ok, handle: (*call).listWebhookDeliveries},
	}
}
