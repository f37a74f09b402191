package adminapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
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
	tests := []struct {
		name   string
		header string
	}{
		{"no header", ""},
		{"unknown token", "Bearer not-a-token"},
		{"basic scheme", "Basic YWRtaW46eA=="},
		{"empty bearer", "Bearer "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", a.url+Prefix+"/me", nil)
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
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want Bearer …", got)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
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
