package spec

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"strings"
)

// UpstreamTLS is how a gateway reaches an https upstream beyond
// tls_verify: whom it trusts, which name it asks for and checks, and the
// certificate it shows when the upstream asks for one (mutual TLS).
type UpstreamTLS struct {
	// CA is a PEM bundle of the certificates trusted for the upstream,
	// instead of the system's roots (a private CA).
	CA string `json:"ca,omitempty"`
	// ServerName is the name sent (SNI) and verified; default: the node's
	// host (or the url's).
	ServerName string `json:"server_name,omitempty"`
	// ClientCertificate names a certificate of the gateway group
	// (/gateway-groups/{g}/certificates) the gateway presents to the
	// upstream; the service cannot run in a group without one of that
	// name.
	ClientCertificate string `json:"client_certificate,omitempty"`
}

// usesHTTPS reports whether the upstream is reached over TLS.
func (u *Upstream) usesHTTPS() bool {
	if u.URL != "" {
		return strings.HasPrefix(u.URL, "https://")
	}
	return u.Scheme == "https" || u.Scheme == "grpcs" || u.Scheme == "tls"
}

func (t *UpstreamTLS) validate(fe *FieldErrors, prefix string, https bool) {
	if !https {
		fe.Add(prefix[:len(prefix)-1], "applies to upstreams over TLS only (scheme https, grpcs or tls, or an https url)")
		return
	}
	if t.CA != "" {
		if _, err := ParseCABundle(t.CA); err != nil {
			fe.Add(prefix+"ca", "%v", err)
		}
	}
	if n := t.ServerName; n != "" {
		if _, err := netip.ParseAddr(n); err != nil && (!hostRe.MatchString(n) || strings.HasPrefix(n, "*")) {
			fe.Add(prefix+"server_name", "must be a host name or an IP address")
		}
	}
	if t.ClientCertificate != "" {
		validateSlugName(fe, prefix+"client_certificate", t.ClientCertificate)
	}
}

// ParseCABundle reads a PEM bundle of CA certificates (at least one, and
// nothing else).
func ParseCABundle(bundle string) (*x509.CertPool, error) {
	if len(bundle) > maxChainBytes {
		return nil, fmt.Errorf("is larger than %d bytes", maxChainBytes)
	}
	pool := x509.NewCertPool()
	rest := []byte(bundle)
	for n := 0; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if n == 0 || strings.TrimSpace(string(rest)) != "" {
				return nil, fmt.Errorf("must be PEM certificates and nothing else")
			}
			return pool, nil
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("block %d is a %q, not a CERTIFICATE", n, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", n, err)
		}
		pool.AddCert(cert)
	}
}
