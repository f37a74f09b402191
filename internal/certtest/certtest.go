// Package certtest makes TLS certificates for tests: a private CA, leaves
// it signs for given names, self-signed ones, expired ones, all as PEM
// the admin API takes and as the tls and x509 values clients verify with.
package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// CA is a private certificate authority.
type CA struct {
	Cert *x509.Certificate
	key  crypto.Signer
	PEM  string
}

// Pair is a certificate chain and its private key, in PEM.
type Pair struct {
	Chain, Key string
	Leaf       *x509.Certificate
}

// TLS is the pair as crypto/tls serves it.
func (p Pair) TLS(t testing.TB) tls.Certificate {
	t.Helper()
	c, err := tls.X509KeyPair([]byte(p.Chain), []byte(p.Key))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var serial atomic.Int64

// Key is a new ECDSA P-256 key.
func Key(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// NewCA makes a CA valid for a day either side of now.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key := Key(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: "Portico test CA"},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{Cert: cert, key: key, PEM: encode("CERTIFICATE", der)}
}

// Pool is a cert pool holding only the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Issue makes a leaf for names (host names, "*.example.com" or IP
// addresses), signed by the CA, valid for a day either side of now, for
// servers and clients alike.
func (ca *CA) Issue(t testing.TB, names ...string) Pair {
	t.Helper()
	return ca.IssueValid(t, time.Now().Add(-24*time.Hour), time.Now().Add(24*time.Hour), names...)
}

// IssueValid is Issue with the validity given.
func (ca *CA) IssueValid(t testing.TB, notBefore, notAfter time.Time, names ...string) Pair {
	t.Helper()
	return issue(t, Key(t), ca.Cert, ca.key, notBefore, notAfter, names)
}

// SelfSigned makes a self-signed leaf for names, valid for a day either
// side of now.
func SelfSigned(t testing.TB, names ...string) Pair {
	t.Helper()
	return issue(t, Key(t), nil, nil, time.Now().Add(-24*time.Hour), time.Now().Add(24*time.Hour), names)
}

func issue(t testing.TB, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer, nb, na time.Time, names []string) Pair {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), NotBefore: nb, NotAfter: na,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	if len(names) > 0 {
		tmpl.Subject.CommonName = names[0]
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return Pair{Chain: encode("CERTIFICATE", der), Key: encode("PRIVATE KEY", k), Leaf: leaf}
}

func encode(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// GroupCertificate is p as a gateway holds it in a group's snapshot:
// checked, its names read, its key opened.
func (p Pair) GroupCertificate(t testing.TB, name string, def bool) spec.Certificate {
	t.Helper()
	c := spec.Certificate{ID: name + "-id", Name: name, Chain: p.Chain, Key: p.Key, Default: def}
	if err := c.CheckKeyPair(p.Leaf.NotBefore.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	c.Secret, c.Key = c.Key, ""
	return c
}
