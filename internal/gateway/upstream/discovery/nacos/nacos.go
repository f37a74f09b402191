// Package nacos resolves a service through Nacos' v2 open API
// (GET /nacos/v2/ns/instance/list), logging in first when the server has
// authentication on (POST /nacos/v1/auth/login, then the accessToken
// parameter); https://nacos.io/en/docs/latest/manual/user/open-api/.
package nacos

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
	"github.com/portico-gw/portico/internal/spec"
)

const (
	// defaultGroup is the group of a service registered without one.
	defaultGroup = "DEFAULT_GROUP"
	// defaultTokenTTL is how long a token is kept when the login answer
	// does not say (Nacos' default token.expire.seconds is 18000).
	defaultTokenTTL = 5 * time.Minute
	// maxWeight bounds a node's weight: a Nacos weight is a float the
	// gateway multiplies by 100, and an absurd one must not overflow.
	maxWeight = 1_000_000
)

// Resolver asks one Nacos server (or the address of a cluster).
type Resolver struct {
	http               *discovery.HTTP
	namespace, group   string
	username, password string

	// The access token of the login, shared by every question; mu also
	// makes one login at a time, so that questions arriving together with
	// an expired token do not all log in.
	mu      sync.Mutex
	token   string
	expires time.Time
}

// New checks c and builds its Resolver. The Address is the server's
// ("http://nacos:8848", the API under /nacos); Namespace the namespace id
// (empty: Nacos' "public"); Group the group (empty: DEFAULT_GROUP).
func New(c discovery.Config) (*Resolver, error) {
	h, err := discovery.NewHTTP("nacos", c)
	if err != nil {
		return nil, err
	}
	if c.Password != "" && c.Username == "" {
		return nil, errors.New("nacos: a password is given without a username")
	}
	return &Resolver{http: h, namespace: c.Namespace, group: cmp.Or(c.Group, defaultGroup),
		username: c.Username, password: c.Password}, nil
}

// Resolve returns the healthy, enabled instances of t. Nacos' open API
// has no blocking query: index and wait are ignored.
func (r *Resolver) Resolve(ctx context.Context, t discovery.Target, _ string, _ time.Duration) (discovery.Result, error) {
	nodes, err := r.resolve(ctx, t)
	if err != nil {
		return discovery.Result{}, fmt.Errorf("nacos: service %q: %w", t.ServiceName, err)
	}
	return discovery.Result{Nodes: nodes}, nil
}

func (r *Resolver) resolve(ctx context.Context, t discovery.Target) ([]spec.Node, error) {
	if t.ServiceName == "" {
		return nil, errors.New("no service name")
	}
	token, err := r.accessToken(ctx, "")
	if err != nil {
		return nil, err
	}
	body, err := r.list(ctx, t, token)
	if code := discovery.StatusCode(err); r.username != "" && (code == http.StatusForbidden || code == http.StatusUnauthorized) {
		// The token expired before its time (a server restarted with
		// another secret, a token revoked): log in again once.
		if token, err = r.accessToken(ctx, token); err != nil {
			return nil, err
		}
		body, err = r.list(ctx, t, token)
	}
	if err != nil {
		return nil, err
	}
	return parseList(body)
}

func (r *Resolver) list(ctx context.Context, t discovery.Target, token string) ([]byte, error) {
	q := url.Values{
		"serviceName": {t.ServiceName},
		"groupName":   {r.group},
		"healthyOnly": {"true"},
	}
	if ns := cmp.Or(t.Namespace, r.namespace); ns != "" {
		q.Set("namespaceId", ns)
	}
	if token != "" {
		q.Set("accessToken", token)
	}
	body, _, err := r.http.Get(ctx, "/nacos/v2/ns/instance/list", q, map[string]string{"Accept": "application/json"})
	return body, err
}

// accessToken is the token to send: none without a username, else the
// current one, logging in when there is none, it expired, or it is stale
// (the one a question was just refused with; another question may already
// have replaced it).
func (r *Resolver) accessToken(ctx context.Context, stale string) (string, error) {
	if r.username == "" {
		return "", nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.token != "" && r.token != stale && time.Now().Before(r.expires) {
		return r.token, nil
	}
	token, ttl, err := r.login(ctx)
	if err != nil {
		r.token = ""
		return "", fmt.Errorf("logging in as %q: %w", r.username, err)
	}
	// Renew at nine tenths of the token's life, before Nacos refuses it.
	r.token, r.expires = token, time.Now().Add(ttl-ttl/10)
	return token, nil
}

// loginAnswer is the answer of /nacos/v1/auth/login.
type loginAnswer struct {
	AccessToken string `json:"accessToken"`
	TokenTTL    int64  `json:"tokenTtl"` // seconds
}

func (r *Resolver) login(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"username": {r.username}, "password": {r.password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.http.URL("/nacos/v1/auth/login", nil), strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	body, _, err := r.http.Do(req)
	if err != nil {
		return "", 0, err
	}
	var a loginAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return "", 0, fmt.Errorf("decoding the login answer: %w", err)
	}
	if a.AccessToken == "" {
		return "", 0, errors.New("the login answer has no accessToken")
	}
	ttl := defaultTokenTTL
	if a.TokenTTL > 0 && a.TokenTTL < math.MaxInt64/int64(time.Second) {
		ttl = time.Duration(a.TokenTTL) * time.Second
	}
	return a.AccessToken, ttl, nil
}

// listAnswer is the v2 API's answer: a code (0: success), a message, and
// the service's instances.
type listAnswer struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    *struct {
		Hosts []struct {
			IP      string  `json:"ip"`
			Port    int     `json:"port"`
			Weight  float64 `json:"weight"`
			Healthy bool    `json:"healthy"`
			Enabled bool    `json:"enabled"`
		} `json:"hosts"`
	} `json:"data"`
}

// parseList reads the instance list: enabled, healthy hosts, their weight
// (a float, 1.0 by default) times 100 rounded, at least 1, so that the
// default Nacos weight is spec.DefaultNodeWeight.
func parseList(body []byte) ([]spec.Node, error) {
	var a listAnswer
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("decoding the instance list: %w", err)
	}
	if a.Code != 0 {
		return nil, fmt.Errorf("code %d: %s", a.Code, a.Message)
	}
	var nodes []spec.Node
	if a.Data != nil {
		for _, h := range a.Data.Hosts {
			if !h.Enabled || !h.Healthy {
				continue
			}
			w := int(min(max(math.Round(h.Weight*100), 1), maxWeight))
			nodes = append(nodes, spec.Node{Host: h.IP, Port: h.Port, Weight: w})
		}
	}
	return discovery.SortNodes(nodes), nil
}
