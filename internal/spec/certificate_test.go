package spec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

var certNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// testPair makes a self-signed certificate for names, valid from nb to na,
// and its key, both PEM.
func testPair(t *testing.T, key crypto.Signer, nb, na time.Time, names ...string) (chain, keyPEM string) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cn.example"}, NotBefore: nb, NotAfter: na}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}))
}

func TestCertificateCheckKeyPair(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	day := 24 * time.Hour
	valid := func(k crypto.Signer, names ...string) (string, string) {
		return testPair(t, k, certNow.Add(-day), certNow.Add(90*day), names...)
	}
	ecChain, ecKey := valid(ec, "api.example.com", "*.example.com", "API.example.com", "10.0.0.1")
	_, otherKey := valid(other, "api.example.com")
	edChain, edKey := valid(ed, "ed.example.com")
	weakChain, weakKey := valid(weak, "weak.example.com")
	cnChain, cnKey := valid(ec)
	expChain, expKey := testPair(t, ec, certNow.Add(-90*day), certNow.Add(-day), "old.example.com")
	soonChain, soonKey := testPair(t, ec, certNow.Add(day), certNow.Add(90*day), "soon.example.com")

	tests := []struct {
		name       string
		c          Certificate
		wantFields []string
		wantMsg    string
		wantNames  []string
	}{
		{name: "ecdsa", c: Certificate{Name: "api", Chain: ecChain, Key: ecKey},
			wantNames: []string{"*.example.com", "10.0.0.1", "api.example.com"}},
		{name: "ed25519", c: Certificate{Name: "ed", Chain: edChain, Key: edKey}, wantNames: []string{"ed.example.com"}},
		{name: "common name only", c: Certificate{Name: "cn", Chain: cnChain, Key: cnKey}, wantNames: []string{"cn.example"}},
		{name: "chain with an intermediate", c: Certificate{Name: "two", Chain: ecChain + edChain, Key: ecKey},
			wantNames: []string{"*.example.com", "10.0.0.1", "api.example.com"}},
		{name: "key of another certificate", c: Certificate{Name: "x", Chain: ecChain, Key: otherKey},
			wantFields: []string{"private_key"}, wantMsg: "does not match"},
		{name: "weak rsa", c: Certificate{Name: "x", Chain: weakChain, Key: weakKey},
			wantFields: []string{"private_key"}, wantMsg: "1024 bits"},
		{name: "expired", c: Certificate{Name: "x", Chain: expChain, Key: expKey},
			wantFields: []string{"certificate"}, wantMsg: "expired on"},
		{name: "not yet valid", c: Certificate{Name: "x", Chain: soonChain, Key: soonKey},
			wantFields: []string{"certificate"}, wantMsg: "not valid before"},
		{name: "key in the chain", c: Certificate{Name: "x", Chain: ecChain + ecKey, Key: ecKey},
			wantFields: []string{"certificate"}, wantMsg: "PRIVATE KEY"},
		{name: "not pem", c: Certificate{Name: "x", Chain: "hello", Key: ecKey},
			wantFields: []string{"certificate"}, wantMsg: "no PEM"},
		{name: "trailing garbage", c: Certificate{Name: "x", Chain: ecChain + "junk", Key: ecKey},
			wantFields: []string{"certificate"}, wantMsg: "other than PEM"},
		{name: "nothing", c: Certificate{}, wantFields: []string{"certificate", "name", "private_key"}},
		{name: "bad name", c: Certificate{Name: "a b", Chain: ecChain, Key: ecKey}, wantFields: []string{"name"}},
		{name: "client CA", c: Certificate{Name: "x", Chain: ecChain, Key: ecKey, ClientCA: edChain}, wantNames: []string{"*.example.com", "10.0.0.1", "api.example.com"}},
		{name: "bad client CA", c: Certificate{Name: "x", Chain: ecChain, Key: ecKey, ClientCA: "nope"}, wantFields: []string{"client_ca"}},
		{name: "huge", c: Certificate{Name: "x", Chain: strings.Repeat(ecChain, 200), Key: ecKey},
			wantFields: []string{"certificate"}, wantMsg: "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			err := c.CheckKeyPair(certNow)
			var fe FieldErrors
			if err != nil {
				fe = err.(FieldErrors)
			}
			var fields []string
			for _, e := range fe {
				fields = append(fields, e.Field)
			}
			slices.Sort(fields)
			if !slices.Equal(fields, tc.wantFields) {
				t.Fatalf("fields %v, want %v (%v)", fields, tc.wantFields, err)
			}
			if tc.wantMsg != "" && !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantMsg)
			}
			if tc.wantNames != nil && !slices.Equal(c.Names, tc.wantNames) {
				t.Errorf("names %v, want %v", c.Names, tc.wantNames)
			}
			if err == nil && (c.NotAfter.IsZero() || c.NotBefore.IsZero()) {
				t.Errorf("validity not read: %v – %v", c.NotBefore, c.NotAfter)
			}
		})
	}
}

func TestCertificateRedacted(t *testing.T) {
	c := Certificate{Name: "x", Chain: "chain", Key: "key", Sealed: "sealed", Secret: "secret"}.Redacted()
	if c.Key != "" || c.Sealed != "" || c.Secret != "" || c.Chain != "chain" {
		t.Errorf("redacted: %+v", c)
	}
}

// CheckKeyPair reads PEM and DER the admin API was given: whatever it is,
// it answers with field errors, never a panic.
func FuzzCertificateCheckKeyPair(f *testing.F) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	chain, key := testPairF(ec)
	f.Add(chain, key)
	f.Add(chain+key, key)
	f.Add("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
	f.Fuzz(func(t *testing.T, chain, key string) {
		c := Certificate{Name: "x", Chain: chain, Key: key}
		_ = c.CheckKeyPair(certNow)
		_, _ = c.Leaf()
	})
}

// testPairF is testPair for a fuzz target's setup.
func testPairF(key crypto.Signer) (string, string) {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"f.example.com"},
		NotBefore: certNow.Add(-time.Hour), NotAfter: certNow.Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	k, _ := x509.MarshalPKCS8PrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}))
}

func TestUpstreamTLSValidation(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca, _ := testPairF(ec)
	tests := []struct {
		name string
		u    Upstream
		want []string
	}{
		{"https with all", Upstream{Scheme: "https", TLS: &UpstreamTLS{CA: ca, ServerName: "api.internal", ClientCertificate: "to-backends"}}, nil},
		{"https url", Upstream{URL: "https://api.example.com/v1", TLS: &UpstreamTLS{ServerName: "10.0.0.1"}}, nil},
		{"plain http", Upstream{TLS: &UpstreamTLS{ServerName: "x.test"}}, []string{"tls"}},
		{"bad ca", Upstream{Scheme: "https", TLS: &UpstreamTLS{CA: "nope"}}, []string{"tls.ca"}},
		{"a key as ca", Upstream{Scheme: "https", TLS: &UpstreamTLS{CA: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}}, []string{"tls.ca"}},
		{"bad names", Upstream{Scheme: "https", TLS: &UpstreamTLS{ServerName: "*.x.test", ClientCertificate: "a b"}}, []string{"tls.client_certificate", "tls.server_name"}},
	}
	for _, tc := range tests {
		var got []string
		for _, e := range tc.u.Validate("") {
			got = append(got, e.Field)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: fields %v, want %v", tc.name, got, tc.want)
		}
	}
}
