package adminapi

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// eventLog records the market events the admin API queues for webhooks,
// committed or not: a test reads what the last call queued.
type eventLog struct {
	mu     sync.Mutex
	events []string // "project event kind state"
}

func (l *eventLog) hook(_ context.Context, _ store.Tx, project, event string, data any) error {
	a := data.(spec.Approval)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, project+" "+event+" "+a.Kind+" "+a.State)
	return nil
}

func (l *eventLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// marketAPI is the shop project (test and production groups) with its
// user service published by the admin (and so listed), a project admin,
// a provider, and two developers without projects.
type marketAPI struct {
	*testAPI
	events           *eventLog
	svc              spec.Service
	admin, provider  string
	dev1, dev2       string
	dev1App, dev2App spec.Application
}

func newMarketAPI(t *testing.T) *marketAPI {
	t.Helper()
	events := &eventLog{}
	a := newTestAPI(t, func(c *Config) { c.Events = events.hook })
	a.mustJSON("POST", "/gateway-groups", map[string]any{"name": "test", "path_prefix": "/api/gateway/test/{project}"}, http.StatusCreated, nil)
	a.mustJSON("POST", "/gateway-groups", map[string]any{"name": "production", "path_prefix": "/api/gateway", "public_url": "https://api.example.com"}, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects", map[string]any{"id": "shop", "test_group": "test", "production_group": "production"}, http.StatusCreated, nil)
	var s spec.Service
	a.mustJSON("POST", "/projects/shop/services", map[string]any{"name": "user", "path": "/user/active", "upstream": testUpstream,
		"labels": map[string]string{"team": "crm"}, "routes": []map[string]any{{"name": "user_info"}}}, http.StatusCreated, &s)
	m := &marketAPI{testAPI: a, events: events, svc: s}
	m.admin = a.member(t, "ada", "shop", rbac.ProjectAdmin)
	m.provider = a.member(t, "pat", "shop", rbac.APIProvider)
	m.dev1 = a.member(t, "dev1", "", "")
	m.dev2 = a.member(t, "dev2", "", "")
	a.mustJSON("POST", "/projects/shop/services/user/actions/submit", nil, http.StatusOK, nil)
	a.mustJSON("POST", "/projects/shop/services/user/actions/publish", nil, http.StatusOK, nil)
	for _, d := range []struct {
		tok string
		app *spec.Application
	}{{m.dev1, &m.dev1App}, {m.dev2, &m.dev2App}} {
		a.decode(a.doToken(d.tok, "POST", "/applications", map[string]any{"name": "mine"}), d.app)
	}
	events.take()
	return m
}

func (m *marketAPI) catalogNames(t *testing.T, token string) []string {
	t.Helper()
	var cat listResultOf[catalogEntry]
	m.decode(m.doToken(token, "GET", "/catalog", nil), &cat)
	var names []string
	for _, e := range cat.Items {
		names = append(names, e.Project+"/"+e.Name)
	}
	return names
}

// TestListingIsApprovedByTheProjectAdmin: publishing lists a service;
// the provider asks to remove it and to launch it again, each request
// waits in the project admin's inbox (and no one else's), and only the
// approval changes the catalog; every step reaches the webhook.
func TestListingIsApprovedByTheProjectAdmin(t *testing.T) {
	m := newMarketAPI(t)
	if got := m.catalogNames(t, m.dev1); !slices.Equal(got, []string{"shop/user"}) {
		t.Fatalf("catalog after publishing = %v", got)
	}

	var req spec.Approval
	m.decode(m.doToken(m.provider, "DELETE", "/projects/shop/services/user/listing", map[string]any{"comment": "retire"}), &req)
	if req.Kind != spec.ApprovalDelisting || req.State != spec.ApprovalPending || req.RequesterName != "pat" || req.ApproverRole != spec.ApproverProjectAdmin {
		t.Fatalf("delisting request = %+v", req)
	}
	wantConflict(t, "a second request", m.doToken(m.provider, "POST", "/projects/shop/services/user/listing", nil), "pending already")
	if got := m.catalogNames(t, m.dev1); len(got) != 1 {
		t.Fatalf("a pending delisting changed the catalog: %v", got)
	}
	// The inboxes: the provider's own, the admin's to-review; a
	// developer sees neither the request nor may decide it.
	var inbox listResultOf[spec.Approval]
	m.decode(m.doToken(m.provider, "GET", "/approvals?box=mine", nil), &inbox)
	if inbox.Total != 1 || inbox.Items[0].ID != req.ID {
		t.Fatalf("provider's requests = %+v", inbox)
	}
	m.decode(m.doToken(m.admin, "GET", "/approvals?box=todo", nil), &inbox)
	if inbox.Total != 1 || inbox.Items[0].ID != req.ID {
		t.Fatalf("admin's to-review = %+v", inbox)
	}
	m.decode(m.doToken(m.dev1, "GET", "/approvals?box=todo", nil), &inbox)
	if inbox.Total != 0 {
		t.Fatalf("a developer's to-review = %+v", inbox)
	}
	for service, want := range map[string]int{m.svc.ID: 1, "another": 0} {
		m.decode(m.doToken(m.admin, "GET", "/approvals?box=todo&service="+service, nil), &inbox)
		if inbox.Total != want {
			t.Errorf("admin's to-review of service %s = %d, want %d", service, inbox.Total, want)
		}
	}
	wantCode(t, "a developer reads the request", m.doToken(m.dev1, "GET", "/approvals/"+req.ID, nil), http.StatusNotFound)
	wantCode(t, "the provider approves their own", m.doToken(m.provider, "POST", "/approvals/"+req.ID+"/approve", nil), http.StatusForbidden)

	m.decode(m.doToken(m.admin, "POST", "/approvals/"+req.ID+"/approve", map[string]any{"comment": "ok"}), &req)
	if req.State != spec.ApprovalApproved || len(req.History) != 2 || req.History[1].ActorName != "ada" || req.History[1].Comment != "ok" {
		t.Fatalf("approved request = %+v", req)
	}
	if got := m.catalogNames(t, m.dev1); len(got) != 0 {
		t.Fatalf("catalog after delisting = %v", got)
	}
	wantCode(t, "deciding twice", m.doToken(m.admin, "POST", "/approvals/"+req.ID+"/reject", nil), http.StatusConflict)
	// Delisted, still running.
	var running listResult
	m.mustJSON("GET", "/gateway-groups/production/services", nil, http.StatusOK, &running)
	if running.Total != 1 {
		t.Fatalf("delisting stopped the service: %+v", running)
	}

	m.decode(m.doToken(m.provider, "POST", "/projects/shop/services/user/listing", map[string]any{"version": "1.0.0", "auto_approve": true}), &req)
	if req.State != spec.ApprovalPending || req.Detail["version"] != "1.0.0" {
		t.Fatalf("listing request = %+v", req)
	}
	wantCode(t, "a rejection", m.doToken(m.admin, "POST", "/approvals/"+req.ID+"/reject", map[string]any{"comment": "docs first"}), http.StatusOK)
	if got := m.catalogNames(t, m.dev1); len(got) != 0 {
		t.Fatalf("a rejected listing is in the catalog: %v", got)
	}
	m.decode(m.doToken(m.provider, "POST", "/projects/shop/services/user/listing", map[string]any{"auto_approve": true}), &req)
	m.decode(m.doToken(m.provider, "POST", "/approvals/"+req.ID+"/cancel", nil), &req)
	if req.State != spec.ApprovalCancelled {
		t.Fatalf("cancelled = %+v", req)
	}
	m.decode(m.doToken(m.provider, "POST", "/projects/shop/services/user/listing", map[string]any{"auto_approve": true}), &req)
	m.mustJSON("POST", "/approvals/"+req.ID+"/approve", nil, http.StatusOK, nil) // a super admin decides any
	var entry catalogEntry
	m.decode(m.doToken(m.dev1, "GET", "/catalog/user", nil), &entry)
	if !entry.Listing.AutoApprove || entry.Listing.Version != "1.0.0" || entry.Listing.ListedBy == "" ||
		!slices.Equal(entry.PublicURLs["production"], []string{"https://api.example.com/api/gateway/user/active/user_info"}) {
		t.Fatalf("catalog entry = %+v", entry)
	}
	want := []string{
		"shop approval.requested delisting pending", "shop approval.approved delisting approved",
		"shop approval.requested listing pending", "shop approval.rejected listing rejected",
		"shop approval.requested listing pending", "shop approval.cancelled listing cancelled",
		"shop approval.requested listing pending", "shop approval.approved listing approved",
	}
	if got := m.events.take(); !slices.Equal(got, want) {
		t.Errorf("webhook events:\n got %q\nwant %q", got, want)
	}
}

// TestSubscriptionWaitsForApproval: a developer's subscription admits
// nothing until the project admin approves it; unsubscribing takes it off
// the gateways at once; a rejected one can apply again.
func TestSubscriptionWaitsForApproval(t *testing.T) {
	m := newMarketAPI(t)
	var plan spec.Plan
	m.decode(m.doToken(m.provider, "POST", "/projects/shop/services/user/plans", map[string]any{"name": "free",
		"quotas": []map[string]any{{"count": 5, "period": "day"}}}), &plan)
	wantCode(t, "a plan without a name", m.doToken(m.provider, "POST", "/projects/shop/services/user/plans",
		map[string]any{"quotas": []map[string]any{{"count": 0, "period": "week"}}}), http.StatusBadRequest)
	m.decode(m.doToken(m.dev1, "POST", "/applications/"+m.dev1App.ID+"/credentials", map[string]any{"type": "key-auth"}), &spec.Credential{})

	r := m.doToken(m.dev1, "POST", "/subscriptions", map[string]any{"application": m.dev1App.ID, "service": m.svc.ID})
	if got := r.fields(t); !slices.Equal(got, []string{"plan"}) {
		t.Fatalf("subscribing without a plan: fields %v (%s)", got, r.body)
	}
	var sub spec.Subscription
	m.decode(m.doToken(m.dev1, "POST", "/subscriptions", map[string]any{"application": m.dev1App.ID, "service": m.svc.ID,
		"plan": "free", "comment": "for the CRM"}), &sub)
	if sub.State != spec.SubscriptionPending || sub.Plan != plan.ID || sub.Approval == "" {
		t.Fatalf("subscription = %+v", sub)
	}
	if c := consumerOf(t, m.testAPI, m.dev1App.ID); c != nil {
		t.Fatalf("a pending subscription reached the gateways: %+v", c)
	}
	wantConflict(t, "applying twice", m.doToken(m.dev1, "POST", "/subscriptions", map[string]any{"application": m.dev1App.ID,
		"service": m.svc.ID, "plan": "free"}), "already requested")
	var entry catalogEntry
	m.decode(m.doToken(m.dev1, "GET", "/catalog/user", nil), &entry)
	if len(entry.Subscriptions) != 1 || entry.Subscriptions[0].State != spec.SubscriptionPending || len(entry.Plans) != 1 {
		t.Fatalf("the developer's view of the entry = %+v", entry)
	}
	var other catalogEntry
	m.decode(m.doToken(m.dev2, "GET", "/catalog/user", nil), &other)
	if len(other.Subscriptions) != 0 {
		t.Fatalf("another developer sees dev1's subscription: %+v", other.Subscriptions)
	}

	var req spec.Approval
	m.decode(m.doToken(m.admin, "GET", "/approvals/"+sub.Approval, nil), &req)
	if req.Kind != spec.ApprovalSubscription || req.Detail["plan_name"] != "free" || req.Comment != "for the CRM" || req.RequesterName != "dev1" {
		t.Fatalf("subscription request = %+v", req)
	}
	m.mustJSON("POST", "/approvals/"+sub.Approval+"/approve", nil, http.StatusOK, nil)
	c := consumerOf(t, m.testAPI, m.dev1App.ID)
	if c == nil || !slices.Equal(c.Subscriptions, []string{m.svc.ID}) || len(c.Plans) != 1 ||
		c.Plans[0].Plan != "free" || c.Plans[0].Subscription != sub.ID || c.Plans[0].Quotas[0] != (spec.Quota{Count: 5, Period: "day"}) {
		t.Fatalf("approved consumer = %+v", c)
	}
	wantConflict(t, "applying when subscribed", m.doToken(m.dev1, "POST", "/subscriptions", map[string]any{"application": m.dev1App.ID,
		"service": m.svc.ID, "plan": "free"}), "already subscribes")
	wantConflict(t, "deleting a plan in use", m.doToken(m.provider, "DELETE", "/projects/shop/services/user/plans/free", nil), "used by subscriptions")
	// The provider sees who subscribes; the other developer does not.
	var subs listResultOf[spec.Subscription]
	m.decode(m.doToken(m.provider, "GET", "/subscriptions?project=shop", nil), &subs)
	if subs.Total != 1 {
		t.Fatalf("the provider's view of subscriptions = %+v", subs)
	}
	m.decode(m.doToken(m.dev2, "GET", "/subscriptions?project=shop", nil), &subs)
	if subs.Total != 0 {
		t.Fatalf("another developer's view of subscriptions = %+v", subs)
	}
	wantCode(t, "another developer's usage", m.doToken(m.dev2, "GET", "/subscriptions/"+sub.ID+"/usage", nil), http.StatusNotFound)
	var usage usageAnswer
	m.decode(m.doToken(m.provider, "GET", "/subscriptions/"+sub.ID+"/usage", nil), &usage)
	if usage.Plan != "free" || usage.Group != "production" || usage.Counted {
		t.Fatalf("usage without a gateway = %+v", usage)
	}

	wantCode(t, "unsubscribe", m.doToken(m.dev1, "DELETE", "/subscriptions/"+sub.ID, nil), http.StatusNoContent)
	if c := consumerOf(t, m.testAPI, m.dev1App.ID); c != nil {
		t.Fatalf("an unsubscribed application stays on the gateways: %+v", c)
	}

	// Rejected, then applied again: the same subscription, a new request.
	m.decode(m.doToken(m.dev1, "POST", "/subscriptions", map[string]any{"application": m.dev1App.ID, "service": m.svc.ID, "plan": "free"}), &sub)
	m.decode(m.doToken(m.admin, "POST", "/approvals/"+sub.Approval+"/reject", map[string]any{"comment": "who are you?"}), &req)
	m.decode(m.doToken(m.dev1, "GET", "/subscriptions/"+sub.ID, nil), &sub)
	if sub.State != spec.SubscriptionRejected {
		t.Fatalf("after rejection = %+v", sub)
	}
	var again spec.Subscription
	m.decode(m.doToken(m.dev1, "POST", "/subscriptions", map[string]any{"application": m.dev1App.ID, "service": m.svc.ID, "plan": "free"}), &again)
	if again.ID != sub.ID || again.State != spec.SubscriptionPending || again.Approval == sub.Approval {
		t.Fatalf("applying again = %+v (before %+v)", again, sub)
	}
	// Unsubscribing a pending one cancels its request.
	wantCode(t, "unsubscribe pending", m.doToken(m.dev1, "DELETE", "/subscriptions/"+again.ID, nil), http.StatusNoContent)
	m.decode(m.doToken(m.dev1, "GET", "/approvals/"+again.Approval, nil), &req)
	if req.State != spec.ApprovalCancelled {
		t.Fatalf("the request of an unsubscribed application = %+v", req)
	}

	// Auto-approval: the project admin turns it on; the next subscription
	// is approved at once, with no request.
	m.decode(m.doToken(m.admin, "PATCH", "/projects/shop/services/user/listing", map[string]any{"auto_approve": true}), &spec.Listing{})
	wantCode(t, "a provider turns auto-approval on", m.doToken(m.provider, "PATCH", "/projects/shop/services/user/listing",
		map[string]any{"auto_approve": true}), http.StatusForbidden)
	var auto spec.Subscription
	m.decode(m.doToken(m.dev2, "POST", "/subscriptions", map[string]any{"application": m.dev2App.ID, "service": m.svc.ID, "plan": plan.ID}), &auto)
	if auto.State != spec.SubscriptionApproved || auto.Approval != "" {
		t.Fatalf("auto-approved subscription = %+v", auto)
	}
}

// TestDevelopersSeeOnlyTheCatalog: two developers and two projects; an
// unlisted service of a project is neither shown nor subscribable, a
// developer cannot decide requests or read another's.
func TestDevelopersSeeOnlyTheCatalog(t *testing.T) {
	m := newMarketAPI(t)
	m.newProject(t, "lab")
	m.mustJSON("POST", "/projects/lab/services", map[string]any{"name": "secret", "upstream": testUpstream,
		"routes": []map[string]any{{"name": "x"}}}, http.StatusCreated, nil)
	m.mustJSON("POST", "/projects/lab/services/secret/actions/submit", nil, http.StatusOK, nil)
	var secret spec.Service
	m.mustJSON("GET", "/projects/lab/services/secret", nil, http.StatusOK, &secret)
	for _, dev := range []string{m.dev1, m.dev2} {
		if got := m.catalogNames(t, dev); !slices.Equal(got, []string{"shop/user"}) {
			t.Errorf("catalog = %v", got)
		}
		wantCode(t, "an unlisted entry", m.doToken(dev, "GET", "/catalog/secret", nil), http.StatusNotFound)
		wantCode(t, "an unlisted document", m.doToken(dev, "GET", "/catalog/"+secret.ID+"/openapi", nil), http.StatusNotFound)
	}
	r := m.doToken(m.dev1, "POST", "/subscriptions", map[string]any{"application": m.dev1App.ID, "service": secret.ID})
	if got := r.fields(t); !slices.Equal(got, []string{"service"}) {
		t.Fatalf("subscribing to an unlisted service: %d %s", r.status, r.body)
	}
	r = m.doToken(m.dev1, "POST", "/subscriptions", map[string]any{"application": m.dev2App.ID, "service": m.svc.ID})
	if got := r.fields(t); !slices.Equal(got, []string{"application"}) {
		t.Fatalf("subscribing another's application: %d %s", r.status, r.body)
	}
	var sub spec.Subscription
	m.mustJSON("POST", "/projects/shop/services/user/plans", map[string]any{"name": "free"}, http.StatusCreated, nil)
	m.decode(m.doToken(m.dev1, "POST", "/subscriptions", map[string]any{"application": m.dev1App.ID, "service": m.svc.ID, "plan": "free"}), &sub)
	wantCode(t, "dev2 reads dev1's request", m.doToken(m.dev2, "GET", "/approvals/"+sub.Approval, nil), http.StatusNotFound)
	wantCode(t, "dev2 cancels dev1's request", m.doToken(m.dev2, "POST", "/approvals/"+sub.Approval+"/cancel", nil), http.StatusNotFound)
	wantCode(t, "dev1 approves their own request", m.doToken(m.dev1, "POST", "/approvals/"+sub.Approval+"/approve", nil), http.StatusForbidden)
	wantCode(t, "dev2 unsubscribes dev1", m.doToken(m.dev2, "DELETE", "/subscriptions/"+sub.ID, nil), http.StatusNotFound)
	// The document of a listed service is the listed version's.
	var doc map[string]any
	m.decode(m.doToken(m.dev2, "GET", "/catalog/user/openapi", nil), &doc)
	if info, _ := doc["info"].(map[string]any); info["version"] != "1.0.0" {
		t.Fatalf("catalog document info = %v", doc["info"])
	}
}

// TestListingApproverIsASuperAdminDecision: a project whose listings a
// super admin approves keeps its admins from approving them, and only a
// super admin sets who approves.
func TestListingApproverIsASuperAdminDecision(t *testing.T) {
	m := newMarketAPI(t)
	wantDenied(t, m.doToken(m.admin, "PATCH", "/projects/shop", map[string]any{"listing_approver": "super_admin"}), rbac.MarketManage)
	wantCode(t, "refused field", m.do("PATCH", "/projects/shop", map[string]any{"listing_approver": "nobody"}), http.StatusBadRequest)
	var p spec.Project
	m.mustJSON("PATCH", "/projects/shop", map[string]any{"listing_approver": "super_admin"}, http.StatusOK, &p)
	if p.ListingApprover != spec.ApproverSuperAdmin {
		t.Fatalf("project = %+v", p)
	}
	wantDenied(t, m.doToken(m.admin, "PATCH", "/projects/shop", map[string]any{"listing_approver": "project_admin"}), rbac.MarketManage)
	var req spec.Approval
	m.decode(m.doToken(m.admin, "DELETE", "/projects/shop/services/user/listing", nil), &req)
	if req.State != spec.ApprovalPending || req.ApproverRole != spec.ApproverSuperAdmin {
		t.Fatalf("a project admin's request under a super admin approver = %+v", req)
	}
	wantCode(t, "the project admin approves", m.doToken(m.admin, "POST", "/approvals/"+req.ID+"/approve", nil), http.StatusForbidden)
	var inbox listResultOf[spec.Approval]
	m.decode(m.doToken(m.admin, "GET", "/approvals?box=todo", nil), &inbox)
	if inbox.Total != 0 {
		t.Fatalf("the project admin's to-review = %+v", inbox)
	}
	m.decode(m.do("GET", "/approvals?box=todo", nil), &inbox)
	if inbox.Total != 1 {
		t.Fatalf("the super admin's to-review = %+v", inbox)
	}
	m.mustJSON("POST", "/approvals/"+req.ID+"/approve", nil, http.StatusOK, nil)
}

// TestProjectWebhook: the secret is generated and shown once, never read
// back, and the webhook changes only through its own endpoint.
func TestProjectWebhook(t *testing.T) {
	m := newMarketAPI(t)
	wantCode(t, "a URL with credentials", m.doToken(m.admin, "PUT", "/projects/shop/webhook", map[string]any{"url": "https://u:p@hooks.example.com/x"}), http.StatusBadRequest)
	wantCode(t, "a provider sets it", m.doToken(m.provider, "PUT", "/projects/shop/webhook", map[string]any{"url": "https://hooks.example.com/x"}), http.StatusForbidden)
	var w spec.Webhook
	m.decode(m.doToken(m.admin, "PUT", "/projects/shop/webhook", map[string]any{"url": "https://hooks.example.com/x"}), &w)
	if len(w.Secret) < 16 || !w.SecretSet {
		t.Fatalf("created webhook = %+v", w)
	}
	var kept spec.Webhook
	m.decode(m.doToken(m.admin, "PUT", "/projects/shop/webhook", map[string]any{"url": "https://hooks.example.com/y"}), &kept)
	if kept.Secret != "" {
		t.Fatalf("a new URL changed the secret: %+v", kept)
	}
	m.decode(m.doToken(m.admin, "PUT", "/projects/shop/webhook", map[string]any{"url": "https://hooks.example.com/x", "rotate_secret": true}), &kept)
	if kept.Secret == "" || kept.Secret == w.Secret {
		t.Fatalf("a rotation kept the secret: %+v", kept)
	}
	w = spec.Webhook{}
	m.decode(m.doToken(m.provider, "GET", "/projects/shop/webhook", nil), &w)
	if w.Secret != "" || !w.SecretSet || w.URL != "https://hooks.example.com/x" {
		t.Fatalf("read webhook = %+v", w)
	}
	wantCode(t, "through the project", m.doToken(m.admin, "PATCH", "/projects/shop", map[string]any{"webhook": map[string]any{"url": "https://evil.example.com"}}), http.StatusBadRequest)
	var p spec.Project
	m.decode(m.doToken(m.admin, "PATCH", "/projects/shop", map[string]any{"description": "the shop"}), &p)
	if p.Webhook == nil || p.Webhook.URL != "https://hooks.example.com/x" {
		t.Fatalf("project after a patch = %+v", p)
	}
	wantCode(t, "remove", m.doToken(m.admin, "DELETE", "/projects/shop/webhook", nil), http.StatusNoContent)
	wantCode(t, "read removed", m.doToken(m.admin, "GET", "/projects/shop/webhook", nil), http.StatusNotFound)
}

// TestSignup: closed by default (404); open, it makes a plain user with a
// session, and a client address gets a few per hour.
func TestSignup(t *testing.T) {
	closed := newTestAPI(t)
	wantCode(t, "closed", closed.doToken("", "POST", "/auth/signup", map[string]any{"username": "eve", "password": "Sign-Up-Passphrase-91"}), http.StatusNotFound)

	a := newTestAPI(t, func(c *Config) { c.Signup = true })
	wantCode(t, "weak password", a.doToken("", "POST", "/auth/signup", map[string]any{"username": "eve", "password": "password"}), http.StatusBadRequest)
	var l loginResponse
	a.decode(a.doToken("", "POST", "/auth/signup", map[string]any{"username": "eve", "password": "Sign-Up-Passphrase-91", "email": "eve@example.com"}), &l)
	if l.Token == "" || l.User.Role != rbac.User {
		t.Fatalf("sign-up = %+v", l)
	}
	var me spec.Identity
	a.decode(a.doToken(l.Token, "GET", "/me", nil), &me)
	if me.Username != "eve" {
		t.Fatalf("me = %+v", me)
	}
	wantCode(t, "taken", a.doToken("", "POST", "/auth/signup", map[string]any{"username": "eve", "password": "Sign-Up-Passphrase-91"}), http.StatusConflict)
	for i := range signupLimit {
		a.doToken("", "POST", "/auth/signup", map[string]any{"username": "u" + string(rune('a'+i)), "password": "Sign-Up-Passphrase-91"})
	}
	wantCode(t, "too many", a.doToken("", "POST", "/auth/signup", map[string]any{"username": "late", "password": "Sign-Up-Passphrase-91"}), http.StatusTooManyRequests)
}

// consumerOf is the application as the default group's snapshot carries
// it (every group of the store: the service runs in test and production).
func consumerOf(t *testing.T, a *testAPI, app string) *spec.Consumer {
	t.Helper()
	var snap spec.Snapshot
	err := a.store.View(context.Background(), func(tx store.Tx) error {
		var err error
		snap, err = tx.Snapshot(context.Background(), []string{"production"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range snap.Groups[0].Consumers {
		if c.ID == app {
			return &c
		}
	}
	return nil
}

// TestGroupTimeZoneReachesGateways: the zone quotas count in is part of
// what a gateway runs (and the public URL is in the group's snapshot), so
// changing either is a new revision of the group.
func TestGroupTimeZoneReachesGateways(t *testing.T) {
	a := newTestAPI(t)
	var g spec.GatewayGroup
	a.mustJSON("GET", "/gateway-groups/default", nil, http.StatusOK, &g)
	before := g.Revision
	a.mustJSON("PATCH", "/gateway-groups/default", map[string]any{"time_zone": "Asia/Shanghai"}, http.StatusOK, &g)
	if g.TimeZone != "Asia/Shanghai" || g.Revision <= before {
		t.Fatalf("after a new time zone: %+v (revision before %d)", g, before)
	}
	if snap := groupSnapshot(t, a); snap.Group.TimeZone != "Asia/Shanghai" {
		t.Errorf("the snapshot's group = %+v", snap.Group)
	}
	wantCode(t, "an unknown zone", a.do("PATCH", "/gateway-groups/default", map[string]any{"time_zone": "Mars/Olympus"}), http.StatusBadRequest)
	rev := g.Revision
	a.mustJSON("PATCH", "/gateway-groups/default", map[string]any{"public_url": "https://api.example.com"}, http.StatusOK, &g)
	if g.Revision <= rev || g.PublicURL != "https://api.example.com" {
		t.Errorf("after a public URL: %+v", g)
	}
}
