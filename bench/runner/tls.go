package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/adminclient"
)

// benchCertName is the name the TLS rows' certificate is issued for. The
// load is sent to 127.0.0.1, so nginx (one server) and Portico (the
// certificate is the group's default) present it whatever name a client
// asks for; the handshake driver asks for this one.
const benchCertName = "bench.test"

// benchCert is the one certificate of the TLS rows: nginx reads the files,
// Portico gets the PEM through its admin API, so both present the same
// ECDSA P-256 key and chain.
type benchCert struct {
	certFile, keyFile string
	certPEM, keyPEM   string
}

// writeBenchCert issues a self-signed ECDSA P-256 certificate for
// benchCertName into dir. No client trusts it: every client of the
// runner skips verification (the load is on 127.0.0.1 and what is
// measured is the server's cost). It is valid from an hour ago, as
// Portico refuses a leaf not yet valid, for two days.
func writeBenchCert(dir string) (*benchCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: benchCertName},
		DNSNames:              []string{benchCertName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	c := &benchCert{
		certFile: filepath.Join(dir, "bench-cert.pem"),
		keyFile:  filepath.Join(dir, "bench-key.pem"),
		certPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
	}
	if err := os.WriteFile(c.certFile, []byte(c.certPEM), 0o644); err != nil {
		return nil, err
	}
	// nginx's master reads the key before it drops to its worker user.
	return c, os.WriteFile(c.keyFile, []byte(c.keyPEM), 0o600)
}

// addBenchCert gives the default group the bench certificate as its
// default, so a client that sends no SNI, or 127.0.0.1 as wrk does, gets it.
func addBenchCert(ctx context.Context, c *adminclient.Client, cert *benchCert) error {
	err := c.Post(ctx, "/gateway-groups/default/certificates", map[string]any{
		"name": "bench", "certificate": cert.certPEM, "private_key": cert.keyPEM, "default": true,
	}, nil)
	if err != nil {
		return fmt.Errorf("add the bench certificate: %w", err)
	}
	return nil
}

// nginxMode is what a nginx row's server block listens with.
type nginxMode int

const (
	nginxPlain     nginxMode = iota // HTTP/1.1, no TLS: the nginx row
	nginxHTTPS                      // TLS, HTTP/1.1 only (http2 off)
	nginxH2                         // TLS with ALPN h2
	nginxAccessLog                  // nginxPlain writing a JSON access log to a file
)

// nginxTarget is the start function of a nginx row in mode; the upstream
// side (keep-alive to the origin) is the same in every mode.
func nginxTarget(mode nginxMode) func(context.Context, *env) (*instance, error) {
	return func(ctx context.Context, e *env) (*instance, error) {
		return startNginxMode(ctx, e, mode)
	}
}

// nginxHasHTTP2Directive reports whether nginx version v (as nginxVersion
// gives it, "nginx/1.22.1") takes `http2 on|off;` (1.25.1 and later);
// older ones take the listen parameter `http2` instead.
func nginxHasHTTP2Directive(v string) bool {
	v, _, _ = strings.Cut(v, " ")
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		v = v[i+1:]
	}
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return true // unknown: assume a current nginx
	}
	n := make([]int, 3)
	for i := range min(3, len(parts)) {
		x, err := strconv.Atoi(parts[i])
		if err != nil {
			return true
		}
		n[i] = x
	}
	switch {
	case n[0] != 1:
		return n[0] > 1
	case n[1] != 25:
		return n[1] > 25
	default:
		return n[2] >= 1
	}
}

// porticoTLSTarget is a Portico row driven over its HTTPS listener: with h2
// the load negotiates HTTP/2 (served by the nethttp engine whatever
// --engine says), without it HTTP/1.1 (served by engine).
func porticoTLSTarget(engine string, h2 bool) func(context.Context, *env) (*instance, error) {
	return func(ctx context.Context, e *env) (*instance, error) {
		listen := "https"
		if h2 {
			listen = "h2"
		}
		return startPortico(ctx, e, engine, nil, listen)
	}
}

// checkClient is the runner's own HTTP client for readiness checks and
// the check before load: it does not verify the bench certificate (no
// client of the runner trusts it), and speaks HTTP/2 over TLS only when
// h2 is set, so an HTTPS row is checked over the HTTP/1.1 its load uses.
func checkClient(timeout time.Duration, h2 bool) *http.Client {
	tr := &http.Transport{
		Proxy:              nil,
		DisableCompression: true,
		DisableKeepAlives:  true,
		TLSClientConfig:    &tls.Config{InsecureSkipVerify: true, ServerName: benchCertName},
		Protocols:          new(http.Protocols),
	}
	tr.Protocols.SetHTTP1(!h2)
	tr.Protocols.SetHTTP2(h2)
	return &http.Client{Timeout: timeout, Transport: tr}
}
