package eureka

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
	"github.com/portico-gw/portico/internal/gateway/upstream/discovery/discoverytest"
	"github.com/portico-gw/portico/internal/spec"
)

// inst is one instance of the fake Eureka.
type inst struct {
	ip, status           string
	port, securePort     int
	portOn, securePortOn bool
}

// fakeEureka serves /eureka/apps/WEB as Eureka does, with HTTP basic
// authentication (as Spring Cloud's secured Eureka server).
type fakeEureka struct {
	mu        sync.Mutex
	instances []inst
	single    bool   // a single instance as an object, not a list
	body      []byte // when set, the answer
	lastPath  string
	accept    string
}

func (f *fakeEureka) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != "eureka" || p != "pw" {
		w.Header().Set("WWW-Authenticate", `Basic realm="Realm"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastPath, f.accept = r.URL.Path, r.Header.Get("Accept")
	if f.body != nil {
		w.Write(f.body)
		return
	}
	if r.URL.Path != "/eureka/apps/WEB" || len(f.instances) == 0 {
		// Eureka answers an unknown application with an empty 404.
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var list []string
	for _, in := range f.instances {
		list = append(list, fmt.Sprintf(`{
  "instanceId": "%[1]s:web:%[3]d", "hostName": "host-%[1]s", "app": "WEB", "ipAddr": %[1]q, "status": %[2]q,
  "overriddenStatus": "UNKNOWN", "port": {"$": %[3]d, "@enabled": "%[4]t"}, "securePort": {"$": %[5]d, "@enabled": "%[6]t"},
  "countryId": 1, "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"},
  "leaseInfo": {"renewalIntervalInSecs": 30, "durationInSecs": 90, "registrationTimestamp": 1700000000000,
    "lastRenewalTimestamp": 1700000030000, "evictionTimestamp": 0, "serviceUpTimestamp": 1700000000000},
  "metadata": {"@class": "java.util.Collections$EmptyMap"}, "homePageUrl": "http://%[1]s:%[3]d/",
  "statusPageUrl": "http://%[1]s:%[3]d/info", "healthCheckUrl": "http://%[1]s:%[3]d/health", "vipAddress": "web",
  "secureVipAddress": "web", "isCoordinatingDiscoveryServer": "false", "lastUpdatedTimestamp": "1700000000000",
  "lastDirtyTimestamp": "1700000000000", "actionType": "ADDED"}`, in.ip, in.status, in.port, in.portOn, in.securePort, in.securePortOn))
	}
	instance := "[" + strings.Join(list, ",") + "]"
	if f.single && len(list) == 1 {
		instance = list[0]
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"application": {"name": "WEB", "instance": %s}}`, instance)
}

func (f *fakeEureka) edit(fn func(f *fakeEureka)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func start(t *testing.T, fake *fakeEureka) (*discoverytest.Server, *Resolver) {
	t.Helper()
	srv := discoverytest.NewServer(t, fake, false)
	r, err := New(discovery.Config{Address: srv.URL + "/eureka/", Username: "eureka", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	return srv, r
}

func resolve(r *Resolver, app string) ([]spec.Node, error) {
	res, err := r.Resolve(context.Background(), discovery.Target{ServiceName: app}, "", 0)
	return res.Nodes, err
}

const w = spec.DefaultNodeWeight

func node(ip string, port int) spec.Node { return spec.Node{Host: ip, Port: port, Weight: w} }

func TestResolve(t *testing.T) {
	fake := &fakeEureka{}
	_, r := start(t, fake)
	up := inst{"10.0.0.1", "UP", 8080, 8443, true, false}
	for _, tc := range []struct {
		name      string
		instances []inst
		single    bool
		want      []spec.Node
	}{
		{"list", []inst{{"10.0.0.2", "UP", 8080, 443, true, true}, up}, false, []spec.Node{node("10.0.0.1", 8080), node("10.0.0.2", 8080)}},
		{"single object", []inst{up}, true, []spec.Node{node("10.0.0.1", 8080)}},
		{"not UP", []inst{up, {"10.0.0.3", "DOWN", 80, 0, true, false}, {"10.0.0.4", "OUT_OF_SERVICE", 80, 0, true, false},
			{"10.0.0.5", "STARTING", 80, 0, true, false}}, false, []spec.Node{node("10.0.0.1", 8080)}},
		{"secure port only", []inst{{"10.0.0.6", "UP", 8080, 8443, false, true}}, false, []spec.Node{node("10.0.0.6", 8443)}},
		{"no port enabled", []inst{{"10.0.0.7", "UP", 8080, 8443, false, false}}, false, []spec.Node{}},
		{"no instances: 404", nil, false, []spec.Node{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.edit(func(f *fakeEureka) { f.instances, f.single = tc.instances, tc.single })
			nodes, err := resolve(r, "web")
			if err != nil || !slices.Equal(nodes, tc.want) || nodes == nil {
				t.Errorf("Resolve = %v, %v; want %v", nodes, err, tc.want)
			}
			fake.edit(func(f *fakeEureka) {
				if f.lastPath != "/eureka/apps/WEB" || f.accept != "application/json" {
					t.Errorf("asked %s with Accept %q", f.lastPath, f.accept)
				}
			})
		})
	}
}

func TestErrors(t *testing.T) {
	fake := &fakeEureka{}
	srv, r := start(t, fake)
	for _, tc := range []struct {
		name string
		body []byte
		want string
		is   error
	}{
		{"bad JSON", []byte(`{"application":{"instance":[{"port":{"$":"eighty"}}]}}`), "decoding the application", nil},
		{"bad flag", []byte(`{"application":{"instance":{"port":{"$":80,"@enabled":"maybe"}}}}`), "is not a boolean", nil},
		{"XML", []byte(`<application><name>WEB</name></application>`), "decoding the application", nil},
		{"no application", []byte(`{}`), "no application", nil},
		{"too large", discoverytest.HugeJSON(), "larger than", discovery.ErrBodyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.edit(func(f *fakeEureka) { f.body = tc.body })
			_, err := resolve(r, "web")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), `eureka: service "web": `) {
				t.Fatalf("error %v, want one naming eureka and the service, saying %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}

	anonymous, err := New(discovery.Config{Address: srv.URL + "/eureka"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resolve(anonymous, "web"); err == nil || !strings.Contains(err.Error(), "status 401") {
		t.Errorf("without credentials: %v, want 401", err)
	}
}

func TestParsePorts(t *testing.T) {
	for _, tc := range []struct {
		json string
		want []spec.Node
	}{
		// Numbers and flags as strings or as JSON values; no flag: the
		// port is enabled, the secure port not.
		{`{"ipAddr":"h","status":"UP","port":{"$":"81","@enabled":true}}`, []spec.Node{node("h", 81)}},
		{`{"ipAddr":"h","status":"UP","port":{"$":82}}`, []spec.Node{node("h", 82)}},
		{`{"ipAddr":"h","status":"UP","port":83}`, []spec.Node{node("h", 83)}},
		{`{"ipAddr":"h","status":"UP","port":{"$":80,"@enabled":false},"securePort":{"$":443}}`, []spec.Node{}},
		{`{"hostName":"name.example","status":"up","port":{"$":84,"@enabled":"true"}}`, []spec.Node{node("name.example", 84)}},
	} {
		nodes, err := parseApp([]byte(`{"application":{"instance":` + tc.json + `}}`))
		if err != nil || !slices.Equal(nodes, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.json, nodes, err, tc.want)
		}
	}
}

// TestFollow: Follow polls, sees an instance added and going DOWN, keeps
// the nodes while Eureka is away, and is healthy again when it is back.
func TestFollow(t *testing.T) {
	fake := &fakeEureka{instances: []inst{{"10.0.0.1", "UP", 8080, 443, true, false}}, single: true}
	srv, r := start(t, fake)
	f := discoverytest.Follow(t, r, discovery.Target{ServiceName: "web"}, time.Millisecond)
	f.WaitNodes(t, []spec.Node{node("10.0.0.1", 8080)})
	fake.edit(func(f *fakeEureka) { f.instances = append(f.instances, inst{"10.0.0.2", "UP", 8080, 443, true, false}) })
	f.WaitNodes(t, []spec.Node{node("10.0.0.1", 8080), node("10.0.0.2", 8080)})
	fake.edit(func(f *fakeEureka) { f.instances[0].status = "DOWN" })
	f.WaitNodes(t, []spec.Node{node("10.0.0.2", 8080)})

	srv.Stop()
	if s := f.WaitStatus(t, false); !strings.HasPrefix(s.Error, `eureka: service "web": `) || s.LastSync.IsZero() {
		t.Errorf("status while away: %+v", s)
	}
	f.NoUpdate(t)
	// Back, and the application gone: an empty list is an answer.
	fake.edit(func(f *fakeEureka) { f.instances = nil })
	srv.Restart(t)
	f.WaitNodes(t, []spec.Node{})
	f.WaitStatus(t, true)
}

func FuzzParseApp(f *testing.F) {
	f.Add([]byte(`{"application":{"name":"WEB","instance":[{"ipAddr":"10.0.0.1","status":"UP","port":{"$":8080,"@enabled":"true"},"securePort":{"$":443,"@enabled":"false"}}]}}`))
	f.Add([]byte(`{"application":{"instance":{"hostName":"h","status":"UP","port":"80"}}}`))
	f.Add([]byte(`{"application":{"instance":null}}`))
	f.Add([]byte(`{"application":{"instance":[{"port":{"$":null,"@enabled":null}}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		nodes, err := parseApp(body)
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
