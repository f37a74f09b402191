// Package dataplane runs a stand-alone gateway (`portico gateway`): the
// gateway of package gateway, fed by the configuration feed of its control
// plane (package feed) instead of a store, serving one gateway group. It
// imports no control-plane code: a gateway keeps serving what it has
// through any outage of its control plane.
package dataplane

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/gateway/accesslog"
	"github.com/portico-gw/portico/internal/gateway/splitstats"
	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/readyfile"
	"github.com/portico-gw/portico/internal/spec"
)

// Options of a stand-alone gateway.
type Options struct {
	ControlPlane string // base URL of the control plane's admin address: http://cp:9180; several, comma-separated, are tried in turn
	Group        string
	Token        string // a join token of Group (ptg_…)
	CacheDir     string // where applied snapshots are kept for a start without the control plane
	// ControlPlaneCA, a PEM file, holds the CAs trusted for an https
	// control plane instead of the system's.
	ControlPlaneCA string
	SecretKeyFile  string // the control plane's secret key, to open HMAC/JWT secrets and data-source passwords; $PORTICO_SECRET_KEY wins
	GatewayAddr    string
	GatewayTLS     string   // the HTTPS listener; empty: none
	GatewayH2C     bool     // the plain address also speaks HTTP/2 without TLS
	GatewayStreams []string // stream listeners, NAME=ADDR each (gateway.ParseStreamAddrs)
	StatusAddr     string
	Engine         string
	MaxBodyBytes   int64
	RedisURL       string
	RedisPrefix    string
	DrainTimeout   time.Duration
	PollWait       time.Duration // how long one feed poll waits for a change (default 30 s)
	Heartbeat      time.Duration // how often it reports to the control plane (default 10 s)
	InstanceID     string        // how it is known in GET …/instances; default: host name and random characters
	ReadyFile      string        // written with the bound addresses once serving its first snapshot
	Profiling      bool          // Go's profiles on the status address (gateway.Options.Profiling)
	// Telemetry is the access log and tracing; the gateway also posts its
	// calls to the control plane for the log search.
	Telemetry gateway.Telemetry
	Logger    *slog.Logger
	Version   string
}

// Addrs are the addresses a stand-alone gateway bound (its ready file).
type Addrs struct {
	Gateway    string `json:"gateway"`
	GatewayTLS string `json:"gateway_tls,omitempty"`
	// GatewayStreams are the stream listeners' addresses by name.
	GatewayStreams map[string]string `json:"gateway_streams,omitempty"`
	Status         string            `json:"status"`
}

// Defaults of the flags.
const (
	DefaultGatewayAddr = ":9080"
	DefaultStatusAddr  = "127.0.0.1:9091"
	DefaultCacheDir    = "./portico-gateway-cache"
)

func (o *Options) check() error {
	planes := feed.ControlPlanes(o.ControlPlane)
	if len(planes) == 0 {
		return fmt.Errorf("--control-plane %q: want the control plane's admin address as http://host:port", o.ControlPlane)
	}
	for _, cp := range planes {
		u, err := url.Parse(cp)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("--control-plane %q: want the control plane's admin address as http://host:port (several separated by commas)", cp)
		}
	}
	if !spec.ValidSlug(o.Group) {
		return fmt.Errorf("--group %q: not a gateway group name", o.Group)
	}
	if !strings.HasPrefix(o.Token, spec.GatewayTokenPrefix) {
		return fmt.Errorf("--token: want a join token of group %q (%s…), made with POST /api/v1/gateway-groups/%s/tokens", o.Group, spec.GatewayTokenPrefix, o.Group)
	}
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir
	}
	if o.GatewayAddr == "" {
		o.GatewayAddr = DefaultGatewayAddr
	}
	if o.StatusAddr == "" {
		o.StatusAddr = DefaultStatusAddr
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 10 * time.Second
	}
	if o.Heartbeat < 100*time.Millisecond || o.Heartbeat > 5*time.Minute {
		return fmt.Errorf("--heartbeat %v: want from 100ms to 5m", o.Heartbeat)
	}
	if o.InstanceID == "" {
		o.InstanceID = feed.NewInstanceID()
	}
	if !feed.ValidInstanceID(o.InstanceID) {
		return fmt.Errorf("--instance-id %q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", o.InstanceID)
	}
	if o.Engine == "" {
		o.Engine = gateway.EngineFast
	}
	return nil
}

// keys finds the key that opens the snapshot's secrets; without one they
// stay closed, and the gateway refuses HMAC and JWT credentials and cannot
// reach data sources.
func (o *Options) keys() (*credential.Keyring, error) {
	switch {
	case os.Getenv(credential.EnvKey) != "":
		return credential.LoadKeyring("")
	case o.SecretKeyFile != "":
		return credential.LoadKeyFile(o.SecretKeyFile)
	}
	o.Logger.Warn("no secret key (--secret-key-file or " + credential.EnvKey + "): HMAC and JWT credentials are refused and data sources cannot be reached; give the control plane's key to serve them")
	return nil, nil
}

// httpClient is the feed's client: the system's roots, or the CAs of
// --control-plane-ca.
func (o *Options) httpClient() (*http.Client, error) {
	if o.ControlPlaneCA == "" {
		return feed.NewHTTPClient(nil), nil
	}
	b, err := os.ReadFile(o.ControlPlaneCA)
	if err != nil {
		return nil, fmt.Errorf("--control-plane-ca: %w", err)
	}
	roots, err := spec.ParseCABundle(string(b))
	if err != nil {
		return nil, fmt.Errorf("--control-plane-ca %s: %w", o.ControlPlaneCA, err)
	}
	return feed.NewHTTPClient(roots), nil
}

// Run serves the group until ctx ends.
func Run(ctx context.Context, o Options) error {
	if err := o.check(); err != nil {
		return err
	}
	streams, err := gateway.ParseStreamAddrs(o.GatewayStreams)
	if err != nil {
		return err
	}
	keys, err := o.keys()
	if err != nil {
		return fmt.Errorf("secret key: %w", err)
	}
	log := o.Logger
	httpClient, err := o.httpClient()
	if err != nil {
		return err
	}
	client := &feed.Client{
		ControlPlane: o.ControlPlane, Group: o.Group, Token: o.Token, Keys: keys, HTTP: httpClient,
		Cache: &feed.Cache{Dir: filepath.Clean(o.CacheDir), Group: o.Group}, Logger: log.With("component", "feed"), Wait: o.PollWait,
	}
	if o.ReadyFile != "" {
		if err := readyfile.Clear(o.ReadyFile); err != nil {
			return err
		}
		defer func() { _ = readyfile.Clear(o.ReadyFile) }()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The cache is written beside the gateway, and finished (what was
	// applied last is on disk) before Run returns.
	var writer sync.WaitGroup
	writer.Go(func() { client.WriteCache(ctx) })
	defer writer.Wait()
	defer cancel()
	// The heartbeats end with a goodbye, which Run waits for (bounded).
	var beats sync.WaitGroup
	defer beats.Wait()
	defer cancel()
	var readyErr error
	totals := &gateway.Totals{}
	figures := heartbeatFigures{splits: splitstats.NewRegistry(), services: svcstats.NewRegistry(), upstreams: &gateway.UpstreamReport{}}
	var applied atomic.Int64
	kick := make(chan struct{}, 1)
	started := time.Now()
	ready := &latch{applied: &applied, kick: kick, fire: func(a Addrs) {
		log.Info("portico gateway serving", "group", o.Group, "instance", o.InstanceID, "gateway", a.Gateway, "status", a.Status,
			"control_plane", o.ControlPlane, "from_cache", client.Status().FromCache, "version", o.Version)
		if o.ReadyFile != "" {
			if err := readyfile.Write(o.ReadyFile, a); err != nil {
				readyErr = err
				cancel()
				return
			}
		}
		beats.Go(func() { o.beat(ctx, client, a, started, &applied, kick, totals, figures.reporters(o.Group)) })
	}}
	tel := o.Telemetry
	tel.Instance, tel.Group, tel.Version = o.InstanceID, o.Group, o.Version
	calls := accesslog.FuncSink("control-plane", func(lines [][]byte) error {
		sendCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return client.SendCalls(sendCtx, o.InstanceID, lines)
	})
	calls.BatchEntries = feed.MaxCallLines
	tel.Calls = &calls
	err = gateway.Run(ctx, gateway.Options{
		Telemetry: tel,
		Addr:      o.GatewayAddr, TLSAddr: o.GatewayTLS, H2C: o.GatewayH2C, StreamAddrs: streams, StatusAddr: o.StatusAddr, Groups: []string{o.Group}, Source: client,
		Logger: log.With("component", "gateway"), DrainTimeout: o.DrainTimeout, Engine: o.Engine,
		Limits: gateway.Limits{MaxBodyBytes: o.MaxBodyBytes}, RedisURL: o.RedisURL, RedisPrefix: o.RedisPrefix,
		OnListen: ready.listening, OnApply: func(rev int64) { client.Applied(rev); ready.apply(rev) }, Totals: totals, SourceDetail: func() string { return sourceDetail(client.Status()) }, Profiling: o.Profiling,
		Upstreams: figures.upstreams,
		Splits:    figures.splits, ServiceStats: figures.services, TokenKey: tokenKey(keys),
	})
	if readyErr != nil {
		return readyErr
	}
	return err
}

// beat reports the instance to the control plane every o.Heartbeat until
// ctx ends. A failed beat is logged when the failures start and when they
// end, not at every interval.
func (o *Options) beat(ctx context.Context, client *feed.Client, a Addrs, started time.Time, applied *atomic.Int64, kick <-chan struct{}, totals *gateway.Totals, rep *figureReporters) {
	log := o.Logger.With("component", "heartbeat")
	tick := time.NewTicker(o.Heartbeat)
	defer tick.Stop()
	heartbeat := func() feed.Heartbeat {
		requests, errs := totals.Read()
		st := client.Status()
		return feed.Heartbeat{Hostname: feed.Hostname(), Addresses: []string{a.Gateway}, Version: o.Version, Engine: o.Engine,
			Revision: applied.Load(), FromCache: st.FromCache, StartedAt: started, IntervalMS: o.Heartbeat.Milliseconds(),
			Requests: requests, Errors: errs, Detail: truncate(st.LastError, 400)}
	}
	failing := false
	var last time.Time
	for {
		hb := heartbeat()
		now := time.Now()
		hb.Canaries = rep.splits.Report(now)
		hb.Services = rep.services.Report(now, feed.MaxServiceReports)
		hb.UpstreamHealth = truncated(rep.upstreams.Health(o.Group), feed.MaxNodeHealthReports)
		hb.Registries = truncated(rep.upstreams.Registries(o.Group), feed.MaxRegistryReports)
		err := client.Beat(ctx, o.InstanceID, hb)
		last = time.Now()
		if err == nil {
			// Delivered: the next heartbeat carries only what comes after.
			rep.splits.Commit()
			rep.services.Commit()
		}
		switch {
		case ctx.Err() != nil:
			o.goodbye(client, heartbeat(), last, log)
			return
		case err != nil && !failing:
			log.Warn("heartbeat failed; serving on", "err", err)
		case err == nil && failing:
			log.Info("heartbeats arrive again")
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			o.goodbye(client, heartbeat(), last, log)
			return
		case <-tick.C:
		case <-kick: // a new revision applied: its convergence shows at once
		}
	}
}

// goodbye tells the control plane the gateway stops, so it shows offline
// at once; bounded, and spaced from the last heartbeat as the control
// plane requires. A control plane that does not answer sees it lost
// instead.
func (o *Options) goodbye(client *feed.Client, hb feed.Heartbeat, last time.Time, log *slog.Logger) {
	time.Sleep(time.Until(last.Add(2 * minBeatSpacing)))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	hb.Stopping = true
	if err := client.Beat(ctx, o.InstanceID, hb); err != nil {
		log.Info("could not say goodbye to the control plane", "err", err)
	}
}

// minBeatSpacing is the control plane's shortest spacing of one
// instance's heartbeats.
const minBeatSpacing = 50 * time.Millisecond

// tokenKey is the key of OAuth2 access tokens, the same on every gateway
// and control plane with this secret key; without one, tokens work on
// this gateway only (it cannot open OAuth2 client secrets then either).
func tokenKey(keys *credential.Keyring) []byte {
	if keys == nil {
		return nil
	}
	return keys.Derive(credential.PurposeOAuth2Tokens)
}

// heartbeatFigures are the canary and per-service figures the gateway
// keeps, which its heartbeats hand to the control plane.
type heartbeatFigures struct {
	splits    *splitstats.Registry
	services  *svcstats.Registry
	upstreams *gateway.UpstreamReport
}

// figureReporters say what the figures gained since the last heartbeat
// that arrived.
type figureReporters struct {
	splits    *splitstats.Reporter
	services  *svcstats.Reporter
	upstreams *gateway.UpstreamReport // reported whole every time
}

func (f heartbeatFigures) reporters(group string) *figureReporters {
	return &figureReporters{splits: splitstats.NewReporter(f.splits), services: svcstats.NewReporter(f.services, group),
		upstreams: f.upstreams}
}

// truncated is at most n of list: a heartbeat is bounded.
func truncated[T any](list []T, n int) []T { return list[:min(len(list), n)] }

// sourceDetail is /readyz's "source" for a stand-alone gateway.
func sourceDetail(st feed.Status) string {
	switch {
	case st.Connected:
		return "control plane connected"
	case st.FromCache && st.LastError != "":
		return fmt.Sprintf("serving cached revision %d; control plane unreachable: %s", st.Revision, st.LastError)
	case st.LastError != "":
		return fmt.Sprintf("serving revision %d; control plane unreachable: %s", st.Revision, st.LastError)
	}
	return "waiting for the control plane"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// latch fires once the gateway listens and has applied its first
// snapshot: from then on it serves. It also keeps the last revision
// applied, for the heartbeats.
type latch struct {
	mu       sync.Mutex
	addrs    Addrs
	listened bool
	gotApply bool
	done     bool
	applied  *atomic.Int64
	kick     chan struct{}
	fire     func(Addrs)
}

func (l *latch) listening(b gateway.Listening) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addrs, l.listened = Addrs{Gateway: b.Gateway, GatewayTLS: b.TLS, GatewayStreams: b.Streams, Status: b.Status}, true
	l.check()
}

func (l *latch) apply(rev int64) {
	l.applied.Store(rev)
	select {
	case l.kick <- struct{}{}:
	default:
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gotApply = true
	l.check()
}

func (l *latch) check() {
	if l.done || !l.listened || !l.gotApply {
		return
	}
	l.done = true
	l.fire(l.addrs)
}
