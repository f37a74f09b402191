// Package eureka resolves an application through Eureka's REST API
// (GET {address}/apps/{APPNAME}, the Address normally ending in /eureka;
// https://github.com/Netflix/eureka/wiki/Eureka-REST-operations).
package eureka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
	"github.com/portico-gw/portico/internal/spec"
)

// Resolver asks one Eureka server.
type Resolver struct {
	http               *discovery.HTTP
	username, password string
}

// New checks c and builds its Resolver. The Address is the server's REST
// root ("http://eureka:8761/eureka"); Username and Password, when given,
// go in HTTP basic authentication.
func New(c discovery.Config) (*Resolver, error) {
	h, err := discovery.NewHTTP("eureka", c)
	if err != nil {
		return nil, err
	}
	if c.Password != "" && c.Username == "" {
		return nil, errors.New("eureka: a password is given without a username")
	}
	return &Resolver{http: h, username: c.Username, password: c.Password}, nil
}

// Resolve returns the instances of application t.ServiceName that are UP.
// Eureka has no blocking query (its clients poll every 30 s): index and
// wait are ignored. Namespaces do not exist in Eureka; t.Namespace is
// ignored.
func (r *Resolver) Resolve(ctx context.Context, t discovery.Target, _ string, _ time.Duration) (discovery.Result, error) {
	nodes, err := r.resolve(ctx, t.ServiceName)
	if err != nil {
		return discovery.Result{}, fmt.Errorf("eureka: service %q: %w", t.ServiceName, err)
	}
	return discovery.Result{Nodes: nodes}, nil
}

func (r *Resolver) resolve(ctx context.Context, app string) ([]spec.Node, error) {
	if app == "" {
		return nil, errors.New("no application name")
	}
	// Eureka keeps application names in upper case.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.http.URL("/apps/"+url.PathEscape(strings.ToUpper(app)), nil), nil)
	if err != nil {
		return nil, err
	}
	// Without it Eureka answers XML.
	req.Header.Set("Accept", "application/json")
	if r.username != "" {
		req.SetBasicAuth(r.username, r.password)
	}
	body, _, err := r.http.Do(req)
	if discovery.StatusCode(err) == http.StatusNotFound {
		// Eureka forgets an application whose last instance went away:
		// it has no instances rather than being an error.
		return []spec.Node{}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseApp(body)
}

// appAnswer is the part of GET /apps/{APPNAME}'s JSON the gateway reads.
type appAnswer struct {
	Application *struct {
		Instance instances `json:"instance"`
	} `json:"application"`
}

type instance struct {
	HostName   string `json:"hostName"`
	IPAddr     string `json:"ipAddr"`
	Status     string `json:"status"`
	Port       port   `json:"port"`
	SecurePort port   `json:"securePort"`
}

// instances reads "instance" as Eureka's JSON codecs write it: a list, or
// the one object itself when the application has a single instance (the
// XStream codec of older servers).
type instances []instance

func (is *instances) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*is = nil
		return nil
	case len(b) > 0 && b[0] == '{':
		var one instance
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*is = instances{one}
		return nil
	}
	var list []instance
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*is = list
	return nil
}

// port is Eureka's {"$": 8080, "@enabled": "true"}; servers write the
// number and the flag as numbers and booleans or as strings, so both are
// read. A plain number or string is read as the port, its flag unset.
type port struct {
	Number  int
	Enabled *bool // nil: not said
}

func (p *port) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		n, err := number(b)
		p.Number = n
		return err
	}
	var raw struct {
		Number  json.RawMessage `json:"$"`
		Enabled json.RawMessage `json:"@enabled"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	var err error
	if p.Number, err = number(raw.Number); err != nil {
		return err
	}
	if len(raw.Enabled) > 0 && string(raw.Enabled) != "null" {
		var s string
		if json.Unmarshal(raw.Enabled, &s) != nil {
			s = string(raw.Enabled)
		}
		enabled, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("@enabled %s is not a boolean", raw.Enabled)
		}
		p.Enabled = &enabled
	}
	return nil
}

// number reads a JSON number or a string holding one; null or nothing is 0.
func number(b []byte) (int, error) {
	if len(b) == 0 || string(b) == "null" {
		return 0, nil
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		s = string(b)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("port %s is not a number", b)
	}
	return n, nil
}

// parseApp reads the application: its instances whose status is UP, on
// their port — unless only the secure port is enabled (a port's flag
// defaults to enabled, the secure port's to disabled, as in Eureka's
// InstanceInfo). Eureka has no weights: every node has the default.
func parseApp(body []byte) ([]spec.Node, error) {
	var a appAnswer
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("decoding the application: %w", err)
	}
	if a.Application == nil {
		return nil, errors.New("the answer has no application")
	}
	var nodes []spec.Node
	for _, in := range a.Application.Instance {
		if !strings.EqualFold(in.Status, "UP") {
			continue
		}
		host := in.IPAddr
		if host == "" {
			host = in.HostName
		}
		var p int
		switch {
		case in.Port.Enabled == nil || *in.Port.Enabled:
			p = in.Port.Number
		case in.SecurePort.Enabled != nil && *in.SecurePort.Enabled:
			p = in.SecurePort.Number
		default:
			continue
		}
		nodes = append(nodes, spec.Node{Host: host, Port: p, Weight: spec.DefaultNodeWeight})
	}
	return discovery.SortNodes(nodes), nil
}
