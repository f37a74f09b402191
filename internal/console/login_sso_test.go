package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestLoginSSOLink: the login page links to single sign-on only when the
// admin API has a provider, carrying next (made safe) along, in both
// languages.
func TestLoginSSOLink(t *testing.T) {
	page := func(sso bool, path, lang string) string {
		h := New(Config{API: http.NotFoundHandler(), SSO: sso})
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Accept-Language", lang)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		return rec.Body.String()
	}
	if body := page(false, "/login", "en"); strings.Contains(body, `id="sso"`) {
		t.Errorf("a console without single sign-on links to it:\n%s", body)
	}
	for path, want := range map[string]string{
		"/login?next=/p/default/services":    `href="/api/v1/auth/oidc/start?next=%2fp%2fdefault%2fservices"`,
		"/login?next=//evil.example":         `href="/api/v1/auth/oidc/start?next=%2f"`,
		"/login?next=https://evil.example/x": `href="/api/v1/auth/oidc/start?next=%2f"`,
		"/login?next=/applications%3Fq%3Dab": `href="/api/v1/auth/oidc/start?next=%2fapplications%3fq%3dab"`,
	} {
		body := strings.ToLower(page(true, path, "en"))
		if !strings.Contains(body, want) || !strings.Contains(body, "sign in with single sign-on") {
			t.Errorf("GET %s: no %s in\n%s", path, want, body)
		}
	}
	if body := page(true, "/login", "zh-CN"); !strings.Contains(body, "使用单点登录") {
		t.Errorf("the Chinese login page does not offer single sign-on:\n%s", body)
	}
}
