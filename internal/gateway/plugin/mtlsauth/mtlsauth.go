// Package mtlsauth admits requests whose client certificate names an
// application: the gateway's TLS listener asked for it and verified it
// against the CA of the host's certificate (client_ca), so what is left is
// to find the mtls-auth credential of its subject — the certificate's
// common name or one of its subject alternative names.
package mtlsauth

import (
	"crypto/x509"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// Config has nothing to set: the CA is the host's certificate's, the
// subject the credential's.
type Config struct{}

// Filter is a compiled mtls-auth.
type Filter struct{ ix *consumer.Index }

// New returns the filter; ix is the group's consumer index (nil: nobody is
// admitted, as when validating).
func New(_ Config, ix *consumer.Index) (*Filter, error) { return &Filter{ix: ix}, nil }

// OnRequest admits a request with a verified client certificate whose
// subject is an unexpired credential of an admitted application. A
// request without one (the plain listener, or a client that sent none) is
// answered 401, as for an unknown certificate.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	chain := ex.PeerCertificates()
	if len(chain) == 0 {
		return consumer.Unauthorized(ex)
	}
	for _, subject := range subjects(chain[0]) {
		for _, cr := range f.ix.Find(spec.CredMTLSAuth, subject) {
			if !cr.Expired() {
				return consumer.Admit(ex, cr)
			}
		}
	}
	return consumer.Unauthorized(ex)
}

// subjects are the names a leaf may be known by, common name first.
func subjects(leaf *x509.Certificate) []string {
	out := make([]string, 0, 1+len(leaf.DNSNames)+len(leaf.EmailAddresses)+len(leaf.URIs))
	if cn := leaf.Subject.CommonName; cn != "" {
		out = append(out, cn)
	}
	out = append(out, leaf.DNSNames...)
	out = append(out, leaf.EmailAddresses...)
	for _, u := range leaf.URIs {
		out = append(out, u.String())
	}
	return out
}
