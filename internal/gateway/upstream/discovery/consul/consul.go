// Package consul resolves a service through Consul's health API, with
// blocking queries: GET /v1/health/service/{name}?passing=true, then the
// same with index and wait to learn of the next change as it happens
// (https://developer.hashicorp.com/consul/api-docs/health#list-service-instances-for-service,
// https://developer.hashicorp.com/consul/api-docs/features/blocking).
package consul

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
	"github.com/portico-gw/portico/internal/spec"
)

// Resolver asks one Consul agent or server.
type Resolver struct {
	http      *discovery.HTTP
	token     string
	namespace string
}

// New checks c and builds its Resolver. The Address is the agent's HTTP
// API ("http://127.0.0.1:8500"); Token is sent as X-Consul-Token.
func New(c discovery.Config) (*Resolver, error) {
	h, err := discovery.NewHTTP("consul", c)
	if err != nil {
		return nil, err
	}
	return &Resolver{http: h, token: c.Token, namespace: c.Namespace}, nil
}

// Resolve returns the passing instances of t. With index (a previous
// X-Consul-Index) Consul holds the query until the service changes or wait
// (at most discovery.BlockingWait) passes.
func (r *Resolver) Resolve(ctx context.Context, t discovery.Target, index string, wait time.Duration) (discovery.Result, error) {
	res, err := r.resolve(ctx, t, index, wait)
	if err != nil {
		return discovery.Result{}, fmt.Errorf("consul: service %q: %w", t.ServiceName, err)
	}
	return res, nil
}

func (r *Resolver) resolve(ctx context.Context, t discovery.Target, index string, wait time.Duration) (discovery.Result, error) {
	if t.ServiceName == "" {
		return discovery.Result{}, errors.New("no service name")
	}
	q := url.Values{"passing": {"true"}}
	if ns := cmp.Or(t.Namespace, r.namespace); ns != "" {
		q.Set("ns", ns)
	}
	var prev uint64
	if index != "" {
		var err error
		if prev, err = strconv.ParseUint(index, 10, 64); err != nil {
			return discovery.Result{}, fmt.Errorf("index %q is not a Consul index: %w", index, err)
		}
		q.Set("index", index)
		q.Set("wait", strconv.Itoa(discovery.WaitSeconds(wait))+"s")
	}
	header := map[string]string{"Accept": "application/json"}
	if r.token != "" {
		header["X-Consul-Token"] = r.token
	}
	body, resp, err := r.http.Get(ctx, "/v1/health/service/"+url.PathEscape(t.ServiceName), q, header)
	if err != nil {
		return discovery.Result{}, err
	}
	nodes, err := parseHealth(body)
	if err != nil {
		return discovery.Result{}, err
	}
	return discovery.Result{Nodes: nodes, Index: nextIndex(resp.Header.Get("X-Consul-Index"), prev)}, nil
}

// nextIndex applies Consul's rules for the index of the next blocking query
// (the "Implementation Details" of the blocking queries page): no index
// header, no blocking; an index that went backwards (a server restored from
// a snapshot, another cluster behind the address) starts over without one;
// and an index of 0, which would make every query return at once, becomes 1.
func nextIndex(header string, prev uint64) string {
	next, err := strconv.ParseUint(header, 10, 64)
	switch {
	case err != nil:
		return ""
	case prev != 0 && next < prev:
		return ""
	case next == 0:
		return "1"
	}
	return strconv.FormatUint(next, 10)
}

// healthEntry is one element of the health endpoint's answer (only the
// fields the gateway uses; encoding/json matches Consul's PascalCase names).
type healthEntry struct {
	Node *struct {
		Address string
	}
	Service *struct {
		Address string
		Port    int
		Weights *struct {
			Passing int
		}
	}
}

// parseHealth reads the health endpoint's answer: an instance's address is
// its service address, else its node's; its weight is Weights.Passing, the
// weight Consul's own DNS interface gives a passing instance. An instance
// without weights (Consul before 1.2.3) gets Consul's default of 1, so that
// it weighs the same as one registered without weights by a newer Consul.
func parseHealth(body []byte) ([]spec.Node, error) {
	var entries []healthEntry
	if err := json.Unmarshal(body, &entries); err != nil {
		return nil, fmt.Errorf("decoding the health answer: %w", err)
	}
	nodes := make([]spec.Node, 0, len(entries))
	for _, e := range entries {
		if e.Service == nil {
			continue
		}
		n := spec.Node{Host: e.Service.Address, Port: e.Service.Port, Weight: 1}
		if n.Host == "" && e.Node != nil {
			n.Host = e.Node.Address
		}
		if w := e.Service.Weights; w != nil && w.Passing > 0 {
			n.Weight = w.Passing
		}
		nodes = append(nodes, n)
	}
	return discovery.SortNodes(nodes), nil
}
