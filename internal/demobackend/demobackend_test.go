package demobackend

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// answer is what one request got back.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v\n%s", err, a.body)
	}
	return m
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, srv *httptest.Server, method, path string, body io.Reader, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestEndpoints(t *testing.T) {
	srv := newServer(t)
	host := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		header  map[string]string
		status  int
		ctype   string // wanted Content-Type prefix; empty: not checked
		checkFn func(t *testing.T, a answer)
	}{
		{
			name: "index", method: "GET", path: "/", status: 200, ctype: "application/json",
			checkFn: func(t *testing.T, a answer) {
				eps, _ := a.json(t)["endpoints"].([]any)
				if len(eps) != len(endpoints()) {
					t.Errorf("index lists %d endpoints, want %d", len(eps), len(endpoints()))
				}
			},
		},
		{
			name: "anything echoes method, args, headers, json and url", method: "PUT",
			path: "/anything/a/b?x=1&y=2&y=3", body: `{"k": [1, 2]}`,
			header: map[string]string{"Content-Type": "application/json", "X-Custom": "v"},
			status: 200, ctype: "application/json",
			checkFn: func(t *testing.T, a answer) {
				m := a.json(t)
				if m["method"] != "PUT" {
					t.Errorf("method = %v", m["method"])
				}
				if m["url"] != "http://"+host+"/anything/a/b?x=1&y=2&y=3" {
					t.Errorf("url = %v", m["url"])
				}
				args := m["args"].(map[string]any)
				if args["x"] != "1" || !equalJSON(args["y"], []any{"2", "3"}) {
					t.Errorf("args = %v", args)
				}
				hdr := m["headers"].(map[string]any)
				if hdr["X-Custom"] != "v" || hdr["Host"] != host {
					t.Errorf("headers = %v", hdr)
				}
				if !equalJSON(m["json"], map[string]any{"k": []any{1.0, 2.0}}) {
					t.Errorf("json = %v", m["json"])
				}
				if m["data"] != `{"k": [1, 2]}` {
					t.Errorf("data = %v", m["data"])
				}
				if m["origin"] != "127.0.0.1" {
					t.Errorf("origin = %v", m["origin"])
				}
			},
		},
		{
			name: "anything root, form body, forwarding headers", method: "POST", path: "/anything",
			body:   "a=1&b=2&b=3",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"},
			status: 200,
			checkFn: func(t *testing.T, a answer) {
				m := a.json(t)
				if !equalJSON(m["form"], map[string]any{"a": "1", "b": []any{"2", "3"}}) {
					t.Errorf("form = %v", m["form"])
				}
				if m["data"] != "" || m["json"] != nil {
					t.Errorf("data = %q, json = %v; want both empty for a form", m["data"], m["json"])
				}
				if m["url"] != "https://api.example.com/anything" {
					t.Errorf("url = %v", m["url"])
				}
				if m["origin"] != "203.0.113.9, 127.0.0.1" {
					t.Errorf("origin = %v", m["origin"])
				}
			},
		},
		{
			name: "anything with a body that is not JSON", method: "DELETE", path: "/anything/x", body: "plain text",
			status: 200,
			checkFn: func(t *testing.T, a answer) {
				m := a.json(t)
				if m["json"] != nil || m["data"] != "plain text" || m["method"] != "DELETE" {
					t.Errorf("json = %v, data = %v, method = %v", m["json"], m["data"], m["method"])
				}
			},
		},
		{
			name: "get", method: "GET", path: "/get?q=go", status: 200,
			checkFn: func(t *testing.T, a answer) {
				m := a.json(t)
				if m["args"].(map[string]any)["q"] != "go" {
					t.Errorf("args = %v", m["args"])
				}
				for _, k := range []string{"data", "json", "form", "method"} {
					if _, ok := m[k]; ok {
						t.Errorf("/get has %q; httpbin leaves it out", k)
					}
				}
			},
		},
		{name: "get refuses POST", method: "POST", path: "/get", status: 405},
		{
			name: "headers", method: "GET", path: "/headers", header: map[string]string{"X-A": "1"}, status: 200,
			checkFn: func(t *testing.T, a answer) {
				if h := a.json(t)["headers"].(map[string]any); h["X-A"] != "1" {
					t.Errorf("headers = %v", h)
				}
			},
		},
		{
			name: "ip", method: "GET", path: "/ip", status: 200,
			checkFn: func(t *testing.T, a answer) {
				if o := a.json(t)["origin"]; o != "127.0.0.1" {
					t.Errorf("origin = %v", o)
				}
			},
		},
		{name: "status 200", method: "GET", path: "/status/200", status: 200, ctype: "application/json"},
		{name: "status 418 on POST", method: "POST", path: "/status/418", status: 418,
			checkFn: func(t *testing.T, a answer) {
				if m := a.json(t); m["status"] != 418.0 {
					t.Errorf("body = %v", m)
				}
			}},
		{name: "status 503", method: "GET", path: "/status/503", status: 503},
		{name: "status 599", method: "GET", path: "/status/599", status: 599},
		{name: "status 204 has no body", method: "GET", path: "/status/204", status: 204,
			checkFn: func(t *testing.T, a answer) {
				if len(a.body) != 0 {
					t.Errorf("body = %q", a.body)
				}
			}},
		{name: "status 302 points to /get", method: "GET", path: "/status/302", status: 302,
			checkFn: func(t *testing.T, a answer) {
				if l := a.header.Get("Location"); l != "/get" {
					t.Errorf("Location = %q", l)
				}
			}},
		{name: "status 103 then 200", method: "GET", path: "/status/103", status: 200},
		{name: "status 99", method: "GET", path: "/status/99", status: 400, ctype: "application/json"},
		{name: "status 600", method: "GET", path: "/status/600", status: 400},
		{name: "status not a number", method: "GET", path: "/status/abc", status: 400,
			checkFn: func(t *testing.T, a answer) {
				if e, _ := a.json(t)["error"].(string); !strings.Contains(e, "abc") {
					t.Errorf("error = %q, want it to name the input", e)
				}
			}},
		{
			name: "delay 0.05", method: "GET", path: "/delay/0.05?a=b", status: 200,
			checkFn: func(t *testing.T, a answer) {
				m := a.json(t)
				if m["args"].(map[string]any)["a"] != "b" || m["method"] != "GET" {
					t.Errorf("answer = %v", m)
				}
			},
		},
		{name: "delay 0", method: "POST", path: "/delay/0", status: 200},
		{name: "delay negative", method: "GET", path: "/delay/-1", status: 400},
		{name: "delay NaN", method: "GET", path: "/delay/NaN", status: 400},
		{name: "delay Inf", method: "GET", path: "/delay/Inf", status: 400},
		{name: "delay text", method: "GET", path: "/delay/soon", status: 400},
		{
			name: "bytes", method: "GET", path: "/bytes/100000", status: 200, ctype: "application/octet-stream",
			checkFn: func(t *testing.T, a answer) {
				if len(a.body) != 100000 || a.header.Get("Content-Length") != "100000" {
					t.Errorf("got %d bytes, Content-Length %q", len(a.body), a.header.Get("Content-Length"))
				}
				if bytes.Count(a.body, []byte{0}) > 1000 {
					t.Error("the bytes do not look random")
				}
			},
		},
		{name: "bytes 0", method: "GET", path: "/bytes/0", status: 200,
			checkFn: func(t *testing.T, a answer) {
				if len(a.body) != 0 {
					t.Errorf("got %d bytes", len(a.body))
				}
			}},
		{name: "bytes over the limit", method: "GET", path: "/bytes/104857601", status: 400},
		{name: "bytes negative", method: "GET", path: "/bytes/-1", status: 400},
		{name: "bytes bad seed", method: "GET", path: "/bytes/10?seed=x", status: 400},
		{name: "bytes refuses POST", method: "POST", path: "/bytes/10", status: 405},
		{
			name: "stream", method: "GET", path: "/stream/3?k=v", status: 200, ctype: "application/json",
			checkFn: func(t *testing.T, a answer) {
				lines := strings.Split(strings.TrimSuffix(string(a.body), "\n"), "\n")
				if len(lines) != 3 {
					t.Fatalf("got %d lines, want 3:\n%s", len(lines), a.body)
				}
				for i, l := range lines {
					var m map[string]any
					if err := json.Unmarshal([]byte(l), &m); err != nil {
						t.Fatalf("line %d: %v", i, err)
					}
					if m["id"] != float64(i) || m["args"].(map[string]any)["k"] != "v" {
						t.Errorf("line %d = %v", i, m)
					}
				}
			},
		},
		{name: "stream 0", method: "GET", path: "/stream/0", status: 200},
		{name: "stream over the limit", method: "GET", path: "/stream/101", status: 400},
		{name: "stream text", method: "GET", path: "/stream/x", status: 400},
		{
			name: "uuid", method: "GET", path: "/uuid", status: 200, ctype: "application/json",
			checkFn: func(t *testing.T, a answer) {
				if u, _ := a.json(t)["uuid"].(string); !uuidV4.MatchString(u) {
					t.Errorf("uuid = %q is not a version 4 UUID", u)
				}
			},
		},
		{name: "unknown path", method: "GET", path: "/nope", status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			a := do(t, srv, tc.method, tc.path, body, tc.header)
			if a.status != tc.status {
				t.Fatalf("%s %s = %d, want %d: %s", tc.method, tc.path, a.status, tc.status, a.body)
			}
			if tc.ctype != "" && !strings.HasPrefix(a.header.Get("Content-Type"), tc.ctype) {
				t.Errorf("Content-Type = %q, want %q", a.header.Get("Content-Type"), tc.ctype)
			}
			if tc.checkFn != nil {
				tc.checkFn(t, a)
			}
		})
	}
}

func TestBytesSeedIsRepeatable(t *testing.T) {
	srv := newServer(t)
	a := do(t, srv, "GET", "/bytes/70000?seed=42", nil, nil)
	b := do(t, srv, "GET", "/bytes/70000?seed=42", nil, nil)
	c := do(t, srv, "GET", "/bytes/70000?seed=43", nil, nil)
	if !bytes.Equal(a.body, b.body) {
		t.Error("the same seed gave different bytes")
	}
	if bytes.Equal(a.body, c.body) {
		t.Error("different seeds gave the same bytes")
	}
	d := do(t, srv, "GET", "/bytes/70000", nil, nil)
	e := do(t, srv, "GET", "/bytes/70000", nil, nil)
	if bytes.Equal(d.body, e.body) {
		t.Error("two unseeded answers are equal")
	}
}

func TestUUIDsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		u := newUUID4()
		if seen[u] || !uuidV4.MatchString(u) {
			t.Fatalf("uuid %q repeated or malformed", u)
		}
		seen[u] = true
	}
}

// TestStreamFlushesEachLine reads the first line before the handler has
// finished: every line is flushed on its own.
func TestStreamFlushesEachLine(t *testing.T) {
	srv := newServer(t)
	resp, err := http.Get(srv.URL + "/stream/5")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 {
		t.Errorf("ContentLength %d, TransferEncoding %v: want a chunked stream", resp.ContentLength, resp.TransferEncoding)
	}
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		n++
	}
	if n != 5 {
		t.Errorf("got %d lines, want 5", n)
	}
}

// TestDelayHonoursCancel: a client giving up ends the wait at once.
func TestDelayHonoursCancel(t *testing.T) {
	srv := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/delay/10", nil)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want the client's timeout", resp.StatusCode)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the cancelled request took %v", d)
	}
	// httptest.Server.Close waits for handlers: it returns quickly only when
	// the handler noticed the cancellation.
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("the /delay handler kept running after its client left")
	}
}

// TestDelayIsClamped checks the wait is bounded without sleeping 10 s: a
// huge value is accepted (clamped) and the request is cancelled early.
func TestDelayIsClamped(t *testing.T) {
	srv := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/delay/1e9", nil)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode == 400 {
			t.Fatal("a delay over 10 s was refused; it should be clamped")
		}
	}
}

// TestRun serves on a real port until the context ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, "127.0.0.1:0", nil, func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("Run: %v", err)
	}
	resp, err := http.Get("http://" + addr + "/uuid")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /uuid = %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still listening after Run returned")
	}
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
