package spec

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"
)

func fields(err error) []string {
	var fe FieldErrors
	if !errors.As(err, &fe) {
		return nil
	}
	var out []string
	for _, e := range fe {
		out = append(out, e.Field)
	}
	sort.Strings(out)
	return out
}

func TestRouteValidate(t *testing.T) {
	tests := []struct {
		name  string
		route Route
		want  string // sorted, comma-joined bad fields; "" = valid
	}{
		{"quick tour route", Route{Name: "getting-started-anything", Paths: []string{"/anything/*"}, Methods: []string{"GET"}}, ""},
		{"params and no paths", Route{Name: "get_pet", Paths: []string{"/pets/{id}", "/users/:uid/x"}}, ""},
		{"no paths answers on /name", Route{Name: "list_users"}, ""},
		{"empty name", Route{Name: ""}, "name"},
		{"name with space", Route{Name: "a b"}, "name"},
		{"name with slash", Route{Name: "a/b"}, "name"},
		{"path without slash", Route{Name: "r", Paths: []string{"anything"}}, "paths[0]"},
		{"wildcard in the middle", Route{Name: "r", Paths: []string{"/a/*/b"}}, "paths[0]"},
		{"duplicate path", Route{Name: "r", Paths: []string{"/a", "/a"}}, "paths[1]"},
		{"bad param", Route{Name: "r", Paths: []string{"/a/{1x}"}}, "paths[0]"},
		{"unknown method", Route{Name: "r", Methods: []string{"GET", "FETCH"}}, "methods[1]"},
		{"lower-case method", Route{Name: "r", Methods: []string{"get"}}, "methods[0]"},
		{"bad host", Route{Name: "r", Hosts: []string{"exa mple.com"}}, "hosts[0]"},
		{"plugin config not an object", Route{Name: "r", Plugins: Plugins{"cors": json.RawMessage(`[]`)}}, "plugins.cors"},
		{"bad backend", Route{Name: "r", Backend: &Backend{Type: "ftp", Path: "x", Method: "FETCH"}}, "backend.method,backend.path,backend.type"},
		{"many at once", Route{Name: "", Paths: []string{"nope"}, Methods: []string{"FETCH"}}, "methods[0],name,paths[0]"},
		{"upstream call fields on a sql backend", Route{Name: "r", Backend: &Backend{Type: "sql", Path: "/x", Method: "POST",
			RetryNonIdempotent: true, Timeout: &Timeout{Connect: 1, Send: 1, Read: 5},
			SQLBackend: &SQLBackend{DataSource: "db", Table: "t"}}},
			"backend.method,backend.path,backend.retry_non_idempotent,backend.timeout.connect,backend.timeout.send"},
		{"script with wizard fields", Route{Name: "r", Backend: &Backend{Type: "sql",
			SQLBackend: &SQLBackend{DataSource: "db", SQL: "select 1", Columns: []string{"a"}, Order: "a",
				Filters: []SQLFilter{{Param: "a"}}}}}, "backend.columns,backend.filters,backend.order"},
		{"wizard with params", Route{Name: "r", Backend: &Backend{Type: "sql",
			SQLBackend: &SQLBackend{DataSource: "db", Table: "t", Params: []SQLParam{{Name: "a"}}}}}, "backend.params"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(fields(tt.route.Validate()), ",")
			if got != tt.want {
				t.Errorf("bad fields = %q, want %q (err: %v)", got, tt.want, tt.route.Validate())
			}
		})
	}
}

func TestUpstreamValidate(t *testing.T) {
	neg := -1
	tests := []struct {
		name string
		up   Upstream
		want string
	}{
		{"nodes", Upstream{Scheme: "http", Nodes: []Node{{Host: "127.0.0.1", Port: 8080, Weight: 100}, {Host: "backend.local", Port: 80}}}, ""},
		{"ipv6 node", Upstream{Nodes: []Node{{Host: "::1", Port: 1}}}, ""},
		{"port 0", Upstream{Nodes: []Node{{Host: "a", Port: 0}}}, "upstream.nodes[0].port"},
		{"port 70000", Upstream{Nodes: []Node{{Host: "a", Port: 70000}}}, "upstream.nodes[0].port"},
		{"negative weight", Upstream{Nodes: []Node{{Host: "a", Port: 1, Weight: -1}}}, "upstream.nodes[0].weight"},
		{"no host", Upstream{Nodes: []Node{{Port: 1}}}, "upstream.nodes[0].host"},
		{"bad scheme", Upstream{Scheme: "gopher"}, "upstream.scheme"},
		{"bad balancer", Upstream{LoadBalancer: "random"}, "upstream.load_balancer"},
		{"nodes and discovery", Upstream{Nodes: []Node{{Host: "a", Port: 1}}, Discovery: &Discovery{Registry: "r", ServiceName: "s"}}, "upstream.discovery"},
		{"negative retries", Upstream{Retries: &neg}, "upstream.retries"},
		{"negative timeout", Upstream{Timeout: &Timeout{Connect: -1}}, "upstream.timeout.connect"},
		{"rewrite without host", Upstream{PassHost: "rewrite"}, "upstream.upstream_host"},
		{"upstream_host without rewrite", Upstream{PassHost: "node", UpstreamHost: "x.example"}, "upstream.upstream_host"},
		{"tls_verify over plain http", Upstream{TLSVerify: new(bool)}, "upstream.tls_verify"},
		{"checks", Upstream{Checks: &HealthChecks{Active: &ActiveCheck{Path: "/healthz", Interval: 2, Timeout: 1, Statuses: []int{200}},
			Passive: &PassiveCheck{Failures: 3, Eject: 10, MaxEject: 60}}}, ""},
		{"bad checks", Upstream{Checks: &HealthChecks{
			Active:  &ActiveCheck{Type: "udp", Path: "healthz", Interval: 0.01, Timeout: 5, HealthyThreshold: -1, Statuses: []int{99}},
			Passive: &PassiveCheck{Failures: -1, Statuses: []int{700}, Eject: 10, MaxEject: 5}}},
			"upstream.checks.active.healthy_threshold,upstream.checks.active.interval,upstream.checks.active.statuses[0],upstream.checks.active.timeout,upstream.checks.active.type," +
				"upstream.checks.passive.failures,upstream.checks.passive.max_eject,upstream.checks.passive.statuses[0]"},
		{"probe path", Upstream{Checks: &HealthChecks{Active: &ActiveCheck{Path: "healthz"}}}, "upstream.checks.active.path"},
		{"tcp probe with http fields", Upstream{Checks: &HealthChecks{Active: &ActiveCheck{Type: "tcp", Path: "/", Host: "h", Statuses: []int{200}}}},
			"upstream.checks.active.host,upstream.checks.active.path,upstream.checks.active.statuses"},
		{"retry policy", Upstream{RetryPolicy: &RetryPolicy{On: []string{"connect", "timeout", "status"}, Statuses: []int{503}, PerTryTimeout: 1, Timeout: 3}}, ""},
		{"bad retry policy", Upstream{RetryPolicy: &RetryPolicy{On: []string{"connect", "connect", "5xx"}, PerTryTimeout: 5, Timeout: 2}},
			"upstream.retry_policy.on[1],upstream.retry_policy.on[2],upstream.retry_policy.per_try_timeout"},
		{"statuses without status", Upstream{RetryPolicy: &RetryPolicy{Statuses: []int{503}}}, "upstream.retry_policy.statuses"},
		{"connections", Upstream{Connections: &UpstreamConnections{MaxRequests: 64, IdleTimeout: 30}}, ""},
		{"bad connections", Upstream{Connections: &UpstreamConnections{MaxRequests: -1, IdleTimeout: 7200}},
			"upstream.connections.idle_timeout,upstream.connections.max_requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(fields(tt.up.Validate("upstream.").Err()), ",")
			if got != tt.want {
				t.Errorf("bad fields = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNodeDefaultWeightAndStrictness(t *testing.T) {
	var n Node
	if err := json.Unmarshal([]byte(`{"host":"h","port":1}`), &n); err != nil || n.Weight != DefaultNodeWeight {
		t.Errorf("node without weight = %+v, %v; want weight %d", n, err, DefaultNodeWeight)
	}
	if err := json.Unmarshal([]byte(`{"host":"h","port":1,"weight":0}`), &n); err != nil || n.Weight != 0 {
		t.Errorf("explicit weight 0 = %+v, %v", n, err)
	}
	if err := json.Unmarshal([]byte(`{"host":"h","port":1,"wieght":5}`), &n); err == nil {
		t.Error("unknown node field was accepted")
	}
}

func TestServiceGroupProjectValidate(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"service ok", (&Service{Name: "httpbin", Protocols: []string{"http"}, Path: "/svc"}).Validate(), ""},
		{"service empty name", (&Service{}).Validate(), "name"},
		{"service bad protocol and path", (&Service{Name: "s", Protocols: []string{"ftp"}, Path: "svc"}).Validate(), "path,protocols[0]"},
		{"service path with param", (&Service{Name: "s", Path: "/a/{id}"}).Validate(), "path"},
		{"group ok", (&GatewayGroup{Name: "test", PathPrefix: "/api/gateway/test/{project}"}).Validate(), ""},
		{"group bad name and prefix", (&GatewayGroup{Name: "Test!", PathPrefix: "api"}).Validate(), "name,path_prefix"},
		{"group prefix wildcard", (&GatewayGroup{Name: "g", PathPrefix: "/a/*"}).Validate(), "path_prefix"},
		{"project ok", (&Project{ID: "crm", TestGroup: "test"}).Validate(), ""},
		{"project bad id", (&Project{ID: "CRM project"}).Validate(), "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(fields(tt.err), ","); got != tt.want {
				t.Errorf("bad fields = %q, want %q (%v)", got, tt.want, tt.err)
			}
		})
	}
}

func TestRoutePaths(t *testing.T) {
	svc := &Service{Name: "s", Path: "/svc"}
	tests := []struct {
		prefix, project string
		route           Route
		want            string
	}{
		{"", "default", Route{Name: "r", Paths: []string{"/anything/*"}}, "/svc/anything/*"},
		{"/api/gateway/test/{project}", "crm", Route{Name: "list_users"}, "/api/gateway/test/crm/svc/list_users"},
		{"/api/gateway/", "crm", Route{Name: "r", Paths: []string{"/a", "/b"}}, "/api/gateway/svc/a,/api/gateway/svc/b"},
	}
	for _, tt := range tests {
		got := strings.Join(RoutePaths(tt.prefix, tt.project, svc, &tt.route), ",")
		if got != tt.want {
			t.Errorf("RoutePaths(%q, %q, %v) = %q, want %q", tt.prefix, tt.project, tt.route.Paths, got, tt.want)
		}
	}
}

func FuzzValidatePath(f *testing.F) {
	for _, s := range []string{"/", "/a/{id}/*", "/:x", "a", "/a/*/b", "/{", "/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		_ = ValidatePath(p) // must not panic
	})
}

func TestHTTPSRedirectStatusCode(t *testing.T) {
	for _, tc := range []struct {
		s    Service
		want bool
	}{
		{Service{Name: "a", Protocols: []string{"https"}, HTTPSRedirectStatusCode: 308}, true},
		{Service{Name: "a", Protocols: []string{"https"}, HTTPSRedirectStatusCode: 200}, false},
		{Service{Name: "a", HTTPSRedirectStatusCode: 301}, false},
		{Service{Name: "a", Protocols: []string{"http", "https"}, HTTPSRedirectStatusCode: 301}, false},
	} {
		if err := tc.s.Validate(); (err == nil) != tc.want {
			t.Errorf("%+v: %v", tc.s, err)
		}
	}
}
