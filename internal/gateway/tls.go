package gateway

import (
	"crypto/tls"
	"errors"
	"sync/atomic"

	"github.com/portico-gw/portico/internal/gateway/routing"
)

// tlsConfig is the gateway's HTTPS listener: the certificate of the name a
// client asks for (SNI), from the table served at the handshake, so a new
// revision's certificates take over without a restart and without
// dropping connections; TLS 1.2 with forward-secret AEAD cipher suites
// only, and 1.3. Session resumption is crypto/tls's: tickets under keys it
// rotates itself.
func tlsConfig(table *atomic.Pointer[routing.Table]) *tls.Config {
	c := ServerTLSConfig()
	c.NextProtos = []string{"h2", "http/1.1"}
	c.GetCertificate = certificateOf(table)
	// A host whose certificate names a client CA asks its clients for a
	// certificate and verifies one given (mutual TLS); the route's
	// mtls-auth decides whether one is required. Other hosts ask for none
	// (a browser would otherwise prompt its user to pick one).
	c.GetConfigForClient = clientCAConfig(table, c.Clone(), tls.VerifyClientCertIfGiven)
	return c
}

// clientCAConfig answers, for a host whose certificate names client CAs,
// base asking for a client certificate as auth says and verifying it
// against them; for other hosts, base as it is.
func clientCAConfig(table *atomic.Pointer[routing.Table], base *tls.Config, auth tls.ClientAuthType) func(*tls.ClientHelloInfo) (*tls.Config, error) {
	return func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		t := table.Load()
		if t == nil {
			return nil, nil
		}
		pool := t.ClientCAs(hello.ServerName)
		if pool == nil {
			return nil, nil
		}
		cc := base.Clone()
		cc.ClientAuth, cc.ClientCAs = auth, pool
		return cc, nil
	}
}

// ServerTLSConfig is what every TLS listener of Portico accepts (the
// gateway's, the admin address's): TLS 1.2 with forward-secret AEAD
// suites only, and 1.3; the caller adds its certificates.
func ServerTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{ // TLS 1.2; TLS 1.3's are all strong and not configurable
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

var errNoConfig = errors.New("the gateway has no configuration yet")
