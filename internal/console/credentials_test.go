package console

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// secretShown is the one-time secret a credential page shows.
var secretShown = regexp.MustCompile(`<code id="secret-value">([^<]+)</code>`)

// TestRotateCredential: rotating a credential shows its new secret this
// once, names what it rotates before it does, and a bad overlap is
// refused on the page, not sent on.
func TestRotateCredential(t *testing.T) {
	f := newFixture(t)
	app := strings.SplitN(f.send("POST", "/applications", url.Values{"name": {"shop_app"}}, true).Header().Get("Location"), "?", 2)[0]
	rec := f.send("POST", app+"/credentials", url.Values{"type": {"key-auth"}}, true)
	first := secretShown.FindStringSubmatch(rec.Body.String())
	if rec.Code != http.StatusOK || first == nil {
		t.Fatalf("create credential: %d, no secret shown", rec.Code)
	}
	page := f.send("GET", app, nil, false).Body.String()
	if secretShown.MatchString(page) {
		t.Fatal("the application page shows a secret after its creation answer")
	}
	m := regexp.MustCompile(`action="(/applications/[^"]+/credentials/([^"/]+)/rotate)"`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "Rotate the key-auth credential") || !strings.Contains(page, "of application shop_app") {
		t.Fatalf("no rotate form naming the credential and its application on %s", app)
	}
	rec = f.send("POST", m[1], url.Values{"overlap": {"3600"}}, true)
	second := secretShown.FindStringSubmatch(rec.Body.String())
	if rec.Code != http.StatusOK || second == nil || second[1] == first[1] || !strings.Contains(rec.Body.String(), "Credential rotated") {
		t.Fatalf("rotate: %d, new secret %v (first %q)", rec.Code, second, first[1])
	}
	for _, bad := range []string{"-1", "1h", "1.5"} {
		rec = f.send("POST", m[1], url.Values{"overlap": {bad}}, true)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "The overlap must be a whole number of seconds") || secretShown.MatchString(rec.Body.String()) {
			t.Errorf("overlap %q: %d, want 400 naming the overlap, and no secret", bad, rec.Code)
		}
	}
}
