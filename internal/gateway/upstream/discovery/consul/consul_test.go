package consul

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
	"github.com/portico-gw/portico/internal/gateway/upstream/discovery/discoverytest"
	"github.com/portico-gw/portico/internal/spec"
)

// instance is one registration of the fake Consul.
type instance struct {
	node, nodeAddr, addr string
	port, weight         int
}

// fakeConsul answers /v1/health/service/web as Consul does, blocking
// queries included: a query with an index not older than the current one
// waits for a change, its wait, or the client going away.
type fakeConsul struct {
	mu        sync.Mutex
	index     uint64
	instances []instance
	changed   chan struct{} // closed and replaced on every change
	blocked   chan struct{} // receives when a blocking query starts waiting
	token     string
	lastQuery string
	body      []byte // when set, the answer instead of the instances
}

func newFakeConsul(token string, instances ...instance) *fakeConsul {
	return &fakeConsul{index: 10, instances: instances, changed: make(chan struct{}),
		blocked: make(chan struct{}, 16), token: token}
}

func (f *fakeConsul) set(instances ...instance) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.instances = instances
	f.index++
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeConsul) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Consul-Token") != f.token {
		http.Error(w, "ACL not found", http.StatusForbidden)
		return
	}
	if r.URL.Query().Get("passing") != "true" {
		http.Error(w, "the gateway must ask for passing instances", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.lastQuery = r.URL.RawQuery
	if idx, _ := strconv.ParseUint(r.URL.Query().Get("index"), 10, 64); idx != 0 && idx >= f.index {
		wait, err := time.ParseDuration(r.URL.Query().Get("wait"))
		if err != nil {
			f.mu.Unlock()
			http.Error(w, "bad wait", http.StatusBadRequest)
			return
		}
		changed := f.changed
		f.mu.Unlock()
		f.blocked <- struct{}{}
		select {
		case <-changed:
		case <-time.After(wait):
		case <-r.Context().Done():
			return
		}
		f.mu.Lock()
	}
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Consul-Index", strconv.FormatUint(f.index, 10))
	if f.body != nil {
		w.Write(f.body)
		return
	}
	if r.URL.Path != "/v1/health/service/web" {
		w.Write([]byte("[]"))
		return
	}
	var entries []string
	for _, in := range f.instances {
		entries = append(entries, fmt.Sprintf(entryTemplate, in.node, in.nodeAddr, in.addr, in.port, in.weight))
	}
	fmt.Fprintf(w, "[%s]", strings.Join(entries, ","))
}

// entryTemplate is one element of /v1/health/service/{name} as Consul's
// documentation shows it.
const entryTemplate = `{
  "Node": {"ID": "40e4a748-2192-161a-0510-9bf59fe950b5", "Node": %q, "Address": %q, "Datacenter": "dc1",
    "TaggedAddresses": {"lan": "10.1.10.12", "wan": "10.1.10.12"}, "Meta": {"instance_type": "t2.medium"}},
  "Service": {"ID": "web-1", "Service": "web", "Tags": ["primary"], "Address": %q,
    "TaggedAddresses": {"lan": {"address": "10.1.10.12", "port": 8000}, "wan": {"address": "198.18.1.2", "port": 80}},
    "Meta": {"version": "4.0"}, "Port": %d, "Weights": {"Passing": %d, "Warning": 1}, "Namespace": "default"},
  "Checks": [{"Node": "foobar", "CheckID": "service:web-1", "Name": "Service 'web' check", "Status": "passing",
    "Notes": "", "Output": "", "ServiceID": "web-1", "ServiceName": "web", "ServiceTags": ["primary"], "Namespace": "default"}]
}`

func newResolver(t *testing.T, c discovery.Config) *Resolver {
	t.Helper()
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var (
	a = instance{node: "n1", nodeAddr: "10.0.0.1", addr: "10.1.0.1", port: 8000, weight: 10}
	b = instance{node: "n2", nodeAddr: "10.0.0.2", addr: "", port: 8001, weight: 1}
)

func TestResolve(t *testing.T) {
	fake := newFakeConsul("secret", b, a)
	srv := discoverytest.NewServer(t, fake, false)
	r := newResolver(t, discovery.Config{Address: srv.URL, Token: "secret", Namespace: "team"})

	res, err := r.Resolve(context.Background(), discovery.Target{ServiceName: "web"}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	// Service.Address, else Node.Address; Weights.Passing as the weight.
	want := []spec.Node{{Host: "10.0.0.2", Port: 8001, Weight: 1}, {Host: "10.1.0.1", Port: 8000, Weight: 10}}
	if !slices.Equal(res.Nodes, want) || res.Index != "10" {
		t.Errorf("Resolve = %+v, want nodes %v and index 10", res, want)
	}
	if fake.query() != "ns=team&passing=true" {
		t.Errorf("query %q, want the Config's namespace and no index", fake.query())
	}

	if _, err := r.Resolve(context.Background(), discovery.Target{Namespace: "other", ServiceName: "web"}, "", 0); err != nil {
		t.Fatal(err)
	}
	if fake.query() != "ns=other&passing=true" {
		t.Errorf("query %q, want the Target's namespace", fake.query())
	}

	res, err = r.Resolve(context.Background(), discovery.Target{ServiceName: "unknown"}, "", 0)
	if err != nil || len(res.Nodes) != 0 || res.Nodes == nil {
		t.Errorf("unknown service = %+v, %v; want an empty list", res, err)
	}
}

func TestErrors(t *testing.T) {
	fake := newFakeConsul("secret", a)
	srv := discoverytest.NewServer(t, fake, false)
	for _, tc := range []struct {
		name  string
		token string
		body  []byte
		want  string
		is    error
	}{
		{"no token", "", nil, "status 403: ACL not found", nil},
		{"bad JSON", "secret", []byte(`[{"Service": {"Port": "x"}}]`), "decoding the health answer", nil},
		{"not JSON", "secret", []byte(`<html>`), "decoding the health answer", nil},
		{"too large", "secret", discoverytest.HugeJSON(), "larger than", discovery.ErrBodyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.mu.Lock()
			fake.body = tc.body
			fake.mu.Unlock()
			r := newResolver(t, discovery.Config{Address: srv.URL, Token: tc.token})
			_, err := r.Resolve(context.Background(), discovery.Target{ServiceName: "web"}, "", 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), `consul: service "web": `) {
				t.Fatalf("error %v, want one of consul and the service saying %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
}

// TestBlockingQuery: a query with the current index returns when the test
// changes the service, with the new nodes and a newer index.
func TestBlockingQuery(t *testing.T) {
	fake := newFakeConsul("", a)
	srv := discoverytest.NewServer(t, fake, false)
	r := newResolver(t, discovery.Config{Address: srv.URL})

	type answer struct {
		res discovery.Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := r.Resolve(context.Background(), discovery.Target{ServiceName: "web"}, "10", discovery.BlockingWait)
		done <- answer{res, err}
	}()
	<-fake.blocked
	if !strings.Contains(fake.query(), "index=10") || !strings.Contains(fake.query(), "wait=30s") {
		t.Errorf("query %q, want index=10 and wait=30s", fake.query())
	}
	fake.set(a, b)
	got := <-done
	if got.err != nil {
		t.Fatal(got.err)
	}
	if len(got.res.Nodes) != 2 || got.res.Index != "11" {
		t.Errorf("blocking query = %+v, want both instances at index 11", got.res)
	}
}

func (f *fakeConsul) query() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastQuery
}

func TestNextIndex(t *testing.T) {
	for _, tc := range []struct {
		header string
		prev   uint64
		want   string
	}{
		{"12", 0, "12"},
		{"12", 10, "12"},
		{"12", 12, "12"},
		{"9", 10, ""}, // backwards: start over
		{"0", 0, "1"}, // 0 would never block
		{"", 5, ""},   // no header: no blocking
		{"x", 5, ""},
	} {
		if got := nextIndex(tc.header, tc.prev); got != tc.want {
			t.Errorf("nextIndex(%q, %d) = %q, want %q", tc.header, tc.prev, got, tc.want)
		}
	}
}

func TestParseHealth(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []spec.Node
	}{
		{"empty", `[]`, []spec.Node{}},
		{"null", `null`, []spec.Node{}},
		{"node address", `[{"Node":{"Address":"10.0.0.1"},"Service":{"Address":"","Port":80,"Weights":{"Passing":3}}}]`,
			[]spec.Node{{Host: "10.0.0.1", Port: 80, Weight: 3}}},
		{"no weights", `[{"Node":{"Address":"10.0.0.1"},"Service":{"Address":"h.example","Port":80}}]`,
			[]spec.Node{{Host: "h.example", Port: 80, Weight: 1}}},
		{"passing 0", `[{"Service":{"Address":"h","Port":80,"Weights":{"Passing":0}}}]`,
			[]spec.Node{{Host: "h", Port: 80, Weight: 1}}},
		{"no service, no port", `[{"Node":{"Address":"10.0.0.1"}},{"Service":{"Address":"h"}}]`, []spec.Node{}},
		{"duplicates", `[{"Service":{"Address":"h","Port":80}},{"Service":{"Address":"h","Port":80}}]`,
			[]spec.Node{{Host: "h", Port: 80, Weight: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHealth([]byte(tc.body))
			if err != nil || !slices.Equal(got, tc.want) || got == nil {
				t.Errorf("parseHealth = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestFollow: Follow learns a node added and removed through blocking
// queries, keeps the nodes while Consul is away, and is healthy again when
// it comes back.
func TestFollow(t *testing.T) {
	fake := newFakeConsul("secret", a)
	srv := discoverytest.NewServer(t, fake, false)
	r := newResolver(t, discovery.Config{Address: srv.URL, Token: "secret"})
	nodeA := spec.Node{Host: "10.1.0.1", Port: 8000, Weight: 10}
	nodeB := spec.Node{Host: "10.0.0.2", Port: 8001, Weight: 1}

	// An hour of poll: only blocking queries can bring the changes.
	f := discoverytest.Follow(t, r, discovery.Target{ServiceName: "web"}, time.Hour)
	f.WaitNodes(t, []spec.Node{nodeA})
	<-fake.blocked
	fake.set(a, b)
	f.WaitNodes(t, []spec.Node{nodeB, nodeA})
	<-fake.blocked
	fake.set(b)
	f.WaitNodes(t, []spec.Node{nodeB})

	<-fake.blocked
	srv.Stop()
	s := f.WaitStatus(t, false)
	if !strings.HasPrefix(s.Error, `consul: service "web": `) || s.LastSync.IsZero() {
		t.Errorf("status while away = %+v, want the error and the last sync", s)
	}
	f.NoUpdate(t)

	fake.set(a)
	srv.Restart(t)
	f.WaitNodes(t, []spec.Node{nodeA})
	f.WaitStatus(t, true)
}

func FuzzParseHealth(f *testing.F) {
	f.Add([]byte(`[` + fmt.Sprintf(entryTemplate, "n", "10.0.0.1", "10.0.0.2", 80, 1) + `]`))
	f.Add([]byte(`[{"Node":null,"Service":{"Address":"::ffff:1.2.3.4","Port":65535,"Weights":null}}]`))
	f.Add([]byte(`[{"Service":{"Port":-1,"Weights":{"Passing":-5}}}]`))
	f.Add([]byte(`{"not":"a list"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		nodes, err := parseHealth(body)
		if err != nil {
			return
		}
		for _, n := range nodes {
			if n.Host == "" || n.Port < 1 || n.Port > 65535 || n.Weight < 1 {
				t.Errorf("node %+v from %q", n, body)
			}
		}
	})
}
