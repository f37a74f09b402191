package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery/discoverytest"
)

// fakeRegistry is a service registry the test controls: one list of
// nodes, served in the shape of one registry type (the answers of the real
// registry's API, as the gateway's client for it reads them), checking the
// credentials the gateway must send. It can stop and come back on the same
// address, as a registry restarting does.
//
//   - consul: GET /v1/health/service/web?passing=true, blocking queries on
//     X-Consul-Index, X-Consul-Token checked;
//   - kubernetes (over https): the EndpointSlices of Service web in
//     namespace shop, list and watch, a bearer token checked;
//   - nacos: POST /nacos/v1/auth/login, then /nacos/v2/ns/instance/list of
//     service web in namespace prod, group SHOP, with the access token;
//   - eureka: GET /eureka/apps/WEB in JSON, HTTP basic authentication;
//   - dns: a UDP DNS server answering SRV for _http._tcp.web.e2e.test
//     (targets localhost. on each node's port) and A for web.e2e.test
//     (127.0.0.1).
type fakeRegistry struct {
	typ string
	// The credentials the gateway must present (token for consul and
	// kubernetes, username and password for nacos and eureka).
	token, username, password string

	mu      sync.Mutex
	nodes   []*node
	version uint64        // the Consul index, the Kubernetes resourceVersion
	changed chan struct{} // closed and replaced on every change
	issued  map[string]bool

	logins  atomic.Int64 // nacos: logins with the right password
	refused atomic.Int64 // requests with wrong or missing credentials
	// restarted is when the registry came back; firstAnswer when it first
	// answered with nodes after that.
	restarted, firstAnswer time.Time

	http *discoverytest.Server // the HTTP registries
	dns  *fakeDNS
}

func newFakeRegistry(t *testing.T, typ string, nodes ...*node) *fakeRegistry {
	t.Helper()
	f := &fakeRegistry{typ: typ, nodes: nodes, version: 10, changed: make(chan struct{}), issued: map[string]bool{}}
	secret := "e2e-" + typ + "-secret-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	switch typ {
	case "consul", "kubernetes":
		f.token = secret
	case "nacos", "eureka":
		f.username, f.password = typ+"-user", secret
	}
	switch typ {
	case "dns":
		f.dns = startFakeDNS(t, f)
	case "kubernetes":
		f.http = discoverytest.NewServer(t, f, true)
	default:
		f.http = discoverytest.NewServer(t, f, false)
	}
	return f
}

// set replaces the registry's nodes; blocking queries answer at once.
func (f *fakeRegistry) set(nodes ...*node) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes = nodes
	f.version++
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeRegistry) current() ([]*node, uint64, chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*node(nil), f.nodes...), f.version, f.changed
}

// tokens are the access tokens the fake Nacos issued.
func (f *fakeRegistry) tokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for t := range f.issued {
		out = append(out, t)
	}
	return out
}

// stop takes the registry away: its listener and every connection close.
func (f *fakeRegistry) stop() {
	if f.dns != nil {
		f.dns.stop()
		return
	}
	f.http.Stop()
}

// noteAnswer counts a question answered with the nodes.
func (f *fakeRegistry) noteAnswer() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.restarted.IsZero() && f.firstAnswer.IsZero() {
		f.firstAnswer = time.Now()
	}
}

// askedAgain is how long after the restart the gateway's first question
// was answered (0: not yet).
func (f *fakeRegistry) askedAgain() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.firstAnswer.IsZero() {
		return 0
	}
	return f.firstAnswer.Sub(f.restarted)
}

// restart brings it back on its old address.
func (f *fakeRegistry) restart(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	f.restarted, f.firstAnswer = time.Now(), time.Time{}
	f.mu.Unlock()
	if f.dns != nil {
		f.dns.restart(t)
		return
	}
	f.http.Restart(t)
}

// secret is the credential the admin API must never answer.
func (f *fakeRegistry) secret() string { return f.token + f.password }

// admin is the body of POST /gateway-groups/default/registries.
func (f *fakeRegistry) admin(name string) string {
	r := map[string]any{"name": name, "type": f.typ, "poll_interval": 1}
	switch f.typ {
	case "dns":
		r["address"] = f.dns.addr()
	case "consul":
		r["address"], r["token"] = f.http.URL, f.token
	case "kubernetes":
		r["address"], r["token"], r["ca"], r["namespace"] = f.http.URL, f.token, f.http.CA(), "elsewhere"
	case "nacos":
		r["address"], r["namespace"], r["service_group"] = f.http.URL, "prod", "SHOP"
		r["username"], r["password"] = f.username, f.password
	case "eureka":
		r["address"], r["username"], r["password"] = f.http.URL+"/eureka", f.username, f.password
	}
	b, _ := json.Marshal(r)
	return string(b)
}

// discovery is the upstream of a service discovered through registry name.
func (f *fakeRegistry) discovery(name string) string {
	d := map[string]string{"registry": name, "service_name": "web"}
	switch f.typ {
	case "dns":
		d["service_name"] = "_http._tcp.web.e2e.test"
	case "kubernetes":
		// The namespace of the upstream wins over the registry's.
		d["namespace"], d["service_name"] = "shop", "web:http"
	}
	b, _ := json.Marshal(map[string]any{"discovery": d})
	return string(b)
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch f.typ {
	case "consul":
		f.consul(w, r)
	case "kubernetes":
		f.kubernetes(w, r)
	case "nacos":
		f.nacos(w, r)
	case "eureka":
		f.eureka(w, r)
	default:
		http.NotFound(w, r)
	}
}

// consul answers /v1/health/service/web as Consul does: a query with an
// index not older than the current one waits for a change, its wait, or
// the client going away.
func (f *fakeRegistry) consul(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Consul-Token") != f.token {
		f.refused.Add(1)
		http.Error(w, "ACL not found", http.StatusForbidden)
		return
	}
	q := r.URL.Query()
	if r.URL.Path != "/v1/health/service/web" || q.Get("passing") != "true" {
		http.Error(w, "unexpected question "+r.URL.String(), http.StatusBadRequest)
		return
	}
	nodes, version, changed := f.current()
	if idx, _ := strconv.ParseUint(q.Get("index"), 10, 64); idx != 0 && idx >= version {
		wait, err := time.ParseDuration(q.Get("wait"))
		if err != nil {
			http.Error(w, "bad wait", http.StatusBadRequest)
			return
		}
		select {
		case <-changed:
		case <-time.After(wait):
		case <-r.Context().Done():
			return
		}
		nodes, version, _ = f.current()
	}
	var entries []string
	for _, n := range nodes {
		entries = append(entries, fmt.Sprintf(`{
  "Node": {"ID": "40e4a748-2192-161a-0510-9bf59fe950b5", "Node": "agent-%[1]s", "Address": "127.0.0.1", "Datacenter": "dc1",
    "TaggedAddresses": {"lan": "127.0.0.1", "wan": "127.0.0.1"}, "Meta": {"consul-network-segment": ""}, "CreateIndex": 5, "ModifyIndex": 5},
  "Service": {"ID": "web-%[1]s", "Service": "web", "Tags": ["primary"], "Address": "127.0.0.1", "Meta": null, "Port": %[2]d,
    "Weights": {"Passing": 10, "Warning": 1}, "EnableTagOverride": false, "CreateIndex": 7, "ModifyIndex": 7},
  "Checks": [{"Node": "agent-%[1]s", "CheckID": "serfHealth", "Name": "Serf Health Status", "Status": "passing", "ServiceID": "", "ServiceName": ""},
    {"Node": "agent-%[1]s", "CheckID": "service:web-%[1]s", "Name": "web check", "Status": "passing", "ServiceID": "web-%[1]s", "ServiceName": "web"}]
}`, n.name, n.port))
	}
	f.noteAnswer()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Consul-Index", strconv.FormatUint(version, 10))
	w.Header().Set("X-Consul-Knownleader", "true")
	fmt.Fprintf(w, "[%s]", strings.Join(entries, ","))
}

// kubernetes answers the EndpointSlices of Service web in namespace shop:
// one slice per node (each has its own port, as when a Deployment's pods
// differ), and a watch from a resourceVersion that streams a MODIFIED event
// on the next change.
func (f *fakeRegistry) kubernetes(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		f.refused.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
		return
	}
	q := r.URL.Query()
	if r.URL.Path != "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices" || q.Get("labelSelector") != "kubernetes.io/service-name=web" {
		// Another namespace or service: nothing there.
		fmt.Fprint(w, `{"kind":"EndpointSliceList","apiVersion":"discovery.k8s.io/v1","metadata":{"resourceVersion":"1"},"items":[]}`)
		return
	}
	nodes, version, changed := f.current()
	w.Header().Set("Content-Type", "application/json")
	if q.Get("watch") == "1" || q.Get("watch") == "true" {
		from, _ := strconv.ParseUint(q.Get("resourceVersion"), 10, 64)
		timeout, err := strconv.Atoi(q.Get("timeoutSeconds"))
		if err != nil {
			http.Error(w, "timeoutSeconds", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		if from >= version {
			select {
			case <-changed:
			case <-time.After(time.Duration(timeout) * time.Second):
				return
			case <-r.Context().Done():
				return
			}
		}
		nodes, version, _ = f.current()
		slice := "{}"
		if len(nodes) > 0 {
			slice = endpointSlice(nodes[0], version)
		}
		fmt.Fprintf(w, `{"type":"MODIFIED","object":%s}`+"\n", slice)
		w.(http.Flusher).Flush()
		// A real watch stays open for more events, until its timeout.
		select {
		case <-r.Context().Done():
		case <-time.After(time.Duration(timeout) * time.Second):
		}
		return
	}
	var items []string
	for _, n := range nodes {
		items = append(items, endpointSlice(n, version))
	}
	f.noteAnswer()
	fmt.Fprintf(w, `{"kind":"EndpointSliceList","apiVersion":"discovery.k8s.io/v1","metadata":{"resourceVersion":"%d"},"items":[%s]}`,
		version, strings.Join(items, ","))
}

// endpointSlice is n's EndpointSlice as the EndpointSlice controller
// writes it; the metrics port comes first, so that the port name counts.
func endpointSlice(n *node, version uint64) string {
	return fmt.Sprintf(`{
  "metadata": {"name": "web-%[1]s", "generateName": "web-", "namespace": "shop", "resourceVersion": "%[3]d",
    "labels": {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io", "kubernetes.io/service-name": "web"}},
  "addressType": "IPv4",
  "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": true, "serving": true, "terminating": false},
    "nodeName": "worker-1", "targetRef": {"kind": "Pod", "namespace": "shop", "name": "web-%[1]s", "uid": "0b9f"}}],
  "ports": [{"name": "metrics", "protocol": "TCP", "port": 9090}, {"name": "http", "protocol": "TCP", "port": %[2]d}]
}`, n.name, n.port, version)
}

// nacos answers the login and the v2 instance list.
func (f *fakeRegistry) nacos(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/nacos/v1/auth/login":
		if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("username") != f.username || r.PostForm.Get("password") != f.password {
			f.refused.Add(1)
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `unknown user!`)
			return
		}
		f.logins.Add(1)
		token := "nacos-access-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		f.mu.Lock()
		f.issued[token] = true
		f.mu.Unlock()
		fmt.Fprintf(w, `{"accessToken":%q,"tokenTtl":18000,"globalAdmin":false,"username":%q}`, token, f.username)
	case "/nacos/v2/ns/instance/list":
		q := r.URL.Query()
		f.mu.Lock()
		ok := f.issued[q.Get("accessToken")]
		f.mu.Unlock()
		if !ok {
			f.refused.Add(1)
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"code":403,"message":"user not found!","data":null}`)
			return
		}
		if q.Get("serviceName") != "web" || q.Get("groupName") != "SHOP" || q.Get("namespaceId") != "prod" || q.Get("healthyOnly") != "true" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"code":400,"message":"unexpected question %s","data":null}`, r.URL.RawQuery)
			return
		}
		nodes, _, _ := f.current()
		var hosts []string
		for _, n := range nodes {
			hosts = append(hosts, fmt.Sprintf(`{"instanceId":"127.0.0.1#%[1]d#DEFAULT#SHOP@@web","ip":"127.0.0.1","port":%[1]d,"weight":1.0,
  "healthy":true,"enabled":true,"ephemeral":true,"clusterName":"DEFAULT","serviceName":"SHOP@@web","metadata":{"node":%[2]q},
  "instanceHeartBeatInterval":5000,"instanceHeartBeatTimeOut":15000,"ipDeleteTimeout":30000}`, n.port, n.name))
		}
		f.noteAnswer()
		fmt.Fprintf(w, `{"code":0,"message":"success","data":{"name":"SHOP@@web","groupName":"SHOP","clusters":"","cacheMillis":10000,
  "hosts":[%s],"lastRefTime":%d,"checksum":"","allIPs":false,"reachProtectionThreshold":false,"valid":true}}`,
			strings.Join(hosts, ","), time.Now().UnixMilli())
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"code":404,"message":"not found","data":null}`)
	}
}

// eureka answers GET /eureka/apps/WEB in JSON (Eureka answers XML
// without the Accept header).
func (f *fakeRegistry) eureka(w http.ResponseWriter, r *http.Request) {
	if user, pass, ok := r.BasicAuth(); !ok || user != f.username || pass != f.password {
		f.refused.Add(1)
		w.Header().Set("WWW-Authenticate", `Basic realm="Realm"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/eureka/apps/WEB" || !strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	nodes, _, _ := f.current()
	if len(nodes) == 0 {
		w.WriteHeader(http.StatusNotFound) // Eureka forgets an application without instances
		return
	}
	var instances []string
	for _, n := range nodes {
		instances = append(instances, fmt.Sprintf(`{"instanceId":"127.0.0.1:web:%[1]d","hostName":"127.0.0.1","app":"WEB","ipAddr":"127.0.0.1",
  "status":"UP","overriddenStatus":"UNKNOWN","port":{"$":%[1]d,"@enabled":"true"},"securePort":{"$":443,"@enabled":"false"},
  "countryId":1,"dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"},
  "leaseInfo":{"renewalIntervalInSecs":30,"durationInSecs":90},"metadata":{"node":%[2]q},
  "homePageUrl":"http://127.0.0.1:%[1]d/","statusPageUrl":"http://127.0.0.1:%[1]d/info","healthCheckUrl":"http://127.0.0.1:%[1]d/health",
  "vipAddress":"web","secureVipAddress":"web","isCoordinatingDiscoveryServer":"false","actionType":"ADDED"}`, n.port, n.name))
	}
	f.noteAnswer()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"application":{"name":"WEB","instance":[%s]}}`, strings.Join(instances, ","))
}

// fakeDNS is a DNS server over UDP on 127.0.0.1 answering from its
// registry's nodes: SRV records of _http._tcp.web.e2e.test (target
// localhost., the node's port) and the A record 127.0.0.1 of web.e2e.test,
// with a TTL of 1 s; other names do not exist.
type fakeDNS struct {
	reg  *fakeRegistry
	port int
	mu   sync.Mutex
	conn *net.UDPConn
	wg   sync.WaitGroup
}

func startFakeDNS(t *testing.T, reg *fakeRegistry) *fakeDNS {
	t.Helper()
	d := &fakeDNS{reg: reg}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	d.port = conn.LocalAddr().(*net.UDPAddr).Port
	d.serve(conn)
	t.Cleanup(d.stop)
	return d
}

func (d *fakeDNS) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port)) }

func (d *fakeDNS) serve(conn *net.UDPConn) {
	d.mu.Lock()
	d.conn = conn
	d.mu.Unlock()
	d.wg.Go(func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if out, ok := d.answer(buf[:n]); ok {
				_, _ = conn.WriteToUDP(out, from)
			}
		}
	})
}

func (d *fakeDNS) stop() {
	d.mu.Lock()
	if d.conn != nil {
		d.conn.Close()
		d.conn = nil
	}
	d.mu.Unlock()
	d.wg.Wait()
}

func (d *fakeDNS) restart(t *testing.T) {
	t.Helper()
	var conn *net.UDPConn
	var err error
	for range 100 { // the port was just released
		if conn, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: d.port}); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("DNS server back on %s: %v", d.addr(), err)
	}
	d.serve(conn)
}

func (d *fakeDNS) answer(query []byte) ([]byte, bool) {
	var q dnsmessage.Message
	if q.Unpack(query) != nil || q.Response || len(q.Questions) != 1 {
		return nil, false
	}
	question := q.Questions[0]
	m := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: q.ID, Response: true, Authoritative: true, RecursionDesired: q.RecursionDesired},
		Questions: q.Questions,
	}
	header := dnsmessage.ResourceHeader{Name: question.Name, Class: dnsmessage.ClassINET, TTL: 1}
	nodes, _, _ := d.reg.current()
	switch name := strings.ToLower(question.Name.String()); {
	case name == "_http._tcp.web.e2e.test.":
		if question.Type == dnsmessage.TypeSRV {
			for _, n := range nodes {
				m.Answers = append(m.Answers, dnsmessage.Resource{Header: header, Body: &dnsmessage.SRVResource{
					Priority: 10, Weight: 10, Port: uint16(n.port), Target: dnsmessage.MustNewName("localhost."),
				}})
			}
		}
	case name == "web.e2e.test.":
		if question.Type == dnsmessage.TypeA && len(nodes) > 0 {
			m.Answers = append(m.Answers, dnsmessage.Resource{Header: header, Body: &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}}})
		}
	default:
		m.RCode = dnsmessage.RCodeNameError
	}
	d.reg.noteAnswer()
	out, err := m.Pack()
	return out, err == nil
}
