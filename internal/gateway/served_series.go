package gateway

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
)

// servedSeries knows which series the services of the table made, so the
// series of a route that goes (deleted, renamed, taken offline, its
// service stopped) go with it rather than stay in /metrics for the life
// of the process. A delta names the services it changes, so deleting
// costs what changed; a whole snapshot is compared with every service
// that made series.
type servedSeries struct {
	mu       sync.Mutex
	byLabels map[seriesKey]*routeSeries
	// byService are the HTTP series by the service whose routes made
	// them; a series two services share (two projects' services of one
	// name) goes with the last of them.
	byService map[serviceKey]map[*routeSeries]struct{}
	// streams are the routes of the stream services, from the config
	// (stream.go makes their series): few.
	streams map[serviceKey]streamService
	groups  []string // the groups of the last whole snapshot
	// deleted are the series deleted at the last swap. A request that
	// was in flight on the previous table at the swap may make its series
	// again; the next swap deletes them once more.
	deleted, deleting []deletedSeries
}

type seriesKey struct{ group, service, route string }

type serviceKey struct{ group, id string }

type deletedSeries struct {
	service serviceKey
	labels  seriesKey
}

type streamService struct {
	name   string
	routes []streamRouteKey
}

type streamRouteKey struct{ listener, name string }

// serviceRoutes are the labels a service's routes count under.
type serviceRoutes struct {
	id, name string
	routes   []string         // online HTTP routes
	streams  []streamRouteKey // a stream service's routes
	stream   bool
}

func (s *servedSeries) init() {
	s.byLabels = map[seriesKey]*routeSeries{}
	s.byService = map[serviceKey]map[*routeSeries]struct{}{}
	s.streams = map[serviceKey]streamService{}
}

// of returns the series of rt's labels, made on first use.
func (s *servedSeries) of(m *metrics, rt *routing.Route) *routeSeries {
	k := seriesKey{rt.Info.Group, rt.Info.ServiceName, rt.Info.RouteName}
	sk := serviceKey{rt.Info.Group, rt.Info.ServiceID}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.byLabels[k]
	if rs == nil {
		rs = m.newSeries(rt)
		rs.owners = map[string]struct{}{}
		s.byLabels[k] = rs
	}
	if _, ok := rs.owners[sk.id]; !ok {
		rs.owners[sk.id] = struct{}{}
		set := s.byService[sk]
		if set == nil {
			set = map[*routeSeries]struct{}{}
			s.byService[sk] = set
		}
		set[rs] = struct{}{}
	}
	return rs
}

// update deletes the series of the routes up takes away and returns the
// groups served.
func (s *servedSeries) update(m *metrics, up spec.SnapshotUpdate) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleting = nil
	switch {
	case up.Snapshot != nil:
		s.snapshot(m, up.Snapshot)
	case up.Delta != nil:
		s.delta(m, up.Delta)
	}
	s.deleted = s.deleting
	return s.groups
}

func (s *servedSeries) snapshot(m *metrics, snap *spec.Snapshot) {
	withSeries := map[string]bool{}
	for sk := range s.byService {
		withSeries[sk.group] = true
	}
	s.groups = s.groups[:0:0]
	live := map[serviceKey]bool{}
	streams := s.streams
	s.streams = map[serviceKey]streamService{}
	keep := func(g string, sr serviceRoutes) {
		sk := serviceKey{g, sr.id}
		live[sk] = true
		s.retire(m, sk, &sr)
		s.keepStream(m, sk, streams[sk], &sr)
	}
	for gi := range snap.Groups {
		gs := &snap.Groups[gi]
		g := gs.Group.Name
		s.groups = append(s.groups, g)
		for si := range gs.Services {
			keep(g, routesOf(&gs.Services[si].Service))
		}
		// Services still as the feed sent them are decoded again, for
		// their names alone, when they may matter: the group made series
		// or the service relays streams.
		for _, raw := range gs.ServicesJSON {
			if !withSeries[g] && !bytes.Contains(raw, []byte(`"stream_routes"`)) {
				continue
			}
			var ds servedJSON
			if json.Unmarshal(raw, &ds) == nil { // Build refused the snapshot otherwise
				keep(g, ds.routes())
			}
		}
	}
	for sk := range s.byService {
		if !live[sk] {
			s.retire(m, sk, nil)
		}
	}
	for sk, old := range streams {
		if !live[sk] {
			s.keepStream(m, sk, old, nil)
		}
	}
}

func (s *servedSeries) delta(m *metrics, d *spec.SnapshotDelta) {
	changed := map[serviceKey]bool{}
	for gi := range d.Groups {
		gd := &d.Groups[gi]
		for si := range gd.Services {
			sr := routesOf(&gd.Services[si].Service)
			sk := serviceKey{gd.Group.Name, sr.id}
			changed[sk] = true
			s.retire(m, sk, &sr)
			s.keepStream(m, sk, s.streams[sk], &sr)
		}
		for _, id := range gd.Removed {
			sk := serviceKey{gd.Group.Name, id}
			if changed[sk] {
				continue // removed and added again: as changed
			}
			changed[sk] = true
			s.retire(m, sk, nil)
			s.keepStream(m, sk, s.streams[sk], nil)
		}
	}
	// The services the delta leaves alone still serve none of the series
	// deleted last time.
	for _, d := range s.deleted {
		if rs := s.byLabels[d.labels]; rs != nil && !changed[d.service] {
			if _, ok := rs.owners[d.service.id]; ok {
				s.disown(m, d.service, rs)
			}
		}
	}
}

// retire deletes the series of service sk that its routes now no longer
// count in (all of them when now is nil: the service stopped).
func (s *servedSeries) retire(m *metrics, sk serviceKey, now *serviceRoutes) {
	set := s.byService[sk]
	if len(set) == 0 {
		return
	}
	var names map[string]bool
	if now != nil && !now.stream {
		names = make(map[string]bool, len(now.routes))
		for _, r := range now.routes {
			names[r] = true
		}
	}
	var gone []string // service names it no longer has
	for rs := range set {
		if now != nil && rs.service == now.name && names[rs.route] {
			continue
		}
		if (now == nil || rs.service != now.name) && !slices.Contains(gone, rs.service) {
			gone = append(gone, rs.service)
		}
		s.disown(m, sk, rs)
	}
	// Quota refusals are counted by service name: they go with the last
	// service of the name that made series in the group.
	for _, name := range gone {
		if !s.nameInUse(sk.group, name) {
			m.quotaRejected.DeleteLabelValues(sk.group, name)
		}
	}
}

// disown takes rs from service sk; a series no service counts in any more
// is deleted.
func (s *servedSeries) disown(m *metrics, sk serviceKey, rs *routeSeries) {
	delete(rs.owners, sk.id)
	if set := s.byService[sk]; set != nil {
		delete(set, rs)
		if len(set) == 0 {
			delete(s.byService, sk)
		}
	}
	if len(rs.owners) > 0 {
		return
	}
	k := seriesKey{rs.group, rs.service, rs.route}
	delete(s.byLabels, k)
	rs.delete()
	s.deleting = append(s.deleting, deletedSeries{sk, k})
}

func (s *servedSeries) nameInUse(group, name string) bool {
	for sk, set := range s.byService {
		if sk.group != group {
			continue
		}
		for rs := range set {
			if rs.service == name {
				return true
			}
			break // every series of a service has its name, or the name it had
		}
	}
	return false
}

// keepStream records the stream routes of service sk as now has them and
// deletes the series of those old had and now has not.
func (s *servedSeries) keepStream(m *metrics, sk serviceKey, old streamService, now *serviceRoutes) {
	if now != nil && now.stream {
		s.streams[sk] = streamService{name: strings.Clone(now.name), routes: cloneStreamRoutes(now.streams)}
	} else {
		delete(s.streams, sk)
	}
	for _, r := range old.routes {
		if now != nil && now.stream && now.name == old.name && slices.Contains(now.streams, r) {
			continue
		}
		deleteStreamSeries(m.streams, sk.group, old.name, r)
	}
}

func cloneStreamRoutes(rs []streamRouteKey) []streamRouteKey {
	out := make([]streamRouteKey, len(rs))
	for i, r := range rs {
		out[i] = streamRouteKey{strings.Clone(r.listener), strings.Clone(r.name)}
	}
	return out
}

// deleteStreamSeries deletes a stream route's series; its gauge of
// connections open stays while some are, so that their closing does not
// count below zero.
func deleteStreamSeries(sm *streamMetrics, group, service string, r streamRouteKey) {
	route := prometheus.Labels{"listener": r.listener, "group": group, "service": service, "route": r.name}
	sm.connections.DeletePartialMatch(route)
	sm.bytes.DeletePartialMatch(route)
	ch := make(chan prometheus.Metric, 16)
	go func() { sm.active.Collect(ch); close(ch) }()
	idle := false
	for metric := range ch {
		var d dto.Metric
		if metric.Write(&d) != nil || !sameLabels(d.GetLabel(), route) {
			continue
		}
		idle = d.GetGauge().GetValue() == 0
	}
	if idle {
		sm.active.Delete(route)
	}
}

func sameLabels(got []*dto.LabelPair, want prometheus.Labels) bool {
	if len(got) != len(want) {
		return false
	}
	for _, l := range got {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}

// routesOf are the labels of the routes svc serves.
func routesOf(svc *spec.Service) serviceRoutes {
	sr := serviceRoutes{id: svc.ID, name: svc.Name, stream: svc.IsStream()}
	if sr.stream {
		for _, r := range svc.StreamRoutes {
			sr.streams = append(sr.streams, streamRouteKey{r.Listener, r.Name})
		}
		return sr
	}
	for ri := range svc.Routes {
		if svc.Routes[ri].IsOnline() {
			sr.routes = append(sr.routes, svc.Routes[ri].Name)
		}
	}
	return sr
}

// servedJSON is what routesOf reads of a service the feed sent as JSON.
type servedJSON struct {
	Service struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Type   string `json:"type"`
		Routes []struct {
			Name   string `json:"name"`
			Online *bool  `json:"online"`
		} `json:"routes"`
		StreamRoutes []struct {
			Name     string `json:"name"`
			Listener string `json:"listener"`
		} `json:"stream_routes"`
	} `json:"service"`
}

func (d *servedJSON) routes() serviceRoutes {
	svc := spec.Service{ID: d.Service.ID, Name: d.Service.Name, Type: d.Service.Type}
	for _, r := range d.Service.Routes {
		svc.Routes = append(svc.Routes, spec.Route{Name: r.Name, Online: r.Online})
	}
	for _, r := range d.Service.StreamRoutes {
		svc.StreamRoutes = append(svc.StreamRoutes, spec.StreamRoute{Name: r.Name, Listener: r.Listener})
	}
	return routesOf(&svc)
}
