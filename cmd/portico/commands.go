package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/controlplane"
	"github.com/portico-gw/portico/internal/dataplane"
	"github.com/portico-gw/portico/internal/demobackend"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
	}
	return v
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "portico %s (%s %s/%s)\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		},
	}
}

func openAPICmd() *cobra.Command {
	return &cobra.Command{
		Use:   "openapi",
		Short: "Print the admin API's OpenAPI 3.1 document",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(adminapi.OpenAPIDocument(buildVersion()))
			return err
		},
	}
}

func serverCmd() *cobra.Command {
	var (
		o                   controlplane.Options
		logLevel, logFormat string
		drain               time.Duration
		readOIDC            func() error // the --oidc-* flags that need parsing
		readTelemetry       func() error // the access-log and tracing flags
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane (admin API, console) with an embedded gateway",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), envPrefix); err != nil {
				return err
			}
			if err := readOIDC(); err != nil {
				return err
			}
			if err := readTelemetry(); err != nil {
				return err
			}
			log, err := newLogger(logLevel, logFormat)
			if err != nil {
				return err
			}
			o.Logger, o.Stdout, o.Version, o.DrainTimeout = log, cmd.OutOrStdout(), buildVersion(), drain
			o.AdminPassword = os.Getenv("PORTICO_ADMIN_PASSWORD")
			return controlplane.Run(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.AdminAddr, "admin-addr", controlplane.DefaultAdminAddr, "admin API and console address (loopback by default; :9180 serves every interface)")
	f.StringVar(&o.AdminTLSCert, "admin-tls-cert", "", "PEM certificate chain: serve the admin address (API, console, gateways' feed) over HTTPS; with --admin-tls-key; read at start")
	f.StringVar(&o.AdminTLSKey, "admin-tls-key", "", "PEM private key of --admin-tls-cert")
	f.StringVar(&o.GatewayAddr, "gateway-addr", controlplane.DefaultGatewayAddr, "gateway (data plane) address")
	f.StringVar(&o.GatewayTLS, "gateway-tls-addr", "", "the gateway's HTTPS address (e.g. :9443), serving the certificates of its groups (/gateway-groups/{g}/certificates) by SNI; empty: none")
	f.BoolVar(&o.GatewayH2C, "gateway-h2c", false, "the gateway's plain address also speaks HTTP/2 without TLS (prior knowledge), for gRPC clients without TLS")
	f.StringSliceVar(&o.GatewayStreams, "gateway-stream-addr", nil, "a stream (TCP) listener of the gateway, NAME=ADDR (redis=:6380), which stream services' routes name (repeatable, or comma-separated)")
	f.StringVar(&o.StatusAddr, "status-addr", controlplane.DefaultStatusAddr, "status address: /metrics, /healthz, /readyz (loopback by default)")
	f.BoolVar(&o.Profiling, "profiling", false, "also serve Go's runtime profiles on the status address (/debug/pprof/: heap, CPU, goroutines); keep that address private")
	f.StringVar(&o.DataDir, "data-dir", "./portico-data", "directory of the embedded store")
	f.StringVar(&o.StoreURL, "store", "", "store URL: postgres://user@host:5432/db for PostgreSQL; empty: the embedded SQLite store in --data-dir (which holds the secret key either way)")
	f.StringVar(&o.RedisURL, "redis", "", "Redis URL for cluster-wide rate limits (redis://…): limit-count policy redis counts there")
	f.StringVar(&o.RedisPrefix, "redis-prefix", "portico:", "prefix of every Redis key, to keep installs sharing one Redis apart")
	f.StringSliceVar(&o.Groups, "group", []string{"default"}, "gateway group the embedded gateway serves (repeatable; created when missing)")
	f.StringVar(&o.Engine, "engine", "fast", "gateway engine: fast (HTTP/1.1 hot path on fasthttp) or nethttp (net/http)")
	f.Int64Var(&o.MaxBodyBytes, "max-body-bytes", 0, "largest request body the gateway accepts, in bytes (413 above); 0: no limit (routes can set request-size-limit)")
	f.DurationVar(&o.InstanceOfflineAfter, "instance-offline-after", adminapi.DefaultInstanceOfflineAfter, "a gateway instance without a heartbeat for this long shows offline (lost after three missed heartbeats); an hour later it is removed")
	f.DurationVar(&o.CallLogRetention, "call-log-retention", controlplane.DefaultCallLogRetention, "keep the calls the gateways answered this long (a Go duration, at least 1m) for the call log's search; pruned every minute by one control plane of the store")
	f.IntVar(&o.CallLogMaxPerGroup, "call-log-max-per-group", controlplane.DefaultCallLogMaxPerGroup, "keep at most this many calls of each gateway group in the call log, the newest")
	f.DurationVar(&o.AuditRetention, "audit-retention", 0, "delete audit events older than this (a Go duration, at least 24h: 9600h is 400 days), checked every hour by one control plane of the store; 0 keeps them forever")
	f.BoolVar(&o.WebhookPrivateNetworks, "webhook-private-networks", false, "deliver projects' webhooks to loopback and private addresses too (127.0.0.0/8, 10.0.0.0/8, 192.168.0.0/16, …), for receivers on this network; link-local and cloud metadata addresses are refused always")
	f.StringVar(&o.Portal.Addr, "portal-addr", "", "also serve the developer portal alone on this address (e.g. :9280, reachable by developers while --admin-addr stays private); it is always at /portal/ on the admin address")
	f.BoolVar(&o.Portal.Signup, "portal-signup", false, "let anyone create an account (system role user) in the developer portal (POST /api/v1/auth/signup); otherwise accounts are made by administrators")
	f.StringVar(&o.Portal.Title, "portal-title", "", "the developer portal's title (default \"Developer Portal\")")
	f.StringVar(&o.Portal.Logo, "portal-logo", "", "a PNG or SVG file shown in the developer portal's header")
	f.StringVar(&o.Portal.PrimaryColor, "portal-color", "", "the developer portal's primary colour, CSS hex (#1d4ed8)")
	f.StringVar(&o.Portal.AccentColor, "portal-accent", "", "the developer portal's accent colour (links, highlights), CSS hex")
	f.StringVar(&o.ReadyFile, "ready-file", "", "once ready, write the bound addresses there as JSON (admin, gateway, status), so a starter can pass port 0 addresses; removed at exit")
	f.DurationVar(&drain, "drain-timeout", 30*time.Second, "how long SIGTERM waits for in-flight requests")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	readOIDC = oidcFlags(f, &o.OIDC)
	readTelemetry = telemetryFlags(f, &o.Telemetry)
	annotateEnv(f, envPrefix)
	return cmd
}

func gatewayCmd() *cobra.Command {
	var (
		o                   dataplane.Options
		logLevel, logFormat string
		readTelemetry       func() error
	)
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Run a stand-alone gateway of one group, fed by a control plane (keeps serving through its outages)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), gatewayEnvPrefix); err != nil {
				return err
			}
			if err := readTelemetry(); err != nil {
				return err
			}
			log, err := newLogger(logLevel, logFormat)
			if err != nil {
				return err
			}
			o.Logger, o.Version = log, buildVersion()
			return dataplane.Run(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ControlPlane, "control-plane", "", "the control plane's admin address, http://host:9180 (it serves the configuration feed there); control planes sharing a database: several, comma-separated, used in turn when one fails")
	f.StringVar(&o.Group, "group", "", "the gateway group this gateway serves")
	f.StringVar(&o.Token, "token", "", "a join token of the group (POST /api/v1/gateway-groups/{group}/tokens); prefer the environment to the command line")
	f.StringVar(&o.CacheDir, "cache-dir", dataplane.DefaultCacheDir, "where applied snapshots are kept, to start serving without the control plane")
	f.StringVar(&o.ControlPlaneCA, "control-plane-ca", "", "PEM file of the CAs trusted for an https control plane (a private CA) instead of the system's")
	f.StringVar(&o.SecretKeyFile, "secret-key-file", "", "a copy of the control plane's secret key (<data-dir>/secret.key), to open HMAC/JWT secrets and data-source passwords; PORTICO_SECRET_KEY wins")
	f.StringVar(&o.GatewayAddr, "gateway-addr", dataplane.DefaultGatewayAddr, "gateway (data plane) address")
	f.StringVar(&o.GatewayTLS, "gateway-tls-addr", "", "HTTPS address (e.g. :9443), serving the group's certificates (/gateway-groups/{group}/certificates) by SNI; needs --secret-key-file to open their keys; empty: none")
	f.BoolVar(&o.GatewayH2C, "gateway-h2c", false, "the plain address also speaks HTTP/2 without TLS (prior knowledge), for gRPC clients without TLS")
	f.StringSliceVar(&o.GatewayStreams, "gateway-stream-addr", nil, "a stream (TCP) listener, NAME=ADDR (redis=:6380), which the group's stream services' routes name (repeatable, or comma-separated)")
	f.StringVar(&o.StatusAddr, "status-addr", dataplane.DefaultStatusAddr, "status address: /metrics, /healthz, /readyz (loopback by default)")
	f.BoolVar(&o.Profiling, "profiling", false, "also serve Go's runtime profiles on the status address (/debug/pprof/: heap, CPU, goroutines); keep that address private")
	f.StringVar(&o.Engine, "engine", "fast", "gateway engine: fast (HTTP/1.1 hot path on fasthttp) or nethttp (net/http)")
	f.Int64Var(&o.MaxBodyBytes, "max-body-bytes", 0, "largest request body accepted, in bytes (413 above); 0: no limit")
	f.StringVar(&o.RedisURL, "redis", "", "Redis URL for cluster-wide rate limits (redis://…)")
	f.StringVar(&o.RedisPrefix, "redis-prefix", "portico:", "prefix of every Redis key")
	f.DurationVar(&o.PollWait, "poll-wait", 30*time.Second, "how long one poll of the feed waits for a change (at most 60s)")
	f.DurationVar(&o.Heartbeat, "heartbeat", 10*time.Second, "how often it reports itself to the control plane (GET /api/v1/gateway-groups/{group}/instances); lost after three missed")
	f.StringVar(&o.InstanceID, "instance-id", "", "how it is known among the group's instances (letters, digits, . _ -); default: the host name and random characters")
	f.DurationVar(&o.DrainTimeout, "drain-timeout", 30*time.Second, "how long SIGTERM waits for in-flight requests")
	f.StringVar(&o.ReadyFile, "ready-file", "", "once serving, write the bound addresses there as JSON (gateway, status); removed at exit")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	readTelemetry = telemetryFlags(f, &o.Telemetry)
	annotateEnv(f, gatewayEnvPrefix)
	return cmd
}

func demoBackendCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "demo-backend",
		Short: "Run an httpbin-like echo server (/anything, /status/{code}, /delay/{s}, /headers)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), demoEnvPrefix); err != nil {
				return err
			}
			log, err := newLogger("info", "text")
			if err != nil {
				return err
			}
			return demobackend.Run(cmd.Context(), addr, log, func(a string) {
				fmt.Fprintf(cmd.OutOrStdout(), "demo backend listening on http://%s\n", a)
			})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", ":8080", "listen address")
	annotateEnv(cmd.Flags(), demoEnvPrefix)
	return cmd
}
