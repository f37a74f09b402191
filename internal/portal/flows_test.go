package portal

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

func TestSignup(t *testing.T) {
	closed := newFixture(t, Options{})
	rec := closed.get("/portal/signup")
	want(t, "sign-up when off", rec, http.StatusNotFound, "not open")

	f := newFixture(t, Options{Signup: true})
	rec = f.get("/portal/signin")
	want(t, "sign-in offers sign-up", rec, http.StatusOK, `href="/portal/signup?next=%2fportal%2f"`)
	post := func(form url.Values) *httptest.ResponseRecorder {
		form.Set("csrf", "0123456789abcdefghijklmnopqrstuv")
		r := httptest.NewRequest("POST", "/portal/signup", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(&http.Cookie{Name: signinCSRFCookie, Value: "0123456789abcdefghijklmnopqrstuv"})
		rec := httptest.NewRecorder()
		f.portal.ServeHTTP(rec, r)
		return rec
	}
	rec = post(url.Values{"username": {"newbie"}, "password": {"a-long-password-1"}, "password2": {"another-one"}})
	want(t, "passwords differ", rec, http.StatusBadRequest, "The two passwords differ.", `value="newbie"`)
	rec = post(url.Values{"username": {"newbie"}, "password": {"short"}, "password2": {"short"}, "email": {"n@example.com"}})
	if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), `value="short"`) {
		t.Fatalf("a short password: %d", rec.Code)
	}
	rec = post(url.Values{"username": {"newbie"}, "password": {"a-long-password-1"}, "password2": {"a-long-password-1"}, "email": {"n@example.com"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/portal/apps?flash=welcome" {
		t.Fatalf("sign-up: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			f.cookie = c
		}
	}
	want(t, "welcome", f.get("/portal/apps?flash=welcome"), http.StatusOK, "Welcome!", `id="user">newbie<`)
}

func TestCancelRequest(t *testing.T) {
	f := newFixture(t, Options{})
	f.signin()
	rec := f.post("/portal/apis/"+f.svc+"/subscribe", url.Values{"new_app": {"app"}, "plan": {"free"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("subscribe: %d %s", rec.Code, rec.Body)
	}
	rec = f.get("/portal/requests?state=pending&kind=subscription")
	want(t, "pending requests", rec, http.StatusOK, "Pending approval", "Withdraw request")
	id := between(rec.Body.String(), `id="cancel-`, `"`)
	rec = f.get("/portal/requests/" + id)
	want(t, "request page", rec, http.StatusOK, "History", "Requested", "free", "app")
	rec = f.post("/portal/requests/"+id+"/cancel", url.Values{"comment": {"changed my mind"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("cancel: %d %s", rec.Code, rec.Body)
	}
	rec = f.get(rec.Header().Get("Location"))
	want(t, "cancelled", rec, http.StatusOK, "Request withdrawn.", "Cancelled", "changed my mind")
	// Cancelling twice is the admin API's 409, shown on the page.
	rec = f.post("/portal/requests/"+id+"/cancel", nil, true)
	want(t, "cancel twice", rec, http.StatusConflict)
	// The subscription followed its request.
	var subs webpage.List[spec.Subscription]
	var login struct{ Token string }
	f.json("", "POST", "/auth/login", map[string]string{"username": "dev", "password": devPassword}, &login)
	f.json(login.Token, "GET", "/subscriptions", nil, &subs)
	if len(subs.Items) != 1 || subs.Items[0].State != spec.SubscriptionCancelled {
		t.Errorf("subscriptions = %+v", subs.Items)
	}
}

func TestSingleSignOnLink(t *testing.T) {
	f := newFixture(t, Options{SSO: true})
	rec := f.get("/portal/signin?next=%2Fportal%2Fapps")
	want(t, "sso link", rec, http.StatusOK, `href="/api/v1/auth/oidc/start?next=%2Fportal%2Fapps"`)
}
