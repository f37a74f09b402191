package proxycache

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Config is the plugin configuration. Every field changes what is cached
// or how; the routing compiler refuses unknown ones.
type Config struct {
	// Strategy is memory (entries in this gateway's memory, the default)
	// or redis (entries in the gateway's --redis, shared by every gateway
	// of the group; without --redis the gateway keeps them in memory).
	Strategy string `json:"strategy,omitempty" enum:"memory,redis" default:"memory"`
	// CacheMethod are the methods answered from the cache (default GET
	// and HEAD). HEAD is answered from GET's entries, so it needs GET.
	CacheMethod []string `json:"cache_method,omitempty"`
	// CacheHTTPStatus are the backend statuses stored (default 200, 301,
	// 404).
	CacheHTTPStatus []int `json:"cache_http_status,omitempty"`
	// TTL is how long an answer is served, in seconds (default 300); with
	// HonorCacheControl, only for answers whose headers say nothing.
	TTL int64 `json:"ttl,omitempty"`
	// HonorCacheControl lets the backend's Cache-Control (s-maxage,
	// max-age, no-store, no-cache, private) and Expires decide.
	HonorCacheControl bool `json:"honor_cache_control,omitempty"`
	// CacheKey chooses what of the request, beyond method, host and path,
	// makes the key.
	CacheKey KeyConfig `json:"cache_key,omitzero"`
	// Bypass sends matching requests to the backend, neither served from
	// nor stored in the cache.
	Bypass BypassConfig `json:"bypass,omitzero"`
	// CacheAuthenticated lets requests that carry credentials be cached
	// (each consumer apart; without a consumer, each Authorization and
	// Cookie value apart). Off, they always go to the backend.
	CacheAuthenticated bool `json:"cache_authenticated,omitempty"`
	// Vary are request headers the backend's answers may vary on: they
	// are part of the key, and an answer whose Vary names another header
	// (or *) is not stored. Default ["Accept-Encoding"]; [] for none.
	Vary *[]string `json:"vary,omitempty"`
	// MaxEntrySize bounds one stored answer in bytes, body and headers
	// (default 1 MiB); larger answers pass uncached.
	MaxEntrySize int64 `json:"max_entry_size,omitempty"`
	// MemorySize bounds, in bytes, the entries this configuration keeps
	// in a gateway's memory (default 64 MiB); the least recently used go
	// first.
	MemorySize int64 `json:"memory_size,omitempty"`
}

// KeyConfig chooses the request's parts in the key.
type KeyConfig struct {
	// Query are the query parameters in the key; absent: the whole query,
	// normalised (parameters sorted by name, escapes decoded); []: none.
	Query *[]string `json:"query,omitempty"`
	// Headers are request headers in the key.
	Headers []string `json:"headers,omitempty"`
}

// BypassConfig says which requests bypass the cache.
type BypassConfig struct {
	// Headers: a request carrying one of them with a value other than ""
	// or "0" bypasses.
	Headers []string `json:"headers,omitempty"`
	// ClientNoCache: a client's Cache-Control: no-cache, no-store or
	// max-age=0, or Pragma: no-cache, bypasses. Default: as
	// honor_cache_control (off, clients cannot make every request reach
	// the backend).
	ClientNoCache *bool `json:"client_no_cache,omitempty"`
}

// Limits of the configuration.
const (
	defaultTTL        = 300
	maxTTL            = 365 * 24 * 3600
	defaultMaxEntry   = 1 << 20
	maxMaxEntry       = 64 << 20
	defaultMemorySize = 64 << 20
	maxMemorySize     = 16 << 30
	maxKeyHeaders     = 16
	maxKeyQuery       = 64
)

// settings are a compiled Config.
type settings struct {
	redis         bool
	get, head     bool
	statuses      []int
	ttl           time.Duration
	honor         bool
	query         []string // nil with allQuery
	allQuery      bool
	keyHeaders    []string // canonical
	vary          []string // canonical
	bypassHeaders []string // canonical
	clientNoCache bool
	authenticated bool
	maxEntry      int64
	memory        int64
}

func compile(cfg Config) (*settings, error) {
	s := &settings{ttl: defaultTTL * time.Second, honor: cfg.HonorCacheControl, authenticated: cfg.CacheAuthenticated,
		maxEntry: defaultMaxEntry, memory: defaultMemorySize}
	switch cfg.Strategy {
	case "", "memory":
	case "redis":
		s.redis = true
	default:
		return nil, fmt.Errorf("strategy %q is not memory or redis", cfg.Strategy)
	}
	methods := cfg.CacheMethod
	if methods == nil {
		methods = []string{http.MethodGet, http.MethodHead}
	}
	if len(methods) == 0 {
		return nil, errors.New("cache_method: name GET, HEAD or both (or leave it out)")
	}
	for i, m := range methods {
		switch m {
		case http.MethodGet:
			s.get = true
		case http.MethodHead:
			s.head = true
		default:
			return nil, fmt.Errorf("cache_method[%d]: %q cannot be cached; GET and HEAD can", i, m)
		}
	}
	if s.head && !s.get {
		return nil, errors.New("cache_method: HEAD is answered from the entries of GET; list GET too")
	}
	s.statuses = cfg.CacheHTTPStatus
	if s.statuses == nil {
		s.statuses = []int{200, 301, 404}
	}
	if len(s.statuses) == 0 {
		return nil, errors.New("cache_http_status: name at least one status (or leave it out)")
	}
	for i, st := range s.statuses {
		if st < 200 || st > 599 || st == http.StatusNoContent || st == http.StatusPartialContent || st == http.StatusNotModified {
			return nil, fmt.Errorf("cache_http_status[%d]: %d cannot be cached (a final status from 200 to 599, not 204, 206 or 304)", i, st)
		}
	}
	s.statuses = slices.Clone(s.statuses)
	if cfg.TTL != 0 {
		if cfg.TTL < 1 || cfg.TTL > maxTTL {
			return nil, fmt.Errorf("ttl: must be between 1 and %d seconds, got %d", maxTTL, cfg.TTL)
		}
		s.ttl = time.Duration(cfg.TTL) * time.Second
	}
	var err error
	if q := cfg.CacheKey.Query; q != nil {
		if len(*q) > maxKeyQuery {
			return nil, fmt.Errorf("cache_key.query: at most %d parameters", maxKeyQuery)
		}
		for i, name := range *q {
			if name == "" {
				return nil, fmt.Errorf("cache_key.query[%d]: empty parameter name", i)
			}
		}
		s.query = slices.Clone(*q)
	} else {
		s.allQuery = true
	}
	if s.keyHeaders, err = headerNames("cache_key.headers", cfg.CacheKey.Headers); err != nil {
		return nil, err
	}
	vary := []string{"Accept-Encoding"}
	if cfg.Vary != nil {
		vary = *cfg.Vary
	}
	if s.vary, err = headerNames("vary", vary); err != nil {
		return nil, err
	}
	if s.bypassHeaders, err = headerNames("bypass.headers", cfg.Bypass.Headers); err != nil {
		return nil, err
	}
	s.clientNoCache = s.honor
	if cfg.Bypass.ClientNoCache != nil {
		s.clientNoCache = *cfg.Bypass.ClientNoCache
	}
	if cfg.MaxEntrySize != 0 {
		if cfg.MaxEntrySize < 1024 || cfg.MaxEntrySize > maxMaxEntry {
			return nil, fmt.Errorf("max_entry_size: must be between 1024 and %d bytes, got %d", maxMaxEntry, cfg.MaxEntrySize)
		}
		s.maxEntry = cfg.MaxEntrySize
	}
	if cfg.MemorySize != 0 {
		if cfg.MemorySize < 64<<10 || cfg.MemorySize > maxMemorySize {
			return nil, fmt.Errorf("memory_size: must be between %d and %d bytes, got %d", 64<<10, int64(maxMemorySize), cfg.MemorySize)
		}
		s.memory = cfg.MemorySize
	}
	if s.maxEntry > s.memory {
		return nil, fmt.Errorf("max_entry_size (%d) is larger than memory_size (%d)", s.maxEntry, s.memory)
	}
	return s, nil
}

// headerNames checks and canonicalises a list of header names.
func headerNames(field string, names []string) ([]string, error) {
	if len(names) > maxKeyHeaders {
		return nil, fmt.Errorf("%s: at most %d headers", field, maxKeyHeaders)
	}
	var out []string
	for i, n := range names {
		if !plugin.ValidHeaderName(n) {
			return nil, fmt.Errorf("%s[%d]: %q is not a header name", field, i, n)
		}
		c := http.CanonicalHeaderKey(n)
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *settings) cachesStatus(status int) bool { return slices.Contains(s.statuses, status) }
