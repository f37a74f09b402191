package routing

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/limitcount"
	"github.com/portico-gw/portico/internal/gateway/plugin/limitreq"
	"github.com/portico-gw/portico/internal/gateway/plugin/oauth2"
	"github.com/portico-gw/portico/internal/gateway/plugin/proxycache"
	"github.com/portico-gw/portico/internal/gateway/plugin/quota"
	"github.com/portico-gw/portico/internal/gateway/splitstats"
	"github.com/portico-gw/portico/internal/gateway/sqlbackend"
	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

// Deps are the gateway's shared facilities plugins may use (later: the
// Redis client of cluster-wide rate limits). Validate passes none: building
// must not need them, only running does.
type Deps struct {
	Logger *slog.Logger
	// Counters keeps limit-count's counters across reloads; nil: fresh
	// counters per build (validation).
	Counters *limitcount.Registry
	// Buckets keeps limit-req's buckets across reloads; nil: fresh.
	Buckets *limitreq.Registry
	// Cache keeps proxy-cache's stores across reloads; nil: fresh.
	Cache *proxycache.Registry
	// cachePurges are the purges of the service being compiled
	// (cache.go).
	cachePurges proxycache.Purges
	// Quotas keeps the counts of subscriptions' plan quotas across
	// reloads; nil: fresh counts per build (validation).
	Quotas *quota.Registry
	// zone is the time zone of the group being built (its quotas' days).
	zone *time.Location
	// Splits keeps the figures of canaries across reloads; nil: fresh
	// figures per build.
	Splits *splitstats.Registry
	// Consumers is the consumer index of the group being built; Build
	// sets it per group from the snapshot (consumers.go).
	Consumers *consumer.Index
	// Tokens keeps the oauth2 access tokens the gateway issued across
	// reloads; nil: a fresh store per build (validation).
	Tokens *oauth2.Store
	// tokenEndpoint is this build's token endpoint (oauth2.go).
	tokenEndpoint *oauth2.Endpoint
	// SQL keeps the connection pools of sql backends across reloads;
	// nil: statements are compiled, never run (validation).
	SQL *sqlbackend.Registry
	// DataSources are the group's data sources by id; Build sets it per
	// group from the snapshot (sql.go).
	DataSources map[string]*spec.DataSource
	// clientCerts are the group's certificates by name (certificates.go).
	clientCerts clientCerts
	// StreamConns keeps stream routes' connection counts across reloads;
	// nil: fresh counts per build (validation).
	StreamConns *StreamConns
	// Health keeps upstream nodes' health across reloads and runs their
	// active checks; nil: nothing is checked (validation).
	Health *upstream.Health
	// Discovery follows the registries of discovered upstreams; nil:
	// they are compiled without nodes (validation).
	Discovery Discoverer
	// registries are the group's registry connections by name
	// (discovery.go).
	registries map[string]*spec.Registry
	// Calls are what composite backends send their steps through
	// (composite.go); nil: their calls fail (validation).
	Calls *Calls
	// Route is the route whose plugins are being compiled, for plugins
	// built from what it declares (routespec.go); zero when a
	// configuration is checked on its own (CheckPlugins).
	Route RouteSpec
}

// Validate compiles snap without any I/O and returns the problems a gateway
// would refuse it for: spec.FieldErrors naming each bad plugin config or
// conflicting route. The control plane calls it before it commits a change,
// so a gateway never receives a snapshot it refuses.
func Validate(snap *spec.Snapshot) error {
	_, err := Build(snap, Deps{})
	return err
}

// Build compiles snap into a routing table.
func Build(snap *spec.Snapshot, deps Deps) (*Table, error) {
	var fe spec.FieldErrors
	b := match.NewBuilder[*Route]()
	t := &Table{Revision: snap.Revision, groups: make(map[string]*groupPart, len(snap.Groups))}
	t.tokens = oauth2.NewEndpoint(deps.Tokens)
	deps.tokenEndpoint = t.tokens
	if deps.Quotas == nil {
		deps.Quotas = quota.NewRegistry()
	}
	t.quotas = deps.Quotas
	var byGroup []clientCerts
	t.certs, byGroup = buildCertIndex(&fe, snap.Groups, deps)
	for gi := range snap.Groups {
		gs := &snap.Groups[gi]
		gp := &groupPart{group: gs.Group, consumers: consumer.New(gs.Consumers), // the group's own applications
			zone: gs.Group.ZoneOf(), dataSources: dataSourceIndex(gs.DataSources), clientCerts: byGroup[gi], registries: registryIndex(gs.Registries)}
		services := editServices(nil)
		t.tokens.AddIndex(gp.consumers)
		add := func(ds *spec.DeployedService) {
			sp, streams := compileService(b, &fe, gp.deps(deps), gs.Group, ds)
			services.set(ds.Service.ID, sp)
			t.routes += sp.added
			if streams != nil {
				if t.streamServices == nil {
					t.streamServices = map[string][]*StreamRoute{}
				}
				t.streamServices[streamKey(gs.Group.Name, ds.Service.ID)] = streams
			}
		}
		for si := range gs.Services {
			add(&gs.Services[si])
		}
		// Services still as the feed sent them are decoded one at a time,
		// each gone once compiled: the group is never decoded whole beside
		// its table, whose memory then stays together.
		for si, raw := range gs.ServicesJSON {
			var ds spec.DeployedService
			if err := json.Unmarshal(raw, &ds); err != nil {
				fe.Add(fmt.Sprintf("services[%d]", si), "does not decode: %v", err)
				continue
			}
			add(&ds)
		}
		gp.services = services.s
		t.groups[gs.Group.Name] = gp
	}
	t.routes += addTokenEndpoint(b, deps)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	t.matcher = b.Build()
	t.selectors = tableSelectors(t.groups)
	t.streams = buildStreamIndex(t.streamServices)
	return t, nil
}

// compileService compiles one deployed service: an HTTP service's routes
// into b, a stream service's routes apart (nil for an HTTP service).
func compileService(b *match.Builder[*Route], fe *spec.FieldErrors, deps Deps, g spec.GatewayGroup, ds *spec.DeployedService) (*servicePart, []*StreamRoute) {
	if ds.Service.IsStream() {
		return &servicePart{}, compileStream(fe, deps, g, ds)
	}
	return addService(b, fe, deps, g, ds), nil
}

// addVersion adds the online routes of one version of a deployed service
// (vc: how it is placed beside other versions; nil when it runs alone) and
// returns what it added, so a later change of the service can take it out
// again. addService (versions.go) calls it once per version.
func addVersion(b *match.Builder[*Route], fe *spec.FieldErrors, deps Deps, g spec.GatewayGroup, ds *spec.DeployedService, vc *versionCompile) *servicePart {
	svc := &ds.Service
	label := vc.label(svc.Name, ds.Version)
	deps.cachePurges = cachePurges(ds.Cache)
	var added []string // the paths its routes were added at
	sp := &servicePart{oauth2: usesOAuth2(svc)}
	if ds.Canary != nil {
		sp.canaryID = ds.Canary.ID
	}
	if ds.Upstream.IsStream() {
		fe.Add(fmt.Sprintf("services[%s].upstream.scheme", label), `tcp and tls serve services of type "stream"; an HTTP service takes http, https, grpc or grpcs`)
	}
	owner := upstream.Owner{Group: g.Name, Service: svc.Name}
	pool := upstreamPool(fe, fmt.Sprintf("services[%s].upstream", label), deps, owner, &ds.Upstream)
	strip := spec.GroupPrefix(g.PathPrefix, ds.ProjectID)
	pf := pluginFields{service: fmt.Sprintf("services[%s]", label), group: g.Name, serviceID: svc.ID,
		quota: quota.New(deps.Quotas, g.Name, deps.zone, deps.Consumers.Plans(svc.ID))}
	if len(svc.Plugins) > 0 { // only the service's own plugins are reported once
		pf.reported = map[string]bool{}
	}
	var canaryRules *canaryRules
	var target *upstream.Pool
	var split *splitstats.Split
	if ds.Canary != nil {
		canaryRules = compileCanary(fe, fmt.Sprintf("services[%s].canary", svc.Name), ds.Canary, svc.Routes)
		target = upstreamPool(fe, fmt.Sprintf("services[%s].canary.target", svc.Name), deps, owner, &ds.Canary.Target)
		split = deps.Splits.Get(ds.Canary.ID)
	}
	// One for all the service's routes.
	service := &plugin.ServiceInfo{Group: g.Name, ProjectID: ds.ProjectID, ServiceID: svc.ID, ServiceName: svc.Name, Version: ds.Version,
		TraceSampling: g.TraceSampling()}
	sp.service = service
	base := routeMore{stripPrefix: strip, redirect: svc.HTTPSRedirectStatusCode, selector: vc.defaultSelector()}
	switch {
	case svc.HTTPOnly():
		base.listener = onlyHTTP
	case svc.HTTPSOnly():
		base.listener = onlyHTTPS
	}
	var calls strings.Builder // the routes' call targets, of the default version only
	var derived serviceShared // what plugins derive once for all the service's routes
	var shared *routeMore     // for the routes with nothing of their own
	if base != (routeMore{}) {
		shared = &base
	}
	for ri := range svc.Routes {
		r := &svc.Routes[ri]
		if !r.IsOnline() {
			continue
		}
		field := fmt.Sprintf("services[%s].routes[%s]", label, r.Name)
		paths := vc.paths(g.PathPrefix, ds.ProjectID, svc, r)
		// The route's id and name are copied out of the decoded service:
		// they sit together then, rather than each keeping a span of the
		// decoding's garbage in use (1–2 MiB at 100 000 routes).
		rt := &Route{
			Info:     plugin.RouteInfo{ServiceInfo: service, RouteID: strings.Clone(r.ID), RouteName: strings.Clone(r.Name)},
			Upstream: pool,
		}
		more := base
		if !compileBackend(fe, field, deps, owner, rt, &more, r.Backend, &ds.Upstream, paths, pathTargets(r)) {
			continue
		}
		params := compileParams(fe, field, r) // nil: the route maps nothing (params.go)
		if canaryRules != nil && ds.Canary.AppliesTo(r.Name) {
			c := &canary{canaryRules: canaryRules, pool: target, split: split}
			if be := r.Backend; be != nil && be.Timeout != nil {
				c.pool = upstreamPool(nil, "", deps, owner, withTimeout(&ds.Canary.Target, be.Timeout))
			}
			more.canary = c
		}
		rt.more = shared
		if more != base {
			rt.more = &more
		}
		pf.route = field
		deps.Route = RouteSpec{Service: svc, Route: r, shared: &derived}
		if !compilePlugins(fe, pf, deps, rt, svc.Plugins, r.Plugins, params) {
			continue
		}
		if !addSQLBackend(fe, field, deps, rt, r.Backend) {
			continue
		}
		if !addCompositeBackend(fe, field, deps, rt, r.Backend) {
			continue
		}
		// First, so response plugins see the answer as the caller will.
		if pool.Registered {
			rt.prependResponseFilter(newHideBackend(pool, strip))
		}
		if c := rt.canary(); c != nil && c.pool.Registered {
			rt.prependResponseFilter(newHideBackend(c.pool, strip))
		}
		if f := rt.filters; f != nil { // kept for the table's life: no spare capacity
			f.request, f.response = slices.Clip(f.request), slices.Clip(f.response)
		}
		hosts := routeTargetHosts(svc, r)
		before := len(added)
		for _, p := range paths {
			if strings.Contains(p, pathSep) {
				fe.Add(field+".paths", "%q holds a NUL byte", p)
				continue
			}
			entry := match.Route[*Route]{Path: p, Hosts: hosts, Methods: r.Methods, Value: rt}
			err := b.Add(entry)
			var conflict *match.ConflictError[*Route]
			switch {
			case errors.As(err, &conflict):
				other := conflict.Existing.Info
				fe.Add(field+".paths", "%s in group %s is already served by route %s of service %s",
					p, g.Name, other.RouteName, other.ServiceName)
			case err != nil:
				fe.Add(field+".paths", "%s: %v", p, err)
			default:
				added = append(added, p)
			}
		}
		if len(added) > before && vc.isDefault() {
			if calls.Len() == 0 { // the paths' common start, once
				calls.WriteString(spec.GroupPrefix(g.PathPrefix, ds.ProjectID) + strings.TrimRight(svc.EffectivePath(), "/"))
			}
			appendTarget(&calls, r, hosts)
		}
	}
	sp.paths, sp.added = strings.Join(added, pathSep), len(added)
	sp.calls = strings.Clone(calls.String()) // kept for the table's life: no spare capacity
	return sp
}

func compileBackend(fe *spec.FieldErrors, field string, deps Deps, owner upstream.Owner, rt *Route, more *routeMore, be *spec.Backend, up *spec.Upstream, paths, mapped []string) bool {
	if be == nil {
		return true
	}
	ok := true
	if be.Type != "" && be.Type != spec.BackendUpstream && be.Type != spec.BackendSQL && be.Type != spec.BackendComposite {
		fe.Add(field+".backend.type", "backend type %q is not supported by this gateway", be.Type)
		ok = false
	}
	if be.Path != "" {
		t, err := compilePathTemplate(be.Path)
		if err == nil {
			err = t.check(paths, mapped)
		}
		if err != nil {
			fe.Add(field+".backend.path", "%v", err)
			ok = false
		}
		more.rewrite = t
	}
	more.backendMethod = be.Method
	more.retryNonIdempotent = be.RetryNonIdempotent
	if be.Timeout != nil {
		// The route's own timeouts need their own pool; it balances
		// separately from the service's other routes, which is harmless.
		rt.Upstream = upstreamPool(nil, "", deps, owner, withTimeout(up, be.Timeout))
	}
	return ok
}

// withTimeout is up with a route's backend timeouts over its own.
func withTimeout(up *spec.Upstream, bt *spec.Timeout) *spec.Upstream {
	u := *up
	t := spec.Timeout{}
	if up.Timeout != nil {
		t = *up.Timeout
	}
	if bt.Connect > 0 {
		t.Connect = bt.Connect
	}
	if bt.Send > 0 {
		t.Send = bt.Send
	}
	if bt.Read > 0 {
		t.Read = bt.Read
	}
	u.Timeout = &t
	return &u
}

// pluginFields names where a plugin's configuration came from: a problem
// with a service's plugin is reported once, on the service, not on every
// route that inherits it.
type pluginFields struct {
	service, route   string
	reported         map[string]bool
	group, serviceID string // the scope of plugin state
	// quota enforces the plans of the service's subscribers after the
	// route's authentication; nil when none holds a plan.
	quota *quota.Filter
}

// compilePlugins merges the service's plugins with the route's (the
// route's configuration of a plugin wins) and orders the filters by phase;
// params, the route's parameter mapping (nil: none), runs first of the
// transform phase.
func compilePlugins(fe *spec.FieldErrors, pf pluginFields, deps Deps, rt *Route, svcPlugins, routePlugins spec.Plugins, params *paramFilter) bool {
	if len(svcPlugins) == 0 && len(routePlugins) == 0 {
		if params != nil {
			rt.addRequestFilter(paramsName, params)
		}
		return true // most routes of a large table: nothing to merge or sort
	}
	merged := mergePlugins(svcPlugins, routePlugins)
	fail := func(name, format string, args ...any) {
		if _, own := routePlugins[name]; own {
			fe.Add(pf.route+".plugins."+name, format, args...)
			return
		}
		if !pf.reported[name] {
			pf.reported[name] = true
			fe.Add(pf.service+".plugins."+name, format, args...)
		}
	}
	type compiled struct {
		name   string
		phase  plugin.Phase
		filter plugin.Filters
	}
	var list []compiled
	if params != nil { // first, so the stable sort keeps it ahead of its phase
		list = append(list, compiled{paramsName, plugin.PhaseTransform, plugin.Filters{Request: params}})
	}
	ok := true
	for _, name := range slices.Sorted(maps.Keys(merged)) {
		f, known := plugins[name]
		if !known {
			fail(name, "unknown plugin %q", name)
			ok = false
			continue
		}
		scope := pf.group + "|service:" + pf.serviceID
		if _, own := routePlugins[name]; own {
			scope = pf.group + "|route:" + rt.Info.RouteID
		}
		filter, err := f.build(merged[name], deps, scope)
		if err != nil {
			fail(name, "%v", err)
			ok = false
			continue
		}
		list = append(list, compiled{name, f.phase, filter})
	}
	if !ok {
		return false
	}
	// Plan quotas count the application an authentication plugin
	// admitted: a route without one has nobody to count.
	if pf.quota != nil && slices.ContainsFunc(list, func(c compiled) bool { return c.phase == plugin.PhaseAuthentication }) {
		list = append(list, compiled{"plan quotas", plugin.PhaseSubscription, plugin.Filters{Request: pf.quota}})
	}
	slices.SortStableFunc(list, func(a, b compiled) int { return comparePhase(a.phase, b.phase) })
	for _, c := range list {
		if c.name == accessLogName {
			if rt.filters == nil {
				rt.filters = &chain{}
			}
			rt.filters.log = c.filter.Request.(accessLogPolicy).policy
			continue
		}
		if c.filter.Request != nil {
			rt.addRequestFilter(c.name, c.filter.Request)
		}
		if c.filter.Response != nil {
			rt.AddResponseFilter(c.filter.Response)
		}
	}
	return true
}
