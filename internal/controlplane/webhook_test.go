package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/webhook"
)

// TestWebhookDelivered: a webhook set through the admin API gets the
// project's approval events (the admin API queues them with
// webhook.Enqueue), delivered by the control plane's housekeeping and
// signed with the secret the admin API sealed.
func TestWebhookDelivered(t *testing.T) {
	const secret = "whsec_controlplane_test"
	type delivery struct {
		header http.Header
		body   []byte
	}
	got := make(chan delivery, 1)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case got <- delivery{r.Header.Clone(), b}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)

	dir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	readyc := make(chan Addrs, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Options{AdminAddr: "127.0.0.1:0", GatewayAddr: "127.0.0.1:0", StatusAddr: "127.0.0.1:0",
			DataDir: dir, AdminPassword: "test-password", DrainTimeout: 5 * time.Second,
			WebhookPrivateNetworks: true, OnReady: func(a Addrs) { readyc <- a }})
	}()
	var addrs Addrs
	select {
	case addrs = <-readyc:
	case err := <-errc:
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("not ready within 30s")
	}
	api := "http://" + addrs.Admin + "/api/v1"
	call := func(method, path, token string, body any) *http.Response {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, api+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := call("POST", "/auth/login", "", map[string]string{"username": "admin", "password": "test-password"})
	var login struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if login.Token == "" {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	resp = call("PUT", "/projects/default/webhook", login.Token, map[string]string{"url": recv.URL + "/hook", "secret": secret})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT webhook: %d", resp.StatusCode)
	}

	// A listing request of a published service is an approval event.
	var svc struct{ ID string }
	resp = call("POST", "/projects/default/services", login.Token, map[string]any{"name": "orders", "protocols": []string{"http"}})
	_ = json.NewDecoder(resp.Body).Decode(&svc)
	resp.Body.Close()
	for _, step := range []struct {
		path string
		body any
	}{
		{"/projects/default/services/" + svc.ID + "/routes", map[string]any{"name": "orders", "paths": []string{"/orders/*"}, "methods": []string{"GET"}}},
		{"/projects/default/services/" + svc.ID + "/publish", map[string]any{"group": "default", "version": "1.0.0",
			"upstream": map[string]any{"scheme": "http", "nodes": []map[string]any{{"host": "127.0.0.1", "port": 9, "weight": 100}}}}},
		{"/projects/default/services/" + svc.ID + "/listing", map[string]any{"version": "1.0.0"}},
	} {
		resp = call("POST", step.path, login.Token, step.body)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %s", step.path, resp.StatusCode, b)
		}
	}
	select {
	case d := <-got:
		if err := webhook.Verify([]byte(secret), d.header, d.body, time.Now(), 0); err != nil {
			t.Errorf("the delivery's signature: %v", err)
		}
		var p webhook.Payload
		if err := json.Unmarshal(d.body, &p); err != nil || p.Project != "default" || p.ID != d.header.Get(webhook.HeaderDelivery) ||
			!strings.HasPrefix(p.Event, "approval.") || p.Event != d.header.Get(webhook.HeaderEvent) {
			t.Errorf("delivery %s %s: %v", d.header.Get(webhook.HeaderEvent), d.body, err)
		}
	case err := <-errc:
		t.Fatalf("Run returned: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the receiver got nothing within 30s")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
