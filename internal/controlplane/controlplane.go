// Package controlplane is the composition root of `portico server`: it opens
// the store, bootstraps a fresh install, mounts the admin API, starts the
// embedded gateway and shuts everything down gracefully.
package controlplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/console"
	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/readyfile"
	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/webhook"
)

// Options configure Run. Zero values take the documented defaults.
type Options struct {
	AdminAddr string // default ":9180"
	// AdminTLSCert and AdminTLSKey, PEM files, serve the admin address
	// (API, console, feed) over HTTPS; both or neither.
	AdminTLSCert, AdminTLSKey string
	GatewayAddr               string   // default ":9080"
	GatewayTLS                string   // the gateway's HTTPS listener; empty: none
	GatewayH2C                bool     // the gateway's plain address also speaks HTTP/2 without TLS
	GatewayStreams            []string // the gateway's stream listeners, NAME=ADDR each (gateway.ParseStreamAddrs)
	StatusAddr                string   // default ":9091"
	DataDir                   string   // default "./portico-data"
	StoreURL                  string   // empty: SQLite in DataDir
	RedisURL                  string   // cluster-wide rate limits (limit-count policy redis)
	RedisPrefix               string   // starts every Redis key; default "portico:"
	Groups                    []string // groups the embedded gateway serves; default ["default"]
	AdminPassword             string   // PORTICO_ADMIN_PASSWORD; empty: generated and printed once
	Version                   string
	Logger                    *slog.Logger
	Stdout                    io.Writer // where the first-start password and the console URL are printed
	DrainTimeout              time.Duration
	// Engine of the embedded gateway: "fast" (default) or "nethttp".
	Engine string
	// MaxBodyBytes bounds request bodies at the gateway (413); 0: none.
	MaxBodyBytes int64
	// OnReady, when set, is called once every listener is open and the
	// gateway has applied its first config (tests use ":0" addresses).
	OnReady func(Addrs)
	// InstanceOfflineAfter: a gateway instance without a heartbeat for this
	// long shows offline, and an hour later its row goes (default
	// adminapi.DefaultInstanceOfflineAfter).
	InstanceOfflineAfter time.Duration
	// ReadyFile, when set, is where the bound addresses are written as JSON
	// at the moment OnReady fires; it is removed at start and at exit.
	ReadyFile string
	// Profiling serves Go's profiles on the status address
	// (gateway.Options.Profiling).
	Profiling bool
	// Telemetry is the embedded gateway's access log and tracing; the
	// control plane adds its own sink, which keeps calls for the log
	// search (calls.go).
	Telemetry gateway.Telemetry
	// OIDC, when its Issuer is set, lets console users sign in through an
	// OpenID Connect provider (docs/sso.md); checked before anything starts.
	OIDC adminapi.OIDCConfig
	// AuditRetention: audit events older than this are deleted, about
	// once an hour (adminapi.PruneAudit); 0 keeps them forever, else at
	// least adminapi.MinAuditRetention.
	AuditRetention time.Duration
	// CallLogRetention: calls the gateways answered are kept this long
	// (default DefaultCallLogRetention, at least MinCallLogRetention), and
	// at most CallLogMaxPerGroup of each gateway group (default
	// DefaultCallLogMaxPerGroup), pruned every minute.
	CallLogRetention   time.Duration
	CallLogMaxPerGroup int
	// WebhookPrivateNetworks lets projects' webhooks be delivered to
	// loopback and private addresses (link-local ones never are).
	WebhookPrivateNetworks bool
	// Portal is the developer portal's configuration.
	Portal PortalOptions
}

// Addrs are the bound addresses; their JSON is the ready file's content.
type Addrs struct {
	Admin      string `json:"admin"`
	Gateway    string `json:"gateway"`
	GatewayTLS string `json:"gateway_tls,omitempty"`
	// GatewayStreams are the stream listeners' addresses by name.
	GatewayStreams map[string]string `json:"gateway_streams,omitempty"`
	Status         string            `json:"status"`
	// Portal is the portal's own address (--portal-addr), when it has one.
	Portal string `json:"portal,omitempty"`
}

// Run serves until ctx ends, then drains in-flight requests and returns.
func Run(ctx context.Context, opts Options) error {
	opts.defaults()
	log := opts.Logger
	streams, err := gateway.ParseStreamAddrs(opts.GatewayStreams)
	if err != nil {
		return err
	}
	if err := opts.OIDC.Validate(); err != nil {
		return fmt.Errorf("single sign-on (--oidc-*): %w", err)
	}
	if err := checkAuditRetention(opts.AuditRetention); err != nil {
		return err
	}
	if err := checkCallLogRetention(opts.CallLogRetention, opts.CallLogMaxPerGroup); err != nil {
		return err
	}
	if opts.ReadyFile != "" {
		if err := readyfile.Clear(opts.ReadyFile); err != nil {
			return err
		}
		defer func() { _ = readyfile.Clear(opts.ReadyFile) }()
	}
	st, err := openStore(ctx, opts)
	if err != nil {
		return err
	}
	defer st.Close()
	// The key that seals credential secrets ($PORTICO_SECRET_KEY, else a
	// 0600 file in the data directory made on first start).
	keys, err := credential.LoadKeyring(opts.DataDir)
	if err != nil {
		return fmt.Errorf("secret key: %w", err)
	}

	if err := bootstrap(ctx, st, opts, keys.ID()); err != nil {
		return fmt.Errorf("first-start bootstrap: %w", err)
	}

	adminTLS, err := opts.adminTLS()
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", opts.AdminAddr)
	if err != nil {
		return fmt.Errorf("listen on admin address %s: %w", opts.AdminAddr, err)
	}
	var portalLn net.Listener
	// closeListeners undoes the listens when the start fails before
	// serving.
	closeListeners := func() {
		adminLn.Close()
		if portalLn != nil {
			portalLn.Close()
		}
	}
	if opts.Portal.Addr != "" {
		if portalLn, err = net.Listen("tcp", opts.Portal.Addr); err != nil {
			closeListeners()
			return fmt.Errorf("listen on portal address %s: %w", opts.Portal.Addr, err)
		}
	}
	figures := newGatewayFigures()
	// Said before anything is served, so it is in the log by the time the
	// server answers.
	if !loopbackOnly(adminLn.Addr().String()) && adminTLS == nil {
		log.Warn("the admin API and console are reachable beyond this machine over plain HTTP: serve them over HTTPS (--admin-tls-cert, --admin-tls-key), protect the address, or bind it to loopback with --admin-addr 127.0.0.1:9180",
			"admin", adminLn.Addr().String())
	}
	if !loopbackOnly(opts.StatusAddr) {
		log.Info("the status address (/metrics, /healthz, /readyz) is reachable beyond this machine", "status", opts.StatusAddr)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		firstEr error
	)
	fail := func(err error) {
		errMu.Lock()
		if firstEr == nil {
			firstEr = err
		}
		errMu.Unlock()
		cancel()
	}
	if opts.ReadyFile != "" {
		// A server that cannot say where it listens would leave its
		// starter waiting for nothing: it stops instead.
		onReady := opts.OnReady
		opts.OnReady = func(a Addrs) {
			if err := readyfile.Write(opts.ReadyFile, a); err != nil {
				fail(err)
				return
			}
			if onReady != nil {
				onReady(a)
			}
		}
	}
	ready := newReadiness(opts, adminLn.Addr().String())
	if portalLn != nil {
		ready.addrs.Portal = portalLn.Addr().String()
	}
	quotas := &gateway.QuotaReport{}
	shared, closeShared, err := sharedQuotas(opts)
	if err != nil {
		closeListeners()
		return err
	}
	defer closeShared()
	embedded := newEmbeddedInstance(st, opts, log.With("component", "instances"), figures)
	apiCfg := adminapi.Config{Store: st, Logger: log, Version: opts.Version, Figures: figures, Secrets: keys,
		Stats: figures, Gateway: ready.gatewayURL, InstanceOfflineAfter: opts.InstanceOfflineAfter,
		OIDC: opts.OIDC, AuditRetention: opts.AuditRetention, Events: webhook.Enqueue,
		QuotaUsage: quotaUsage(quotas, shared), Signup: opts.Portal.Signup}
	api := adminapi.New(apiCfg)
	devPortal, err := newPortal(api, opts, opts.OIDC.Issuer != "", log.With("component", "portal"))
	if err != nil {
		closeListeners()
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", api)
	feedSrv := newFeedServer(st, log.With("component", "feed"))
	feedSrv.figures = figures
	calls := newCallCollector(st, log.With("component", "calls"), opts.Telemetry.CallsPerSecond)
	feedSrv.calls = calls
	tel := opts.Telemetry
	sink := calls.sink()
	tel.Calls = &sink
	tel.Instance = embedded.id
	tel.Version = opts.Version
	mux.Handle(feed.PathPrefix, feedSrv)
	mountPortal(mux, devPortal)
	mux.Handle("/", console.New(console.Config{API: api, Logger: log.With("component", "console"), SSO: opts.OIDC.Issuer != ""}))
	adminSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig: adminTLS}
	adminSrv.RegisterOnShutdown(feedSrv.shutdown)

	wg.Go(func() {
		serve := adminSrv.Serve
		if adminTLS != nil {
			serve = func(ln net.Listener) error { return adminSrv.ServeTLS(ln, "", "") }
		}
		if err := serve(adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fail(fmt.Errorf("admin server: %w", err))
		}
	})
	gatewayStopped := make(chan struct{})
	wg.Go(func() {
		defer close(gatewayStopped)
		err := gateway.Run(ctx, gateway.Options{
			Addr:         opts.GatewayAddr,
			TLSAddr:      opts.GatewayTLS,
			H2C:          opts.GatewayH2C,
			StreamAddrs:  streams,
			StatusAddr:   opts.StatusAddr,
			Groups:       opts.Groups,
			Source:       &storeSource{st: st, keys: keys},
			Logger:       log.With("component", "gateway"),
			DrainTimeout: opts.DrainTimeout,
			Engine:       opts.Engine,
			Limits:       gateway.Limits{MaxBodyBytes: opts.MaxBodyBytes},
			RedisURL:     opts.RedisURL,
			RedisPrefix:  opts.RedisPrefix,
			OnListen:     ready.listening,
			OnApply:      func(rev int64) { embedded.apply(rev); ready.applied(rev) },
			Totals:       embedded.totals,
			Upstreams:    embedded.upstreams,
			Splits:       figures.splits,
			ServiceStats: figures.services,
			TokenKey:     keys.Derive(credential.PurposeOAuth2Tokens),
			Profiling:    opts.Profiling,
			Quotas:       quotas,
			Telemetry:    tel,
		})
		if err != nil {
			fail(fmt.Errorf("gateway: %w", err))
		}
	})
	alerts := newAlertEvaluator(st, figures, log.With("component", "alerts"))
	guard := &release.Guard{Store: st, Figures: figures, Logger: log.With("component", "canary-guard")}
	hooks := &webhook.Deliverer{Store: st, Keys: keys, Logger: log.With("component", "webhooks"),
		PrivateNetworks: opts.WebhookPrivateNetworks}
	// Every control plane writes the calls it receives.
	wg.Go(func() { calls.run(ctx, gatewayStopped) })
	// Periodic jobs run on one control plane of a shared database at a
	// time (store.Lead); on SQLite, here.
	wg.Go(func() { st.Lead(ctx, "canary-guard", func(ctx context.Context) { _ = guard.Run(ctx) }) })
	// One job for the housekeeping: on PostgreSQL each job holds a
	// connection of the write pool on the control plane that runs it.
	wg.Go(func() {
		st.Lead(ctx, "housekeeping", func(ctx context.Context) {
			var jobs sync.WaitGroup
			jobs.Go(func() { embedded.expire(ctx) })
			jobs.Go(func() { figures.retain(ctx, st, log.With("component", "figures")) })
			jobs.Go(func() { hooks.Run(ctx) })
			jobs.Go(func() {
				retainCallLogs(ctx, st, callLogRetention{keep: opts.CallLogRetention, maxPerGroup: opts.CallLogMaxPerGroup},
					log.With("component", "call-log"))
			})
			jobs.Go(func() { alerts.run(ctx) })
			if apiCfg.AuditRetention > 0 {
				jobs.Go(func() { retainAudit(ctx, apiCfg, log.With("component", "audit")) })
			}
			jobs.Wait()
		})
	})
	if portalLn != nil {
		wg.Go(func() {
			if err := servePortal(ctx, portalLn, devPortal, log.With("component", "portal")); err != nil {
				fail(err)
			}
		})
	}
	wg.Go(func() { figures.follow(ctx, st, log.With("component", "figures")) })
	wg.Go(func() { embedded.run(ctx, ready) })
	// The gateway names the addresses it bound in its own line ("gateway
	// listening"): opts carries only what was asked for, port 0 included.
	log.Info("portico control plane started", "admin", adminLn.Addr().String(),
		"groups", strings.Join(opts.Groups, ","), "version", opts.Version)
	scheme := "http"
	if adminTLS != nil {
		scheme = "https"
	}
	fmt.Fprintf(opts.Stdout, "Portico admin API: %[1]s://%[2]s/api/v1 (console at %[1]s://%[2]s/, developer portal at %[1]s://%[2]s/portal/)\n", scheme, displayAddr(adminLn.Addr().String()))
	if portalLn != nil {
		fmt.Fprintf(opts.Stdout, "Developer portal: http://%s/portal/\n", displayAddr(portalLn.Addr().String()))
	}

	<-ctx.Done()
	shutdownCtx, stop := context.WithTimeout(context.Background(), opts.DrainTimeout)
	defer stop()
	if err := adminSrv.Shutdown(shutdownCtx); err != nil {
		log.Warn("admin server did not drain in time", "err", err)
	}
	wg.Wait()
	return firstEr
}

func (o *Options) defaults() {
	if o.AdminAddr == "" {
		o.AdminAddr = DefaultAdminAddr
	}
	if o.GatewayAddr == "" {
		o.GatewayAddr = DefaultGatewayAddr
	}
	if o.StatusAddr == "" {
		o.StatusAddr = DefaultStatusAddr
	}
	if o.DataDir == "" {
		o.DataDir = "./portico-data"
	}
	if len(o.Groups) == 0 {
		o.Groups = []string{spec.DefaultGroup}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.CallLogRetention == 0 {
		o.CallLogRetention = DefaultCallLogRetention
	}
	if o.CallLogMaxPerGroup == 0 {
		o.CallLogMaxPerGroup = DefaultCallLogMaxPerGroup
	}
}

func openStore(ctx context.Context, opts Options) (store.Store, error) {
	l := store.Location{URL: opts.StoreURL, Dir: opts.DataDir}
	st, err := store.Open(ctx, l, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", l, err)
	}
	return st, nil
}

// displayAddr turns ":9180" or "[::]:9180" into something a person can click.
func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// adminTLS is the admin address's TLS configuration, or nil without
// --admin-tls-cert and --admin-tls-key. The certificate is read at start:
// a renewed one needs a restart.
func (o *Options) adminTLS() (*tls.Config, error) {
	switch {
	case o.AdminTLSCert == "" && o.AdminTLSKey == "":
		return nil, nil
	case o.AdminTLSCert == "" || o.AdminTLSKey == "":
		return nil, errors.New("--admin-tls-cert and --admin-tls-key go together")
	}
	pair, err := tls.LoadX509KeyPair(o.AdminTLSCert, o.AdminTLSKey)
	if err != nil {
		return nil, fmt.Errorf("the admin address's certificate (--admin-tls-cert, --admin-tls-key): %w", err)
	}
	c := gateway.ServerTLSConfig()
	c.Certificates = []tls.Certificate{pair}
	return c, nil
}
