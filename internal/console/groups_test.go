package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/certtest"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/webpage/webpagetest"
)

func TestGroupMessagesOverrideNothing(t *testing.T) {
	if len(groupsOverridden) > 0 {
		t.Errorf("i18n_groups.go redefines keys: %v", groupsOverridden)
	}
}

func TestCertExpiry(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		after time.Time
		state string
		days  int
	}{
		{now.Add(400 * 24 * time.Hour), "ok", 400},
		{now.Add(30*24*time.Hour + time.Minute), "ok", 30},
		{now.Add(29*24*time.Hour + 23*time.Hour), "expiring", 29},
		{now.Add(time.Hour), "expiring", 0},
		{now, "expired", 0},
		{now.Add(-3*24*time.Hour - time.Hour), "expired", 3},
		{time.Time{}, "ok", 0},
	} {
		state, days := certExpiry(tc.after, now)
		if state != tc.state || days != tc.days {
			t.Errorf("certExpiry(%v) = %s %d, want %s %d", tc.after, state, days, tc.state, tc.days)
		}
	}
}

// keyBody is the base64 of a PEM key without its armour lines: what
// would show if any part of the key were written into a page.
func keyBody(pemKey string) []string {
	var out []string
	for _, l := range strings.Split(pemKey, "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

// TestGroupPageCertificates: an uploaded certificate that expires in 10
// days is listed with its names and a warning; a refused upload shows
// the form again without its key; no page ever holds a private key.
func TestGroupPageCertificates(t *testing.T) {
	f := newFixture(t)
	ca := certtest.NewCA(t)
	now := time.Now()
	soon := ca.IssueValid(t, now.Add(-time.Hour), now.Add(10*24*time.Hour), "soon.example.com")
	later := ca.IssueValid(t, now.Add(-time.Hour), now.Add(400*24*time.Hour), "later.example.com")
	other := ca.Issue(t, "other.example.com")
	var keys []string
	for _, p := range []certtest.Pair{soon, later, other} {
		keys = append(keys, keyBody(p.Key)...)
	}
	noKey := func(what, body string) {
		t.Helper()
		for _, k := range keys {
			if strings.Contains(body, k) {
				t.Fatalf("%s shows a private key", what)
			}
		}
	}

	for _, c := range []struct {
		name string
		p    certtest.Pair
	}{{"soon", soon}, {"later", later}} {
		rec := f.send("POST", "/groups/default/certificates", url.Values{"name": {c.name}, "certificate": {c.p.Chain}, "private_key": {c.p.Key}}, true)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/groups/default") {
			t.Fatalf("upload %s: %d %s", c.name, rec.Code, rec.Body)
		}
		noKey("the upload's answer", rec.Body.String())
	}
	// A chain with another certificate's key: refused, shown again with
	// the chain as typed and an empty key field.
	rec := f.send("POST", "/groups/default/certificates", url.Values{"name": {"mismatch"}, "certificate": {other.Chain}, "private_key": {soon.Key}}, true)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("mismatched key: %d, want 400", rec.Code)
	}
	body := rec.Body.String()
	noKey("the refused upload", body)
	if !strings.Contains(body, keyBody(other.Chain)[0]) || !regexp.MustCompile(`<textarea name="private_key"[^>]*></textarea>`).MatchString(body) {
		t.Errorf("the refused form should keep the chain and leave the key empty:\n%.3000s", body)
	}

	page := f.send("GET", "/groups/default", nil, false)
	if page.Code != 200 {
		t.Fatalf("group page: %d %.2000s", page.Code, page.Body)
	}
	body = page.Body.String()
	noKey("the group page", body)
	row := regexp.MustCompile(`(?s)<tr id="cert-soon">.*?</tr>`).FindString(body)
	if !strings.Contains(row, "soon.example.com") || !strings.Contains(row, "cert-expiring") || !strings.Contains(row, "expires soon") || !strings.Contains(row, "s-submitted") {
		t.Errorf("the certificate expiring in 10 days lacks its warning: %s", row)
	}
	row = regexp.MustCompile(`(?s)<tr id="cert-later">.*?</tr>`).FindString(body)
	if !strings.Contains(row, "cert-ok") || strings.Contains(row, "cert-expiring") {
		t.Errorf("a certificate valid for 400 days is flagged: %s", row)
	}
	for _, path := range []string{"/groups", "/", "/audit", "/groups/default?q=x", "/groups/default?history_page=2"} {
		noKey(path, f.send("GET", path, nil, false).Body.String())
	}

	// Set default, then delete with the confirmation naming it.
	id := regexp.MustCompile(`/groups/default/certificates/([^/"]+)/default`).FindStringSubmatch(row)
	if id == nil {
		t.Fatalf("no set-default form in %s", row)
	}
	if rec := f.send("POST", "/groups/default/certificates/"+id[1]+"/default", nil, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("set default: %d %.500s", rec.Code, rec.Body)
	}
	body = f.send("GET", "/groups/default", nil, false).Body.String()
	row = regexp.MustCompile(`(?s)<tr id="cert-later">.*?</tr>`).FindString(body)
	if !strings.Contains(row, ">default<") || !strings.Contains(row, "Delete certificate later?") {
		t.Errorf("the default certificate's row: %s", row)
	}
	if rec := f.send("POST", "/groups/default/certificates/"+id[1]+"/delete", nil, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d %.500s", rec.Code, rec.Body)
	}
	if strings.Contains(f.send("GET", "/groups/default", nil, false).Body.String(), `id="cert-later"`) {
		t.Error("the deleted certificate is still listed")
	}
}

// TestJoinTokenShownOnce: the creation's answer shows the token, with a
// copy button; the page afterwards lists it by its hint only; revoking
// asks first, naming it.
func TestJoinTokenShownOnce(t *testing.T) {
	f := newFixture(t)
	rec := f.send("POST", "/groups/default/tokens", url.Values{"name": {"eu-west"}, "expires_in_days": {"30"}}, true)
	if rec.Code != 200 {
		t.Fatalf("create token: %d %.1000s", rec.Code, rec.Body)
	}
	tok := regexp.MustCompile(`<code id="token-value">(ptg_[^<]+)</code>`).FindStringSubmatch(rec.Body.String())
	if tok == nil || !strings.Contains(rec.Body.String(), `data-copy="token-value"`) {
		t.Fatalf("the creation's answer lacks the token and its copy button:\n%.3000s", rec.Body)
	}
	page := f.send("GET", "/groups/default", nil, false).Body.String()
	if strings.Contains(page, tok[1]) || strings.Contains(page, `id="token-value"`) {
		t.Fatal("the group page shows the token again")
	}
	hint := tok[1][len(tok[1])-4:]
	if !strings.Contains(page, "..."+hint) || !strings.Contains(page, "Revoke join token eu-west?") {
		t.Errorf("the token is not listed by its hint with a confirmation naming it")
	}
	id := regexp.MustCompile(`/groups/default/tokens/([^/"]+)/delete`).FindStringSubmatch(page)
	if id == nil {
		t.Fatal("no revoke form")
	}
	if rec := f.send("POST", "/groups/default/tokens/"+id[1]+"/delete", nil, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", rec.Code)
	}
	if strings.Contains(f.send("GET", "/groups/default", nil, false).Body.String(), "..."+hint) {
		t.Error("the revoked token is still listed")
	}
	for _, days := range []string{"0", "-1", "x", "3651", "99999999999999999999"} {
		rec := f.send("POST", "/groups/default/tokens", url.Values{"name": {"bad"}, "expires_in_days": {days}}, true)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "must be a whole number of days") {
			t.Errorf("expires_in_days %q: %d", days, rec.Code)
		}
	}
}

// TestGroupPageSections: the page has its sections in both languages,
// and a missing group is a 404.
func TestGroupPageSections(t *testing.T) {
	f := newFixture(t)
	for _, lang := range []struct{ accept, want string }{{"en", "Join tokens"}, {"zh-CN", "接入令牌"}} {
		body := f.getIn("/groups/default", lang.accept).Body.String()
		for _, id := range []string{`id="instances"`, `id="certificates"`, `id="tokens"`, `id="registries"`, `id="health"`, `id="history"`, lang.want} {
			if !strings.Contains(body, id) {
				t.Errorf("%s: the group page lacks %s", lang.accept, id)
			}
		}
	}
	// A publish is a line of the group's history, with how many of its
	// instances serve its revision (none report in this test).
	f.apiCall(t, "POST", "/projects/default/services", map[string]any{"name": "orders", "protocols": []string{"http"},
		"upstream": map[string]any{"scheme": "http", "nodes": []map[string]any{{"host": "127.0.0.1", "port": 8080, "weight": 1}}},
		"routes":   []map[string]any{{"name": "list", "paths": []string{"/orders"}}}}, http.StatusCreated, nil)
	f.apiCall(t, "POST", "/projects/default/services/orders/publish", map[string]any{"group": "default", "version": "1.0.0"}, http.StatusCreated, nil)
	body := f.send("GET", "/groups/default", nil, false).Body.String()
	hist := regexp.MustCompile(`(?s)<table id="group-history">.*?</table>`).FindString(body)
	if !strings.Contains(hist, "publish") || !strings.Contains(hist, "1.0.0") || !strings.Contains(hist, "0 of 0 instances") {
		t.Errorf("the history lacks the publish with its convergence: %s", hist)
	}
	if rec := f.send("GET", "/groups/nope", nil, false); rec.Code != http.StatusNotFound {
		t.Errorf("a missing group: %d, want 404", rec.Code)
	}
}

// groupOddPaths, groupOddFields and groupOddGets bring the group page's
// forms and pages to TestFormsNeverAnswer500.
var (
	groupOddPaths = []string{"/groups/default/certificates", "/groups/nope/certificates", "/groups/default/certificates/nope/default",
		"/groups/default/certificates/nope/delete", "/groups/default/certificates/nope/renew", "/groups/default/tokens", "/groups/nope/tokens", "/groups/default/tokens/nope/delete",
		"/groups/default/registries", "/groups/nope/registries", "/groups/default/registries/nope", "/groups/default/registries/nope/delete"}
	groupOddFields = []string{"certificate", "private_key", "default", "expires_in_days",
		"address", "namespace", "poll_interval", "service_group", "password", "token", "ca", "remove_password", "remove_token"}
	groupOddGets = []string{"/groups/default", "/groups/nope", "/groups/default?q=%00&page=-1", "/groups/default?page=zz&q=" + strings.Repeat("a", 3000),
		"/groups/default?page=99999999999999999999", "/groups/%00", "/p/default/switch?to=%00", "/p/nope/switch?back=//evil"}
)

// newStoreFixture is newFixture keeping the store, for what only
// gateways report (their heartbeats).
func newStoreFixture(t *testing.T) (*fixture, store.Store) {
	t.Helper()
	st := webpagetest.NewStore(t, firstStart)
	api := adminapi.New(adminapi.Config{Store: st, Version: "test"})
	f := &fixture{api: api, h: New(Config{API: api})}
	g := f.loginAs(t, "admin", "pw")
	f.cookie, f.csrf = g.cookie, g.csrf
	return f, st
}

// TestGroupPageInstancesHealthRegistries: the instances as gateways
// report them — states, the revision each serves against the group's,
// how many serve it — and what they report of upstream nodes (an
// ejected one, with its error) and of the group's registries.
func TestGroupPageInstancesHealthRegistries(t *testing.T) {
	f, st := newStoreFixture(t)
	f.apiCall(t, "POST", "/gateway-groups/default/registries", map[string]any{"name": "dns1", "type": "dns"}, http.StatusCreated, nil)
	var g spec.GatewayGroup
	f.apiCall(t, "GET", "/gateway-groups/default", nil, http.StatusOK, &g)
	now := time.Now()
	ins := []spec.GatewayInstance{
		{ID: "gw-current", Group: "default", Hostname: "host-a", Revision: g.Revision, StartedAt: now.Add(-time.Hour), LastSeen: now.Add(-3 * time.Second), Interval: 10 * time.Second,
			UpstreamHealth: []spec.NodeHealth{{Group: "default", Service: "orders", Node: "10.0.0.7:8080", Scheme: "http", State: "ejected", Passive: true,
				Since: now.Add(-2 * time.Minute), LastError: "connection refused", Ejections: 2}},
			Registries: []spec.RegistryStatus{{Registry: "dns1", Healthy: false, Error: "no such host"}}},
		{ID: "gw-behind", Group: "default", Hostname: "host-b", Revision: g.Revision - 1, StartedAt: now.Add(-time.Hour), LastSeen: now.Add(-time.Second), Interval: 10 * time.Second},
	}
	err := st.Tx(context.Background(), func(tx store.Tx) error {
		for i := range ins {
			if err := tx.PutGatewayInstance(context.Background(), &ins[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		accept string
		want   []string
	}{
		{"en", []string{fmt.Sprintf("Revision %d: 1 of 2 live instances serve it", g.Revision), "some instances still serve an older revision",
			fmt.Sprintf("behind (current %d)", g.Revision), "ejected (circuit open)", "connection refused", "10.0.0.7:8080", "circuit breaker",
			"2 min ago", "no such host", "failing"}},
		{"zh-CN", []string{fmt.Sprintf("配置版本 %d：1 / 2 个在线实例已生效", g.Revision), "已摘除（熔断）", "2 分钟前", "连接失败"}},
	} {
		rec := f.getIn("/groups/default", tc.accept)
		if rec.Code != 200 {
			t.Fatalf("%s: %d", tc.accept, rec.Code)
		}
		for _, w := range tc.want {
			if !strings.Contains(rec.Body.String(), w) {
				t.Errorf("%s: the group page lacks %q", tc.accept, w)
			}
		}
	}
	body := regexp.MustCompile(`(?s)<table id="group-instances">.*?</table>`).FindString(f.send("GET", "/groups/default?q=host-b", nil, false).Body.String())
	if strings.Contains(body, "gw-current") || !strings.Contains(body, "gw-behind") {
		t.Error("the instances' search does not narrow the list")
	}
}

// TestRenewCertificate: a renewed chain with its new key replaces the
// certificate; a chain alone keeps the stored key, and one that does not
// match it is refused on its own row's form, the key never shown back.
func TestRenewCertificate(t *testing.T) {
	f := newFixture(t)
	ca := certtest.NewCA(t)
	old := ca.IssueValid(t, time.Now().Add(-time.Hour), time.Now().Add(5*24*time.Hour), "shop.example.com")
	if rec := f.send("POST", "/groups/default/certificates", url.Values{"name": {"shop"}, "certificate": {old.Chain}, "private_key": {old.Key}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("upload: %d %.500s", rec.Code, rec.Body)
	}
	body := f.send("GET", "/groups/default", nil, false).Body.String()
	id := regexp.MustCompile(`/groups/default/certificates/([^/"]+)/renew`).FindStringSubmatch(body)
	if id == nil {
		t.Fatal("no renew form")
	}
	renewed := ca.IssueValid(t, time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour), "shop.example.com")
	rec := f.send("POST", "/groups/default/certificates/"+id[1]+"/renew", url.Values{"certificate": {renewed.Chain}}, true)
	if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), keyBody(old.Key)[0]) || !strings.Contains(rec.Body.String(), `<details open><summary id="renew-shop">`) {
		t.Fatalf("a chain that does not match the stored key: %d, want 400 on the row's open form", rec.Code)
	}
	rec = f.send("POST", "/groups/default/certificates/"+id[1]+"/renew", url.Values{"certificate": {renewed.Chain}, "private_key": {renewed.Key}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("renew: %d %.1000s", rec.Code, rec.Body)
	}
	row := regexp.MustCompile(`(?s)<tr id="cert-shop">.*?</tr>`).FindString(f.send("GET", "/groups/default", nil, false).Body.String())
	if !strings.Contains(row, "cert-ok") || strings.Contains(row, keyBody(renewed.Key)[0]) {
		t.Errorf("the renewed certificate's row: %s", row)
	}
}
