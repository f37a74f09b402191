package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
)

// auditT0 is when the clocked tests start: now, for the store checks
// token expiry on its own clock.
var auditT0 = time.Now().UTC().Truncate(time.Second)

// clockedAPI is a test API whose clock the test moves.
func clockedAPI(t *testing.T, opts ...func(*Config)) (*testAPI, *clock) {
	t.Helper()
	clk := &clock{t: auditT0}
	a := newTestAPI(t, append([]func(*Config){func(c *Config) { c.Now = clk.now }}, opts...)...)
	return a, clk
}

// auditPage lists audit events with token and query (one page of 500).
func (a *testAPI) auditPage(t *testing.T, token, query string) listResultOf[spec.AuditEvent] {
	t.Helper()
	var res listResultOf[spec.AuditEvent]
	a.decode(a.doToken(token, "GET", "/audit-events?page_size=500&"+query, nil), &res)
	return res
}

// actionsOf lists the events' actions in the order given.
func actionsOf(evs []spec.AuditEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Action
	}
	return out
}

// exported is one export response: its events and its last line when
// that tells how to go on.
type exported struct {
	events []spec.AuditEvent
	next   *exportNext
	resp   response
}

// export calls GET /audit-events/export?query and reads its lines.
func (a *testAPI) export(t *testing.T, token, query string) exported {
	t.Helper()
	r := a.doToken(token, "GET", "/audit-events/export?"+query, nil)
	out := exported{resp: r}
	if r.status != http.StatusOK {
		t.Fatalf("export ?%s: %d %s", query, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("export Content-Type %q, want application/x-ndjson", ct)
	}
	if len(r.body) > 0 && r.body[len(r.body)-1] != '\n' {
		t.Fatalf("export does not end with a newline: %q", r.body[max(0, len(r.body)-80):])
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(r.body, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if out.next != nil {
			t.Fatalf("export line %d follows the continuation line", i+1)
		}
		if bytes.Contains(line, []byte(`"next_after_id"`)) {
			out.next = &exportNext{}
			if err := strictDecode(line, out.next); err != nil {
				t.Fatalf("continuation line %s: %v", line, err)
			}
			continue
		}
		var e spec.AuditEvent
		if err := strictDecode(line, &e); err != nil {
			t.Fatalf("export line %d %s: %v", i+1, line, err)
		}
		out.events = append(out.events, e)
	}
	return out
}

// onlyMaskedSecrets fails when a member of the JSON b that names a secret
// holds anything but "***", a boolean or nothing.
func onlyMaskedSecrets(t *testing.T, what string, b []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if secretName(k) {
					if maskValue(x) != x && x != masked {
						t.Errorf("%s: %s.%s = %v, want it masked", what, path, k, x)
					}
					continue
				}
				walk(x, path+"."+k)
			}
		case []any:
			for i, x := range v {
				walk(x, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(v, "")
}

// TestAuditFilters: every filter of GET /audit-events, alone and with
// others, on events made through the API at known times.
func TestAuditFilters(t *testing.T) {
	a, clk := clockedAPI(t) // admin's login at T0
	var u1, u2 spec.Upstream
	clk.advance(time.Hour) // T0+1h
	a.mustJSON("POST", "/projects/default/upstreams", map[string]any{"name": "u1", "nodes": testUpstream["nodes"]}, http.StatusCreated, &u1)
	clk.advance(time.Hour) // T0+2h
	a.mustJSON("POST", "/projects", map[string]any{"id": "p2"}, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/p2/upstreams", map[string]any{"name": "u2", "nodes": testUpstream["nodes"]}, http.StatusCreated, &u2)
	clk.advance(time.Hour) // T0+3h
	moved := []map[string]any{{"host": "127.0.0.1", "port": 8081, "weight": 100}}
	a.mustJSON("PATCH", "/projects/default/upstreams/u1", map[string]any{"nodes": moved}, http.StatusOK, nil)
	clk.advance(time.Hour) // T0+4h: alice logs in and changes u2
	alice := a.member(t, "alice", "p2", rbac.ProjectAdmin)
	if r := a.doToken(alice, "PATCH", "/projects/p2/upstreams/u2", map[string]any{"nodes": moved}); r.status != http.StatusOK {
		t.Fatalf("alice's patch: %d %s", r.status, r.body)
	}
	clk.advance(time.Hour) // T0+5h
	a.mustJSON("DELETE", "/projects/default/upstreams/u1", nil, http.StatusNoContent, nil)

	at := func(h int) string {
		return url.QueryEscape(auditT0.Add(time.Duration(h) * time.Hour).Format(time.RFC3339))
	}
	u1Res := "/projects/default/upstreams/" + u1.ID
	tests := []struct {
		query string
		want  []string // actions, newest first
	}{
		{"", []string{"upstream.delete", "upstream.update", "auth.login", "upstream.update", "upstream.create", "project.create", "upstream.create", "auth.login"}},
		{"actor=alice", []string{"upstream.update", "auth.login"}},
		{"actor=ali", nil},
		{"project=p2", []string{"upstream.update", "upstream.create", "project.create"}},
		{"project=nope", nil},
		{"resource=" + u1Res, []string{"upstream.delete", "upstream.update", "upstream.create"}},
		{"resource=/projects/default", []string{"upstream.delete", "upstream.update", "upstream.create"}},
		{"resource=/projects/p", nil},
		{"action=upstream.", []string{"upstream.delete", "upstream.update", "upstream.update", "upstream.create", "upstream.create"}},
		{"action=upstream.update", []string{"upstream.update", "upstream.update"}},
		{"action=upstream", nil},
		{"since=" + at(2) + "&until=" + at(4), []string{"upstream.update", "upstream.create", "project.create"}},
		{"since=" + at(5), []string{"upstream.delete"}},
		{"until=" + at(1), []string{"auth.login"}},
		{"actor=admin&project=p2&action=upstream.", []string{"upstream.create"}},
		{"q=u&actor=alice", []string{"upstream.update", "auth.login"}}, // q matches /users/… and /projects/p2/upstreams/…
		{"q=upstreams&actor=alice", []string{"upstream.update"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			res := a.auditPage(t, a.token, tc.query)
			if got := actionsOf(res.Items); !slices.Equal(got, tc.want) || res.Total != len(tc.want) {
				t.Errorf("?%s: total %d, actions %v; want %v", tc.query, res.Total, got, tc.want)
			}
			// The export selects the same events, oldest first.
			ex := a.export(t, a.token, tc.query)
			want := slices.Clone(res.Items)
			slices.Reverse(want)
			if len(ex.events) != len(want) || ex.next != nil {
				t.Fatalf("export ?%s: %d events (next %v), want %d", tc.query, len(ex.events), ex.next, len(want))
			}
			for i := range want {
				if ex.events[i].ID != want[i].ID {
					t.Errorf("export ?%s line %d: id %d, want %d", tc.query, i+1, ex.events[i].ID, want[i].ID)
				}
			}
		})
	}
	// Paging works on the filtered list.
	var page listResultOf[spec.AuditEvent]
	a.mustJSON("GET", "/audit-events?action=upstream.&page=2&page_size=2", nil, http.StatusOK, &page)
	if page.Total != 5 || !slices.Equal(actionsOf(page.Items), []string{"upstream.update", "upstream.create"}) {
		t.Errorf("page 2 of upstream.: total %d, %v", page.Total, actionsOf(page.Items))
	}
}

// TestAuditBadParams: a bad filter is a 400 naming every bad parameter,
// on the list and on the export; a parameter of the other endpoint is
// refused like any unknown one.
func TestAuditBadParams(t *testing.T) {
	a := newTestAPI(t)
	q := url.QueryEscape
	tests := []struct {
		path   string
		fields []string
	}{
		{"/audit-events?since=yesterday", []string{"since"}},
		{"/audit-events?until=2026-13-01T00:00:00Z", []string{"until"}},
		{"/audit-events?since=2026-05-02T00:00:00Z&until=2026-05-01T00:00:00Z", []string{"until"}},
		{"/audit-events?since=2026-05-01T00:00:00Z&until=2026-05-01T00:00:00Z", []string{"until"}},
		{"/audit-events?since=2300-01-01T00:00:00Z", []string{"since"}},
		{"/audit-events?action=" + q("service update"), []string{"action"}},
		{"/audit-events?action=.service", []string{"action"}},
		{"/audit-events?action=service..", []string{"action"}},
		{"/audit-events?resource=projects/default", []string{"resource"}},
		{"/audit-events?resource=/" + strings.Repeat("x", maxAuditResource), []string{"resource"}},
		{"/audit-events?project=" + q("Not a project!"), []string{"project"}},
		{"/audit-events?actor=" + strings.Repeat("x", maxAuditActor+1), []string{"actor"}},
		{"/audit-events?page=0&since=x&action=" + q("a b"), []string{"page", "action", "since"}},
		{"/audit-events?after_id=5", []string{"after_id"}},
		{"/audit-events?limit=5", []string{"limit"}},
		{"/audit-events?actor=a&actor=b", []string{"actor"}},
		{"/audit-events/export?limit=0", []string{"limit"}},
		{"/audit-events/export?limit=100001", []string{"limit"}},
		{"/audit-events/export?after_id=-1", []string{"after_id"}},
		{"/audit-events/export?after_id=abc", []string{"after_id"}},
		{"/audit-events/export?limit=x&since=y&project=" + q("P!"), []string{"project", "since", "limit"}},
		{"/audit-events/export?page=2", []string{"page"}},
	}
	for _, tc := range tests {
		r := a.do("GET", tc.path, nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d %s, want 400", tc.path, r.status, r.body)
			continue
		}
		if got := r.fields(t); !slices.Equal(got, tc.fields) {
			t.Errorf("GET %s names %v, want %v", tc.path, got, tc.fields)
		}
	}
	// Times with an offset and fractions are RFC 3339 too.
	a.mustJSON("GET", "/audit-events?since="+q("2026-05-01T02:00:00.5+02:00"), nil, http.StatusOK, nil)
}

// TestAuditMasking: changes are audited with before, after and the
// changed paths, and no secret given to the API (a data source's
// password, credential secrets, a header in a plugin configuration)
// reaches the audit log or its export.
func TestAuditMasking(t *testing.T) {
	a := newTestAPI(t)
	const dsPass, dsPass2 = "ds-Pass-7fq2kz9w", "ds-Pass-NEW-88s7d6f5"
	const basicPass, hmacSecret = "basic-Pass-83jd9s0a", "hmac-Secret-0a9s8d7f6g"
	const routeToken = "Bearer route-Secret-k2j3h4"
	secrets := []string{dsPass, dsPass2, basicPass, hmacSecret, "route-Secret-k2j3h4"}

	var ds spec.DataSource
	a.mustJSON("POST", "/projects/default/data-sources", map[string]any{"name": "crm", "type": "postgres",
		"host": "db1.internal", "port": 5432, "database": "crm", "user": "app", "password": dsPass}, http.StatusCreated, &ds)
	dsRes := "/projects/default/data-sources/" + ds.ID
	a.mustJSON("PATCH", dsRes, map[string]any{"host": "db2.internal", "password": dsPass2}, http.StatusOK, nil)
	a.mustJSON("PATCH", dsRes, map[string]any{"description": "the CRM"}, http.StatusOK, nil)

	var app spec.Application
	a.mustJSON("POST", "/applications", map[string]any{"name": "caller", "project": "default"}, http.StatusCreated, &app)
	creds := "/applications/" + app.ID + "/credentials"
	var key, basic spec.Credential
	a.mustJSON("POST", creds, map[string]any{"type": "key-auth"}, http.StatusCreated, &key)
	a.mustJSON("POST", creds, map[string]any{"type": "basic-auth", "username": "alice", "password": basicPass}, http.StatusCreated, &basic)
	a.mustJSON("POST", creds, map[string]any{"type": "hmac-auth", "access_key": "ak-2e4d0bbad47e", "secret_key": hmacSecret}, http.StatusCreated, nil)
	var rotated spec.Credential
	a.mustJSON("POST", creds+"/"+key.ID+"/rotate", map[string]any{"overlap": 60}, http.StatusCreated, &rotated)
	a.mustJSON("DELETE", creds+"/"+basic.ID, nil, http.StatusNoContent, nil)
	secrets = append(secrets, key.Key, rotated.Key)

	svc := a.createService("masked")
	a.mustJSON("POST", "/projects/default/services/"+svc.ID+"/routes", map[string]any{"name": "r", "paths": []string{"/r"},
		"plugins": map[string]any{"proxy-rewrite": map[string]any{"headers": map[string]any{"set": map[string]any{"Authorization": routeToken}}}}},
		http.StatusCreated, nil)

	// Nothing of any secret anywhere: the list, the export, each detail.
	list := a.do("GET", "/audit-events?page_size=500", nil)
	ex := a.export(t, a.token, "")
	for _, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("a secret of the test is empty: %q", secrets)
		}
		for what, b := range map[string][]byte{"GET /audit-events": list.body, "export": ex.resp.body} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s shows the secret %q", what, s)
			}
		}
	}
	byAction := map[string][]spec.AuditEvent{}
	for _, e := range ex.events {
		onlyMaskedSecrets(t, e.Action, e.Detail)
		byAction[e.Action] = append(byAction[e.Action], e)
	}

	// The password change: both sides "***", named in changed.
	updates := byAction["data_source.update"]
	if len(updates) != 2 {
		t.Fatalf("data_source.update events: %d, want 2", len(updates))
	}
	var d struct {
		Before  map[string]any `json:"before"`
		After   map[string]any `json:"after"`
		Changed []string       `json:"changed"`
	}
	if err := strictDecode(updates[0].Detail, &d); err != nil {
		t.Fatalf("detail %s: %v", updates[0].Detail, err)
	}
	if d.Before["host"] != "db1.internal" || d.After["host"] != "db2.internal" || d.Before["password"] != masked || d.After["password"] != masked {
		t.Errorf("password and host change: before %v, after %v", d.Before, d.After)
	}
	if !slices.Equal(d.Changed, []string{"host", "password", "updated_at"}) {
		t.Errorf("changed %v, want host, password, updated_at", d.Changed)
	}
	if err := strictDecode(updates[1].Detail, &d); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Changed, []string{"description", "updated_at"}) || d.After["password"] != masked {
		t.Errorf("a change that keeps the password: changed %v, after %v", d.Changed, d.After)
	}
	// A creation has no before, a deletion no after.
	if create := byAction["data_source.create"]; len(create) != 1 || !bytes.Contains(create[0].Detail, []byte(`"before":null`)) {
		t.Errorf("data_source.create: %+v", create)
	}
	del := byAction["credential.delete"]
	if len(del) != 1 || !bytes.Contains(del[0].Detail, []byte(`"after":null`)) || !bytes.Contains(del[0].Detail, []byte(`"username":"alice"`)) {
		t.Errorf("credential.delete: %+v", del)
	}
	// A project application's credentials are events of its project; a
	// rotation records the old credential's end.
	for _, action := range []string{"credential.create", "credential.rotate", "credential.delete"} {
		for _, e := range byAction[action] {
			if e.Project != "default" {
				t.Errorf("%s event of project %q, want default", action, e.Project)
			}
		}
	}
	if rot := byAction["credential.rotate"]; len(rot) != 1 || !bytes.Contains(rot[0].Detail, []byte(`"changed":["expires_at"]`)) {
		t.Errorf("credential.rotate: %+v", rot)
	}
	// A header of a plugin configuration is masked by its name.
	routes := byAction["route.create"]
	if len(routes) != 1 || !bytes.Contains(routes[0].Detail, []byte(`"Authorization":"***"`)) {
		t.Errorf("route.create: %+v", routes)
	}
}

// TestAuditProjectNarrowing: a project admin reads the events of their
// projects and nothing else (no system event, no other project, an empty
// answer for another project); a super_admin reads everything; a user
// without audit:read nowhere reads nothing.
func TestAuditProjectNarrowing(t *testing.T) {
	a := newTestAPI(t)
	a.mustJSON("POST", "/projects", map[string]any{"id": "p2"}, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/upstreams", map[string]any{"name": "d1", "nodes": testUpstream["nodes"]}, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/p2/upstreams", map[string]any{"name": "p1", "nodes": testUpstream["nodes"]}, http.StatusCreated, nil)
	alice := a.member(t, "alice", "p2", rbac.ProjectAdmin)
	if r := a.doToken(alice, "POST", "/projects/p2/upstreams", map[string]any{"name": "p2", "nodes": testUpstream["nodes"]}); r.status != http.StatusCreated {
		t.Fatalf("alice creates an upstream: %d %s", r.status, r.body)
	}

	mine := a.auditPage(t, alice, "")
	if mine.Total != 3 || !slices.Equal(actionsOf(mine.Items), []string{"upstream.create", "upstream.create", "project.create"}) {
		t.Errorf("alice sees %d events %v, want p2's three", mine.Total, actionsOf(mine.Items))
	}
	for _, e := range mine.Items {
		if e.Project != "p2" {
			t.Errorf("alice sees an event of project %q: %+v", e.Project, e)
		}
	}
	if p2 := a.auditPage(t, alice, "project=p2"); p2.Total != mine.Total {
		t.Errorf("alice ?project=p2: %d events, want %d", p2.Total, mine.Total)
	}
	for _, q := range []string{"project=default", "action=auth.", "resource=/projects/default", "actor=admin&project=default"} {
		if other := a.auditPage(t, alice, q); other.Total != 0 || len(other.Items) != 0 {
			t.Errorf("alice ?%s: %d events %v, want none", q, other.Total, actionsOf(other.Items))
		}
	}
	if ex := a.export(t, alice, ""); len(ex.events) != mine.Total {
		t.Errorf("alice's export: %d events, want %d", len(ex.events), mine.Total)
	} else {
		for _, e := range ex.events {
			if e.Project != "p2" {
				t.Errorf("alice exports an event of project %q", e.Project)
			}
		}
	}
	if ex := a.export(t, alice, "project=default"); len(ex.events) != 0 {
		t.Errorf("alice exports %d events of project default", len(ex.events))
	}

	// The super_admin sees every project's events and the system ones.
	all := a.auditPage(t, a.token, "")
	projects := map[string]int{}
	for _, e := range all.Items {
		projects[e.Project]++
	}
	if projects["p2"] != 3 || projects["default"] != 1 || projects[""] < 2 { // logins of admin and alice
		t.Errorf("the super_admin sees events by project %v", projects)
	}

	// Without audit:read anywhere: 403 on both.
	for _, token := range []string{a.viewerToken(t), a.member(t, "vic", "p2", rbac.Viewer)} {
		wantDenied(t, a.doToken(token, "GET", "/audit-events", nil), rbac.AuditRead)
		wantDenied(t, a.doToken(token, "GET", "/audit-events/export", nil), rbac.AuditRead)
	}
}

// TestAuditRetention: PruneAudit deletes what is older than the
// retention at the API's clock, records it once, and runs at most once
// an hour; a retention of 0 keeps everything.
func TestAuditRetention(t *testing.T) {
	var cfg Config
	a, clk := clockedAPI(t, func(c *Config) { c.AuditRetention = 30 * 24 * time.Hour; cfg = *c })
	ctx := context.Background()
	a.mustJSON("POST", "/projects/default/upstreams", map[string]any{"name": "old", "nodes": testUpstream["nodes"]}, http.StatusCreated, nil)
	clk.advance(31 * 24 * time.Hour)
	var login struct{ Token string }
	a.decode(a.doToken("", "POST", "/auth/login", loginBody("admin", adminPassword)), &login)
	a.token = login.Token // the first one expired with the clock
	a.mustJSON("POST", "/projects/default/upstreams", map[string]any{"name": "new", "nodes": testUpstream["nodes"]}, http.StatusCreated, nil)

	if n, ran, err := PruneAudit(ctx, Config{Store: a.store, Now: clk.now}); n != 0 || ran || err != nil {
		t.Errorf("PruneAudit without retention: %d, %v, %v; want nothing done", n, ran, err)
	}
	n, ran, err := PruneAudit(ctx, cfg)
	if err != nil || !ran || n != 2 {
		t.Fatalf("PruneAudit: %d, %v, %v; want the 2 events of 31 days ago", n, ran, err)
	}
	left := a.auditPage(t, a.token, "")
	if got := actionsOf(left.Items); !slices.Equal(got, []string{"audit.prune", "upstream.create", "auth.login"}) {
		t.Fatalf("after the prune: %v", got)
	}
	prune := left.Items[0]
	var detail struct {
		Count     int       `json:"count"`
		Before    time.Time `json:"before"`
		Retention string    `json:"retention"`
	}
	if err := strictDecode(prune.Detail, &detail); err != nil {
		t.Fatalf("prune detail %s: %v", prune.Detail, err)
	}
	if prune.Actor != AuditPruneActor || prune.Project != "" || prune.Resource != "/audit-events" || !prune.At.Equal(clk.now()) ||
		detail.Count != 2 || !detail.Before.Equal(clk.now().Add(-30*24*time.Hour)) || detail.Retention != "720h0m0s" {
		t.Errorf("prune event %+v, detail %+v", prune, detail)
	}
	for _, e := range left.Items {
		if e.At.Before(clk.now().Add(-30 * 24 * time.Hour)) {
			t.Errorf("an event older than the retention is left: %+v", e)
		}
	}

	// At most once an hour, whoever asks.
	for _, step := range []time.Duration{0, 59 * time.Minute} {
		clk.advance(step)
		if n, ran, err := PruneAudit(ctx, cfg); ran || n != 0 || err != nil {
			t.Errorf("PruneAudit %s after the last: %d, %v, %v; want not run", step, n, ran, err)
		}
	}
	clk.advance(time.Minute)
	if n, ran, err := PruneAudit(ctx, cfg); !ran || n != 0 || err != nil {
		t.Errorf("PruneAudit an hour after the last: %d, %v, %v; want run, nothing to delete", n, ran, err)
	}
	if p := a.auditPage(t, a.token, "action=audit.prune"); p.Total != 1 {
		t.Errorf("%d audit.prune events, want 1 (a prune that deletes nothing records nothing)", p.Total)
	}
}
