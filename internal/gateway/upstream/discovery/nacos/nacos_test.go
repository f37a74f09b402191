package nacos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
	"github.com/portico-gw/portico/internal/gateway/upstream/discovery/discoverytest"
	"github.com/portico-gw/portico/internal/spec"
)

// host is one instance of the fake Nacos.
type host struct {
	ip               string
	port             int
	weight           string // as Nacos writes it: "1.0"
	healthy, enabled bool
}

// fakeNacos answers the v2 instance list of the service "web" and, when
// it has a user, the v1 login, as Nacos does.
type fakeNacos struct {
	mu        sync.Mutex
	hosts     []host
	user, pw  string
	token     string // the valid token; a new login does not change it
	logins    int
	body      []byte // when set, the list's answer
	lastQuery url.Values
}

func (f *fakeNacos) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/nacos/v1/auth/login":
		if r.Method != http.MethodPost || r.PostFormValue("username") != f.user || r.PostFormValue("password") != f.pw {
			http.Error(w, "unknown user!", http.StatusForbidden)
			return
		}
		f.logins++
		fmt.Fprintf(w, `{"accessToken":%q,"tokenTtl":18000,"globalAdmin":true,"username":%q}`, f.token, f.user)
		return
	case "/nacos/v2/ns/instance/list":
	default:
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	f.lastQuery = q
	if f.user != "" && q.Get("accessToken") != f.token {
		http.Error(w, "token invalid!", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if f.body != nil {
		w.Write(f.body)
		return
	}
	group := q.Get("groupName")
	if q.Get("serviceName") != "web" {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"code":20004,"message":"resource not found","data":"service not found: public@@%s@@%s"}`, group, q.Get("serviceName"))
		return
	}
	var hosts []string
	for _, h := range f.hosts {
		hosts = append(hosts, fmt.Sprintf(`{"ip":%q,"port":%d,"weight":%s,"healthy":%t,"enabled":%t,"ephemeral":true,
			"clusterName":"DEFAULT","serviceName":"%s@@web","metadata":{},"instanceHeartBeatInterval":5000,
			"instanceIdGenerator":"simple","instanceHeartBeatTimeOut":15000,"ipDeleteTimeout":30000,
			"instanceId":"%s#%d#DEFAULT#%s@@web"}`, h.ip, h.port, h.weight, h.healthy, h.enabled, group, h.ip, h.port, group))
	}
	fmt.Fprintf(w, `{"code":0,"message":"success","data":{"name":"%s@@web","groupName":%q,"clusters":"","cacheMillis":10000,
		"hosts":[%s],"lastRefTime":1676264536045,"checksum":"","allIPs":false,"reachProtectionThreshold":false,"valid":true}}`,
		group, group, strings.Join(hosts, ","))
}

func (f *fakeNacos) edit(fn func(f *fakeNacos)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeNacos) loginCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins
}

func (f *fakeNacos) query() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastQuery
}

func newResolver(t *testing.T, c discovery.Config) *Resolver {
	t.Helper()
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func resolve(r *Resolver, t discovery.Target) ([]spec.Node, error) {
	res, err := r.Resolve(context.Background(), t, "", 0)
	return res.Nodes, err
}

func node(ip string, port, weight int) spec.Node {
	return spec.Node{Host: ip, Port: port, Weight: weight}
}

func TestResolve(t *testing.T) {
	fake := &fakeNacos{hosts: []host{
		{"10.0.0.2", 8080, "1.0", true, true},
		{"10.0.0.1", 8080, "0.5", true, true},
		{"10.0.0.3", 8080, "0.001", true, true},
		{"10.0.0.4", 8080, "2.555", true, true},
		{"10.0.0.5", 8080, "1.0", false, true}, // unhealthy
		{"10.0.0.6", 8080, "1.0", true, false}, // disabled
	}}
	srv := discoverytest.NewServer(t, fake, false)
	r := newResolver(t, discovery.Config{Address: srv.URL, Namespace: "dev"})
	nodes, err := resolve(r, discovery.Target{ServiceName: "web"})
	want := []spec.Node{node("10.0.0.1", 8080, 50), node("10.0.0.2", 8080, 100), node("10.0.0.3", 8080, 1), node("10.0.0.4", 8080, 256)}
	if err != nil || !slices.Equal(nodes, want) {
		t.Errorf("Resolve = %v, %v; want %v", nodes, err, want)
	}
	q := fake.query()
	if q.Get("groupName") != "DEFAULT_GROUP" || q.Get("namespaceId") != "dev" || q.Get("healthyOnly") != "true" || q.Has("accessToken") {
		t.Errorf("query %v", q)
	}

	r = newResolver(t, discovery.Config{Address: srv.URL, Group: "shop"})
	if _, err := resolve(r, discovery.Target{Namespace: "prod", ServiceName: "web"}); err != nil {
		t.Fatal(err)
	}
	if q := fake.query(); q.Get("groupName") != "shop" || q.Get("namespaceId") != "prod" {
		t.Errorf("query %v, want the Config's group and the Target's namespace", q)
	}
	r = newResolver(t, discovery.Config{Address: srv.URL})
	if _, err := resolve(r, discovery.Target{ServiceName: "web"}); err != nil || fake.query().Has("namespaceId") {
		t.Errorf("no namespace: %v, query %v; want no namespaceId (Nacos' public)", err, fake.query())
	}

	_, err = resolve(r, discovery.Target{ServiceName: "other"})
	if err == nil || !strings.Contains(err.Error(), "resource not found") || !strings.HasPrefix(err.Error(), `nacos: service "other": `) {
		t.Errorf("unknown service: %v", err)
	}
}

func TestErrors(t *testing.T) {
	fake := &fakeNacos{}
	srv := discoverytest.NewServer(t, fake, false)
	r := newResolver(t, discovery.Config{Address: srv.URL})
	for _, tc := range []struct {
		name string
		body []byte
		want string
		is   error
	}{
		{"code", []byte(`{"code":21000,"message":"parameter validate error","data":null}`), "code 21000: parameter validate error", nil},
		{"bad JSON", []byte(`{"code":0,"data":{"hosts":[{"weight":"heavy"}]}}`), "decoding the instance list", nil},
		{"not JSON", []byte(`<html></html>`), "decoding the instance list", nil},
		{"too large", discoverytest.HugeJSON(), "larger than", discovery.ErrBodyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.edit(func(f *fakeNacos) { f.body = tc.body })
			_, err := resolve(r, discovery.Target{ServiceName: "web"})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), `nacos: service "web": `) {
				t.Fatalf("error %v, want one naming nacos and the service, saying %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
	if _, err := New(discovery.Config{Address: srv.URL, Password: "pw"}); err == nil {
		t.Error("a password without a username is accepted")
	}
}

// TestLogin: one login serves many questions; a token refused (403) or
// expired is replaced by a new login; bad credentials are an error that
// does not show the password.
func TestLogin(t *testing.T) {
	fake := &fakeNacos{user: "nacos", pw: "s3cret", token: "tok-1", hosts: []host{{"10.0.0.1", 80, "1.0", true, true}}}
	srv := discoverytest.NewServer(t, fake, false)
	r := newResolver(t, discovery.Config{Address: srv.URL, Username: "nacos", Password: "s3cret"})
	for range 3 {
		if nodes, err := resolve(r, discovery.Target{ServiceName: "web"}); err != nil || len(nodes) != 1 {
			t.Fatalf("Resolve = %v, %v", nodes, err)
		}
	}
	if fake.query().Get("accessToken") != "tok-1" || fake.loginCount() != 1 {
		t.Errorf("token %q after %d logins; want tok-1 after one", fake.query().Get("accessToken"), fake.loginCount())
	}

	fake.edit(func(f *fakeNacos) { f.token = "tok-2" }) // the server no longer takes tok-1
	if _, err := resolve(r, discovery.Target{ServiceName: "web"}); err != nil {
		t.Fatalf("after the token was refused: %v", err)
	}
	if fake.query().Get("accessToken") != "tok-2" || fake.loginCount() != 2 {
		t.Errorf("token %q after %d logins; want tok-2 after two", fake.query().Get("accessToken"), fake.loginCount())
	}

	r.mu.Lock()
	r.expires = time.Now().Add(-time.Second)
	r.mu.Unlock()
	if _, err := resolve(r, discovery.Target{ServiceName: "web"}); err != nil || fake.loginCount() != 3 {
		t.Errorf("after the token expired: %v, %d logins; want a third", err, fake.loginCount())
	}

	bad := newResolver(t, discovery.Config{Address: srv.URL, Username: "nacos", Password: "wrong"})
	_, err := resolve(bad, discovery.Target{ServiceName: "web"})
	if err == nil || !strings.Contains(err.Error(), `logging in as "nacos": status 403: unknown user!`) || strings.Contains(err.Error(), "wrong") {
		t.Errorf("bad password: %v", err)
	}
}

// TestFollow: Follow polls, sees an instance added and removed, keeps the
// nodes while Nacos is away (without showing the token in the error), and
// is healthy again when it comes back.
func TestFollow(t *testing.T) {
	fake := &fakeNacos{user: "nacos", pw: "pw", token: "secret-token", hosts: []host{{"10.0.0.1", 80, "1.0", true, true}}}
	srv := discoverytest.NewServer(t, fake, false)
	r := newResolver(t, discovery.Config{Address: srv.URL, Username: "nacos", Password: "pw"})
	f := discoverytest.Follow(t, r, discovery.Target{ServiceName: "web"}, time.Millisecond)
	f.WaitNodes(t, []spec.Node{node("10.0.0.1", 80, 100)})
	fake.edit(func(f *fakeNacos) { f.hosts = append(f.hosts, host{"10.0.0.2", 80, "3", true, true}) })
	f.WaitNodes(t, []spec.Node{node("10.0.0.1", 80, 100), node("10.0.0.2", 80, 300)})
	fake.edit(func(f *fakeNacos) { f.hosts[0].healthy = false })
	f.WaitNodes(t, []spec.Node{node("10.0.0.2", 80, 300)})

	srv.Stop()
	s := f.WaitStatus(t, false)
	if !strings.HasPrefix(s.Error, `nacos: service "web": `) || strings.Contains(s.Error, "secret-token") || s.LastSync.IsZero() {
		t.Errorf("status while away: %+v", s)
	}
	f.NoUpdate(t)
	srv.Restart(t)
	f.WaitStatus(t, true)
}

func FuzzParseList(f *testing.F) {
	f.Add([]byte(`{"code":0,"message":"success","data":{"hosts":[{"ip":"10.0.0.1","port":8080,"weight":1.0,"healthy":true,"enabled":true}]}}`))
	f.Add([]byte(`{"code":0,"data":{"hosts":[{"ip":"h","port":1,"weight":1e308,"healthy":true,"enabled":true},{"weight":-1e308,"healthy":true,"enabled":true}]}}`))
	f.Add([]byte(`{"code":500,"message":"x","data":"service not found"}`))
	f.Add([]byte(`{"code":0,"data":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		nodes, err := parseList(body)
		if err != nil {
			return
		}
		for _, n := range nodes {
			if n.Weight < 1 || n.Weight > maxWeight || n.Port < 1 || n.Port > 65535 {
				t.Errorf("node %+v", n)
			}
		}
	})
}

func TestWeights(t *testing.T) {
	for in, want := range map[string]int{"1.0": 100, "1": 100, "0": 1, "-3": 1, "0.004": 1, "0.005": 1, "0.015": 2, "100": 10000, "1e300": maxWeight} {
		nodes, err := parseList([]byte(`{"code":0,"data":{"hosts":[{"ip":"h","port":1,"weight":` + in + `,"healthy":true,"enabled":true}]}}`))
		if err != nil || len(nodes) != 1 || nodes[0].Weight != want {
			t.Errorf("weight %s: %v, %v; want %d", in, nodes, err, want)
		}
	}
}
