package adminapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// TestGatewayTokens: an admin makes a join token (shown once, kept as a
// hash), lists, reads and revokes it; bad input is 400 naming the field;
// a viewer may do none of it.
func TestGatewayTokens(t *testing.T) {
	a := newTestAPI(t)
	const base = "/gateway-groups/default/tokens"

	var tok spec.GatewayToken
	a.mustJSON("POST", base, map[string]any{"name": "eu-west gateways"}, http.StatusCreated, &tok)
	if !strings.HasPrefix(tok.Token, spec.GatewayTokenPrefix) || len(tok.Token) < 30 {
		t.Fatalf("token %q: want %s and at least 128 random bits", tok.Token, spec.GatewayTokenPrefix)
	}
	if tok.Group != "default" || tok.Hint != "..."+tok.Token[len(tok.Token)-4:] || tok.CreatedBy != "admin" || tok.ID == "" {
		t.Errorf("created token %+v", tok)
	}
	// Kept as its hash only: the store finds it by the hash, and no
	// read shows the token again.
	err := a.store.View(context.Background(), func(tx store.Tx) error {
		got, err := tx.GatewayTokenByHash(context.Background(), credential.HashKey(tok.Token))
		if err != nil || got.ID != tok.ID {
			t.Errorf("GatewayTokenByHash: %+v, %v", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var one spec.GatewayToken
	r := a.mustJSON("GET", base+"/"+tok.ID, nil, http.StatusOK, &one)
	if one.Token != "" || strings.Contains(string(r.body), tok.Token) {
		t.Errorf("GET shows the token: %s", r.body)
	}
	var listed struct{ Items []spec.GatewayToken }
	r = a.mustJSON("GET", base, nil, http.StatusOK, &listed)
	if len(listed.Items) != 1 || listed.Items[0].ID != tok.ID || strings.Contains(string(r.body), tok.Token) {
		t.Errorf("list: %s", r.body)
	}

	// Bad input names the field; a read-only member is not accepted.
	soon := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{}, "name"},
		{map[string]any{"name": strings.Repeat("x", 65)}, "name"},
		{map[string]any{"name": "a\nb"}, "name"},
		{map[string]any{"name": "x", "expires_at": soon}, "expires_at"},
		{map[string]any{"name": "x", "expires_at": "2300-01-01T00:00:00Z"}, "expires_at"},
		{map[string]any{"name": "x", "token": "ptg_mine"}, "token"},
		{map[string]any{"name": "x", "group": "other"}, "group"},
	} {
		r := a.do("POST", base, tc.body)
		if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), tc.field) {
			t.Errorf("POST %v: %d %s, want 400 naming %s", tc.body, r.status, r.body, tc.field)
		}
	}
	if r := a.do("POST", base, map[string]any{"name": "eu-west gateways"}); r.status != http.StatusConflict {
		t.Errorf("a second token of that name: %d %s, want 409", r.status, r.body)
	}
	if r := a.do("POST", "/gateway-groups/nope/tokens", map[string]any{"name": "x"}); r.status != http.StatusNotFound {
		t.Errorf("a token of a missing group: %d, want 404", r.status)
	}

	// A viewer may neither make, see nor revoke tokens.
	viewer := a.viewerToken(t)
	for _, c := range []struct{ method, path string }{{"GET", base}, {"POST", base}, {"GET", base + "/" + tok.ID}, {"DELETE", base + "/" + tok.ID}} {
		var body any
		if c.method == "POST" {
			body = map[string]any{"name": "mine"}
		}
		if r := a.doToken(viewer, c.method, c.path, body); r.status != http.StatusForbidden {
			t.Errorf("viewer %s %s: %d, want 403", c.method, c.path, r.status)
		}
	}

	// Revoke: gone for the store's lookup, audited with both steps.
	if r := a.do("DELETE", base+"/"+tok.ID, nil); r.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := a.do("DELETE", base+"/"+tok.ID, nil); r.status != http.StatusNotFound {
		t.Errorf("revoke twice: %d, want 404", r.status)
	}
	err = a.store.View(context.Background(), func(tx store.Tx) error {
		if _, err := tx.GatewayTokenByHash(context.Background(), credential.HashKey(tok.Token)); err == nil {
			t.Error("a revoked token is still found")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ev := audits(t, a.store, "gateway-token.create"); len(ev) != 1 || ev[0].Actor != "admin" || strings.Contains(string(ev[0].Detail), tok.Token) {
		t.Errorf("create audit events: %+v", ev)
	}
	if ev := audits(t, a.store, "gateway-token.revoke"); len(ev) != 1 {
		t.Errorf("revoke audit events: %+v", ev)
	}
}
