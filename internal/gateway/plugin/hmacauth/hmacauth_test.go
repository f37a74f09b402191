package hmacauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/spec"
)

// The documented credential, as its Postman script names it.
const (
	seedKey    = "2e4d0bbad47e3b5e3a0c"
	seedSecret = "815ba6d666d58ef1e79b"
)

func index() *consumer.Index {
	return consumer.New([]spec.Consumer{{ID: "app-1", Name: "caller", ProjectID: "p1",
		Credentials: []spec.ConsumerCredential{{ID: "c1", Type: spec.CredHMACAuth, Key: seedKey, Secret: seedSecret}}}})
}

// postman signs like the documented pre-request script, written independently
// of the code under test.
func postman(secret, method, path, query, key, date, signedHeadersString string) string {
	s := method + "\n" + path + "\n" + query + "\n" + key + "\n" + date + "\n" + signedHeadersString
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

type req struct {
	method, path, query string
	headers             map[string]string
}

func (r req) run(f *Filter, project string) (*plugintest.Backing, *plugin.Exchange, bool) {
	b := plugintest.New("127.0.0.1")
	b.ReqMethod, b.ReqPath, b.ReqRawQuery = r.method, r.path, r.query
	b.Length = 0 // no body
	for k, v := range r.headers {
		b.ReqHeader.Set(k, v)
		b.UpstreamHeader.Set(k, v)
	}
	ex := &plugin.Exchange{}
	ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: project, ServiceID: "s1"}}, nil)
	return b, ex, f.OnRequest(ex)
}

func seedRequest(now time.Time, query string) req {
	date := now.UTC().Format(http.TimeFormat) // JavaScript's toUTCString()
	return req{"GET", "/api/weather", query, map[string]string{
		"X-HMAC-SIGNATURE":  postman(seedSecret, "GET", "/api/weather", query, seedKey, date, ""),
		"X-HMAC-ALGORITHM":  "hmac-sha256",
		"X-HMAC-ACCESS-KEY": seedKey,
		"Date":              date,
	}}
}

func TestPostmanScript(t *testing.T) {
	now := time.Now()
	f, _ := New(Config{}, index())
	f.seen = newReplayGuard(64)
	for _, tc := range []struct {
		name    string
		r       req
		project string
		status  int
	}{
		{"as the script signs", seedRequest(now, ""), "p1", 0},
		{"with a query", seedRequest(now, "city=paris&days=3"), "p1", 0},
		{"within the skew", seedRequest(now.Add(-4*time.Minute), ""), "p1", 0},
		{"15 minutes old", seedRequest(now.Add(-15*time.Minute), ""), "p1", 401},
		{"15 minutes ahead", seedRequest(now.Add(15*time.Minute), ""), "p1", 401},
		{"another project", seedRequest(now, ""), "p2", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ex, stop := tc.r.run(f, tc.project)
			if tc.status != 0 {
				if !stop || b.ErrorStatus != tc.status {
					t.Fatalf("stop %v status %d, want %d", stop, b.ErrorStatus, tc.status)
				}
				return
			}
			c, ok := ex.Consumer()
			if stop || !ok || c.ApplicationID != "app-1" || c.CredentialType != "hmac-auth" {
				t.Fatalf("stop %v (%d %s) consumer %+v", stop, b.ErrorStatus, b.ErrorBody, c)
			}
			for _, h := range []string{HeaderSignature, HeaderAccessKey, HeaderAlgorithm} {
				if b.UpstreamHeader.Get(h) != "" {
					t.Errorf("%s goes upstream", h)
				}
			}
			if b.UpstreamHeader.Get("Date") == "" || b.UpstreamHeader.Get("X-Consumer-Id") != "app-1" {
				t.Errorf("upstream headers %v", b.UpstreamHeader)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	now := time.Now()
	f, _ := New(Config{}, index())
	f.seen = newReplayGuard(64)
	tamper := func(edit func(r *req)) req {
		r := seedRequest(now, "a=1&b=2")
		h := map[string]string{}
		for k, v := range r.headers {
			h[k] = v
		}
		r.headers = h
		edit(&r)
		return r
	}
	for name, r := range map[string]req{
		"wrong signature": tamper(func(r *req) {
			r.headers["X-HMAC-SIGNATURE"] = postman("wrong", "GET", r.path, r.query, seedKey, r.headers["Date"], "")
		}),
		"other path":         tamper(func(r *req) { r.path = "/api/other" }),
		"other method":       tamper(func(r *req) { r.method = "POST" }),
		"other query":        tamper(func(r *req) { r.query = "a=1&b=3" }),
		"unknown key":        tamper(func(r *req) { r.headers["X-HMAC-ACCESS-KEY"] = "nobody" }),
		"no date":            tamper(func(r *req) { delete(r.headers, "Date") }),
		"bad date":           tamper(func(r *req) { r.headers["Date"] = "yesterday" }),
		"no signature":       tamper(func(r *req) { delete(r.headers, "X-HMAC-SIGNATURE") }),
		"not base64":         tamper(func(r *req) { r.headers["X-HMAC-SIGNATURE"] = "!!!" }),
		"unknown algorithm":  tamper(func(r *req) { r.headers["X-HMAC-ALGORITHM"] = "hmac-md5" }),
		"signed header lies": tamper(func(r *req) { r.headers["X-HMAC-SIGNED-HEADERS"] = "x-custom" }),
	} {
		t.Run(name, func(t *testing.T) {
			b, _, stop := r.run(f, "p1")
			if !stop || b.ErrorStatus != 401 {
				t.Fatalf("stop %v status %d, want 401", stop, b.ErrorStatus)
			}
			if strings.Contains(string(b.ErrorBody), "signature") || strings.Contains(string(b.ErrorBody), "date") {
				t.Errorf("401 says which part was wrong: %s", b.ErrorBody)
			}
		})
	}
}

func TestSignedHeadersAndSortedQuery(t *testing.T) {
	now := time.Now()
	f, err := New(Config{SignedHeaders: []string{"X-Custom"}}, index())
	if err != nil {
		t.Fatal(err)
	}
	f.seen = newReplayGuard(64)
	date := now.UTC().Format(http.TimeFormat)
	r := req{"POST", "/orders", "b=2&a=1", map[string]string{
		// Signed with the query sorted and two signed headers.
		"X-HMAC-SIGNATURE":      postman(seedSecret, "POST", "/orders", "a=1&b=2", seedKey, date, "x-custom:v1\nx-other:v2\n"),
		"X-HMAC-ACCESS-KEY":     seedKey,
		"X-HMAC-SIGNED-HEADERS": "x-custom;x-other",
		"X-Custom":              "v1",
		"X-Other":               "v2",
		"Date":                  date,
	}}
	if b, _, stop := r.run(f, "p1"); stop {
		t.Fatalf("refused: %d %s", b.ErrorStatus, b.ErrorBody)
	}
	r.headers["X-HMAC-SIGNED-HEADERS"] = "x-other"
	r.headers["X-HMAC-SIGNATURE"] = postman(seedSecret, "POST", "/orders", "a=1&b=2", seedKey, date, "x-other:v2\n")
	if _, _, stop := r.run(f, "p1"); !stop {
		t.Errorf("a request that does not sign the required X-Custom was admitted")
	}
	if _, err := New(Config{Algorithms: []string{"hmac-md5"}}, nil); err == nil {
		t.Errorf("hmac-md5 accepted")
	}
}

func BenchmarkHMACAuth(b *testing.B) {
	f, _ := New(Config{}, index())
	r := seedRequest(time.Now(), "city=paris")
	f.seen = nil // the same signature every time: measure the check, not the replay refusal
	bk := plugintest.New("127.0.0.1")
	bk.ReqMethod, bk.ReqPath, bk.ReqRawQuery, bk.Length = r.method, r.path, r.query, 0
	for k, v := range r.headers {
		bk.ReqHeader.Set(k, v)
	}
	ex := &plugin.Exchange{}
	ri := &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: "p1", ServiceID: "s1"}}
	b.ReportAllocs()
	for b.Loop() {
		ex.Reset(bk, "req-1", ri, nil)
		if f.OnRequest(ex) {
			b.Fatal("refused")
		}
	}
}
