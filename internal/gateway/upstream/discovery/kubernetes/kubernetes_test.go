package kubernetes

import (
	"context"
	"encoding/json"
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

// endpoint is one endpoint of the fake API server's slice.
type endpoint struct {
	addr  string
	ready string // "true", "false", or "" for a condition left out
}

// fakeAPI is a Kubernetes API server with the EndpointSlices of the
// Service "web": a list, and a watch that streams a MODIFIED event on the
// next change.
type fakeAPI struct {
	mu        sync.Mutex
	version   int
	endpoints []endpoint
	changed   chan struct{} // closed and replaced on every change
	watching  chan string   // receives a watch's query when it starts waiting
	token     string
	gone      string // "event": a watch answers an ERROR 410 event; "status": HTTP 410
	watchErr  bool   // a watch answers an ERROR 500 event
	body      []byte // when set, the list's answer
	lastPath  string
	lastQuery string
}

func newFakeAPI(token string, eps ...endpoint) *fakeAPI {
	return &fakeAPI{version: 100, endpoints: eps, changed: make(chan struct{}), watching: make(chan string, 16), token: token}
}

func (f *fakeAPI) set(eps ...endpoint) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.endpoints = eps
	f.version++
	close(f.changed)
	f.changed = make(chan struct{})
}

// slice is the EndpointSlice of the endpoints, as the EndpointSlice
// controller writes it (a UDP port first, to check it is passed over).
func (f *fakeAPI) slice() string {
	var eps []string
	for i, e := range f.endpoints {
		cond := `{"serving": true, "terminating": false}`
		if e.ready != "" {
			cond = fmt.Sprintf(`{"ready": %s, "serving": true, "terminating": false}`, e.ready)
		}
		eps = append(eps, fmt.Sprintf(`{"addresses": [%q], "conditions": %s, "nodeName": "node-1",
			"targetRef": {"kind": "Pod", "namespace": "default", "name": "web-7d4b9c-%d", "uid": "0b9f"}, "zone": "eu-1a"}`, e.addr, cond, i))
	}
	return fmt.Sprintf(`{
  "metadata": {"name": "web-abc12", "generateName": "web-", "namespace": "default", "resourceVersion": "%d",
    "labels": {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io", "kubernetes.io/service-name": "web"},
    "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": "web", "uid": "7c1e", "controller": true, "blockOwnerDeletion": true}]},
  "addressType": "IPv4",
  "endpoints": [%s],
  "ports": [{"name": "dns", "protocol": "UDP", "port": 53}, {"name": "http", "protocol": "TCP", "port": 8080},
    {"name": "metrics", "protocol": "TCP", "port": 9090}]
}`, f.version, strings.Join(eps, ","))
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
		return
	}
	q := r.URL.Query()
	f.mu.Lock()
	f.lastPath, f.lastQuery = r.URL.Path, r.URL.RawQuery
	if q.Get("labelSelector") != "kubernetes.io/service-name=web" {
		f.mu.Unlock()
		fmt.Fprint(w, `{"kind":"EndpointSliceList","apiVersion":"discovery.k8s.io/v1","metadata":{"resourceVersion":"1"},"items":[]}`)
		return
	}
	if q.Get("watch") == "1" {
		f.serveWatch(w, r)
		return
	}
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if f.body != nil {
		w.Write(f.body)
		return
	}
	fmt.Fprintf(w, `{"kind": "EndpointSliceList", "apiVersion": "discovery.k8s.io/v1", "metadata": {"resourceVersion": "%d"}, "items": [%s]}`,
		f.version, f.slice())
}

// serveWatch is called with f.mu held.
func (f *fakeAPI) serveWatch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, _ := strconv.Atoi(q.Get("resourceVersion"))
	timeout, err := strconv.Atoi(q.Get("timeoutSeconds"))
	if err != nil {
		f.mu.Unlock()
		http.Error(w, "timeoutSeconds", http.StatusBadRequest)
		return
	}
	gone, watchErr, changed := f.gone, f.watchErr, f.changed
	if from < f.version {
		// A change since the version: the next event is at once.
		changed = make(chan struct{})
		close(changed)
	}
	f.mu.Unlock()
	switch {
	case gone == "status":
		w.WriteHeader(http.StatusGone)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version","reason":"Expired","code":410}`)
		return
	case gone == "event":
		fmt.Fprintf(w, `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: %d (%d)","reason":"Expired","code":410}}`+"\n", from, from+50)
		return
	case watchErr:
		fmt.Fprint(w, `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"etcd is away","reason":"InternalError","code":500}}`+"\n")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	f.watching <- r.URL.RawQuery
	select {
	case <-changed:
	case <-time.After(time.Duration(timeout) * time.Second):
		return
	case <-r.Context().Done():
		return
	}
	f.mu.Lock()
	fmt.Fprintf(w, `{"type":"MODIFIED","object":%s}`+"\n", f.slice())
	f.mu.Unlock()
	w.(http.Flusher).Flush()
	// A real watch stays open for more events, until its timeout.
	select {
	case <-r.Context().Done():
	case <-time.After(time.Duration(timeout) * time.Second):
	}
}

func (f *fakeAPI) last() (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastPath, f.lastQuery
}

func (f *fakeAPI) edit(fn func(f *fakeAPI)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// start serves fake over TLS and builds a Resolver trusting its CA.
func start(t *testing.T, fake *fakeAPI, namespace string) (*discoverytest.Server, *Resolver) {
	t.Helper()
	srv := discoverytest.NewServer(t, fake, true)
	r, err := New(discovery.Config{Type: "kubernetes", Address: srv.URL, Token: fake.token, CA: srv.CA(), Namespace: namespace})
	if err != nil {
		t.Fatal(err)
	}
	return srv, r
}

const w = spec.DefaultNodeWeight

func node(host string, port int) spec.Node { return spec.Node{Host: host, Port: port, Weight: w} }

func TestResolve(t *testing.T) {
	fake := newFakeAPI("sa-token", endpoint{"10.244.0.6", "true"}, endpoint{"10.244.0.5", ""}, endpoint{"10.244.0.7", "false"})
	_, r := start(t, fake, "")
	for _, tc := range []struct {
		target   discovery.Target
		want     []spec.Node
		path     string
		selector string
	}{
		// Ready and unknown endpoints, on the first TCP port.
		{discovery.Target{ServiceName: "web"}, []spec.Node{node("10.244.0.5", 8080), node("10.244.0.6", 8080)},
			"/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", "labelSelector=kubernetes.io%2Fservice-name%3Dweb"},
		{discovery.Target{Namespace: "shop", ServiceName: "web:metrics"}, []spec.Node{node("10.244.0.5", 9090), node("10.244.0.6", 9090)},
			"/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices", "labelSelector=kubernetes.io%2Fservice-name%3Dweb"},
		{discovery.Target{ServiceName: "web:grpc"}, []spec.Node{}, "", ""}, // no such port
		{discovery.Target{ServiceName: "web:dns"}, []spec.Node{}, "", ""},  // UDP
		{discovery.Target{ServiceName: "other"}, []spec.Node{}, "", "labelSelector=kubernetes.io%2Fservice-name%3Dother"},
	} {
		t.Run(tc.target.ServiceName, func(t *testing.T) {
			res, err := r.Resolve(context.Background(), tc.target, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Nodes, tc.want) || res.Nodes == nil || res.Index == "" {
				t.Errorf("Resolve = %+v, want nodes %v and a version", res, tc.want)
			}
			path, query := fake.last()
			if tc.path != "" && path != tc.path || tc.selector != "" && query != tc.selector {
				t.Errorf("asked %s?%s, want %s?%s", path, query, tc.path, tc.selector)
			}
		})
	}
}

func TestConfigNamespace(t *testing.T) {
	fake := newFakeAPI("t", endpoint{"10.244.0.5", "true"})
	_, r := start(t, fake, "team")
	if _, err := r.Resolve(context.Background(), discovery.Target{ServiceName: "web"}, "", 0); err != nil {
		t.Fatal(err)
	}
	if path, _ := fake.last(); path != "/apis/discovery.k8s.io/v1/namespaces/team/endpointslices" {
		t.Errorf("path %s, want the Config's namespace", path)
	}
}

func TestErrors(t *testing.T) {
	fake := newFakeAPI("t", endpoint{"10.244.0.5", "true"})
	srv, r := start(t, fake, "")
	for _, tc := range []struct {
		name string
		edit func(f *fakeAPI)
		want string
		is   error
	}{
		{"token", func(f *fakeAPI) { f.token = "other" }, "status 401", nil},
		{"bad JSON", func(f *fakeAPI) { f.body = []byte(`{"items":[{"endpoints":"x"}]}`) }, "decoding the EndpointSlice list", nil},
		{"truncated", func(f *fakeAPI) { f.body = []byte(`{"items":[`) }, "decoding the EndpointSlice list", nil},
		{"too large", func(f *fakeAPI) { f.body = discoverytest.HugeJSON() }, "larger than", discovery.ErrBodyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.edit(func(f *fakeAPI) { f.token, f.body = "t", nil })
			fake.edit(tc.edit)
			_, err := r.Resolve(context.Background(), discovery.Target{ServiceName: "web"}, "", 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), `kubernetes: service "web": `) {
				t.Fatalf("error %v, want one naming kubernetes and the service, saying %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
	// Without the cluster's CA the API server is not trusted.
	untrusting, err := New(discovery.Config{Address: srv.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := untrusting.Resolve(context.Background(), discovery.Target{ServiceName: "web"}, "", 0); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v, want a certificate error", err)
	}
}

// TestWatch: with an index, Resolve watches from it and lists again when an
// event comes; a version too old to watch from (410, as an ERROR event or a
// status) lists at once; another ERROR event is an error.
func TestWatch(t *testing.T) {
	fake := newFakeAPI("t", endpoint{"10.244.0.5", "true"})
	_, r := start(t, fake, "")
	res, err := r.Resolve(context.Background(), discovery.Target{ServiceName: "web"}, "", 0)
	if err != nil || res.Index != "100" {
		t.Fatalf("list = %+v, %v; want version 100", res, err)
	}

	type answer struct {
		res discovery.Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := r.Resolve(context.Background(), discovery.Target{ServiceName: "web"}, res.Index, discovery.BlockingWait)
		done <- answer{res, err}
	}()
	query := <-fake.watching
	for _, p := range []string{"watch=1", "resourceVersion=100", "timeoutSeconds=30", "allowWatchBookmarks=false", "labelSelector=kubernetes.io%2Fservice-name%3Dweb"} {
		if !strings.Contains(query, p) {
			t.Errorf("watch query %q lacks %s", query, p)
		}
	}
	fake.set(endpoint{"10.244.0.5", "true"}, endpoint{"10.244.0.8", "true"})
	got := <-done
	if got.err != nil || got.res.Index != "101" || !slices.Equal(got.res.Nodes, []spec.Node{node("10.244.0.5", 8080), node("10.244.0.8", 8080)}) {
		t.Errorf("after the event: %+v, %v; want both endpoints at version 101", got.res, got.err)
	}

	for _, gone := range []string{"event", "status"} {
		fake.edit(func(f *fakeAPI) { f.gone = gone })
		res, err := r.Resolve(context.Background(), discovery.Target{ServiceName: "web"}, "3", discovery.BlockingWait)
		if err != nil || res.Index != "101" || len(res.Nodes) != 2 {
			t.Errorf("410 as %s: %+v, %v; want a fresh list", gone, res, err)
		}
	}
	fake.edit(func(f *fakeAPI) { f.gone, f.watchErr = "", true })
	if _, err := r.Resolve(context.Background(), discovery.Target{ServiceName: "web"}, "101", discovery.BlockingWait); err == nil || !strings.Contains(err.Error(), "watch error 500 InternalError: etcd is away") {
		t.Errorf("ERROR event: %v", err)
	}
}

// TestWatchTimeout: a watch without events ends with the server's timeout,
// and the list that follows is the answer.
func TestWatchTimeout(t *testing.T) {
	fake := newFakeAPI("t", endpoint{"10.244.0.5", "true"})
	_, r := start(t, fake, "")
	res, err := r.Resolve(context.Background(), discovery.Target{ServiceName: "web"}, "100", time.Second)
	if err != nil || res.Index != "100" || len(res.Nodes) != 1 {
		t.Errorf("Resolve = %+v, %v; want the same list", res, err)
	}
	if q := <-fake.watching; !strings.Contains(q, "timeoutSeconds=1&") {
		t.Errorf("watch query %q, want timeoutSeconds=1", q)
	}
}

// TestFollow: list then watch; Follow sees an endpoint added and removed,
// keeps the nodes while the API server is away, and is healthy again when
// it is back.
func TestFollow(t *testing.T) {
	fake := newFakeAPI("t", endpoint{"10.244.0.5", "true"})
	srv, r := start(t, fake, "")
	f := discoverytest.Follow(t, r, discovery.Target{ServiceName: "web:http"}, time.Hour)
	f.WaitNodes(t, []spec.Node{node("10.244.0.5", 8080)})
	<-fake.watching
	fake.set(endpoint{"10.244.0.5", "true"}, endpoint{"10.244.0.9", "true"})
	f.WaitNodes(t, []spec.Node{node("10.244.0.5", 8080), node("10.244.0.9", 8080)})
	<-fake.watching
	// Not ready any more: the endpoint leaves the nodes.
	fake.set(endpoint{"10.244.0.5", "false"}, endpoint{"10.244.0.9", "true"})
	f.WaitNodes(t, []spec.Node{node("10.244.0.9", 8080)})

	<-fake.watching
	srv.Stop()
	if s := f.WaitStatus(t, false); !strings.HasPrefix(s.Error, `kubernetes: service "web:http": `) || s.LastSync.IsZero() {
		t.Errorf("status while away: %+v", s)
	}
	f.NoUpdate(t)
	fake.set(endpoint{"10.244.0.5", "true"})
	srv.Restart(t)
	f.WaitNodes(t, []spec.Node{node("10.244.0.5", 8080)})
	f.WaitStatus(t, true)
}

func FuzzParseList(f *testing.F) {
	fake := newFakeAPI("", endpoint{"10.0.0.1", "true"}, endpoint{"::1", ""})
	f.Add([]byte(`{"metadata":{"resourceVersion":"5"},"items":[`+fake.slice()+`]}`), "")
	f.Add([]byte(`{"items":[{"endpoints":[{"addresses":["a"],"conditions":{"ready":null}}],"ports":[{"port":null},{"name":null,"port":70000}]}]}`), "http")
	f.Add([]byte(`{"items":null}`), "x")
	f.Fuzz(func(t *testing.T, body []byte, portName string) {
		nodes, _, err := parseList(body, portName)
		if err != nil {
			return
		}
		for _, n := range nodes {
			if n.Host == "" || n.Port < 1 || n.Port > 65535 {
				t.Errorf("node %+v", n)
			}
		}
	})
}

func FuzzReadEvents(f *testing.F) {
	f.Add([]byte(`{"type":"MODIFIED","object":{}}` + "\n"))
	f.Add([]byte(`{"type":"BOOKMARK","object":{}}{"type":"ERROR","object":{"code":410}}`))
	f.Add([]byte(`{"type":"ERROR","object":"x"}`))
	f.Add([]byte(`{"type":`))
	f.Fuzz(func(t *testing.T, stream []byte) {
		readEvents(strings.NewReader(string(stream)))
	})
}

// TestFakeSliceIsJSON guards the fixture the other tests build by hand: a
// typo in it would read as a decoding error of the client.
func TestFakeSliceIsJSON(t *testing.T) {
	if !json.Valid([]byte(newFakeAPI("", endpoint{"10.0.0.1", ""}).slice())) {
		t.Error("the fake EndpointSlice is not JSON")
	}
}
