package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/webhook"
)

// TestWebhookDelivered: a webhook set through the admin API gets an
// event queued in the store, signed with its secret, from the control
// plane's housekeeping, the secret opened as the admin API sealed it.
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

	// An event as the admin API queues one, through a second handle on
	// the server's store (SQLite in its data directory).
	st, err := store.OpenSQLite(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := spec.Approval{ID: "a1", Kind: spec.ApprovalListing, Project: "default", State: spec.ApprovalPending}
	if err := st.Tx(ctx, func(tx store.Tx) error {
		return webhook.Enqueue(ctx, tx, "default", webhook.EventApprovalRequested, a)
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		if err := webhook.Verify([]byte(secret), d.header, d.body, time.Now(), 0); err != nil {
			t.Errorf("the delivery's signature: %v", err)
		}
		if ev := d.header.Get(webhook.HeaderEvent); ev != webhook.EventApprovalRequested {
			t.Errorf("event %q", ev)
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
