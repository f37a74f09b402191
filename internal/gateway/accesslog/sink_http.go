package accesslog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// HTTP body formats.
const (
	FormatNDJSON = "ndjson" // one JSON object per line (Vector, Loki via Vector, Elasticsearch-style ingest)
	FormatJSON   = "json"   // one JSON array of objects
)

// HTTPOptions are an HTTP sink's endpoint and request shape.
type HTTPOptions struct {
	URL     string // without the sink's own parameters
	Format  string // FormatNDJSON or FormatJSON
	Timeout time.Duration
	Header  http.Header
	// RetryDelay is the wait before the one retry of a failed POST
	// (default 1 s).
	RetryDelay time.Duration
}

const (
	defaultHTTPTimeout = 5 * time.Second
	defaultRetryDelay  = time.Second
)

func parseHTTPSink(s string) (SinkConfig, error) {
	u, err := url.Parse(s)
	if err != nil {
		return SinkConfig{}, fmt.Errorf("url: %w", err)
	}
	if u.Host == "" {
		return SinkConfig{}, errors.New("url: missing host")
	}
	if u.Fragment != "" {
		return SinkConfig{}, errors.New("url: a fragment is not sent, remove it")
	}
	q, err := parseParams(u.RawQuery, append([]string{"format", "timeout", "header"}, commonParams...), "header")
	if err != nil {
		return SinkConfig{}, err
	}
	c := SinkConfig{Kind: KindHTTP, HTTP: HTTPOptions{Format: FormatNDJSON, Timeout: defaultHTTPTimeout}}
	if q.has("format") {
		switch f := q.get("format"); f {
		case FormatNDJSON, FormatJSON:
			c.HTTP.Format = f
		default:
			return SinkConfig{}, fmt.Errorf("format: must be ndjson or json, got %q", f)
		}
	}
	if err := q.duration("timeout", &c.HTTP.Timeout, 10*time.Minute); err != nil {
		return SinkConfig{}, err
	}
	if err := c.parseBatching(q); err != nil {
		return SinkConfig{}, err
	}
	for _, h := range q["header"] {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || !validHeaderName(name) {
			return SinkConfig{}, fmt.Errorf("header: want Name:Value, got %q", h)
		}
		if c.HTTP.Header == nil {
			c.HTTP.Header = http.Header{}
		}
		c.HTTP.Header.Add(name, strings.TrimSpace(value))
	}
	u.RawQuery = ""
	c.HTTP.URL = u.String()
	// The metric label and error messages carry no credentials.
	u.User = nil
	c.Name = u.String()
	return c, nil
}

func validHeaderName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// httpSink POSTs each batch to an endpoint, with one retry.
type httpSink struct {
	opts   HTTPOptions
	client *http.Client
	body   []byte // a JSON array's buffer, reused; only the sink's goroutine touches it
}

func openHTTPSink(o HTTPOptions) (Sink, error) {
	if o.URL == "" {
		return nil, errors.New("http: no URL")
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultHTTPTimeout
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = defaultRetryDelay
	}
	if o.Format == "" {
		o.Format = FormatNDJSON
	}
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}
	return &httpSink{opts: o, client: &http.Client{
		// The whole exchange is bounded: a hanging collector costs one
		// timeout per batch, and only this sink's queue fills meanwhile.
		Timeout: o.Timeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   o.Timeout,
			ResponseHeaderTimeout: o.Timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			// A redirect would resend the batch elsewhere (as a GET after
			// a 302): report the configured URL as failing instead.
			return http.ErrUseLastResponse
		},
	}}, nil
}

func (s *httpSink) WriteBatch(ctx context.Context, b *Batch) error {
	body := b.Bytes() // NDJSON: the batch as it is
	if s.opts.Format == FormatJSON {
		s.body = appendJSONArray(s.body[:0], b)
		body = s.body
	}
	err := s.post(ctx, body)
	if err == nil || !retryable(err) || ctx.Err() != nil {
		return err
	}
	t := time.NewTimer(s.opts.RetryDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return err
	}
	return s.post(ctx, body)
}

// appendJSONArray appends b's lines as one JSON array.
func appendJSONArray(dst []byte, b *Batch) []byte {
	dst = append(dst, '[')
	for i := range b.Len() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, b.Line(i)...)
	}
	return append(dst, ']')
}

// statusError is an answer outside 2xx.
type statusError struct{ code int }

func (e statusError) Error() string { return fmt.Sprintf("answered %d", e.code) }

// retryable: a transport error or an answer that may differ a second
// later (429, 5xx). A 4xx says the batch or the configuration is wrong.
func retryable(err error) bool {
	var se statusError
	if errors.As(err, &se) {
		return se.code == http.StatusTooManyRequests || se.code >= 500
	}
	return true
}

func (s *httpSink) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("access-log POST: %w", err)
	}
	for name, vs := range s.opts.Header {
		req.Header[textproto.CanonicalMIMEHeaderKey(name)] = vs
	}
	if req.Header.Get("Content-Type") == "" {
		if s.opts.Format == FormatJSON {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-ndjson")
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("access-log POST: %w", err)
	}
	// Read a little of the answer so the connection can be reused, no
	// more: the collector's answer is not ours to keep.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("access-log POST: %w", statusError{resp.StatusCode})
	}
	return nil
}

func (s *httpSink) Close() error {
	s.client.CloseIdleConnections()
	return nil
}
