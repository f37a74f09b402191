package adminapi

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func TestLogin(t *testing.T) {
	a := newTestAPI(t)
	tests := []struct {
		name   string
		body   string
		status int
		detail string
	}{
		{"right password", `{"username":"admin","password":"` + adminPassword + `"}`, http.StatusOK, ""},
		{"wrong password", `{"username":"admin","password":"nope"}`, http.StatusUnauthorized, "wrong username or password"},
		{"unknown user", `{"username":"ghost","password":"` + adminPassword + `"}`, http.StatusUnauthorized, "wrong username or password"},
		{"missing password", `{"username":"admin"}`, http.StatusBadRequest, ""},
		{"unknown field", `{"username":"admin","password":"x","otp":1}`, http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.doToken("", "POST", "/auth/login", tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			if tt.status != http.StatusOK {
				if p := r.problem(t); tt.detail != "" && p.Detail != tt.detail {
					t.Errorf("detail = %q, want %q", p.Detail, tt.detail)
				}
				return
			}
			var got loginResponse
			a.decode(r, &got)
			if got.Token == "" || got.User.Username != "admin" {
				t.Errorf("login answer = %+v, want a token and user admin", got)
			}
			if d := time.Until(got.ExpiresAt); d < 23*time.Hour || d > 25*time.Hour {
				t.Errorf("expires_at in %v, want about 24h", d)
			}
		})
	}
}

func TestAuthRequired(t *testing.T) {
	a := newTestAPI(t)
	var me spec.User
	a.mustJSON("GET", "/me", nil, http.StatusOK, &me)
	const expired = "expired-token-for-tests"
	err := a.store.Tx(context.Background(), func(tx store.Tx) error {
		return tx.CreateToken(context.Background(), &store.Token{ID: newID(), UserID: me.ID, Hash: tokenHash(expired),
			Name: "session", ExpiresAt: time.Now().Add(-time.Minute), CreatedAt: time.Now().Add(-time.Hour)})
	})
	if err != nil {
		t.Fatalf("create expired token: %v", err)
	}
	tests := []struct {
		name   string
		header string
		method string
		path   string
		body   string
	}{
		{"no header", "", "GET", "/me", ""},
		{"unknown token", "Bearer not-a-token", "GET", "/me", ""},
		{"expired token", "Bearer " + expired, "GET", "/me", ""},
		{"basic scheme", "Basic YWRtaW46eA==", "GET", "/me", ""},
		{"empty bearer", "Bearer ", "GET", "/me", ""},
		{"token without scheme", a.token, "GET", "/me", ""},
		// Credentials are checked before the body: an anonymous caller learns nothing of validation.
		{"no header, invalid body", "", "POST", "/projects/default/services", `{"bogus":`},
		{"no header, missing object", "", "DELETE", "/projects/default/services/nope", ""},
		{"no header, logout", "", "POST", "/auth/logout", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, a.url+Prefix+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := response{status: resp.StatusCode, header: resp.Header, body: b}
			if r.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401; body %s", r.status, r.body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want Bearer …", got)
			}
			if p := r.problem(t); p.Status != http.StatusUnauthorized || p.Type != typeUnauthorized || p.Detail == "" {
				t.Errorf("problem = %+v, want status 401, type %s and a detail", p, typeUnauthorized)
			}
		})
	}
}

func TestMeAndLogout(t *testing.T) {
	a := newTestAPI(t)
	var me spec.User
	a.mustJSON("GET", "/me", nil, http.StatusOK, &me)
	if me.Username != "admin" || me.ID == "" {
		t.Fatalf("me = %+v, want admin with an id", me)
	}
	// A second session stays valid when the first logs out.
	var other loginResponse
	a.decode(a.doToken("", "POST", "/auth/login", `{"username":"admin","password":"`+adminPassword+`"}`), &other)

	if r := a.do("POST", "/auth/logout", nil); r.status != http.StatusNoContent {
		t.Fatalf("logout: status %d, want 204; body %s", r.status, r.body)
	}
	if r := a.do("GET", "/me", nil); r.status != http.StatusUnauthorized {
		t.Errorf("after logout: status %d, want 401", r.status)
	}
	if r := a.doToken(other.Token, "GET", "/me", nil); r.status != http.StatusOK {
		t.Errorf("other session after logout: status %d, want 200", r.status)
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	if h == "pw" || !CheckPassword(h, "pw") {
		t.Errorf("CheckPassword(HashPassword(pw), pw) = false or hash is the password")
	}
	if CheckPassword(h, "pW") {
		t.Error("CheckPassword accepted a wrong password")
	}
	if CheckPassword("not-a-hash", "pw") {
		t.Error("CheckPassword accepted a malformed hash")
	}
}
