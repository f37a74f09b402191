package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/webhook"
)

// The API market over HTTP against the real binary: a plan's day quota
// shared by two gateways through Redis, the project webhook's signed and
// retried deliveries, and who may call what after subscribing (or not).

const marketAPIPassword = "Market-Place-Http-2026"

// gatewayError is the gateway's JSON error answer.
type gatewayError struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	} `json:"error"`
}

func decodeGatewayError(t *testing.T, body string) gatewayError {
	t.Helper()
	var e gatewayError
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code == "" {
		t.Errorf("not the gateway's JSON error (%v): %s", err, body)
	}
	return e
}

// marketUser makes a user with a password (member of project with role
// when project is not empty), logs them in and answers their token.
func marketUser(t *testing.T, s *server, name, project, role string) string {
	t.Helper()
	s.do(t, "POST", "/api/v1/users", fmt.Sprintf(`{"username":%q,"role":"user","password":%q}`, name, marketAPIPassword), 201, nil)
	if project != "" {
		s.do(t, "PUT", "/api/v1/projects/"+project+"/members/"+name, fmt.Sprintf(`{"role":%q}`, role), 200, nil)
	}
	var l struct{ Token string }
	status, body := callAs(t, s, "", "POST", "/api/v1/auth/login", fmt.Sprintf(`{"username":%q,"password":%q}`, name, marketAPIPassword))
	if status != 200 || json.Unmarshal(body, &l) != nil || l.Token == "" {
		t.Fatalf("login %s: %d %s", name, status, body)
	}
	return l.Token
}

// marketCall calls the admin API with token, wants status and decodes
// the answer into out (when not nil).
func marketCall(t *testing.T, s *server, token, method, path, body string, want int, out any) []byte {
	t.Helper()
	status, b := callAs(t, s, token, method, "/api/v1"+path, body)
	if status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return b
}

// marketKey makes an application of the caller's own with a key-auth
// credential and answers the application's id and the key.
func marketKey(t *testing.T, s *server, token, app string) (id, key string) {
	t.Helper()
	var a struct{ ID string }
	marketCall(t, s, token, "POST", "/applications", fmt.Sprintf(`{"name":%q}`, app), 201, &a)
	var c struct{ Key string }
	marketCall(t, s, token, "POST", "/applications/"+a.ID+"/credentials", `{"type":"key-auth"}`, 201, &c)
	if a.ID == "" || c.Key == "" {
		t.Fatalf("application %q: id %q, key %q", app, a.ID, c.Key)
	}
	return a.ID, c.Key
}

// marketService makes a service of project with key-auth on it and one
// GET route /now, at path on the gateway, and answers its id.
func marketService(t *testing.T, s *server, project, name, path string, port int) string {
	t.Helper()
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/"+project+"/services", fmt.Sprintf(
		`{"name":%q,"path":%q,"plugins":{"key-auth":{}},"upstream":%s,"routes":[{"name":"now","paths":["/now"],"methods":["GET"]}]}`,
		name, path, nodes(port)), 201, &svc)
	if svc.ID == "" {
		t.Fatalf("service %s of %s: no id", name, project)
	}
	return svc.ID
}

// marketLaunch takes a service through the lifecycle as a super admin:
// submitted, then published, which lists it in the catalog.
func marketLaunch(t *testing.T, s *server, project, id string) {
	t.Helper()
	base := "/api/v1/projects/" + project + "/services/" + id
	s.do(t, "POST", base+"/actions/submit", `{"version":"1.0.0"}`, 200, nil)
	s.do(t, "POST", base+"/actions/publish", "", 200, nil)
	var l struct{ Version string }
	s.do(t, "GET", base+"/listing", "", 200, &l)
	if l.Version != "1.0.0" {
		t.Fatalf("service %s of %s listed at %+v after the admin's publish, want 1.0.0", id, project, l)
	}
}

// noonZone is an Etc/GMT zone in which it is now between 12:00 and 12:59
// (Etc/GMT-N is N hours east of UTC: the sign is inverted), so no day
// boundary of the zone falls within the test; offset is in hours east.
func noonZone(now time.Time) (name string, offset int) {
	offset = 12 - now.UTC().Hour() // -11 … +12
	switch {
	case offset > 0:
		return fmt.Sprintf("Etc/GMT-%d", offset), offset
	case offset < 0:
		return fmt.Sprintf("Etc/GMT+%d", -offset), offset
	}
	return "Etc/GMT", 0
}

// waitRevision polls a gateway's /readyz (bounded) until it serves at
// least revision rev.
func waitRevision(t *testing.T, g *server, rev int64) {
	t.Helper()
	waitFor(t, g.Status+"/readyz", 15*time.Second, func(status int, body []byte) bool {
		var r struct{ Revision int64 }
		return status == 200 && json.Unmarshal(body, &r) == nil && r.Revision >= rev
	})
}

// refusedOn polls each gateway (bounded) until the key is refused (401 or
// 403) at path.
func refusedOn(t *testing.T, path, key string, gws ...*server) {
	t.Helper()
	for _, g := range gws {
		refused(t, g.Gateway+path, map[string]string{"apikey": key})
	}
}

// TestMarketQuotaAcrossTwoGateways: a developer's subscription with plan
// free (5 calls a day), approved by the admin, is counted once across the
// server's embedded gateway and a stand-alone gateway of the same group
// sharing the real Redis: of 12 calls alternating between the two, 5 are
// answered and 7 refused 429 quota_exceeded; the usage shows the day's 5;
// after unsubscribing the key is refused on both.
func TestMarketQuotaAcrossTwoGateways(t *testing.T) {
	t.Parallel() // its own server, gateway, Redis prefix and users
	c := needRedis(t, sharedRedis)
	prefix := testPrefix(t, c)
	redisFlags := []string{"--redis", "redis://" + sharedRedis, "--redis-prefix", prefix}
	s := startServer(t, t.TempDir(), redisFlags...)
	var tok struct{ Token string }
	s.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"market gateway"}`, 201, &tok)
	g, err := launchGateway(t, s, "default", tok.Token, t.TempDir(),
		append([]string{"--poll-wait", "1s", "--heartbeat", "1s", "--instance-id", "market-standalone"}, redisFlags...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, g.out.String())
	}
	gws := []*server{s, g} // the embedded gateway and the stand-alone one

	// Day quotas reset at midnight in the group's zone: one where it is
	// about noon now keeps the test far from a reset.
	zone, offset := noonZone(time.Now())
	s.do(t, "PATCH", "/api/v1/gateway-groups/default", fmt.Sprintf(`{"time_zone":%q}`, zone), 200, nil)

	port := echoBackend(t)
	svc := marketService(t, s, "default", "forecast", "/forecast", port)
	s.do(t, "POST", "/api/v1/projects/default/services/"+svc+"/plans",
		`{"name":"free","description":"5 calls a day","quotas":[{"count":5,"period":"day"}]}`, 201, nil)
	marketLaunch(t, s, "default", svc)

	dev := marketUser(t, s, "dora", "", "")
	app, key := marketKey(t, s, dev, "dora-forecast")
	var sub struct{ ID, State, Approval, Plan string }
	marketCall(t, s, dev, "POST", "/subscriptions", fmt.Sprintf(`{"application":%q,"service":%q,"plan":"free","comment":"a widget"}`, app, svc), 201, &sub)
	if sub.State != "pending" || sub.Approval == "" {
		t.Fatalf("subscription %+v, want pending with an approval request", sub)
	}
	// Not admitted yet: the gateways do not know the key.
	if status, _, body := gatewayCall(t, "GET", s.Gateway+"/forecast/now", "", map[string]string{"apikey": key}); status != http.StatusUnauthorized {
		t.Errorf("the key of a pending subscription: %d %s, want 401", status, body)
	}
	var decided struct{ State string }
	s.do(t, "POST", "/api/v1/approvals/"+sub.Approval+"/approve", `{"comment":"welcome"}`, 200, &decided)
	if decided.State != "approved" {
		t.Fatalf("the approval is %q after approve", decided.State)
	}
	marketCall(t, s, dev, "GET", "/subscriptions/"+sub.ID, "", 200, &sub)
	if sub.State != "approved" {
		t.Fatalf("subscription %+v after the approval, want approved", sub)
	}

	// Both gateways admit the key once they serve the group's revision
	// that holds the approval: waiting on /readyz spends none of the 5
	// calls a probe with the key would.
	var group struct{ Revision int64 }
	s.do(t, "GET", "/api/v1/gateway-groups/default", "", 200, &group)
	for _, gw := range gws {
		waitRevision(t, gw, group.Revision)
	}

	// Local midnight in the zone: where the day's quota resets.
	local := time.Now().In(time.FixedZone(zone, offset*3600))
	midnight := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, local.Location())
	var statuses []int
	for i := range 12 {
		gw := gws[i%2]
		resp, body := send(t, "GET", gw.Gateway+"/forecast/now", map[string]string{"apikey": key})
		statuses = append(statuses, resp.StatusCode)
		h := resp.Header
		if h.Get("X-RateLimit-Limit") != "5" || h.Get("X-RateLimit-Reset") == "" {
			t.Errorf("call %d on %s: X-RateLimit-Limit %q, -Reset %q, want the day quota's 5 and its reset",
				i+1, gw.Gateway, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Reset"))
		}
		switch resp.StatusCode {
		case http.StatusOK:
			if want := strconv.Itoa(max(4-i, 0)); h.Get("X-RateLimit-Remaining") != want {
				t.Errorf("call %d answered with X-RateLimit-Remaining %q, want %s", i+1, h.Get("X-RateLimit-Remaining"), want)
			}
		case http.StatusTooManyRequests:
			e := decodeGatewayError(t, string(body))
			if e.Error.Code != "quota_exceeded" || e.Error.Message != "the day quota of plan free (5 calls) is used up" {
				t.Errorf("call %d refused with %+v, want quota_exceeded naming the day quota of plan free", i+1, e.Error)
			}
			if h.Get("X-RateLimit-Remaining") != "0" {
				t.Errorf("call %d refused with X-RateLimit-Remaining %q, want 0", i+1, h.Get("X-RateLimit-Remaining"))
			}
			// Retry-After is the time to midnight in the group's zone
			// (a few seconds either way for the calls' own time).
			retry, err := strconv.Atoi(h.Get("Retry-After"))
			if want := time.Until(midnight).Seconds(); err != nil || float64(retry) < want-120 || float64(retry) > want+120 {
				t.Errorf("call %d refused with Retry-After %q, want about %.0f s (midnight in %s)", i+1, h.Get("Retry-After"), want, zone)
			}
		default:
			t.Errorf("call %d on %s: %d %s", i+1, gw.Gateway, resp.StatusCode, body)
		}
	}
	if want := "[200 200 200 200 200 429 429 429 429 429 429 429]"; fmt.Sprint(statuses) != want {
		t.Errorf("statuses %v, want %s: one quota of 5 a day across both gateways", statuses, want)
	}

	// The developer reads the day's count of the whole group.
	type period struct {
		Period    string
		Limit     int64
		Used      int64
		Remaining int64
		ResetsAt  time.Time `json:"resets_at"`
	}
	var usage struct {
		Subscription, Plan, Group string
		Periods                   []period
		Counted                   bool
	}
	marketCall(t, s, dev, "GET", "/subscriptions/"+sub.ID+"/usage", "", 200, &usage)
	if !usage.Counted || usage.Subscription != sub.ID || usage.Plan != "free" || usage.Group != "default" {
		t.Errorf("usage %+v, want counted for subscription %s, plan free, group default", usage, sub.ID)
	}
	day := slices.IndexFunc(usage.Periods, func(p period) bool { return p.Period == "day" })
	if day < 0 {
		t.Fatalf("usage has no day period: %+v", usage.Periods)
	}
	if p := usage.Periods[day]; p.Limit != 5 || p.Used != 5 || p.Remaining != 0 || !p.ResetsAt.Equal(midnight) {
		t.Errorf("day usage %+v, want limit 5, used 5, remaining 0, resetting at %v", p, midnight)
	}

	// Unsubscribed, the key is refused on both gateways.
	marketCall(t, s, dev, "DELETE", "/subscriptions/"+sub.ID, "", 204, nil)
	refusedOn(t, "/forecast/now", key, gws...)
}

// deliveryRecord is one delivery a webhook receiver saw.
type deliveryRecord struct {
	id, event, approval, kind, state string
	err                              error // webhook.Verify's answer
	header                           http.Header
	body                             []byte
}

// TestMarketWebhookSignedAndRetried: the project's webhook receives the
// approval events of a delisting request (a provider's, approved by the
// admin), each signed with the secret generated when the webhook was set;
// the delivery the receiver failed is sent again with the same id, and
// the delivery list shows its attempts.
func TestMarketWebhookSignedAndRetried(t *testing.T) {
	t.Parallel() // its own server, receiver and users
	s := startServer(t, t.TempDir(), "--webhook-private-networks")

	var (
		mu       sync.Mutex
		secret   []byte
		seen     []deliveryRecord
		failedID string // the delivery answered 500
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		d := deliveryRecord{id: r.Header.Get(webhook.HeaderDelivery), event: r.Header.Get(webhook.HeaderEvent),
			header: r.Header.Clone(), body: body}
		d.err = webhook.Verify(secret, r.Header, body, time.Now(), 0)
		var payload struct {
			ID, Event string
			Data      struct{ ID, Kind, State string }
		}
		if err := json.Unmarshal(body, &payload); err != nil {
			d.err = errors.Join(d.err, fmt.Errorf("body: %w", err))
		} else if payload.ID != d.id || payload.Event != d.event {
			d.err = errors.Join(d.err, fmt.Errorf("body names delivery %q event %q, headers %q %q", payload.ID, payload.Event, d.id, d.event))
		}
		d.approval, d.kind, d.state = payload.Data.ID, payload.Data.Kind, payload.Data.State
		seen = append(seen, d)
		if failedID == "" {
			failedID = d.id
			http.Error(w, "the receiver fails once", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	if !strings.HasPrefix(recv.URL, "http://127.0.0.1:") {
		t.Fatalf("the receiver is not on 127.0.0.1: %s", recv.URL)
	}

	// A secret left out is generated and shown in this answer only.
	var hook struct {
		URL, Secret string
		SecretSet   bool `json:"secret_set"`
	}
	mu.Lock()
	s.do(t, "PUT", "/api/v1/projects/default/webhook", fmt.Sprintf(`{"url":%q}`, recv.URL+"/portico"), 200, &hook)
	secret = []byte(hook.Secret)
	mu.Unlock()
	if hook.Secret == "" || !hook.SecretSet {
		t.Fatalf("PUT webhook answered %+v, want the generated secret", hook)
	}
	var shown map[string]any
	s.do(t, "GET", "/api/v1/projects/default/webhook", "", 200, &shown)
	if _, ok := shown["secret"]; ok {
		t.Errorf("GET webhook shows the secret again: %v", shown)
	}

	// The admin publishes (and so lists) a service; the provider asks to
	// take it out of the catalog, which waits for the admin.
	provider := marketUser(t, s, "paula", "default", "api_provider")
	svc := marketService(t, s, "default", "almanac", "/almanac", echoBackend(t))
	marketLaunch(t, s, "default", svc)
	var req struct{ ID, Kind, State string }
	marketCall(t, s, provider, "DELETE", "/projects/default/services/"+svc+"/listing", `{"comment":"replaced by v2"}`, 202, &req)
	if req.Kind != "delisting" || req.State != "pending" {
		t.Fatalf("the provider's delisting request: %+v, want pending", req)
	}
	marketCall(t, s, provider, "POST", "/approvals/"+req.ID+"/approve", "", 403, nil)
	s.do(t, "POST", "/api/v1/approvals/"+req.ID+"/approve", `{"comment":"fine"}`, 200, nil)
	s.do(t, "GET", "/api/v1/projects/default/services/"+svc+"/listing", "", 404, nil)

	// Both events of the request arrive signed, and the failed delivery
	// comes again with its id.
	check := func() (done bool, report string) {
		mu.Lock()
		defer mu.Unlock()
		events := map[string]bool{}
		again := 0
		for _, d := range seen {
			if d.approval == req.ID && d.err == nil {
				events[d.event] = true
			}
			if d.id == failedID {
				again++
			}
		}
		done = events["approval.requested"] && events["approval.approved"] && again >= 2
		return done, fmt.Sprintf("events of %s: %v; the failed delivery %s seen %d times; %d deliveries", req.ID, events, failedID, again, len(seen))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		done, report := check()
		if done {
			t.Log(report)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("within 30 s: %s", report)
		}
		time.Sleep(50 * time.Millisecond)
	}

	mu.Lock()
	delivered := slices.Clone(seen)
	first := failedID
	mu.Unlock()
	ids := map[string][]string{} // delivery id → events seen under it
	for _, d := range delivered {
		if d.err != nil {
			t.Errorf("delivery %s (%s) does not verify: %v", d.id, d.event, d.err)
		}
		if d.header.Get("User-Agent") != webhook.UserAgent || !strings.HasPrefix(d.header.Get("Content-Type"), "application/json") {
			t.Errorf("delivery %s: User-Agent %q, Content-Type %q", d.id, d.header.Get("User-Agent"), d.header.Get("Content-Type"))
		}
		ids[d.id] = append(ids[d.id], d.event)
		if d.approval == req.ID && (d.kind != "delisting" || d.event != "approval."+d.state && !(d.event == "approval.requested" && d.state == "pending")) {
			t.Errorf("delivery %s: event %s of a %s request in state %s", d.id, d.event, d.kind, d.state)
		}
	}
	for id, events := range ids {
		for _, e := range events[1:] {
			if e != events[0] {
				t.Errorf("delivery %s came as %v: a retry must carry the same event", id, events)
			}
		}
	}
	// The signature is the secret's: another secret does not verify.
	if err := webhook.Verify([]byte("whsec_not-the-project-secret"), delivered[0].header, delivered[0].body, time.Now(), 0); !errors.Is(err, webhook.ErrSignature) {
		t.Errorf("a delivery verified with another secret: %v, want ErrSignature", err)
	}

	// The delivery list shows the retried delivery's attempts (once the
	// control plane has recorded the second one).
	type delivery struct {
		ID, Event string
		Attempts  int
		Delivered bool
		LastError string `json:"last_error"`
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		var list struct{ Items []delivery }
		s.do(t, "GET", "/api/v1/projects/default/webhook/deliveries", "", 200, &list)
		i := slices.IndexFunc(list.Items, func(d delivery) bool { return d.ID == first })
		if i >= 0 && list.Items[i].Delivered {
			if d := list.Items[i]; d.Attempts < 2 {
				t.Errorf("the retried delivery is listed %+v, want at least 2 attempts", d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deliveries do not show %s delivered within 10 s: %+v", first, list.Items)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMarketDevelopersCannotCallWhatTheyDidNotSubscribe: of two
// developers only dev1 subscribes to shop's listed service (auto-approved);
// dev1's key calls it, dev2's does not, neither reaches lab's service,
// which is published but not listed: dev1 cannot subscribe to it and
// neither developer finds it in the catalog.
func TestMarketDevelopersCannotCallWhatTheyDidNotSubscribe(t *testing.T) {
	t.Parallel() // its own server and users
	s := startServer(t, t.TempDir())
	for _, p := range []string{"shop", "lab"} {
		s.do(t, "POST", "/api/v1/projects", fmt.Sprintf(`{"id":%q}`, p), 201, nil)
	}
	port := echoBackend(t)

	// shop: listed, subscriptions approved at once.
	shop := marketService(t, s, "shop", "orders", "/shop-orders", port)
	marketLaunch(t, s, "shop", shop)
	var listing struct {
		AutoApprove bool `json:"auto_approve"`
	}
	s.do(t, "PATCH", "/api/v1/projects/shop/services/"+shop+"/listing", `{"auto_approve":true}`, 200, &listing)
	if !listing.AutoApprove {
		t.Fatalf("listing after PATCH: %+v", listing)
	}
	// lab: published to the group with the low-level publish, not listed.
	lab := marketService(t, s, "lab", "secrets", "/lab-secrets", port)
	s.do(t, "POST", "/api/v1/projects/lab/services/"+lab+"/publish?wait=10s",
		`{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	s.do(t, "GET", "/api/v1/projects/lab/services/"+lab+"/listing", "", 404, nil)

	dev1 := marketUser(t, s, "dev1", "", "")
	dev2 := marketUser(t, s, "dev2", "", "")
	app1, key1 := marketKey(t, s, dev1, "dev1-app")
	app2, key2 := marketKey(t, s, dev2, "dev2-app")
	var sub struct{ ID, State string }
	marketCall(t, s, dev1, "POST", "/subscriptions", fmt.Sprintf(`{"application":%q,"service":%q}`, app1, shop), 201, &sub)
	if sub.State != "approved" {
		t.Fatalf("dev1's subscription to an auto-approving listing: %+v, want approved", sub)
	}

	shopURL, labURL := s.Gateway+"/shop-orders/now", s.Gateway+"/lab-secrets/now"
	until(t, 200, func() (int, echoed, string) { return gw(t, "GET", shopURL, map[string]string{"apikey": key1}) })
	// lab's service serves (its own key would pass): a refusal below is
	// the key's, not a missing route's.
	if status, _, body := gatewayCall(t, "GET", labURL, "", nil); status != http.StatusUnauthorized {
		t.Fatalf("lab's service without a key: %d %s, want 401", status, body)
	}

	for _, c := range []struct {
		who, url, key string
		status        int
		code          string
	}{
		// dev2 subscribes to nothing: the gateways know only admitted
		// keys, so dev2's key is an unknown one.
		{"dev2 on shop", shopURL, key2, http.StatusUnauthorized, "unauthorized"},
		// dev1's key is known (admitted to shop) but not to lab's service.
		{"dev1 on lab", labURL, key1, http.StatusForbidden, "forbidden"},
		{"dev2 on lab", labURL, key2, http.StatusUnauthorized, "unauthorized"},
	} {
		status, _, body := gatewayCall(t, "GET", c.url, "", map[string]string{"apikey": c.key})
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.who, status, body, c.status)
			continue
		}
		if e := decodeGatewayError(t, body); e.Error.Code != c.code {
			t.Errorf("%s: error %+v, want code %s", c.who, e.Error, c.code)
		}
	}

	// lab's service cannot be subscribed to, and is in nobody's catalog.
	for _, dev := range []struct{ name, token, app string }{{"dev1", dev1, app1}, {"dev2", dev2, app2}} {
		b := marketCall(t, s, dev.token, "POST", "/subscriptions", fmt.Sprintf(`{"application":%q,"service":%q}`, dev.app, lab), 400, nil)
		var p struct{ Errors []struct{ Field string } }
		if json.Unmarshal(b, &p) != nil || len(p.Errors) == 0 || p.Errors[0].Field != "service" {
			t.Errorf("%s subscribing to lab's service: %s, want a 400 naming field service", dev.name, b)
		}
	}
	for _, dev := range []struct{ name, token string }{{"dev1", dev1}, {"dev2", dev2}} {
		var cat struct {
			Items []struct{ ID, Name, Project string }
			Total int
		}
		marketCall(t, s, dev.token, "GET", "/catalog", "", 200, &cat)
		var ids []string
		for _, e := range cat.Items {
			ids = append(ids, e.ID)
		}
		if !slices.Contains(ids, shop) || slices.Contains(ids, lab) {
			t.Errorf("%s's catalog %+v: want shop's service %s and not lab's %s", dev.name, cat.Items, shop, lab)
		}
		marketCall(t, s, dev.token, "GET", "/catalog/"+lab, "", 404, nil)
		marketCall(t, s, dev.token, "GET", "/catalog/"+shop, "", 200, nil)
	}
}
