package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webhook"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it keeps every span it is
// sent, by trace id.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []receivedSpan
	got   chan struct{}
}

type receivedSpan struct {
	Name                    string
	TraceID, SpanID, Parent string
}

func newOTLPReceiver(t *testing.T) (*otlpReceiver, string) {
	r := &otlpReceiver{got: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var msg collectortrace.ExportTraceServiceRequest
		if req.URL.Path != "/v1/traces" || proto.Unmarshal(body, &msg) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range msg.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					r.spans = append(r.spans, receivedSpan{Name: s.Name, TraceID: hex.EncodeToString(s.TraceId),
						SpanID: hex.EncodeToString(s.SpanId), Parent: hex.EncodeToString(s.ParentSpanId)})
				}
			}
		}
		r.mu.Unlock()
		select {
		case r.got <- struct{}{}:
		default:
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return r, srv.URL
}

// of waits until the receiver holds at least n spans of trace tid.
func (r *otlpReceiver) of(t *testing.T, tid string, n int, limit time.Duration) []receivedSpan {
	t.Helper()
	deadline := time.After(limit)
	for {
		r.mu.Lock()
		var out []receivedSpan
		for _, s := range r.spans {
			if s.TraceID == tid {
				out = append(out, s)
			}
		}
		r.mu.Unlock()
		if len(out) >= n {
			return out
		}
		select {
		case <-r.got:
		case <-deadline:
			t.Fatalf("trace %s: %d spans within %v, want %d: %+v", tid, len(out), limit, n, out)
		}
	}
}

// lineSink is an HTTP access-log sink receiving NDJSON batches.
type lineSink struct {
	mu      sync.Mutex
	batches int
	lines   []spec.CallRecord
}

func newLineSink(t *testing.T) (*lineSink, string) {
	s := &lineSink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sc := bufio.NewScanner(req.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var recs []spec.CallRecord
		for sc.Scan() {
			var r spec.CallRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			recs = append(recs, r)
		}
		s.mu.Lock()
		s.batches++
		s.lines = append(s.lines, recs...)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *lineSink) count(path string) (batches, lines int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.lines {
		if r.Path == path {
			lines++
		}
	}
	return s.batches, lines
}

// hangingSink accepts connections and never answers: a sink that is
// down without refusing. held counts the connections it holds open.
func hangingSink(t *testing.T) (url string, held func() int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + ln.Addr().String() + "/logs", func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
}

// TestCallsLoggedTracedAndFound: one gateway with an access log to an HTTP
// sink (beside a refusing and a hanging one) and traces to an OTLP/HTTP
// receiver. A call failing upstream (502) is found by its request id in
// the control plane's log search within 2 s, with the node and the error;
// a call continuing a client's trace arrives as gateway, plugin and
// upstream spans of the client's trace, and the backend sees the trace go
// on; the dead sinks drop without holding requests back.
func TestCallsLoggedTracedAndFound(t *testing.T) {
	t.Parallel()
	otlp, otlpURL := newOTLPReceiver(t)
	sink, sinkURL := newLineSink(t)
	hanging, held := hangingSink(t)
	refused := "http://127.0.0.1:" + refusingPort(t) + "/logs"
	s := startServer(t, t.TempDir(), "--otlp-endpoint", otlpURL, "--trace-sample-ratio", "0",
		"--access-log", sinkURL+"?flush=100ms", "--access-log", refused+"?flush=100ms", "--access-log", hanging+"?timeout=60s&flush=100ms")

	// The backend notes the traceparent it is sent.
	var seenTP sync.Map
	backendSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenTP.Store(r.Header.Get("X-Request-Id"), r.Header.Get("Traceparent"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(backendSrv.Close)
	port := backendSrv.Listener.Addr().(*net.TCPAddr).Port
	deadPort := refusingPort(t)

	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"traced","plugins":{"request-transformer":{"headers":{"set":{"X-Via":"portico"}}}}}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	s.do(t, "POST", base+"/routes", `{"name":"ok","paths":["/traced/ok"]}`, 201, nil)
	s.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	var dead struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"failing"}`, 201, &dead)
	dbase := "/api/v1/projects/default/services/" + dead.ID
	s.do(t, "POST", dbase+"/routes", `{"name":"down","paths":["/failing"]}`, 201, nil)
	s.do(t, "POST", dbase+"/publish", `{"group":"default","version":"1.0.0","upstream":{"nodes":[{"host":"127.0.0.1","port":`+deadPort+`}],"timeout":{"connect":1}}}`, 201, nil)
	waitFor(t, s.Gateway+"/failing", 5*time.Second, func(st int, _ []byte) bool { return st == 502 })

	t.Run("a failed call is found by its request id", func(t *testing.T) {
		st, hdr, body, err := get(context.Background(), s.Gateway+"/failing?token=hunter2&page=1")
		if err != nil || st != 502 {
			t.Fatalf("GET /failing = %d %s %v", st, body, err)
		}
		id := hdr.Get("X-Request-Id")
		var e struct {
			RequestID string `json:"request_id"`
			TraceID   string `json:"trace_id"`
		}
		if json.Unmarshal(body, &e) != nil || e.RequestID != id || len(e.TraceID) != 32 {
			t.Fatalf("error body %s: want the request id %s and a trace id", body, id)
		}
		start := time.Now()
		var rec spec.CallRecord
		for {
			var page struct{ Items []spec.CallRecord }
			s.do(t, "GET", "/api/v1/projects/default/logs?request_id="+id, "", 200, &page)
			if len(page.Items) == 1 {
				rec = page.Items[0]
				break
			}
			if time.Since(start) > 2*time.Second {
				t.Fatalf("call %s not in the log search within 2s: %+v", id, page.Items)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if rec.Status != 502 || rec.Upstream != "127.0.0.1:"+deadPort || rec.Error != "upstream_unavailable" || rec.ErrorDetail != "connect" ||
			rec.Service != "failing" || rec.Route != "down" || rec.TraceID != e.TraceID || rec.Instance == "" {
			t.Errorf("record %+v: want the 502 with its node, error and names", rec)
		}
		if strings.Contains(rec.Query, "hunter2") || !strings.Contains(rec.Query, "page=1") {
			t.Errorf("query %q: want token redacted, page kept", rec.Query)
		}
		var one spec.CallRecord
		s.do(t, "GET", fmt.Sprintf("/api/v1/projects/default/logs/%d", rec.ID), "", 200, &one)
		if one.RequestID != id {
			t.Errorf("GET the record = %+v", one)
		}
		// The console's log search finds it, and its record page names
		// the node and the error.
		console := consoleClient(t, s)
		page := consoleGet(t, console, s.Admin+"/p/default/logs?request_id="+id)
		if !strings.Contains(page, id) {
			t.Errorf("the console's log search for %s does not show it", id)
		}
		page = consoleGet(t, console, fmt.Sprintf("%s/p/default/logs/%d", s.Admin, rec.ID))
		for _, want := range []string{id, "127.0.0.1:" + deadPort, "upstream_unavailable", "connect"} {
			if !strings.Contains(page, want) {
				t.Errorf("the console's record page does not show %q", want)
			}
		}
	})

	t.Run("bodies kept where the route says, masked", func(t *testing.T) {
		var bs struct{ ID string }
		s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"bodies","plugins":{"access-log":{"bodies":{"request":true,"response":true,"max_bytes":256,"mask":["password"]}}}}`, 201, &bs)
		bbase := "/api/v1/projects/default/services/" + bs.ID
		s.do(t, "POST", bbase+"/routes", `{"name":"login","paths":["/bodies/login"],"methods":["POST"]}`, 201, nil)
		s.do(t, "POST", bbase+"/publish", `{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
		waitFor(t, s.Gateway+"/bodies/login", 5*time.Second, func(st int, _ []byte) bool { return st == 405 })
		resp, err := http.Post(s.Gateway+"/bodies/login", "application/json", strings.NewReader(`{"user":"ann","password":"hunter2"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		id := resp.Header.Get("X-Request-Id")
		var rec spec.CallRecord
		for deadline := time.Now().Add(5 * time.Second); ; {
			var page struct{ Items []spec.CallRecord }
			s.do(t, "GET", "/api/v1/projects/default/logs?request_id="+id, "", 200, &page)
			if len(page.Items) == 1 {
				rec = page.Items[0]
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("call %s not in the log search", id)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if rec.RequestBody != `{"user":"ann","password":"***"}` || rec.ResponseBody != `{"ok":true}` {
			t.Errorf("bodies kept: request %q, response %q", rec.RequestBody, rec.ResponseBody)
		}
	})

	t.Run("a client's trace goes on through the gateway", func(t *testing.T) {
		tid, parent := "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
		req, _ := http.NewRequest("GET", s.Gateway+"/traced/ok", nil)
		req.Header.Set("Traceparent", "00-"+tid+"-"+parent+"-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /traced/ok = %d", resp.StatusCode)
		}
		spans := otlp.of(t, tid, 3, 10*time.Second)
		var server, plugin, up *receivedSpan
		for i := range spans {
			switch sp := &spans[i]; {
			case sp.Parent == parent:
				server = sp
			case strings.HasPrefix(sp.Name, "plugin "):
				plugin = sp
			default:
				up = sp
			}
		}
		if server == nil || plugin == nil || up == nil || plugin.Parent != server.SpanID || up.Parent != server.SpanID {
			t.Fatalf("spans %+v: want a gateway span under the client's, a plugin span and an upstream span under it", spans)
		}
		v, _ := seenTP.Load(resp.Header.Get("X-Request-Id"))
		if tp, _ := v.(string); tp != "00-"+tid+"-"+up.SpanID+"-01" {
			t.Errorf("backend's traceparent %q: want the trace with the upstream span %s as parent", tp, up.SpanID)
		}
	})

	t.Run("the HTTP sink gets batches; dead sinks hold nothing back", func(t *testing.T) {
		const n = 300
		for range n {
			st, _, body, err := get(context.Background(), s.Gateway+"/traced/ok")
			if err != nil || st != 200 {
				t.Fatalf("GET = %d %s %v", st, body, err)
			}
		}
		// Every request was answered while the hanging sink still held its
		// first batch's connection (its timeout is a minute away).
		if held() == 0 {
			t.Errorf("the hanging sink was never called")
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			batches, lines := sink.count("/traced/ok")
			if lines >= n {
				if batches < 2 {
					t.Errorf("%d lines in %d batch(es): want batches", lines, batches)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("HTTP sink got %d of %d lines", lines, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		waitFor(t, s.Status+"/metrics", 10*time.Second, func(_ int, body []byte) bool {
			return bytes.Contains(body, []byte(`portico_access_log_dropped_total{reason="write_error",sink="`+strings.TrimSuffix(refused, "/logs")))
		})
	})
}

// consoleClient signs in to the console as the admin, with a cookie jar.
func consoleClient(t *testing.T, s *server) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	page := consoleGet(t, c, s.Admin+"/login")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the login page")
	}
	resp, err := c.PostForm(s.Admin+"/login", url.Values{"username": {"admin"}, "password": {s.Password}, "csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("console login: %d", resp.StatusCode)
	}
	return c
}

func consoleGet(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return string(b)
}

// TestAlertWebhookFires: a rule on a service's error rate sends the
// project's webhook alert.firing, signed, once the service's calls fail
// past its threshold.
func TestAlertWebhookFires(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir(), "--webhook-private-networks")
	type delivery struct {
		event string
		err   error
		data  struct {
			ServiceName      string `json:"service_name"`
			Metric, State    string
			Value, Threshold float64
		}
	}
	var mu sync.Mutex
	var secret []byte
	got := make(chan delivery, 16)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		d := delivery{event: r.Header.Get(webhook.HeaderEvent), err: webhook.Verify(secret, r.Header, body, time.Now(), 0)}
		mu.Unlock()
		var payload struct {
			Data json.RawMessage
		}
		if err := json.Unmarshal(body, &payload); err == nil {
			_ = json.Unmarshal(payload.Data, &d.data)
		}
		got <- d
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	var hook struct{ Secret string }
	mu.Lock()
	s.do(t, "PUT", "/api/v1/projects/default/webhook", fmt.Sprintf(`{"url":%q}`, recv.URL+"/alerts"), 200, &hook)
	secret = []byte(hook.Secret)
	mu.Unlock()

	deadPort := refusingPort(t)
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"flaky"}`, 201, &svc)
	base := "/api/v1/projects/default/services/" + svc.ID
	s.do(t, "POST", base+"/routes", `{"name":"all","paths":["/flaky"]}`, 201, nil)
	s.do(t, "POST", base+"/publish", `{"group":"default","version":"1.0.0","upstream":{"nodes":[{"host":"127.0.0.1","port":`+deadPort+`}],"timeout":{"connect":1}}}`, 201, nil)
	s.do(t, "POST", base+"/alerts", `{"name":"errors","metric":"error_rate","threshold":0.5,"window":"1m","min_requests":5,"group":"default"}`, 201, nil)
	waitFor(t, s.Gateway+"/flaky", 5*time.Second, func(st int, _ []byte) bool { return st == 502 })
	for range 20 {
		if st, _, _, err := get(context.Background(), s.Gateway+"/flaky"); err != nil || st != 502 {
			t.Fatalf("GET /flaky = %d %v", st, err)
		}
	}
	select {
	case d := <-got:
		if d.err != nil || d.event != "alert.firing" || d.data.Metric != "error_rate" || d.data.Value <= 0.5 || d.data.ServiceName != "flaky" {
			t.Errorf("delivery %+v: want a signed alert.firing of flaky's error rate", d)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("no alert webhook within 45s")
	}
	var rules struct {
		Items []struct{ Name, State string }
	}
	s.do(t, "GET", "/api/v1/projects/default/alerts", "", 200, &rules)
	if len(rules.Items) != 1 || rules.Items[0].State != "firing" {
		t.Errorf("alerts %+v: want the rule firing", rules.Items)
	}
}
