package spec

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Certificate is a TLS server certificate of a gateway group: its gateways
// present it to clients whose SNI names one of its names. The private key
// is write-only: the store keeps it sealed (credential.Keyring, the
// certificate id as associated data) and the admin API never answers it.
type Certificate struct {
	ID    string `json:"id,omitempty"`
	Group string `json:"group,omitempty"`
	Name  string `json:"name"`
	// Chain is the PEM certificate chain, leaf first.
	Chain string `json:"certificate"`
	// Key is the PEM private key (PKCS #8, PKCS #1 or SEC 1; RSA of at
	// least 2048 bits, ECDSA or Ed25519), accepted on write and never
	// shown again.
	Key string `json:"private_key,omitempty"`
	// Default makes it the certificate of clients that send no SNI, or a
	// name no certificate of the group has.
	Default bool `json:"default,omitempty"`
	// ClientCA, a PEM bundle, makes the gateway ask clients of this
	// certificate's names for a client certificate and verify one given
	// against it (mutual TLS; the mtls-auth plugin then names the
	// application).
	ClientCA string `json:"client_ca,omitempty"`
	// Read from the leaf certificate (answers only).
	Names     []string  `json:"names,omitempty"`
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	// Sealed is the encrypted key in snapshots; Secret is it opened, only
	// in the memory of a gateway.
	Sealed    string    `json:"sealed,omitempty"`
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// maxChainBytes bounds a PEM chain: a leaf and its intermediates are a few
// kilobytes; this is far beyond any real chain and far below a problem.
const maxChainBytes = 64 << 10

// CheckKeyPair checks a certificate as written through the admin API, with
// its private key in clear, at now: a PEM chain of certificates only, a
// private key of an accepted kind that matches the leaf, and a leaf valid
// now. On success it sets Names, NotBefore and NotAfter from the leaf.
func (c *Certificate) CheckKeyPair(now time.Time) error {
	var fe FieldErrors
	validateSlugName(&fe, "name", c.Name)
	leaf, ok := c.parseChain(&fe)
	switch {
	case c.Key == "":
		fe.Add("private_key", "is required")
	case !ok:
	default:
		pair, err := tls.X509KeyPair([]byte(c.Chain), []byte(c.Key))
		if err != nil {
			fe.Add("private_key", "%s", keyPairProblem(err))
			break
		}
		if msg := keyProblem(pair.PrivateKey); msg != "" {
			fe.Add("private_key", "%s", msg)
		}
	}
	if c.ClientCA != "" {
		if _, err := ParseCABundle(c.ClientCA); err != nil {
			fe.Add("client_ca", "%v", err)
		}
	}
	if ok {
		switch {
		case now.After(leaf.NotAfter):
			fe.Add("certificate", "expired on %s", leaf.NotAfter.UTC().Format(time.RFC3339))
		case now.Before(leaf.NotBefore):
			fe.Add("certificate", "is not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
		}
		c.Names, c.NotBefore, c.NotAfter = certificateNames(leaf), leaf.NotBefore, leaf.NotAfter
	}
	return fe.Err()
}

// Leaf parses the chain and returns its first certificate: what a gateway
// checks of a certificate whose key is sealed.
func (c *Certificate) Leaf() (*x509.Certificate, error) {
	var fe FieldErrors
	leaf, ok := c.parseChain(&fe)
	if !ok {
		return nil, errors.New(fe[0].Message)
	}
	return leaf, nil
}

// parseChain parses the PEM chain; ok is false when it reported a problem.
func (c *Certificate) parseChain(fe *FieldErrors) (leaf *x509.Certificate, ok bool) {
	if c.Chain == "" {
		fe.Add("certificate", "is required")
		return nil, false
	}
	if len(c.Chain) > maxChainBytes {
		fe.Add("certificate", "is larger than %d bytes", maxChainBytes)
		return nil, false
	}
	rest := []byte(c.Chain)
	for i := 0; ; i++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if i == 0 {
				fe.Add("certificate", "holds no PEM block")
				return nil, false
			}
			if strings.TrimSpace(string(rest)) != "" {
				fe.Add("certificate", "holds something other than PEM after certificate %d", i)
				return nil, false
			}
			return leaf, true
		}
		if block.Type != "CERTIFICATE" {
			fe.Add("certificate", "block %d is a %q, not a CERTIFICATE (the private key goes in private_key)", i, block.Type)
			return nil, false
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			fe.Add("certificate", "certificate %d does not parse: %v", i, err)
			return nil, false
		}
		if i == 0 {
			leaf = cert
		}
	}
}

// keyPairProblem words tls.X509KeyPair's refusal for the user.
func keyPairProblem(err error) string {
	msg := strings.TrimPrefix(err.Error(), "tls: ")
	if strings.Contains(msg, "does not match") {
		return "does not match the certificate's public key"
	}
	return msg
}

// keyProblem refuses keys too weak to serve the internet with.
func keyProblem(key any) string {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return fmt.Sprintf("an RSA key of %d bits is too weak: at least 2048", k.N.BitLen())
		}
	case *ecdsa.PrivateKey, ed25519.PrivateKey:
	default:
		return fmt.Sprintf("a %T is not accepted: RSA, ECDSA or Ed25519", key)
	}
	return ""
}

// certificateNames are the names a leaf serves: its DNS names and IP
// addresses, or its common name when it has neither (lower case, once).
func certificateNames(leaf *x509.Certificate) []string {
	var names []string
	for _, n := range leaf.DNSNames {
		names = append(names, strings.ToLower(n))
	}
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && leaf.Subject.CommonName != "" {
		names = append(names, strings.ToLower(leaf.Subject.CommonName))
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Redacted is the certificate as the admin API answers it: without its
// key in any form.
func (c Certificate) Redacted() Certificate {
	c.Key, c.Sealed, c.Secret = "", "", ""
	return c
}

// validateSlugName checks a name that appears in URLs.
func validateSlugName(fe *FieldErrors, field, name string) {
	switch {
	case name == "":
		fe.Add(field, "is required")
	case !routeNameRe.MatchString(name):
		fe.Add(field, "must be 1 to 100 letters, digits, '_' or '-', not starting with '-'")
	}
}
