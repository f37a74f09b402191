package routing

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/gateway/plugin/quota"
	"github.com/portico-gw/portico/internal/spec"
)

// quotaSnapshot serves service "a" (routes "auth" with key-auth and
// limit-count, "open" without plugins) and service "b" (key-auth) in group
// g of zone Asia/Shanghai; application "sub" holds a plan of 2 calls a
// day for a, and "proj" is a project application without one.
func quotaSnapshot(rev int64) *spec.Snapshot {
	auth := map[string]string{"key-auth": `{}`, "limit-count": `{"count":100,"time_window":60,"key":"consumer"}`}
	snap := snapshot(group("g", "",
		deployed("p", "a", "", withPlugins(route("auth", "/a/auth"), auth), route("open", "/a/open")),
		deployed("p", "b", "", withPlugins(route("auth", "/b/auth"), map[string]string{"key-auth": `{}`}))))
	snap.Revision = rev
	snap.Groups[0].Group.TimeZone = "Asia/Shanghai"
	snap.Groups[0].Consumers = []spec.Consumer{
		{ID: "sub", Name: "subscriber", Subscriptions: []string{"a-id"},
			Plans:       []spec.ConsumerPlan{{Service: "a-id", Subscription: "sub-1", Plan: "free", Quotas: []spec.Quota{{Count: 2, Period: spec.QuotaDay}}}},
			Credentials: []spec.ConsumerCredential{{ID: "c1", Type: spec.CredKeyAuth, Key: hexKey("sub-key")}}},
		{ID: "proj", Name: "project app", ProjectID: "p",
			Credentials: []spec.ConsumerCredential{{ID: "c2", Type: spec.CredKeyAuth, Key: hexKey("proj-key")}}},
	}
	return snap
}

// hit runs the request filters of path's route with key; the status of
// the answer (200 when none answered).
func hit(t *testing.T, tbl *Table, path, key string) int {
	t.Helper()
	var ps match.Params
	rt, _, ok := tbl.Lookup("", "GET", path, &ps)
	if !ok {
		t.Fatalf("no route for %s", path)
	}
	b := plugintest.New("192.0.2.1")
	b.ReqHeader.Set("apikey", key)
	ex := b.Exchange()
	ex.Reset(b, "req", &rt.Info, nil)
	for _, f := range rt.RequestFilters() {
		if f.OnRequest(ex) {
			return b.ErrorStatus
		}
	}
	return 200
}

func filterTypes(t *testing.T, tbl *Table, path string) string {
	t.Helper()
	rt, _, _ := lookup(tbl, "", "GET", path)
	if rt == nil {
		t.Fatalf("no route for %s", path)
	}
	var out []string
	for _, f := range rt.RequestFilters() {
		out = append(out, fmt.Sprintf("%T", f))
	}
	return fmt.Sprint(out)
}

// TestQuotaFilterPlacement: the quota filter follows authentication and
// precedes rate limits on the routes of a service some application holds
// a plan for, and only on routes that authenticate.
func TestQuotaFilterPlacement(t *testing.T) {
	tbl, err := Build(quotaSnapshot(1), Deps{Quotas: quota.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/a/auth": "[*keyauth.Filter *quota.Filter *limitcount.Filter]",
		"/a/open": "[]",
		"/b/auth": "[*keyauth.Filter]",
	} {
		if got := filterTypes(t, tbl, path); got != want {
			t.Errorf("%s filters %s, want %s", path, got, want)
		}
	}
	if tbl.quotas == nil {
		t.Error("the table holds no quota registry")
	}
}

// TestQuotaAcrossReloads: the plan admits 2 calls a day; a rebuilt table
// and a delta recompiling the service keep the count; the project
// application and the other service are not counted.
func TestQuotaAcrossReloads(t *testing.T) {
	deps := Deps{Quotas: quota.NewRegistry()}
	tbl, err := Build(quotaSnapshot(1), deps)
	if err != nil {
		t.Fatal(err)
	}
	if got := []int{hit(t, tbl, "/a/auth", "sub-key"), hit(t, tbl, "/a/auth", "sub-key")}; got[0] != 200 || got[1] != 200 {
		t.Fatalf("the plan's two calls: %v", got)
	}
	rebuilt, err := Build(quotaSnapshot(2), deps)
	if err != nil {
		t.Fatal(err)
	}
	if got := hit(t, rebuilt, "/a/auth", "sub-key"); got != 429 {
		t.Errorf("third call after a rebuild: %d, want 429", got)
	}
	ds := quotaSnapshot(3).Groups[0].Services[0]
	ds.Service.Description = "changed"
	delta := &spec.SnapshotDelta{Base: 2, Revision: 3, Groups: []spec.GroupDelta{{Group: rebuilt.groups["g"].group, Services: []spec.DeployedService{ds}}}}
	updated, err := rebuilt.Update(delta, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if got := filterTypes(t, updated, "/a/auth"); got != "[*keyauth.Filter *quota.Filter *limitcount.Filter]" {
		t.Errorf("filters after a delta: %s", got)
	}
	if got := hit(t, updated, "/a/auth", "sub-key"); got != 429 {
		t.Errorf("third call after a delta: %d, want 429 (plans and counts kept)", got)
	}
	for range 3 {
		if got := hit(t, updated, "/a/auth", "proj-key"); got != 200 {
			t.Fatalf("project application: %d", got)
		}
	}
	if got := hit(t, updated, "/b/auth", "sub-key"); got != 403 {
		t.Errorf("subscriber on a service it holds no subscription to: %d, want 403", got)
	}
	// A delta that changes the group's zone needs the whole snapshot:
	// the days of every service's quotas move.
	moved := *delta
	moved.Base, moved.Revision = 3, 4
	moved.Groups = []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "g", TimeZone: "UTC"}}}
	if _, err := updated.Update(&moved, Deps{}); !errors.Is(err, ErrNeedsSnapshot) {
		t.Errorf("a delta changing the zone: %v, want ErrNeedsSnapshot", err)
	}
}

func TestSubscriptionPlan(t *testing.T) {
	tbl := mustBuild(t, quotaSnapshot(1))
	plan, zone, ok := tbl.SubscriptionPlan("g", "sub-1")
	if !ok || plan.Plan != "free" || zone.String() != "Asia/Shanghai" {
		t.Errorf("SubscriptionPlan = %+v %v %v", plan, zone, ok)
	}
	if _, _, ok := tbl.SubscriptionPlan("g", "sub-9"); ok {
		t.Error("an unknown subscription found")
	}
	if _, _, ok := tbl.SubscriptionPlan("other", "sub-1"); ok {
		t.Error("a subscription found in a group not served")
	}
	if !tbl.HasSubscription("g", "sub-1") || tbl.HasSubscription("g", "sub-9") {
		t.Error("HasSubscription answers wrongly")
	}
}

// hexKey is a key-auth key as the control plane sends it (its SHA-256).
func hexKey(key string) string { h := sha256.Sum256([]byte(key)); return hex.EncodeToString(h[:]) }
