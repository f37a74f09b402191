package discovery

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseBase(t *testing.T) {
	for _, tc := range []struct {
		address, want string // want: the base, or the error
	}{
		{"http://127.0.0.1:8500", "http://127.0.0.1:8500"},
		{"https://k8s.example:6443/", "https://k8s.example:6443"},
		{"http://eureka:8761/eureka/", "http://eureka:8761/eureka"},
		{"http://[::1]:8848", "http://[::1]:8848"},
		{"", "is required"},
		{"127.0.0.1:8500", "must be an http:// or https:// URL"},
		{"ftp://registry", "must be an http:// or https:// URL"},
		{"file:///etc/passwd", "must be an http:// or https:// URL"},
		{"http://", "has no host"},
		{"http://:80", "has no host"},
		{"http://u:p@registry", "must not hold credentials"},
		{"http://registry?x=1", "must not have a query"},
		{"http://registry#x", "must not have a query"},
		{"http://reg istry", "invalid character"},
	} {
		u, err := parseBase(tc.address)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = u.String()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("parseBase(%q) = %s, want %s", tc.address, got, tc.want)
		}
	}
}

func TestNewHTTP(t *testing.T) {
	h, err := NewHTTP("consul", Config{Address: "http://127.0.0.1:8500/a%2Fb/"})
	if err != nil {
		t.Fatal(err)
	}
	if h.Client.Timeout != HTTPTimeout || HTTPTimeout <= BlockingWait {
		t.Errorf("client timeout %v, want %v, above the blocking wait %v", h.Client.Timeout, HTTPTimeout, BlockingWait)
	}
	if got := h.URL("/v1/x", map[string][]string{"b": {"2"}, "a": {"1 2"}}); got != "http://127.0.0.1:8500/a%2Fb/v1/x?a=1+2&b=2" {
		t.Errorf("URL = %s", got)
	}
	if _, err := NewHTTP("consul", Config{Address: "http://127.0.0.1:8500", CA: "x"}); err == nil || !strings.Contains(err.Error(), "not https") {
		t.Errorf("a CA for http: %v", err)
	}
	if _, err := NewHTTP("consul", Config{Address: "https://127.0.0.1:8500", CA: "not PEM"}); err == nil || !strings.HasPrefix(err.Error(), "consul: ca: ") {
		t.Errorf("a bad CA: %v", err)
	}
}

// TestTLS: the CA given is the one trusted; without it the system's roots
// do not trust a test certificate.
func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake refused on purpose
	srv.StartTLS()
	defer srv.Close()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	h, err := NewHTTP("kubernetes", Config{Address: srv.URL, CA: ca})
	if err != nil {
		t.Fatal(err)
	}
	if body, _, err := h.Get(context.Background(), "/", nil, nil); err != nil || string(body) != "ok" {
		t.Errorf("with the CA: %q, %v", body, err)
	}
	h, err = NewHTTP("kubernetes", Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Get(context.Background(), "/", nil, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v, want a certificate error", err)
	}
}

// TestRedirects: a redirect on the registry's host is followed, one to
// another host is refused before anything is sent there.
func TestRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
		case "/other":
			http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			w.Write([]byte(r.Header.Get("X-Consul-Token")))
		}
	}))
	defer srv.Close()
	h, err := NewHTTP("consul", Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	token := map[string]string{"X-Consul-Token": "secret"}
	if body, _, err := h.Get(context.Background(), "/same", nil, token); err != nil || string(body) != "secret" {
		t.Errorf("same host: %q, %v", body, err)
	}
	if _, _, err := h.Get(context.Background(), "/other", nil, token); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("another host: %v, want refused", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other host was asked %d times", n)
	}
	if _, _, err := h.Get(context.Background(), "/loop", nil, nil); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("a loop: %v", err)
	}
}

func TestBodyLimit(t *testing.T) {
	if b, err := ReadLimited(bytes.NewReader(make([]byte, MaxBody))); err != nil || len(b) != MaxBody {
		t.Errorf("MaxBody bytes: %d, %v", len(b), err)
	}
	if _, err := ReadLimited(bytes.NewReader(make([]byte, MaxBody+1))); !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("MaxBody+1 bytes: %v", err)
	}
	// Over HTTP, with a body that never ends: Do stops at the limit.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	h, _ := NewHTTP("eureka", Config{Address: srv.URL})
	if _, _, err := h.Get(context.Background(), "/", nil, nil); !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("endless body: %v", err)
	}
}

func TestHTTPError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("no leader\r\n\x1b[31m" + strings.Repeat("x", 500)))
	}))
	defer srv.Close()
	h, _ := NewHTTP("consul", Config{Address: srv.URL})
	_, _, err := h.Get(context.Background(), "/", nil, nil)
	var he *HTTPError
	if !errors.As(err, &he) || StatusCode(err) != http.StatusServiceUnavailable {
		t.Fatalf("error %v, want an HTTPError of 503", err)
	}
	if !strings.HasPrefix(he.Body, "no leader") || strings.ContainsAny(he.Body, "\r\n\x1b") || len([]rune(he.Body)) != 201 {
		t.Errorf("body %q, want 200 printable characters and an ellipsis", he.Body)
	}
	if StatusCode(errors.New("x")) != 0 {
		t.Error("StatusCode of another error is not 0")
	}
}

// TestRedactURL: the error of a registry that cannot be reached does not
// show the query, where a token may be.
func TestRedactURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	h, _ := NewHTTP("nacos", Config{Address: "http://" + addr})
	_, _, err = h.Get(context.Background(), "/nacos/v2/ns/instance/list", map[string][]string{"accessToken": {"s3cret"}}, nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "/nacos/v2/ns/instance/list") {
		t.Errorf("error %v, want the path without the token", err)
	}
}

func TestWaitSeconds(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want int
	}{
		{0, 1}, {-time.Second, 1}, {1500 * time.Millisecond, 2}, {30 * time.Second, 30}, {time.Hour, 30},
	} {
		if got := WaitSeconds(tc.wait); got != tc.want {
			t.Errorf("WaitSeconds(%v) = %d, want %d", tc.wait, got, tc.want)
		}
	}
}
