// Package adminapi serves Portico's admin REST API under /api/v1: bearer
// authentication, one store transaction per request (changes together with
// their audit event), strict JSON decoding, RFC 9457 problem answers and an
// OpenAPI 3.1 description generated from the same route table that
// registers the handlers.
package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Prefix is where the admin API lives on the control plane.
const Prefix = "/api/v1"

// Config configures New.
type Config struct {
	Store        store.Store
	Logger       *slog.Logger
	Version      string
	TokenTTL     time.Duration // lifetime of login tokens; default 24h
	MaxBodyBytes int64         // request body limit; default 10 MiB
	// MaxImportBytes limits an OpenAPI document sent to …/services/import;
	// default 32 MiB (GitHub's published REST description is 13 MB).
	MaxImportBytes int64
	// Secrets seals the HMAC and JWT secrets of credentials; nil: a random
	// key that dies with the process (tests), with a warning.
	Secrets *credential.Keyring
	// Figures, when set, gives GET …/canary the live figures of running
	// canaries.
	Figures CanaryFigures
	// Stats, when set, gives GET …/services/{s}/stats its figures.
	Stats ServiceStats
	// Gateway, when set, is where POST …/services/{s}/debug and the
	// catalog's try-it send requests.
	Gateway GatewayURL
	// Events, when set, queues the API market's approval events for the
	// projects' webhooks (webhook.Enqueue).
	Events MarketEvents
	// QuotaUsage, when set, answers GET /subscriptions/{id}/usage.
	QuotaUsage QuotaUsage
	// Signup lets anyone create an account (POST /auth/signup), as a
	// developer portal open to the public does.
	Signup bool
	// OIDC, when its Issuer is set, lets users log in through an OpenID
	// Connect provider (oidc.go).
	OIDC OIDCConfig
	// AuditRetention is how long audit events are kept; 0 keeps them
	// forever.
	AuditRetention time.Duration
	// Now is the clock (login lockouts, token expiry); default time.Now.
	Now func() time.Time
	// InstanceOfflineAfter is how long a gateway instance may go without
	// a heartbeat before it is shown offline (lost before that, after
	// three of its intervals); default DefaultInstanceOfflineAfter.
	InstanceOfflineAfter time.Duration
}

// DefaultInstanceOfflineAfter is Config.InstanceOfflineAfter's default.
const DefaultInstanceOfflineAfter = 10 * time.Minute

// server holds what every handler needs.
type server struct {
	store      store.Store
	log        *slog.Logger
	version    string
	ttl        time.Duration
	maxBody    int64
	maxImport  int64
	dummyHash  string // compared against when a user is unknown, so timing tells nothing
	now        func() time.Time
	secrets    *credential.Keyring
	figures    CanaryFigures
	stats      ServiceStats
	gatewayURL GatewayURL
	events     MarketEvents
	quotaUsage QuotaUsage
	signup     bool
	clients    *clientThrottle // failed logins per client address
	hashSlots  hashSlots       // bcrypt comparisons running at once
	dsTests    *rateWindow     // data source connection tests per user
	signups    *rateWindow     // sign-ups per client address
	pruneMu    sync.Mutex
	lastPrune  time.Time // of the failed-login records
	offline    time.Duration
	oidc       *oidcState // single sign-on (oidc.go); never nil after New
}

// call is one request as a handler sees it.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	user spec.User       // zero for public endpoints
	who  *rbac.Principal // nil for public endpoints
	s    *server
}

func (c *call) ctx() context.Context    { return c.r.Context() }
func (c *call) path(name string) string { return c.r.PathValue(name) }

// New returns the handler of the admin API. It serves full paths beginning
// with /api/v1/.
func New(cfg Config) http.Handler {
	s := &server{
		store:      cfg.Store,
		log:        cfg.Logger,
		version:    cfg.Version,
		ttl:        cfg.TokenTTL,
		maxBody:    cfg.MaxBodyBytes,
		maxImport:  cfg.MaxImportBytes,
		figures:    cfg.Figures,
		stats:      cfg.Stats,
		gatewayURL: cfg.Gateway,
		events:     cfg.Events,
		quotaUsage: cfg.QuotaUsage,
		signup:     cfg.Signup,
		now:        func() time.Time { return time.Now().UTC() },
		clients:    newClientThrottle(),
		hashSlots:  newHashSlots(),
		dsTests:    newRateWindow(dataSourceTestLimit, dataSourceTestPeriod),
		signups:    newRateWindow(signupLimit, signupPeriod),
	}
	if cfg.Now != nil {
		s.now = func() time.Time { return cfg.Now().UTC() }
	}
	s.oidc = newOIDCState(cfg.OIDC)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.secrets = cfg.Secrets; s.secrets == nil {
		s.log.Warn("admin api: no secret key configured; credential secrets sealed now cannot be opened after a restart")
		s.secrets = credential.NewRandomKeyring()
	}
	if s.ttl <= 0 {
		s.ttl = 24 * time.Hour
	}
	if s.offline = cfg.InstanceOfflineAfter; s.offline <= 0 {
		s.offline = DefaultInstanceOfflineAfter
	}
	if s.maxBody <= 0 {
		s.maxBody = 10 << 20
	}
	if s.maxImport <= 0 {
		s.maxImport = 32 << 20
	}
	if h, err := HashPassword("portico-timing-equaliser"); err == nil {
		s.dummyHash = h
	}
	eps := s.endpoints()
	doc := buildOpenAPI(eps, s.version)
	mux := http.NewServeMux()
	for _, ep := range eps {
		mux.Handle(ep.method+" "+Prefix+ep.path, s.wrap(ep, doc))
	}
	return problemFallback{mux}
}

// wrap turns a table entry into an http.Handler: authentication, the
// handler, then the answer (JSON with the entry's status, 204, or a problem).
func (s *server) wrap(ep endpoint, doc []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r, s: s}
		defer s.recoverPanic(w, r)
		if !ep.public {
			u, who, err := s.authenticate(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			c.user, c.who = u, who
			if err := c.authorize(ep); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		// Nothing is accepted and ignored: a query parameter the endpoint
		// does not read, or a body sent to one that takes none, is a 400.
		if err := checkQuery(ep, r); err != nil {
			s.writeError(w, r, err)
			return
		}
		if ep.req == nil && !ep.rawBody {
			if err := c.noBody(); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if ep.openapi {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(doc)
			return
		}
		out, err := ep.handle(c)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if ep.status == http.StatusNoContent {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if raw, ok := out.(rawAnswer); ok {
			writeRaw(w, ep.status, raw)
			return
		}
		writeJSON(w, ep.status, out)
	})
}

// recoverPanic answers a handler's panic as a 500 problem and logs it, so
// that a bug costs one request its answer, not its connection.
func (s *server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.log.Error("admin api handler panicked", "method", r.Method, "path", r.URL.Path,
		"panic", v, "stack", string(debug.Stack()))
	writeProblem(w, problem{Type: typeInternal, Title: "Internal Server Error", Status: http.StatusInternalServerError,
		Detail: "an internal error occurred; it has been logged"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the status is sent; a failed write has no one left to tell
}

// tx runs fn in one store transaction.
func (c *call) tx(fn func(tx store.Tx) error) error {
	return c.s.store.Tx(c.ctx(), fn)
}

// view runs fn in a read-only store transaction, for handlers that only
// read: it does not queue behind writes (publishes, imports) for the write
// lock, and a write slipped into fn fails instead of committing unguarded.
func (c *call) view(fn func(tx store.Tx) error) error {
	return c.s.store.View(c.ctx(), fn)
}

// problemFallback answers the mux's own 404 and 405 as problem+json.
type problemFallback struct{ mux *http.ServeMux }

func (p problemFallback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := p.mux.Handler(r); pattern != "" {
		p.mux.ServeHTTP(w, r)
		return
	}
	p.mux.ServeHTTP(&fallbackWriter{ResponseWriter: w, r: r}, r)
}

// fallbackWriter replaces the plain-text body of the mux's 404/405 answers.
type fallbackWriter struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (f *fallbackWriter) WriteHeader(status int) {
	switch status {
	case http.StatusNotFound:
		f.replaced = true
		writeProblem(f.ResponseWriter, problem{Type: typeNotFound, Title: "Not Found", Status: status,
			Detail: fmt.Sprintf("no endpoint %s %s", f.r.Method, f.r.URL.Path)})
	case http.StatusMethodNotAllowed:
		f.replaced = true
		writeProblem(f.ResponseWriter, problem{Type: typeMethod, Title: "Method Not Allowed", Status: status,
			Detail: fmt.Sprintf("%s is not allowed on %s", f.r.Method, f.r.URL.Path)})
	default:
		f.ResponseWriter.WriteHeader(status)
	}
}

func (f *fallbackWriter) Write(b []byte) (int, error) {
	if f.replaced {
		return len(b), nil
	}
	return f.ResponseWriter.Write(b)
}
