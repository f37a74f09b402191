package webpage

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// seen is what a stand-in admin API saw of one call.
type seen struct {
	method, path, ctype, auth, ua, addr, body string
	tls                                       bool
}

// standIn answers every call with status, header and body, and records
// what it saw.
func standIn(status int, header http.Header, body string) (http.Handler, *seen) {
	s := &seen{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*s = seen{method: r.Method, path: r.URL.Path, ctype: r.Header.Get("Content-Type"), auth: r.Header.Get("Authorization"),
			ua: r.Header.Get("User-Agent"), addr: r.RemoteAddr, body: string(b), tls: r.TLS != nil}
		for k, v := range header {
			w.Header()[k] = v
		}
		if status != 0 {
			w.WriteHeader(status)
		}
		_, _ = io.WriteString(w, body)
	}), s
}

func browser() *http.Request {
	r := httptest.NewRequest("GET", "/page", nil)
	r.RemoteAddr = "198.51.100.7:4321"
	r.Header.Set("User-Agent", "Firefox")
	r.TLS = &tls.ConnectionState{}
	return r
}

func TestCallSendsAsTheUser(t *testing.T) {
	h, s := standIn(0, nil, `{"name":"x"}`)
	var out struct{ Name string }
	ans, err := API{Handler: h}.Call(browser(), "tok", "POST", "/things", map[string]int{"n": 1}, &out)
	if err != nil || ans.Status != http.StatusOK || out.Name != "x" {
		t.Fatalf("Call: %v %+v %+v", err, ans, out)
	}
	want := seen{method: "POST", path: "/api/v1/things", ctype: "application/json", auth: "Bearer tok", addr: "198.51.100.7:4321", body: `{"n":1}`}
	if *s != want {
		t.Errorf("the admin API saw %+v, want %+v", *s, want)
	}
	// Bytes go as they are; no token, no Authorization; the browser's TLS
	// state and User-Agent only when asked for.
	if _, err := (API{Handler: h, ForwardBrowser: true}).Call(browser(), "", "PUT", "/doc", []byte("a: 1"), nil); err != nil {
		t.Fatal(err)
	}
	want = seen{method: "PUT", path: "/api/v1/doc", ctype: "application/octet-stream", ua: "Firefox", addr: "198.51.100.7:4321", body: "a: 1", tls: true}
	if *s != want {
		t.Errorf("the admin API saw %+v, want %+v", *s, want)
	}
}

func TestCallAnswers(t *testing.T) {
	h, _ := standIn(http.StatusOK, nil, "raw document")
	var raw []byte
	if _, err := (API{Handler: h}).Call(browser(), "t", "GET", "/doc", nil, &raw); err != nil || string(raw) != "raw document" {
		t.Errorf("raw answer: %v %q", err, raw)
	}
	if _, err := (API{Handler: h, MaxAnswer: 5}).Call(browser(), "t", "GET", "/doc", nil, &raw); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("an answer over MaxAnswer: %v", err)
	}
	var out struct{}
	if _, err := (API{Handler: h}).Call(browser(), "t", "GET", "/doc", nil, &out); err == nil || !strings.Contains(err.Error(), "decode GET /doc") {
		t.Errorf("an answer that is not JSON: %v", err)
	}
	h, _ = standIn(http.StatusNoContent, nil, "")
	if _, err := (API{Handler: h}).Call(browser(), "t", "DELETE", "/x", nil, &out); err != nil {
		t.Errorf("204: %v", err)
	}
}

func TestRefusalKeptWhole(t *testing.T) {
	h, _ := standIn(http.StatusBadRequest, nil, `{"title":"Bad Request","status":400,"detail":"the request is invalid",
		"errors":[{"field":"upstream.nodes[0].host","message":"required"},{"field":"upstream.scheme","message":"http or https"},{"field":"name","message":"too long"}]}`)
	_, err := API{Handler: h}.Call(browser(), "t", "POST", "/x", nil, nil)
	var e *Refusal
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v, want a *Refusal", err, err)
	}
	want := map[string]string{"upstream.nodes[0].host": "required", "upstream": "required", "upstream.scheme": "http or https", "name": "too long"}
	if e.Status != 400 || e.Title != "Bad Request" || e.Detail != "the request is invalid" || len(e.Fields) != len(want) {
		t.Fatalf("refusal %+v", e)
	}
	for k, v := range want {
		if e.Fields[k] != v {
			t.Errorf("field %q: %q, want %q", k, e.Fields[k], v)
		}
	}
	// No detail: the first field's message stands in.
	h, _ = standIn(http.StatusConflict, nil, `{"title":"Conflict","errors":[{"field":"name","message":"taken"}]}`)
	_, err = API{Handler: h}.Call(browser(), "t", "POST", "/x", nil, nil)
	if !errors.As(err, &e) || e.Detail != "name: taken" {
		t.Errorf("refusal without a detail: %v", err)
	}
	// Not problem+json: the status's text and the body, cut short.
	h, _ = standIn(http.StatusBadGateway, nil, strings.Repeat("x", 2000))
	_, err = API{Handler: h}.Call(browser(), "t", "GET", "/x", nil, nil)
	if !errors.As(err, &e) || e.Title != "Bad Gateway" || len(e.Detail) != maxPlainDetail {
		t.Errorf("plain refusal: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct{ header, want string }{{"17", "17"}, {"", "60"}, {"soon", "60"}} {
		hdr := http.Header{}
		if tc.header != "" {
			hdr.Set("Retry-After", tc.header)
		}
		h, _ := standIn(http.StatusTooManyRequests, hdr, `{"title":"Too Many Requests","detail":"wait"}`)
		ans, err := API{Handler: h}.Call(browser(), "", "POST", "/auth/login", nil, nil)
		if err == nil || ans.RetryAfter() != tc.want {
			t.Errorf("Retry-After %q: %v, %q, want %q", tc.header, err, ans.RetryAfter(), tc.want)
		}
	}
	if (*Answer)(nil).RetryAfter() != "60" {
		t.Error("no answer: want 60")
	}
}

func TestListDecodes(t *testing.T) {
	var l List[struct{ ID string }]
	if err := json.Unmarshal([]byte(`{"items":[{"ID":"a"}],"total":3}`), &l); err != nil || len(l.Items) != 1 || l.Total != 3 {
		t.Errorf("List: %v %+v", err, l)
	}
}
