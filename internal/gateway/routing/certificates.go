package routing

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

// certIndex is what a TLS listener serves, by the name a client asks for
// (SNI): a certificate naming it exactly, else one whose wildcard covers
// it, else the default. Built with the table, never changed: a new
// revision's certificates serve the handshakes that start after it.
type certIndex struct {
	served []CertificateExpiry
	exact  map[string]*certEntry
	wild   map[string]*certEntry // "*.example.com" by "example.com"
	def    *certEntry
	n      int
}

// certEntry is one certificate served, with the CAs its clients'
// certificates are verified against (nil: none asked for).
type certEntry struct {
	pair      *tls.Certificate
	clientCAs *x509.CertPool
	notAfter  time.Time
}

// errNoCertificate ends a handshake the gateway has no certificate for.
var errNoCertificate = errors.New("no certificate for this server name")

// buildCertIndex compiles the certificates of the groups. A chain that
// does not parse, or a key that does not match it, is a field error: the
// control plane refused it already, so it means a damaged store. A key
// that is still sealed (the control plane validating, or a gateway
// without the secret key) is not served, and not an error.
func buildCertIndex(fe *spec.FieldErrors, groups []spec.GroupSnapshot, deps Deps) (*certIndex, []clientCerts) {
	x := &certIndex{exact: map[string]*certEntry{}, wild: map[string]*certEntry{}}
	byGroup := make([]clientCerts, len(groups))
	for gi := range groups {
		byGroup[gi] = groupCertificates(fe, groups[gi].Group.Name, groups[gi].Certificates, deps, x)
	}
	return x, byGroup
}

// clientCerts are a group's certificates by name, for upstreams that show
// one (mutual TLS): nil for one whose key is still sealed.
type clientCerts map[string]*tls.Certificate

// groupCertificates compiles a group's certificates into x (nil: only
// checked) and answers them by name.
func groupCertificates(fe *spec.FieldErrors, group string, certs []spec.Certificate, deps Deps, x *certIndex) clientCerts {
	byName := clientCerts{}
	for ci := range certs {
		c := &certs[ci]
		field := fmt.Sprintf("certificates[%s]", c.Name)
		if _, err := c.Leaf(); err != nil {
			fe.Add(field+".certificate", "%v", err)
			continue
		}
		byName[c.Name] = nil
		if c.Secret == "" {
			if c.Sealed == "" && deps.Logger != nil {
				deps.Logger.Warn("a certificate's private key did not open (is the secret key given?); not serving it",
					"group", group, "certificate", c.Name)
			}
			continue
		}
		pair, err := tls.X509KeyPair([]byte(c.Chain), []byte(c.Secret))
		if err != nil {
			fe.Add(field+".private_key", "%v", err)
			continue
		}
		byName[c.Name] = &pair
		if x != nil {
			x.add(&pair, c)
			x.served = append(x.served, CertificateExpiry{Group: group, Name: c.Name, NotAfter: pair.Leaf.NotAfter})
		}
	}
	return byName
}

// upstreamPool compiles u with the group certificate it names for mutual
// TLS; a name the group has no certificate of is a problem at field (nil
// fe: reported elsewhere). A certificate whose key is sealed (the control
// plane validating) is not shown. owner is whose upstream it is, for the
// health of its nodes.
func upstreamPool(fe *spec.FieldErrors, field string, deps Deps, owner upstream.Owner, u *spec.Upstream) *upstream.Pool {
	var client *tls.Certificate
	if t := u.TLS; t != nil && t.ClientCertificate != "" {
		c, ok := deps.clientCerts[t.ClientCertificate]
		if !ok && fe != nil {
			fe.Add(field+".tls.client_certificate", "the gateway group has no certificate named %q", t.ClientCertificate)
		}
		client = c
	}
	owner.Upstream = u.Name
	return upstream.Compile(u, upstream.Options{ClientCert: client, Health: deps.Health, Owner: owner,
		Found: deps.found(fe, field, owner.Group, u)})
}

// add serves pair for the certificate's names; of two certificates of a
// name, the one valid longer serves it.
func (x *certIndex) add(pair *tls.Certificate, c *spec.Certificate) {
	x.n++
	e := &certEntry{pair: pair}
	if leaf, err := c.Leaf(); err == nil {
		e.notAfter = leaf.NotAfter
	}
	if c.ClientCA != "" {
		// Checked when saved; one that no longer parses trusts nobody.
		if e.clientCAs, _ = spec.ParseCABundle(c.ClientCA); e.clientCAs == nil {
			e.clientCAs = x509.NewCertPool()
		}
	}
	if c.Default && x.def == nil {
		x.def = e
	}
	for _, name := range c.Names {
		m, key := x.exact, name
		if suffix, ok := strings.CutPrefix(name, "*."); ok {
			m, key = x.wild, suffix
		}
		// Two certificates of one name: the one valid longer (a renewal
		// added beside the certificate it renews, before that is deleted).
		if have, taken := m[key]; !taken || e.notAfter.After(have.notAfter) {
			m[key] = e
		}
	}
}

// pick chooses the certificate for the name a client sent (empty: none).
func (x *certIndex) pick(serverName string) *certEntry {
	if x == nil {
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(serverName, "."))
	if c := x.exact[name]; c != nil {
		return c
	}
	if _, rest, ok := strings.Cut(name, "."); ok {
		if c := x.wild[rest]; c != nil {
			return c
		}
	}
	return x.def
}

// Certificate is tls.Config.GetCertificate over the table's certificates.
func (t *Table) Certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if e := t.certs.pick(hello.ServerName); e != nil {
		return e.pair, nil
	}
	return nil, errNoCertificate
}

// SameClientCAs reports whether a request for host may be served on a TLS
// connection made for serverName: the certificate of either name verifies
// client certificates against the same CAs (or neither asks for one).
// Otherwise a client certificate trusted for one host would be taken for
// another's: the engines answer 421, and the client opens a connection
// for that host.
func (t *Table) SameClientCAs(serverName, host string) bool {
	a, b := t.certs.pick(serverName), t.certs.pick(host)
	var ca, cb *x509.CertPool
	if a != nil {
		ca = a.clientCAs
	}
	if b != nil {
		cb = b.clientCAs
	}
	return ca == cb
}

// HasCertificateFor reports whether a certificate names host (exactly or
// by a wildcard; the default does not count): a host the gateway serves
// over HTTPS, which a redirect may send a client to.
func (t *Table) HasCertificateFor(host string) bool {
	if t.certs == nil {
		return false
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if t.certs.exact[name] != nil {
		return true
	}
	_, rest, ok := strings.Cut(name, ".")
	return ok && t.certs.wild[rest] != nil
}

// ClientCAs are the CAs the certificate served to a client asking for
// serverName verifies client certificates against; nil: it asks for none.
func (t *Table) ClientCAs(serverName string) *x509.CertPool {
	if e := t.certs.pick(serverName); e != nil {
		return e.clientCAs
	}
	return nil
}

// Certificates is how many certificates the table serves.
func (t *Table) Certificates() int {
	if t.certs == nil {
		return 0
	}
	return t.certs.n
}

// CertificateExpiry is when a certificate the table serves expires.
type CertificateExpiry struct {
	Group, Name string
	NotAfter    time.Time
}

// CertificateExpiries are the certificates the table serves, with when
// each expires.
func (t *Table) CertificateExpiries() []CertificateExpiry {
	if t.certs == nil {
		return nil
	}
	return t.certs.served
}
