package adminapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/certtest"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// TestCertificates: an admin adds a group certificate (its names and
// validity read from it, its key never shown again and stored sealed),
// renews it (the stored key kept when none is given), and deletes it;
// every change is a new revision of the group carrying the certificates;
// bad certificates are 400 naming the field; a viewer may read but not
// change them.
func TestCertificates(t *testing.T) {
	a := newTestAPI(t)
	const base = "/gateway-groups/default/certificates"
	ca := certtest.NewCA(t)
	api := ca.Issue(t, "api.example.com", "*.api.example.com")
	rev := groupRevision(t, a)

	var got spec.Certificate
	r := a.mustJSON("POST", base, map[string]any{"name": "api", "certificate": api.Chain, "private_key": api.Key, "default": true}, http.StatusCreated, &got)
	if got.ID == "" || got.Group != "default" || !slices.Equal(got.Names, []string{"*.api.example.com", "api.example.com"}) ||
		!got.NotAfter.Equal(api.Leaf.NotAfter) || !got.Default || strings.Contains(string(r.body), "PRIVATE KEY") {
		t.Errorf("created %s", r.body)
	}
	if now := groupRevision(t, a); now != rev+1 {
		t.Errorf("revision %d after adding a certificate, want %d", now, rev+1)
	}
	snap := groupSnapshot(t, a)
	if cs := snap.Certificates; len(cs) != 1 || cs[0].Sealed == "" || cs[0].Key != "" || strings.Contains(cs[0].Sealed, "PRIVATE") {
		t.Errorf("snapshot certificates %+v: want the one, its key sealed", cs)
	}
	if opened, err := a.secrets.Open(snap.Certificates[0].Sealed, got.ID); err != nil || opened != api.Key {
		t.Errorf("the sealed key does not open to the key given: %v", err)
	}
	for _, path := range []string{base, base + "/api", base + "/" + got.ID} {
		if r := a.do("GET", path, nil); r.status != http.StatusOK || strings.Contains(string(r.body), "PRIVATE KEY") || strings.Contains(string(r.body), "sealed") {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}

	// Renewed: a new chain for the same key is checked against the key
	// stored; a new chain with a key that is not its own is refused.
	renewed := ca.Issue(t, "api.example.com")
	r = a.do("PATCH", base+"/api", map[string]any{"certificate": renewed.Chain})
	if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), "private_key") {
		t.Errorf("a new chain without its key: %d %s, want 400 naming private_key", r.status, r.body)
	}
	a.mustJSON("PATCH", base+"/api", map[string]any{"certificate": renewed.Chain, "private_key": renewed.Key}, http.StatusOK, &got)
	if !got.NotAfter.Equal(renewed.Leaf.NotAfter) || !slices.Equal(got.Names, []string{"api.example.com"}) {
		t.Errorf("renewed: %+v", got)
	}
	var undefaulted spec.Certificate
	a.mustJSON("PATCH", base+"/api", map[string]any{"default": false}, http.StatusOK, &undefaulted)
	if undefaulted.Default || groupSnapshot(t, a).Certificates[0].Default {
		t.Error("default still set")
	}
	if opened, _ := a.secrets.Open(groupSnapshot(t, a).Certificates[0].Sealed, got.ID); opened != renewed.Key {
		t.Error("a change without a key lost the stored key")
	}

	expired := ca.IssueValid(t, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour), "old.example.com")
	other := ca.Issue(t, "other.example.com")
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "x", "certificate": expired.Chain, "private_key": expired.Key}, "certificate"},
		{map[string]any{"name": "x", "certificate": api.Chain, "private_key": other.Key}, "private_key"},
		{map[string]any{"name": "x", "certificate": api.Chain}, "private_key"},
		{map[string]any{"name": "x", "certificate": "hello", "private_key": api.Key}, "certificate"},
		{map[string]any{"name": "a b", "certificate": api.Chain, "private_key": api.Key}, "name"},
		{map[string]any{"name": "x", "certificate": api.Chain, "private_key": api.Key, "sealed": "v1.x"}, "sealed"},
		{map[string]any{"name": "x", "certificate": api.Chain, "private_key": api.Key, "san": "x"}, "san"},
	} {
		if r := a.do("POST", base, tc.body); r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), tc.field) {
			t.Errorf("POST %v: %d %s, want 400 naming %s", tc.body["name"], r.status, r.body, tc.field)
		}
	}
	if r := a.do("POST", base, map[string]any{"name": "api", "certificate": api.Chain, "private_key": api.Key}); r.status != http.StatusConflict {
		t.Errorf("a second certificate named api: %d, want 409", r.status)
	}

	viewer := a.viewerToken(t)
	if r := a.doToken(viewer, "GET", base, nil); r.status != http.StatusOK {
		t.Errorf("viewer GET: %d", r.status)
	}
	for _, c := range []struct{ method, path string }{{"POST", base}, {"PATCH", base + "/api"}, {"PUT", base + "/api"}, {"DELETE", base + "/api"}} {
		var body any = map[string]any{"name": "mine"}
		if c.method == "DELETE" {
			body = nil // a DELETE takes no body: one sent would be a 400
		}
		if r := a.doToken(viewer, c.method, c.path, body); r.status != http.StatusForbidden {
			t.Errorf("viewer %s %s: %d, want 403", c.method, c.path, r.status)
		}
	}

	before := groupRevision(t, a)
	if r := a.do("DELETE", base+"/api", nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if groupRevision(t, a) != before+1 || len(groupSnapshot(t, a).Certificates) != 0 {
		t.Error("the delete did not reach the snapshot with a new revision")
	}
	if ev := audits(t, a.store, "certificate.create"); len(ev) != 1 || strings.Contains(string(ev[0].Detail), "PRIVATE KEY") {
		t.Errorf("create audit events: %+v", ev)
	}
}

func groupRevision(t *testing.T, a *testAPI) int64 {
	t.Helper()
	var g spec.GatewayGroup
	a.mustJSON("GET", "/gateway-groups/default", nil, http.StatusOK, &g)
	return g.Revision
}

func groupSnapshot(t *testing.T, a *testAPI) spec.GroupSnapshot {
	t.Helper()
	var snap spec.Snapshot
	err := a.store.View(context.Background(), func(tx store.Tx) error {
		var err error
		snap, err = tx.Snapshot(context.Background(), []string{"default"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap.Groups[0]
}
