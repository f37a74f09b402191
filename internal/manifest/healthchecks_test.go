package manifest

import (
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// APISIX's checks, retry_timeout, ewma and discovery, and Kong's
// healthchecks (off unless an interval or a failure count is set, as in
// Kong), carry over to the upstream; what Portico does differently is
// noted.
func TestHealthChecksCarryOver(t *testing.T) {
	apisix := []byte(`
upstreams:
  - id: 1
    name: checked
    type: ewma
    retry_timeout: 7
    nodes: {"10.0.0.1:80": 1}
    checks:
      active:
        type: http
        http_path: /status
        host: api.example.com
        timeout: 2
        healthy: {interval: 3, successes: 2, http_statuses: [200]}
        unhealthy: {interval: 1, http_failures: 4, tcp_failures: 2, timeouts: 3}
      passive:
        unhealthy: {http_failures: 3, http_statuses: [502, 503]}
  - id: 2
    name: found
    discovery_type: nacos
    service_name: orders
    discovery_args: {namespace_id: prod}
services:
  - id: 1
    name: svc
    upstream_id: 1
routes:
  - id: 1
    uri: /a
    service_id: 1
`)
	m, err := FromAPISIX(apisix, "p")
	if err != nil {
		t.Fatal(err)
	}
	var checked, found spec.Upstream
	for _, u := range m.Document.Upstreams {
		switch u.Name {
		case "checked":
			checked = u
		case "found":
			found = u
		}
	}
	a := checked.Checks.Active
	if checked.LoadBalancer != "ewma" || checked.RetryPolicy == nil || checked.RetryPolicy.Timeout != 7 ||
		a.Path != "/status" || a.Host != "api.example.com" || a.Interval != 3 || a.UnhealthyInterval != 1 ||
		a.HealthyThreshold != 2 || a.UnhealthyThreshold != 4 || a.Timeout != 2 || len(a.Statuses) != 1 {
		t.Errorf("checked upstream = %+v, active %+v", checked, a)
	}
	if p := checked.Checks.Passive; p == nil || p.Failures != 3 || len(p.Statuses) != 2 {
		t.Errorf("passive = %+v", p)
	}
	if err := checked.Validate("").Err(); err != nil {
		t.Errorf("the carried-over upstream does not validate: %v", err)
	}
	if d := found.Discovery; d == nil || d.Registry != "nacos" || d.ServiceName != "orders" || d.Namespace != "prod" {
		t.Errorf("discovered upstream = %+v", found)
	}
	for _, want := range []string{"counts HTTP failures, TCP failures and timeouts together", "half open", `add a registry named "nacos"`} {
		if !hasNote(&m, want) {
			t.Errorf("no note %q in %v", want, m.Notes)
		}
	}

	kong := []byte(`
_format_version: "3.0"
upstreams:
  - name: off
    targets: [{target: "10.0.0.1:80"}]
    healthchecks:
      active: {type: http, http_path: /, healthy: {interval: 0, successes: 0}, unhealthy: {interval: 0, http_failures: 0}}
      passive: {healthy: {successes: 0}, unhealthy: {http_failures: 0, tcp_failures: 0, timeouts: 0}}
  - name: on
    algorithm: latency
    targets: [{target: "10.0.0.2:80"}]
    healthchecks:
      active: {type: tcp, healthy: {interval: 5, successes: 1}, unhealthy: {interval: 2, tcp_failures: 2}}
      passive: {unhealthy: {http_failures: 5}}
`)
	km, err := FromKong(kong, "p")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range km.Document.Upstreams {
		switch u.Name {
		case "off":
			if u.Checks != nil {
				t.Errorf("Kong's disabled checks became %+v", u.Checks)
			}
		case "on":
			if u.LoadBalancer != "ewma" || u.Checks == nil || u.Checks.Active.Type != "tcp" || u.Checks.Active.Interval != 5 ||
				u.Checks.Active.UnhealthyThreshold != 2 || u.Checks.Passive == nil || u.Checks.Passive.Failures != 5 {
				t.Errorf("Kong's checks = %+v", u)
			}
		}
	}
}
