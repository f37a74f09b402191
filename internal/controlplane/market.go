package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/gateway/plugin/limitcount"
	"github.com/portico-gw/portico/internal/gateway/plugin/quota"
	"github.com/portico-gw/portico/internal/portal"
	"github.com/portico-gw/portico/internal/spec"
)

// PortalOptions are the developer portal's: where it is served besides
// /portal on the admin address, whether anyone may sign up, its look.
type PortalOptions struct {
	// Addr, when set, serves the portal alone (under /portal/) on its own
	// address, e.g. a public one while the admin address stays private.
	Addr string
	// Signup opens POST /api/v1/auth/signup and the portal's sign-up page.
	Signup bool
	Title  string
	// Logo is a PNG or SVG file shown in the portal's header.
	Logo                      string
	PrimaryColor, AccentColor string
}

// quotaUsage answers the admin API's usage of a subscription from the
// embedded gateway's counts (the whole group's when it counts in Redis)
// or, for a group only stand-alone gateways serve, from the Redis they
// count in (shared, when the control plane has --redis; nil otherwise).
func quotaUsage(report *gateway.QuotaReport, shared *quota.Registry) adminapi.QuotaUsage {
	return func(ctx context.Context, group, subscription string, quotas []spec.Quota, zone *time.Location) ([]adminapi.PeriodUsage, bool) {
		periods, ok := report.Usage(ctx, group, subscription)
		if !ok && shared != nil {
			periods, ok = shared.Usage(ctx, group, subscription, quotas, zone), true
		}
		if !ok {
			return nil, false
		}
		out := make([]adminapi.PeriodUsage, len(periods))
		for i, p := range periods {
			out[i] = adminapi.PeriodUsage{Period: p.Period, Limit: p.Limit, Used: p.Used, Remaining: p.Remaining, ResetsAt: p.ResetsAt}
		}
		return out, true
	}
}

// sharedQuotas is a quota registry reading the Redis the gateways count
// plan quotas in; nil without --redis.
func sharedQuotas(opts Options) (*quota.Registry, func(), error) {
	if opts.RedisURL == "" {
		return nil, func() {}, nil
	}
	r, err := limitcount.NewRedis(opts.RedisURL, opts.RedisPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("--redis: %w", err)
	}
	reg := quota.NewRegistry()
	reg.Use(quota.Options{Remote: r, Logger: opts.Logger})
	return reg, func() { _ = r.Close() }, nil
}

// newPortal makes the developer portal over the admin API in process.
// sso says the admin API's single sign-on is on the portal's origin.
func newPortal(api http.Handler, opts Options, sso bool, log *slog.Logger) (*portal.Portal, error) {
	p, err := portal.New(api, portal.Options{Title: opts.Portal.Title, LogoPath: opts.Portal.Logo,
		PrimaryColor: opts.Portal.PrimaryColor, AccentColor: opts.Portal.AccentColor, Signup: opts.Portal.Signup,
		SSO: sso, SecureCookies: opts.AdminTLSCert != "", Logger: log})
	if err != nil {
		return nil, fmt.Errorf("developer portal (--portal-*): %w", err)
	}
	return p, nil
}

// mountPortal serves the portal under /portal on mux.
func mountPortal(mux *http.ServeMux, p http.Handler) {
	mux.Handle("/portal/", p)
	mux.Handle("/portal", p)
}

// servePortal serves the portal alone on its own address until ctx ends.
func servePortal(ctx context.Context, ln net.Listener, p http.Handler, log *slog.Logger) error {
	mux := http.NewServeMux()
	mountPortal(mux, p)
	mux.Handle("/{$}", http.RedirectHandler("/portal/", http.StatusFound))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("portal server: %w", err)
	}
	return nil
}
