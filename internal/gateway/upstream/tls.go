package upstream

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net"

	"github.com/portico-gw/portico/internal/spec"
)

func (p *Pool) setTLS(t *spec.UpstreamTLS, client *tls.Certificate) {
	if t == nil {
		return
	}
	h := sha256.New()
	if t.CA != "" {
		// Checked when the upstream was saved; a bundle that no longer
		// parses trusts nothing rather than the system's roots.
		if p.rootCAs, _ = spec.ParseCABundle(t.CA); p.rootCAs == nil {
			p.rootCAs = x509.NewCertPool()
		}
		h.Write([]byte(t.CA))
	}
	p.serverName = t.ServerName
	h.Write([]byte("|" + t.ServerName + "|"))
	if client != nil && len(client.Certificate) > 0 {
		p.clientCert = client
		h.Write(client.Certificate[0])
	}
	p.tlsKey = "|tls:" + hex.EncodeToString(h.Sum(nil)[:12])
}

// ClientTLS is the handshake of a call to node of an https upstream: TLS
// 1.2 or later, the name asked for and verified (the upstream's
// server_name, else the node's host), the roots trusted (the upstream's
// ca, else the system's), the client certificate shown when asked, and no
// verification only when the upstream says tls_verify: false.
func (p *Pool) ClientTLS(node *Node) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: node.Host, RootCAs: p.rootCAs,
		InsecureSkipVerify: !p.TLSVerify} //nolint:gosec // the operator's explicit tls_verify: false
	if p.serverName != "" {
		c.ServerName = p.serverName
	}
	if p.clientCert != nil {
		c.Certificates = []tls.Certificate{*p.clientCert}
	}
	return c
}

// IsTLSError reports whether err is a failed handshake with an https
// upstream: its certificate not trusted or not of the name asked for, an
// alert it sent (a client certificate it refused), or no TLS at all.
func IsTLSError(err error) bool {
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	var record tls.RecordHeaderError
	var host x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var op *net.OpError
	return errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &record) ||
		errors.As(err, &host) || errors.As(err, &unknown) ||
		// crypto/tls reports an alert the peer sent (with TLS 1.3, a
		// client certificate refused after the handshake) this way.
		errors.As(err, &op) && op.Op == "remote error"
}

// TLSFailure is the gateway's message for such an error.
const TLSFailure = "the TLS handshake with the upstream failed (a certificate not trusted or not of the name asked for, or a client certificate refused)"

// GRPC reports whether the upstream speaks gRPC: HTTP/2 only, without TLS
// (grpc) or with it (grpcs).
func (p *Pool) GRPC() bool { return p.Scheme == "grpc" || p.Scheme == "grpcs" }

// URLScheme is the scheme of the upstream's URLs: https for https and
// grpcs, http otherwise.
func (p *Pool) URLScheme() string {
	if p.Scheme == "https" || p.Scheme == "grpcs" {
		return "https"
	}
	return "http"
}
