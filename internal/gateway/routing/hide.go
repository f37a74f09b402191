package routing

import (
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/upstream"
)

// identifyingHeaders name the software or machine behind an answer; a
// registered third-party API's callers do not see them.
var identifyingHeaders = []string{
	"Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version",
	"X-Backend-Server", "X-Served-By", "Via",
}

// hideBackend keeps a registered API's address from its callers: it drops
// identifying headers and turns a Location (or Content-Location) that
// points at the backend into the gateway's own path for it (nginx's
// proxy_redirect default).
type hideBackend struct {
	origins  []string // "https://host" and "https://host:port" of every node
	basePath string   // the backend path the route's paths map under
	public   string   // the group prefix the client's path starts with
}

func newHideBackend(pool *upstream.Pool, strip string) *hideBackend {
	h := &hideBackend{basePath: pool.BasePath, public: strip}
	for _, n := range pool.Nodes() {
		origin := pool.Scheme + "://" + n.Host
		h.origins = append(h.origins, origin+":"+strconv.Itoa(n.Port))
		if pool.Scheme == "https" && n.Port == 443 || pool.Scheme == "http" && n.Port == 80 {
			h.origins = append(h.origins, origin)
		}
	}
	return h
}

func (h *hideBackend) OnResponse(ex *plugin.Exchange) {
	for _, name := range identifyingHeaders {
		if ex.ResponseHeader(name) != "" {
			ex.DelResponseHeader(name)
		}
	}
	for _, name := range []string{"Location", "Content-Location"} {
		if loc := ex.ResponseHeader(name); loc != "" {
			if public, ok := h.publicPath(loc); ok {
				ex.SetResponseHeader(name, public)
			}
		}
	}
}

// publicPath maps a backend URL to the path the caller uses for it.
// Other URLs (another site) are left alone.
func (h *hideBackend) publicPath(loc string) (string, bool) {
	rest, ok := "", false
	for _, o := range h.origins {
		if len(loc) >= len(o) && strings.EqualFold(loc[:len(o)], o) {
			if r := loc[len(o):]; r == "" || r[0] == '/' || r[0] == '?' || r[0] == '#' {
				rest, ok = r, true
				break
			}
		}
	}
	if !ok {
		if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
			return "", false // relative to the request, or another site
		}
		rest = loc // an absolute path on the backend
	}
	if rest == "" || rest[0] != '/' {
		rest = "/" + rest
	}
	if h.basePath != "" {
		trimmed, found := strings.CutPrefix(rest, h.basePath)
		if !found || trimmed != "" && trimmed[0] != '/' && trimmed[0] != '?' && trimmed[0] != '#' {
			return "", false // outside what the route exposes
		}
		rest = trimmed
		if rest == "" || rest[0] != '/' {
			rest = "/" + rest
		}
	}
	return h.public + rest, true
}
