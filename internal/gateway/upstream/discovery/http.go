package discovery

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/portico-gw/portico/internal/spec"
)

// MaxBody bounds every registry response the clients read, so that a
// registry (or whatever answers at its address) cannot make the gateway
// buffer without end.
const MaxBody = 8 << 20

// ErrBodyTooLarge is the error of a response larger than MaxBody.
var ErrBodyTooLarge = fmt.Errorf("response larger than %d bytes", MaxBody)

// HTTPTimeout is the client-level timeout of every request to an HTTP
// registry: a blocking query of BlockingWait, plus the jitter Consul adds to
// a wait (up to wait/16), plus time for the answer itself.
const HTTPTimeout = BlockingWait + BlockingWait/16 + 10*time.Second

// maxRedirects bounds the redirects a client follows (on its own host only).
const maxRedirects = 5

// HTTP is what the clients of the HTTP registries share: the registry's
// base URL and an http.Client that trusts Config.CA, times out, never
// follows a redirect to another host and does not use a proxy (registries
// are reached directly, as the gateway reaches its nodes).
type HTTP struct {
	Registry string   // "consul", "nacos"…, the start of every error
	Base     *url.URL // scheme, host and base path without a trailing slash
	Client   *http.Client
}

// NewHTTP checks c.Address and c.CA and builds the client of registry.
func NewHTTP(registry string, c Config) (*HTTP, error) {
	base, err := parseBase(c.Address)
	if err != nil {
		return nil, fmt.Errorf("%s: address %q: %w", registry, c.Address, err)
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CA != "" {
		if base.Scheme != "https" {
			// Nothing is accepted and ignored: a CA for a plain-HTTP
			// registry is a mistake in the configuration.
			return nil, fmt.Errorf("%s: a CA is given but the address %q is not https", registry, c.Address)
		}
		if tlsConf.RootCAs, err = spec.ParseCABundle(c.CA); err != nil {
			return nil, fmt.Errorf("%s: ca: %w", registry, err)
		}
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: HTTPTimeout, // a blocking query answers only at its end
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}
	client := &http.Client{
		Transport: transport,
		Timeout:   HTTPTimeout,
		// Tokens travel in headers (X-Consul-Token) and queries (Nacos'
		// accessToken) that Go would carry to any host a redirect names.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if first := via[0].URL; req.URL.Host != first.Host || req.URL.Scheme != first.Scheme {
				return fmt.Errorf("redirect to %s://%s refused: a registry client follows redirects only on its own host", req.URL.Scheme, req.URL.Host)
			}
			return nil
		},
	}
	return &HTTP{Registry: registry, Base: base, Client: client}, nil
}

// parseBase accepts "http(s)://host[:port][/base]" and nothing else: the
// credentials have their own fields, and a query or fragment would be lost.
func parseBase(address string) (*url.URL, error) {
	if address == "" {
		return nil, errors.New("is required")
	}
	u, err := url.Parse(address)
	if err != nil {
		return nil, fmt.Errorf("must be an http:// or https:// URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("must be an http:// or https:// URL")
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("has no host")
	case u.User != nil:
		return nil, errors.New("must not hold credentials; use the username, password or token")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("must not have a query or fragment")
	}
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), strings.TrimSuffix(u.RawPath, "/")
	return u, nil
}

// URL is the address of path (already escaped, starting with "/") under the
// base URL, with query q.
func (h *HTTP) URL(path string, q url.Values) string {
	s := h.Base.Scheme + "://" + h.Base.Host + h.Base.EscapedPath() + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// HTTPError is a registry's answer with a status other than 2xx.
type HTTPError struct {
	StatusCode int
	Body       string // the start of the body, printable characters only
}

func (e *HTTPError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("status %d", e.StatusCode)
	}
	return fmt.Sprintf("status %d: %s", e.StatusCode, e.Body)
}

// NewHTTPError is the error of an answer of status code with body.
func NewHTTPError(code int, body []byte) *HTTPError {
	return &HTTPError{StatusCode: code, Body: snippet(body)}
}

// StatusCode is the status of err's HTTPError, 0 when it has none.
func StatusCode(err error) int {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode
	}
	return 0
}

// Do sends req and reads the whole answer, at most MaxBody bytes, closing
// the body. A status other than 2xx returns the body with an *HTTPError.
func (h *HTTP) Do(req *http.Request) ([]byte, *http.Response, error) {
	resp, err := h.Client.Do(req)
	if err != nil {
		return nil, nil, RedactURL(err)
	}
	defer resp.Body.Close()
	body, err := ReadLimited(resp.Body)
	if err != nil {
		return nil, resp, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return body, resp, NewHTTPError(resp.StatusCode, body)
	}
	return body, resp, nil
}

// Get is Do of a GET of path with query q and headers (one value each).
func (h *HTTP) Get(ctx context.Context, path string, q url.Values, header map[string]string) ([]byte, *http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL(path, q), nil)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return h.Do(req)
}

// RedactURL removes the query and any user info from the URL an error of
// http.Client carries: a query may hold a token (Nacos' accessToken), and
// the error ends up in a Status and in logs.
func RedactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery, u.ForceQuery, u.User = "", false, nil
			ue.URL = u.String()
		} else {
			ue.URL = "(unparsable URL)"
		}
	}
	return err
}

// ReadLimited reads r to its end, failing with ErrBodyTooLarge beyond
// MaxBody bytes.
func ReadLimited(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the response: %w", err)
	}
	if len(body) > MaxBody {
		return nil, ErrBodyTooLarge
	}
	return body, nil
}

// snippet is the start of an error body fit for a log line and a status:
// at most 200 characters, control characters replaced.
func snippet(body []byte) string {
	s := strings.TrimSpace(string(body[:min(len(body), 1024)]))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
}

// WaitSeconds is wait for a registry's query parameter: whole seconds,
// rounded up, at least 1 and at most BlockingWait.
func WaitSeconds(wait time.Duration) int {
	wait = min(max(wait, time.Second), BlockingWait)
	return int((wait + time.Second - 1) / time.Second)
}
