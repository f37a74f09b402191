package routing

import (
	"testing"

	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

// stubDiscovery hands out one list per service name.
type stubDiscovery map[string]*upstream.Found

func (s stubDiscovery) Found(_ string, _ *spec.Registry, d spec.Discovery) *upstream.Found {
	return s[d.ServiceName]
}

func discoveredSnapshot(registries []spec.Registry) *spec.Snapshot {
	return &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{
		Group:      spec.GatewayGroup{Name: "g"},
		Registries: registries,
		Services: []spec.DeployedService{{ProjectID: "p", Version: "1",
			Service:  spec.Service{ID: "s", Name: "orders", Routes: []spec.Route{{ID: "r", Name: "r", Paths: []string{"/r"}}}},
			Upstream: spec.Upstream{Discovery: &spec.Discovery{Registry: "consul", ServiceName: "orders"}}}},
	}}}
}

// A discovered upstream's pool follows the list its registry reports;
// one naming a registry the group lacks is refused at that field.
func TestDiscoveredUpstream(t *testing.T) {
	found := upstream.NewFound()
	found.Set([]spec.Node{{Host: "10.0.0.1", Port: 80, Weight: 1}})
	snap := discoveredSnapshot([]spec.Registry{{Name: "consul", Type: "consul", Address: "http://127.0.0.1:8500"}})
	tbl, err := Build(snap, Deps{Discovery: stubDiscovery{"orders": found}})
	if err != nil {
		t.Fatal(err)
	}
	rt, _, _ := lookup(tbl, "", "GET", "/r")
	if rt == nil {
		t.Fatal("no route")
	}
	if n := rt.Upstream.Next(); n == nil || n.Addr != "10.0.0.1:80" {
		t.Fatalf("first node = %v", n)
	}
	found.Set([]spec.Node{{Host: "10.0.0.2", Port: 80, Weight: 1}, {Host: "10.0.0.3", Port: 80, Weight: 1}})
	seen := map[string]bool{}
	for range 10 {
		seen[rt.Upstream.Next().Addr] = true
	}
	if len(seen) != 2 || !seen["10.0.0.2:80"] || !seen["10.0.0.3:80"] {
		t.Fatalf("after a change the pool sends to %v", seen)
	}

	_, err = Build(discoveredSnapshot(nil), Deps{})
	if err == nil || !hasField(err, "services[orders].upstream.discovery.registry") {
		t.Fatalf("a registry the group lacks: %v", err)
	}
}

func hasField(err error, field string) bool {
	fe, ok := err.(spec.FieldErrors)
	if !ok {
		return false
	}
	for _, e := range fe {
		if e.Field == field {
			return true
		}
	}
	return false
}
