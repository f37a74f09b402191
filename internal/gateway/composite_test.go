package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/accesslog"
	"github.com/portico-gw/portico/internal/spec"
)

// compositeSnapshot serves, in project "default":
//   - users (upstream usersBE): GET /users/{id} behind key-auth, the
//     project's application holding "project-key";
//   - profile (upstream profileBE): /profile/agg/{id}, a composite of the
//     user (an API step, the client's apikey passed on) and /extra/{id}
//     of profile's own upstream; /profile/loop and /profile/loop-back,
//     composites calling each other.
func compositeSnapshot(t *testing.T, rev int64, usersBE, profileBE string) *spec.Snapshot {
	t.Helper()
	flow := func(s string) *spec.Backend {
		var c spec.CompositeBackend
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			t.Fatal(err)
		}
		return &spec.Backend{Type: spec.BackendComposite, Composite: &c}
	}
	getUser := spec.Route{ID: "get-user", Name: "get-user", Paths: []string{"/{id}"}, Methods: []string{"GET"},
		Plugins: spec.Plugins{"key-auth": json.RawMessage(`{}`)}}
	agg := spec.Route{ID: "agg", Name: "agg", Paths: []string{"/agg/{id}"}, Backend: flow(`{"steps":[
		{"name":"user","service":"users","route":"get-user","params":{"id":"request.params.id"},"headers":{"apikey":"request.headers.apikey"}},
		{"name":"extra","path":"/extra/{id}","params":{"id":"request.params.id"}}],
		"response":{"body":"{\"user\": steps.user.body, \"extra\": steps.extra.body}"}}`)}
	// A route calling itself is refused when compiled; two calling each
	// other are stopped by the nesting bound when called.
	loop := spec.Route{ID: "loop", Name: "loop", Paths: []string{"/loop"}, Backend: flow(`{"steps":[
		{"name":"self","service":"profile","route":"loop-back"}],"response":{"body":"steps.self.body"}}`)}
	loopBack := spec.Route{ID: "loop-back", Name: "loop-back", Paths: []string{"/loop-back"}, Backend: flow(`{"steps":[
		{"name":"back","service":"profile","route":"loop","retries":5}],"response":{"body":"steps.back.body"}}`)}
	up := func(url string) spec.Upstream { return spec.Upstream{URL: url} }
	return &spec.Snapshot{Revision: rev, Groups: []spec.GroupSnapshot{{
		Group: spec.GatewayGroup{Name: "default"},
		Services: []spec.DeployedService{
			{ProjectID: "default", Version: "1.0.0", Upstream: up(usersBE),
				Service: spec.Service{ID: "users-id", Name: "users", Path: "/users", Routes: []spec.Route{getUser}}},
			{ProjectID: "default", Version: "1.0.0", Upstream: up(profileBE),
				Service: spec.Service{ID: "profile-id", Name: "profile", Path: "/profile", Routes: []spec.Route{agg, loop, loopBack}}},
		},
		Consumers: []spec.Consumer{{ID: "project-app", Name: "project-app", ProjectID: "default",
			Credentials: []spec.ConsumerCredential{{ID: "c1", Type: spec.CredKeyAuth, Key: keySum("project-key")}}}},
	}}}
}

// lineSink collects the access log's lines.
type lineSink chan []byte

func (s lineSink) config() accesslog.SinkConfig {
	return accesslog.FuncSink("test", func(lines [][]byte) error {
		for _, l := range lines {
			s <- append([]byte(nil), l...)
		}
		return nil
	})
}

// records are the access log's records of the request id (and of the
// calls it made, whose ids extend it), until want of them came.
func (s lineSink) records(t *testing.T, requestID string, want int) []spec.CallRecord {
	t.Helper()
	var out []spec.CallRecord
	deadline := time.After(waitLimit)
	for len(out) < want {
		select {
		case l := <-s:
			var r spec.CallRecord
			if err := json.Unmarshal(l, &r); err != nil {
				t.Fatalf("access log line %s: %v", l, err)
			}
			if r.RequestID == requestID || strings.HasPrefix(r.RequestID, requestID+".") {
				out = append(out, r)
			}
		case <-deadline:
			t.Fatalf("%d access log records of %s came, want %d", len(out), requestID, want)
		}
	}
	return out
}

func TestComposite(t *testing.T) { forEachEngine(t, testComposite) }

// testComposite: through a running gateway, a composite's API step runs
// the called route's own plugins (key-auth refuses a step without the
// key: the composite answers 502 naming the step and the 401), its
// upstream step reaches its service's upstream, a composite calling
// itself stops, and the access log holds the in-process call and the
// composite's steps under one request id.
func testComposite(t *testing.T, engine string) {
	users := backendServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"path":"`+r.URL.Path+`","key":"`+r.Header.Get("apikey")+`"}`)
	})
	profile := backendServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"path":"`+r.URL.Path+`"}`)
	})
	lines := make(lineSink, 64)
	g := start(t, engine, func(o *Options) {
		o.Telemetry = Telemetry{AccessLog: []accesslog.SinkConfig{lines.config()}}
	})
	g.publish(t, compositeSnapshot(t, 1, users.URL, profile.URL))

	call := func(path, key, id string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, g.gw+path, nil)
		if key != "" {
			req.Header.Set("apikey", key)
		}
		req.Header.Set("X-Request-Id", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	code, body := call("/profile/agg/7", "project-key", "req-ok")
	var got struct {
		User  struct{ Path, Key string }
		Extra struct{ Path string }
	}
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
		t.Fatalf("composite with the key: %d %s", code, body)
	}
	if got.User.Path != "/users/7" || got.Extra.Path != "/extra/7" {
		t.Errorf("composite answer %s", body)
	}
	recs := lines.records(t, "req-ok", 2)
	var outer, inner *spec.CallRecord
	for i := range recs {
		switch recs[i].Route {
		case "agg":
			outer = &recs[i]
		case "get-user":
			inner = &recs[i]
		}
	}
	if outer == nil || inner == nil {
		t.Fatalf("records %+v, want the composite's and the in-process call's", recs)
	}
	if inner.Consumer != "project-app" || inner.Status != 200 || inner.Client != "127.0.0.1" || inner.RequestID != "req-ok.user" {
		t.Errorf("the in-process call's record %+v", inner)
	}
	if len(outer.Steps) != 2 {
		t.Fatalf("the composite's steps %+v", outer.Steps)
	}
	for _, s := range outer.Steps {
		want := map[string]spec.CallStep{
			"user":  {Name: "user", Target: "users/get-user", Method: "GET", Path: "/users/7", Status: 200, Outcome: "ok", Attempts: 1},
			"extra": {Name: "extra", Target: "upstream", Method: "GET", Path: "/extra/7", Status: 200, Outcome: "ok", Attempts: 1},
		}[s.Name]
		s.StartMs, s.LatencyMs = 0, 0
		if s != want {
			t.Errorf("step %+v, want %+v", s, want)
		}
	}

	// Without the key, the called route's key-auth refuses the step.
	code, body = call("/profile/agg/7", "", "req-nokey")
	if code != http.StatusBadGateway || !strings.Contains(body, "user") || !strings.Contains(body, "401") {
		t.Errorf("composite without the key: %d %s, want 502 naming step user and 401", code, body)
	}

	// Composites calling each other end, refused past the nesting bound,
	// and their retries do not multiply the calls (a composite's failure
	// is final).
	code, body = call("/profile/loop", "", "req-loop")
	if code != http.StatusBadGateway || !strings.Contains(body, "self") {
		t.Errorf("a composite calling itself: %d %s, want 502 naming step self", code, body)
	}
	loops := lines.records(t, "req-loop", 5) // the client's, and 4 nested calls, each once
	deepest := false
	for _, r := range loops {
		if len(r.Steps) == 1 && strings.Contains(r.Steps[0].Error, "nest") {
			deepest = true
		}
		if len(r.Steps) == 1 && r.Steps[0].Attempts != 1 {
			t.Errorf("step %s of %s made %d attempts, want 1: a composite's failure is not retried", r.Steps[0].Name, r.RequestID, r.Steps[0].Attempts)
		}
	}
	if !deepest {
		t.Errorf("no record shows the nesting refused: %+v", loops)
	}
}
