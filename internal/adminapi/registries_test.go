package adminapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/certtest"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// The credentials the tests give; none may ever be answered, audited or
// stored in clear.
const (
	testConsulToken  = "consul-acl-token-0123456789"
	testK8sToken     = "eyJhbGciOiJSUzI1NiJ9.k8s-sa-token"
	testNacosSecret  = "nacos-password-abcdef"
	testEurekaSecret = "eureka-password-ghijkl"
	testNewToken     = "consul-acl-token-rotated-9876"
)

var testSecrets = []string{testConsulToken, testK8sToken, testNacosSecret, testEurekaSecret, testNewToken}

// noSecret fails when b holds a credential given to a registry.
func noSecret(t *testing.T, what string, b []byte) {
	t.Helper()
	for _, s := range testSecrets {
		if strings.Contains(string(b), s) {
			t.Errorf("%s shows a credential: %s", what, b)
		}
	}
	for _, f := range []string{`"password"`, `"token"`, `"sealed"`, `"secret"`} {
		if strings.Contains(string(b), f) {
			t.Errorf("%s has a member %s: %s", what, f, b)
		}
	}
}

// openedCredentials opens the sealed credentials a group snapshot carries
// for the registry named name, as a gateway does.
func openedCredentials(t *testing.T, a *testAPI, name string) spec.RegistryCredentials {
	t.Helper()
	for _, r := range groupSnapshot(t, a).Registries {
		if r.Name != name {
			continue
		}
		if r.Password != "" || r.Token != "" || r.Secret != "" {
			t.Errorf("snapshot registry %s holds a credential in clear: %+v", name, r)
		}
		var c spec.RegistryCredentials
		if r.Sealed == "" {
			return c
		}
		opened, err := a.secrets.Open(r.Sealed, r.ID)
		if err != nil {
			t.Fatalf("the sealed credentials of %s do not open with its id: %v", name, err)
		}
		if err := json.Unmarshal([]byte(opened), &c); err != nil {
			t.Fatalf("opened credentials of %s: %v", name, err)
		}
		return c
	}
	t.Fatalf("no registry %s in the snapshot", name)
	return spec.RegistryCredentials{}
}

// TestRegistries: an admin adds a registry connection of each type (the
// credentials sealed, never answered, audited or shown in history), lists
// and reads them by name or id, replaces one (credentials left out kept,
// "" removing them), and deletes one; every change is a new revision of
// the group carrying the registries; bad fields and server-set ones are
// 400 naming the field; a viewer may read but not change them.
func TestRegistries(t *testing.T) {
	a := newTestAPI(t)
	const base = "/gateway-groups/default/registries"
	ca := certtest.NewCA(t)

	bodies := []map[string]any{
		{"name": "dns", "type": "dns", "address": "10.0.0.53:53", "poll_interval": 30},
		{"name": "consul", "type": "consul", "address": "https://consul.internal:8501", "namespace": "team", "token": testConsulToken, "ca": ca.PEM},
		{"name": "k8s", "type": "kubernetes", "address": "https://kubernetes.default.svc", "namespace": "shop", "token": testK8sToken},
		{"name": "nacos", "type": "nacos", "address": "http://nacos:8848", "namespace": "prod", "service_group": "SHOP", "username": "gw", "password": testNacosSecret},
		{"name": "eureka", "type": "eureka", "address": "http://eureka:8761/eureka", "username": "gw", "password": testEurekaSecret},
	}
	created := map[string]spec.Registry{}
	for _, b := range bodies {
		rev := groupRevision(t, a)
		var got spec.Registry
		r := a.mustJSON("POST", base, b, http.StatusCreated, &got)
		noSecret(t, "POST "+b["name"].(string), r.body)
		if got.ID == "" || got.Group != "default" || got.Name != b["name"] || got.Type != b["type"] || got.Address != b["address"] ||
			got.CreatedAt.IsZero() || got.HasPassword != (b["password"] != nil) || got.HasToken != (b["token"] != nil) {
			t.Errorf("created %s", r.body)
		}
		if now := groupRevision(t, a); now != rev+1 {
			t.Errorf("revision %d after adding %s, want %d", now, got.Name, rev+1)
		}
		created[got.Name] = got
	}
	if c := openedCredentials(t, a, "consul"); c.Token != testConsulToken || c.Password != "" {
		t.Errorf("consul's sealed credentials open to %+v", c)
	}
	if c := openedCredentials(t, a, "nacos"); c.Password != testNacosSecret || c.Token != "" {
		t.Errorf("nacos's sealed credentials open to %+v", c)
	}
	if rs := groupSnapshot(t, a).Registries; len(rs) != 5 || rs[0].Name != "dns" || rs[0].Sealed != "" || rs[3].Username != "gw" {
		t.Errorf("snapshot registries %+v", rs)
	}

	var listed struct {
		Items []spec.Registry
		Total int
	}
	r := a.mustJSON("GET", base, nil, http.StatusOK, &listed)
	noSecret(t, "GET list", r.body)
	if listed.Total != 5 || len(listed.Items) != 5 || listed.Items[1].Name != "consul" || !listed.Items[1].HasToken || listed.Items[1].CA != ca.PEM {
		t.Errorf("list %s", r.body)
	}
	for _, path := range []string{base + "/nacos", base + "/" + created["nacos"].ID} {
		var got spec.Registry
		r := a.mustJSON("GET", path, nil, http.StatusOK, &got)
		noSecret(t, "GET "+path, r.body)
		if got.ID != created["nacos"].ID || got.ServiceGroup != "SHOP" || !got.HasPassword {
			t.Errorf("GET %s: %s", path, r.body)
		}
	}
	if r := a.do("GET", base+"/nope", nil); r.status != http.StatusNotFound {
		t.Errorf("GET of a missing registry: %d", r.status)
	}
	if r := a.do("GET", "/gateway-groups/nope/registries", nil); r.status != http.StatusNotFound {
		t.Errorf("GET in a missing group: %d", r.status)
	}

	// PUT: a token left out is kept, a new one replaces it, "" removes it.
	rev := groupRevision(t, a)
	var put spec.Registry
	r = a.mustJSON("PUT", base+"/consul", map[string]any{"name": "consul", "type": "consul", "address": "https://consul-2.internal:8501",
		"namespace": "team", "ca": ca.PEM}, http.StatusOK, &put)
	noSecret(t, "PUT", r.body)
	if put.ID != created["consul"].ID || !put.HasToken || put.Address != "https://consul-2.internal:8501" || !put.CreatedAt.Equal(created["consul"].CreatedAt) {
		t.Errorf("PUT without the token: %s", r.body)
	}
	if c := openedCredentials(t, a, "consul"); c.Token != testConsulToken {
		t.Errorf("a PUT without the token lost it: %+v", c)
	}
	if now := groupRevision(t, a); now != rev+1 {
		t.Errorf("revision %d after a PUT, want %d", now, rev+1)
	}
	put = putRegistry(t, a, base+"/consul", map[string]any{"name": "consul", "type": "consul", "address": "https://consul-2.internal:8501",
		"token": testNewToken})
	if c := openedCredentials(t, a, "consul"); c.Token != testNewToken || !put.HasToken || put.CA != "" {
		t.Errorf("a PUT with a new token: %+v, answer %+v", c, put)
	}
	put = putRegistry(t, a, base+"/consul", map[string]any{"name": "consul", "type": "consul", "address": "http://consul:8500", "token": ""})
	if c := openedCredentials(t, a, "consul"); c.Token != "" || put.HasToken {
		t.Errorf("a PUT with token \"\": %+v, answer %+v", c, put)
	}
	// The password of nacos is kept when only the username changes; one
	// that the new type does not take must be removed explicitly.
	put = putRegistry(t, a, base+"/nacos", map[string]any{"name": "nacos", "type": "nacos", "address": "http://nacos:8848", "username": "gw2"})
	if c := openedCredentials(t, a, "nacos"); c.Password != testNacosSecret || !put.HasPassword || put.Username != "gw2" {
		t.Errorf("nacos after a PUT without its password: %+v, answer %+v", c, put)
	}
	r = a.do("PUT", base+"/nacos", map[string]any{"name": "nacos", "type": "consul", "address": "http://consul:8500"})
	if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), "password") || !strings.Contains(string(r.body), `\"password\": \"\"`) {
		t.Errorf("a type that takes no password, the stored one kept: %d %s, want 400 naming password", r.status, r.body)
	}
	put = putRegistry(t, a, base+"/nacos", map[string]any{"name": "nacos", "type": "consul", "address": "http://consul:8500", "password": ""})
	if c := openedCredentials(t, a, "nacos"); c.Password != "" || put.HasPassword || put.Type != "consul" {
		t.Errorf("nacos turned consul: %+v, answer %+v", c, put)
	}
	if r := a.do("PUT", base+"/nope", map[string]any{"name": "nope", "type": "dns"}); r.status != http.StatusNotFound {
		t.Errorf("PUT of a missing registry: %d", r.status)
	}
	if r := a.do("PUT", base+"/nacos", map[string]any{"name": "dns", "type": "dns"}); r.status != http.StatusConflict {
		t.Errorf("a rename onto another's name: %d %s, want 409", r.status, r.body)
	}

	// Refused: bad fields, unknown ones and what the server sets, each
	// naming the field; nothing of a refused change remains.
	before := groupRevision(t, a)
	for _, tc := range []struct {
		method, path string
		body         map[string]any
		field        string
	}{
		{"POST", base, map[string]any{"name": "x", "type": "zookeeper"}, "type"},
		{"POST", base, map[string]any{"name": "a b", "type": "dns"}, "name"},
		{"POST", base, map[string]any{"type": "dns"}, "name"},
		{"POST", base, map[string]any{"name": "x", "type": "consul"}, "address"},
		{"POST", base, map[string]any{"name": "x", "type": "consul", "address": "ftp://consul"}, "address"},
		{"POST", base, map[string]any{"name": "x", "type": "consul", "address": "http://u:p@consul"}, "address"},
		{"POST", base, map[string]any{"name": "x", "type": "dns", "address": "resolver"}, "address"},
		{"POST", base, map[string]any{"name": "x", "type": "dns", "token": "t"}, "token"},
		{"POST", base, map[string]any{"name": "x", "type": "consul", "address": "http://consul", "ca": ca.PEM}, "ca"},
		{"POST", base, map[string]any{"name": "x", "type": "consul", "address": "https://consul", "ca": "not PEM"}, "ca"},
		{"POST", base, map[string]any{"name": "x", "type": "nacos", "address": "http://nacos", "password": "pw"}, "username"},
		{"POST", base, map[string]any{"name": "x", "type": "eureka", "address": "http://eureka", "token": "t"}, "token"},
		{"POST", base, map[string]any{"name": "x", "type": "consul", "address": "http://consul", "service_group": "G"}, "service_group"},
		{"POST", base, map[string]any{"name": "x", "type": "eureka", "address": "http://eureka", "namespace": "n"}, "namespace"},
		{"POST", base, map[string]any{"name": "x", "type": "dns", "poll_interval": 0.5}, "poll_interval"},
		{"POST", base, map[string]any{"name": "x", "type": "dns", "poll_interval": "5s"}, "poll_interval"},
		{"POST", base, map[string]any{"name": "x", "type": "dns", "endpoint": "x"}, "endpoint"},
		{"POST", base, map[string]any{"name": "x", "type": "dns", "sealed": "v1.x"}, "sealed"},
		{"POST", base, map[string]any{"name": "x", "type": "dns", "secret": "{}"}, "secret"},
		{"POST", base, map[string]any{"name": "x", "type": "dns", "has_password": false}, "has_password"},
		{"POST", base, map[string]any{"name": "x", "type": "dns", "has_token": true}, "has_token"},
		{"POST", base, map[string]any{"name": "x", "type": "dns", "status": []any{}}, "status"},
		{"PUT", base + "/dns", map[string]any{"name": "dns", "type": "dns", "has_token": false}, "has_token"},
		{"PUT", base + "/dns", map[string]any{"name": "dns", "type": "dns", "status": nil}, "status"},
		{"PUT", base + "/dns", map[string]any{"name": "dns", "type": "dns", "sealed": ""}, "sealed"},
		{"PUT", base + "/dns", map[string]any{"name": "dns", "type": "dns", "address": "nowhere"}, "address"},
	} {
		r := a.do(tc.method, tc.path, tc.body)
		if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), tc.field) {
			t.Errorf("%s %v: %d %s, want 400 naming %s", tc.method, tc.body, r.status, r.body, tc.field)
		}
	}
	if r := a.do("POST", base, map[string]any{"name": "dns", "type": "dns"}); r.status != http.StatusConflict {
		t.Errorf("a second registry named dns: %d, want 409", r.status)
	}
	if r := a.do("POST", "/gateway-groups/nope/registries", map[string]any{"name": "x", "type": "dns"}); r.status != http.StatusNotFound {
		t.Errorf("a registry of a missing group: %d, want 404", r.status)
	}
	if now := groupRevision(t, a); now != before {
		t.Errorf("refused changes moved the revision from %d to %d", before, now)
	}

	viewer := a.viewerToken(t)
	if r := a.doToken(viewer, "GET", base, nil); r.status != http.StatusOK {
		t.Errorf("viewer GET: %d", r.status)
	}
	for _, c := range []struct{ method, path string }{{"POST", base}, {"PUT", base + "/dns"}, {"DELETE", base + "/dns"}} {
		var body any = map[string]any{"name": "mine", "type": "dns"}
		if c.method == "DELETE" {
			body = nil // a DELETE takes no body: one sent would be a 400
		}
		if r := a.doToken(viewer, c.method, c.path, body); r.status != http.StatusForbidden {
			t.Errorf("viewer %s %s: %d, want 403", c.method, c.path, r.status)
		}
	}

	before = groupRevision(t, a)
	if r := a.do("DELETE", base+"/eureka", nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if groupRevision(t, a) != before+1 || len(groupSnapshot(t, a).Registries) != 4 {
		t.Error("the delete did not reach the snapshot with a new revision")
	}
	if r := a.do("DELETE", base+"/eureka", nil); r.status != http.StatusNotFound {
		t.Errorf("delete again: %d, want 404", r.status)
	}

	// Neither the audit log nor the group's history holds a credential
	// (an audited change shows "***" where one is set, so that a replaced
	// one is in its changed paths); every change is audited with the
	// revision it made.
	for _, action := range []string{"registry.create", "registry.update", "registry.delete", "release.registry"} {
		evs := audits(t, a.store, action)
		if len(evs) == 0 {
			t.Errorf("no %s audit event", action)
		}
		for _, ev := range evs {
			noSecretValue(t, action+" audit", ev.Detail)
			onlyMaskedSecrets(t, action+" audit", ev.Detail)
		}
	}
	if evs := audits(t, a.store, "release.registry"); len(evs) != 5+5+1 || !strings.Contains(string(evs[0].Detail), `"revision"`) {
		t.Errorf("release.registry audit events: %d, want one per change with its revision", len(evs))
	}
	r = a.mustJSON("GET", "/audit-events?page_size=500", nil, http.StatusOK, nil)
	noSecretValue(t, "GET /audit-events", r.body)
	r = a.mustJSON("GET", "/gateway-groups/default/history", nil, http.StatusOK, nil)
	noSecretValue(t, "GET history", r.body)
}

// putRegistry replaces a registry and answers the new one, decoded
// afresh (a member the answer leaves out is not the last answer's).
func putRegistry(t *testing.T, a *testAPI, path string, body any) spec.Registry {
	t.Helper()
	var out spec.Registry
	r := a.mustJSON("PUT", path, body, http.StatusOK, &out)
	noSecret(t, "PUT "+path, r.body)
	return out
}

// noSecretValue fails when b holds a credential given to a registry.
func noSecretValue(t *testing.T, what string, b []byte) {
	t.Helper()
	for _, s := range testSecrets {
		if strings.Contains(string(b), s) {
			t.Errorf("%s shows a credential: %s", what, b)
		}
	}
}

// TestRegistryStatus: answers carry what the group's gateway instances
// that are not offline report of each registry, each entry naming its
// instance.
func TestRegistryStatus(t *testing.T) {
	a := newTestAPI(t)
	const base = "/gateway-groups/default/registries"
	a.mustJSON("POST", base, map[string]any{"name": "consul", "type": "consul", "address": "http://consul:8500"}, http.StatusCreated, nil)
	a.mustJSON("POST", base, map[string]any{"name": "dns", "type": "dns"}, http.StatusCreated, nil)
	synced := time.Now().UTC().Add(-2 * time.Second).Truncate(time.Second)
	err := a.store.Tx(context.Background(), func(tx store.Tx) error {
		for _, in := range []spec.GatewayInstance{
			{ID: "gw-a", Group: "default", Hostname: "a", Interval: 10 * time.Second, LastSeen: time.Now(), StartedAt: time.Now(),
				Registries: []spec.RegistryStatus{
					{Registry: "consul", Healthy: true, LastSync: synced, Services: 2},
					{Registry: "dns", Healthy: false, Error: "lookup orders: no such host"},
				}},
			{ID: "gw-b", Group: "default", Hostname: "b", Interval: 10 * time.Second, LastSeen: time.Now(), StartedAt: time.Now(),
				Registries: []spec.RegistryStatus{{Registry: "consul", Healthy: false, Error: "connection refused"}}},
			{ID: "gw-gone", Group: "default", Hostname: "c", Interval: 10 * time.Second, LastSeen: time.Now(), StartedAt: time.Now(), Stopped: true,
				Registries: []spec.RegistryStatus{{Registry: "consul", Healthy: true}}},
		} {
			if err := tx.PutGatewayInstance(context.Background(), &in); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got spec.Registry
	a.mustJSON("GET", base+"/consul", nil, http.StatusOK, &got)
	want := []spec.RegistryStatus{
		{Instance: "gw-a", Registry: "consul", Healthy: true, LastSync: synced, Services: 2},
		{Instance: "gw-b", Registry: "consul", Error: "connection refused"},
	}
	if len(got.Status) != len(want) {
		t.Fatalf("consul status %+v, want %+v (the offline instance left out)", got.Status, want)
	}
	for i := range want {
		g := got.Status[i]
		if g.Instance != want[i].Instance || g.Healthy != want[i].Healthy || g.Error != want[i].Error || !g.LastSync.Equal(want[i].LastSync) || g.Services != want[i].Services {
			t.Errorf("consul status[%d] = %+v, want %+v", i, g, want[i])
		}
	}
	var listed struct{ Items []spec.Registry }
	a.mustJSON("GET", base, nil, http.StatusOK, &listed)
	if len(listed.Items) != 2 || len(listed.Items[0].Status) != 2 || len(listed.Items[1].Status) != 1 ||
		listed.Items[1].Status[0].Instance != "gw-a" || listed.Items[1].Status[0].Error == "" {
		t.Errorf("list with status: %+v", listed.Items)
	}
	// What a client reads back cannot be sent back as is: status is the
	// server's.
	r := a.do("PUT", base+"/consul", got)
	if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), "status") {
		t.Errorf("PUT of a read answer: %d %s, want 400 naming status", r.status, r.body)
	}
}

// TestRegistryInUse: a registry that a running service's discovered
// upstream names cannot be deleted or renamed (400 naming the service's
// field), and a publish naming a registry the group lacks is refused; once
// nothing runs on it, it can go.
func TestRegistryInUse(t *testing.T) {
	a := newTestAPI(t)
	const base = "/gateway-groups/default/registries"
	svc := a.createService("orders")
	a.mustJSON("POST", "/projects/default/services/"+svc.ID+"/routes", map[string]any{"name": "list", "paths": []string{"/orders"}}, http.StatusCreated, nil)
	disc := map[string]any{"discovery": map[string]any{"registry": "k8s", "service_name": "orders", "namespace": "shop"}}
	publish := func(version string, upstream any) response {
		return a.do("POST", "/projects/default/services/"+svc.ID+"/publish", map[string]any{"group": "default", "version": version, "upstream": upstream})
	}
	const field = "services[orders].upstream.discovery.registry"
	if r := publish("1.0.0", disc); r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), field) {
		t.Fatalf("publish through a registry the group lacks: %d %s, want 400 naming %s", r.status, r.body, field)
	}
	a.mustJSON("POST", base, map[string]any{"name": "k8s", "type": "kubernetes", "address": "https://kubernetes.default.svc", "token": testK8sToken}, http.StatusCreated, nil)
	if r := publish("1.0.0", disc); r.status != http.StatusCreated {
		t.Fatalf("publish through the registry: %d %s", r.status, r.body)
	}

	rev := groupRevision(t, a)
	for _, c := range []struct {
		method string
		body   any
	}{
		{"DELETE", nil},
		{"PUT", map[string]any{"name": "k8s-2", "type": "kubernetes", "address": "https://kubernetes.default.svc"}},
	} {
		r := a.do(c.method, base+"/k8s", c.body)
		if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), field) {
			t.Errorf("%s of a registry in use: %d %s, want 400 naming %s", c.method, r.status, r.body, field)
			continue
		}
		if p := r.problem(t); !strings.Contains(p.Detail, `registry "k8s" is used`) || !strings.Contains(p.Detail, "services[orders]") {
			t.Errorf("%s of a registry in use: detail %q", c.method, p.Detail)
		}
	}
	if now := groupRevision(t, a); now != rev || len(groupSnapshot(t, a).Registries) != 1 || groupSnapshot(t, a).Registries[0].Name != "k8s" {
		t.Errorf("a refused delete or rename changed the group (revision %d, was %d)", now, rev)
	}
	// A change that keeps the name is fine: the token is kept.
	a.mustJSON("PUT", base+"/k8s", map[string]any{"name": "k8s", "type": "kubernetes", "address": "https://10.0.0.1:6443", "namespace": "shop"}, http.StatusOK, nil)
	if c := openedCredentials(t, a, "k8s"); c.Token != testK8sToken {
		t.Errorf("token after a PUT that left it out: %+v", c)
	}

	// A registry nothing runs on can go; so can this one once the service
	// no longer runs in the group.
	a.mustJSON("POST", base, map[string]any{"name": "spare", "type": "dns"}, http.StatusCreated, nil)
	if r := a.do("DELETE", base+"/spare", nil); r.status != http.StatusNoContent {
		t.Errorf("delete of a registry nothing uses: %d %s", r.status, r.body)
	}
	err := a.store.Tx(context.Background(), func(tx store.Tx) error {
		return tx.DeleteDeployment(context.Background(), "default", svc.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := a.do("DELETE", base+"/k8s", nil); r.status != http.StatusNoContent {
		t.Errorf("delete once nothing runs on it: %d %s", r.status, r.body)
	}
}
