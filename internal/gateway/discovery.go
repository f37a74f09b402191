package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"time"
	"weak"

	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
	"github.com/portico-gw/portico/internal/gateway/upstream/discovery/registries"
	"github.com/portico-gw/portico/internal/spec"
)

// discoverer follows the registries of discovered upstreams
// (routing.Discoverer): one follower per group, registry connection and
// service, shared by every pool that names them (each revision's, each
// route's), for as long as one does. The pools hold the node list; the
// follower only a weak pointer to it, so when the last table that used it
// is collected, its follower stops.
type discoverer struct {
	ctx context.Context
	log *slog.Logger
	mu  sync.Mutex
	m   map[string]*follower
	// pending are the first answers of followers started since the last
	// awaitFirst, each closed once its registry answered (or failed).
	pending []chan struct{}
}

// follower is one service followed in one registry.
type follower struct {
	group, registry string
	found           weak.Pointer[upstream.Found]
	mu              sync.Mutex
	status          discovery.Status
}

func newDiscoverer(ctx context.Context, log *slog.Logger) *discoverer {
	return &discoverer{ctx: ctx, log: log, m: map[string]*follower{}}
}

// Found is the node list of service d in registry reg of group: the one
// being followed, or a new one whose follower starts now.
func (d *discoverer) Found(group string, reg *spec.Registry, t spec.Discovery) *upstream.Found {
	cfg := registryConfig(reg)
	sum := sha256.Sum256(mustJSON([]any{cfg, reg.PollInterval, t}))
	key := group + "\x00" + reg.Name + "\x00" + hex.EncodeToString(sum[:12])
	d.mu.Lock()
	defer d.mu.Unlock()
	if f, ok := d.m[key]; ok {
		if found := f.found.Value(); found != nil {
			return found
		}
	}
	found := upstream.NewFound()
	f := &follower{group: group, registry: reg.Name, found: weak.Make(found)}
	f.status.Error = "not asked yet"
	d.m[key] = f
	ctx, cancel := context.WithCancel(d.ctx)
	runtime.AddCleanup(found, func(cancel context.CancelFunc) { cancel() }, cancel)
	r, err := registries.New(cfg)
	if err != nil {
		// Validated when saved; a connection that no longer builds (a CA
		// gone bad) is an error shown in its status, and no node.
		f.status = discovery.Status{Error: err.Error()}
		d.log.Warn("service registry cannot be used", "group", group, "registry", reg.Name, "err", err)
		return found
	}
	poll := time.Duration(reg.PollInterval * float64(time.Second))
	target := discovery.Target{Namespace: t.Namespace, ServiceName: t.ServiceName}
	wf := f.found
	first := make(chan struct{})
	d.pending = append(d.pending, first)
	var once sync.Once
	go discovery.Follow(ctx, r, target, poll,
		func(nodes []spec.Node) {
			if found := wf.Value(); found != nil {
				found.Set(nodes)
			}
		},
		func(s discovery.Status) {
			once.Do(func() { close(first) })
			f.mu.Lock()
			was := f.status
			f.status = s
			f.mu.Unlock()
			if was.Healthy != s.Healthy && s.Error != "" {
				d.log.Warn("service registry unreachable; keeping the last nodes", "group", group, "registry", reg.Name,
					"service", t.ServiceName, "err", s.Error)
			}
		})
	return found
}

// awaitFirst waits until the registries of the followers started since
// the last call answered once, or until limit passed: a table whose
// discovered upstreams have their nodes goes live with them, instead of
// answering 503 until the first answer. A registry that does not answer
// in time delays nothing more.
func (d *discoverer) awaitFirst(ctx context.Context, limit time.Duration) {
	d.mu.Lock()
	pending := d.pending
	d.pending = nil
	d.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for _, ch := range pending {
		select {
		case <-ch:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// registryConfig is what a discovery client needs of a registry: its
// settings and its opened credentials.
func registryConfig(reg *spec.Registry) discovery.Config {
	cfg := discovery.Config{Type: reg.Type, Address: reg.Address, Namespace: reg.Namespace, Group: reg.ServiceGroup,
		Username: reg.Username, CA: reg.CA, Password: reg.Password, Token: reg.Token}
	if reg.Secret != "" {
		var c spec.RegistryCredentials
		if json.Unmarshal([]byte(reg.Secret), &c) == nil {
			cfg.Password, cfg.Token = c.Password, c.Token
		}
	}
	return cfg
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v) // plain values: cannot fail
	return b
}

// Statuses is how this gateway finds each registry it follows, per group:
// healthy when every service it follows there answered last, else the
// latest error; the last sync is the latest of them.
func (d *discoverer) Statuses() map[string][]spec.RegistryStatus {
	d.mu.Lock()
	byReg := map[[2]string]*spec.RegistryStatus{}
	for k, f := range d.m {
		if f.found.Value() == nil {
			delete(d.m, k) // no table uses it: its follower stopped
			continue
		}
		f.mu.Lock()
		s := f.status
		f.mu.Unlock()
		rs := byReg[[2]string{f.group, f.registry}]
		if rs == nil {
			rs = &spec.RegistryStatus{Registry: f.registry, Healthy: true}
			byReg[[2]string{f.group, f.registry}] = rs
		}
		rs.Services++
		if !s.Healthy {
			rs.Healthy = false
			if rs.Error == "" {
				rs.Error = s.Error
			}
		}
		if s.LastSync.After(rs.LastSync) {
			rs.LastSync = s.LastSync.UTC()
		}
	}
	d.mu.Unlock()
	out := map[string][]spec.RegistryStatus{}
	for k, rs := range byReg {
		out[k[0]] = append(out[k[0]], *rs)
	}
	for _, list := range out {
		sort.Slice(list, func(i, j int) bool { return list[i].Registry < list[j].Registry })
	}
	return out
}
