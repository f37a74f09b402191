// Package kubernetes resolves a Service through its EndpointSlices
// (discovery.k8s.io/v1): a list gives the ready endpoints and a
// resourceVersion, and a watch from that version tells when to list again
// (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).
// It reads the EndpointSlices rather than the Endpoints, which Kubernetes
// deprecated in 1.33 and truncates at 1000 addresses.
package kubernetes

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
	"github.com/portico-gw/portico/internal/spec"
)

// defaultNamespace is the namespace of a Target without one when the
// Config gives none either, as for kubectl.
const defaultNamespace = "default"

// Resolver asks one Kubernetes API server.
type Resolver struct {
	http      *discovery.HTTP
	token     string
	namespace string
}

// New checks c and builds its Resolver. The Address is the API server's
// ("https://kubernetes.default.svc" in a cluster), Token a service
// account's token, CA the cluster's CA.
func New(c discovery.Config) (*Resolver, error) {
	h, err := discovery.NewHTTP("kubernetes", c)
	if err != nil {
		return nil, err
	}
	return &Resolver{http: h, token: c.Token, namespace: cmp.Or(c.Namespace, defaultNamespace)}, nil
}

// Resolve lists the EndpointSlices of the Service t names. With index (a
// previous list's resourceVersion) it first watches from that version until
// an EndpointSlice changes or wait (at most discovery.BlockingWait) passes,
// then lists.
func (r *Resolver) Resolve(ctx context.Context, t discovery.Target, index string, wait time.Duration) (discovery.Result, error) {
	res, err := r.resolve(ctx, t, index, wait)
	if err != nil {
		return discovery.Result{}, fmt.Errorf("kubernetes: service %q: %w", t.ServiceName, err)
	}
	return res, nil
}

func (r *Resolver) resolve(ctx context.Context, t discovery.Target, index string, wait time.Duration) (discovery.Result, error) {
	service, portName, _ := strings.Cut(t.ServiceName, ":")
	if service == "" {
		return discovery.Result{}, errors.New("no service name")
	}
	path := "/apis/discovery.k8s.io/v1/namespaces/" + url.PathEscape(cmp.Or(t.Namespace, r.namespace)) + "/endpointslices"
	q := url.Values{"labelSelector": {"kubernetes.io/service-name=" + service}}
	if index != "" {
		if err := r.watch(ctx, path, q, index, wait); err != nil {
			return discovery.Result{}, err
		}
	}
	body, _, err := r.http.Get(ctx, path, q, r.header())
	if err != nil {
		return discovery.Result{}, fmt.Errorf("listing EndpointSlices: %w", err)
	}
	nodes, version, err := parseList(body, portName)
	if err != nil {
		return discovery.Result{}, err
	}
	return discovery.Result{Nodes: nodes, Index: version}, nil
}

func (r *Resolver) header() map[string]string {
	h := map[string]string{"Accept": "application/json"}
	if r.token != "" {
		h["Authorization"] = "Bearer " + r.token
	}
	return h
}

// watch opens a watch of the EndpointSlices from resourceVersion index and
// returns when the first change arrives, the stream ends, wait passes, or
// the version is too old to watch from (410 Gone: the list that follows is
// the fresh start the API asks for). Only a failure to open the watch, or
// an event that does not parse, is an error.
func (r *Resolver) watch(ctx context.Context, path string, q url.Values, index string, wait time.Duration) error {
	seconds := discovery.WaitSeconds(wait)
	wq := url.Values{
		"watch":               {"1"},
		"resourceVersion":     {index},
		"timeoutSeconds":      {strconv.Itoa(seconds)},
		"allowWatchBookmarks": {"false"},
	}
	for k, v := range q {
		wq[k] = v
	}
	// The server ends the stream after timeoutSeconds; this deadline only
	// guards against one that does not.
	wctx, cancel := context.WithTimeout(ctx, time.Duration(seconds)*time.Second+5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(wctx, http.MethodGet, r.http.URL(path, wq), nil)
	if err != nil {
		return err
	}
	for k, v := range r.header() {
		req.Header.Set(k, v)
	}
	resp, err := r.http.Client.Do(req)
	if err != nil {
		if ctx.Err() == nil && wctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watching EndpointSlices: %w", discovery.RedactURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusGone {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := discovery.ReadLimited(resp.Body)
		return fmt.Errorf("watching EndpointSlices: %w", discovery.NewHTTPError(resp.StatusCode, body))
	}
	// A change, the end of the stream or of the wait: list again either way.
	if err := readEvents(io.LimitReader(resp.Body, discovery.MaxBody)); err != nil && ctx.Err() == nil {
		return fmt.Errorf("watching EndpointSlices: %w", err)
	}
	return ctx.Err()
}

// watchEvent is one line of a watch stream.
type watchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// status is the object of an ERROR event (a meta/v1 Status).
type status struct {
	Code    int    `json:"code"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// readEvents reads a watch stream until an event says an EndpointSlice
// changed, the stream ends, or an ERROR event of 410 Gone says the version
// is too old (to list again without one). The end of the stream
// for any reason other than bad JSON (the server's timeout, a connection
// closed) is not an error: the list that follows says whether the API
// server is still there.
func readEvents(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var ev watchEvent
		if err := dec.Decode(&ev); err != nil {
			var syntax *json.SyntaxError
			var typ *json.UnmarshalTypeError
			if errors.As(err, &syntax) || errors.As(err, &typ) {
				return fmt.Errorf("decoding a watch event: %w", err)
			}
			return nil
		}
		switch ev.Type {
		case "ADDED", "MODIFIED", "DELETED":
			return nil
		case "ERROR":
			var s status
			if err := json.Unmarshal(ev.Object, &s); err != nil {
				return fmt.Errorf("decoding a watch error: %w", err)
			}
			if s.Code == http.StatusGone {
				return nil
			}
			return fmt.Errorf("watch error %d %s: %s", s.Code, s.Reason, s.Message)
		}
		// BOOKMARK (not asked for) and unknown types: read on.
	}
}

// endpointSliceList is the part of an EndpointSliceList the gateway reads.
type endpointSliceList struct {
	Metadata struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Items []endpointSlice `json:"items"`
}

type endpointSlice struct {
	Endpoints []struct {
		Addresses  []string `json:"addresses"`
		Conditions struct {
			// Ready is nil when unknown, which the API says to read as
			// ready.
			Ready *bool `json:"ready"`
		} `json:"conditions"`
	} `json:"endpoints"`
	Ports []struct {
		Name     *string `json:"name"`
		Port     *int    `json:"port"`
		Protocol *string `json:"protocol"`
	} `json:"ports"`
}

// parseList reads an EndpointSliceList: every address of an endpoint whose
// ready condition is not false, on the slice's port named portName (the
// first TCP port when portName is empty: the gateway speaks TCP). A slice
// without such a port gives no node.
func parseList(body []byte, portName string) ([]spec.Node, string, error) {
	var list endpointSliceList
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&list); err != nil {
		return nil, "", fmt.Errorf("decoding the EndpointSlice list: %w", err)
	}
	var nodes []spec.Node
	for _, s := range list.Items {
		port := 0
		for _, p := range s.Ports {
			if p.Port == nil || p.Protocol != nil && *p.Protocol != "TCP" {
				continue
			}
			if portName == "" || p.Name != nil && *p.Name == portName {
				port = *p.Port
				break
			}
		}
		if port == 0 {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, addr := range e.Addresses {
				nodes = append(nodes, spec.Node{Host: addr, Port: port, Weight: spec.DefaultNodeWeight})
			}
		}
	}
	return discovery.SortNodes(nodes), list.Metadata.ResourceVersion, nil
}
