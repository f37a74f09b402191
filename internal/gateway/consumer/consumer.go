// Package consumer is the gateway's table of applications and credentials,
// compiled once per snapshot and group (routing.Build) from the consumers
// the control plane sends, and shared by the authentication plugins: they
// find a credential here, check it, and call Admit. Lookups allocate
// nothing; secret comparisons are constant-time.
package consumer

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// Consumer is one application: who it is and where it is admitted.
type Consumer struct {
	Info     plugin.Consumer
	project  string              // project-owned: admitted to this project's services
	services map[string]struct{} // narrows project admission; nil: every service
	subs     map[string]struct{} // services an approved subscription admits it to
}

// Admits reports whether the consumer may call the route's service.
func (c *Consumer) Admits(r *plugin.RouteInfo) bool {
	if r == nil {
		return false
	}
	if c.project != "" && c.project == r.ProjectID {
		if c.services == nil {
			return true
		}
		if _, ok := c.services[r.ServiceID]; ok {
			return true
		}
	}
	_, ok := c.subs[r.ServiceID]
	return ok
}

// Credential is one credential with its verifier material.
type Credential struct {
	Consumer  *Consumer
	ID        string
	Type      string
	Algorithm string
	// Secret is the HMAC or JWT secret (or a JWT public key in PEM).
	Secret []byte
	// PublicKey is the parsed key of an RS256 (*rsa.PublicKey) or ES256
	// (*ecdsa.PublicKey) jwt-auth credential, parsed once per snapshot.
	PublicKey any
	hash      string   // bcrypt of a basic-auth password
	sum       [32]byte // SHA-256 of an oauth2 client secret
	expiry    int64    // unix nanoseconds; 0: never
	// okPassword is the SHA-256 of the last password that passed bcrypt:
	// the same password again costs one SHA-256, not a bcrypt.
	okPassword atomic.Pointer[[32]byte]
}

// Expired reports whether the credential's expiry has passed.
// PasswordHash is the stored bcrypt hash of a basic-auth credential's
// password. It changes with every rotation, so with the credential's id it
// names one password of one credential across configuration reloads.
func (c *Credential) PasswordHash() string { return c.hash }

func (c *Credential) Expired() bool {
	return c.expiry != 0 && time.Now().UnixNano() >= c.expiry
}

// CheckPassword checks a basic-auth password, remembering the last one that
// passed so that a client sending the same password on every request pays
// bcrypt once per configuration revision.
func (c *Credential) CheckPassword(pw string) bool {
	sum := sha256.Sum256([]byte(pw))
	if ok := c.okPassword.Load(); ok != nil && subtle.ConstantTimeCompare(ok[:], sum[:]) == 1 {
		return true
	}
	if c.hash == "" || bcrypt.CompareHashAndPassword([]byte(c.hash), []byte(pw)) != nil {
		return false
	}
	c.okPassword.Store(&sum)
	return true
}

// CheckSecret checks an oauth2 client secret.
func (c *Credential) CheckSecret(secret string) bool {
	sum := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(c.sum[:], sum[:]) == 1
}

// Index finds credentials. The zero value and nil find nothing.
type Index struct {
	keys  map[[32]byte]*Credential            // key-auth, by SHA-256 of the key
	named map[string]map[string][]*Credential // type → identifier → credentials (a rotation holds two)
	// plans are the subscriptions' plans by service and application, and
	// by subscription id; nil while no application holds one.
	plans map[string]map[string]*spec.ConsumerPlan
	subs  map[string]*spec.ConsumerPlan
}

// New compiles the consumers of one group. Credentials that cannot be
// used (a sealed secret not opened, a malformed hash) are left out: a
// client presenting them is refused like any unknown credential.
func New(consumers []spec.Consumer) *Index {
	ix := &Index{keys: map[[32]byte]*Credential{}, named: map[string]map[string][]*Credential{}}
	for i := range consumers {
		sc := &consumers[i]
		c := &Consumer{
			Info:    plugin.Consumer{ApplicationID: sc.ID, Name: sc.Name, ProjectID: sc.ProjectID},
			project: sc.ProjectID,
			subs:    make(map[string]struct{}, len(sc.Subscriptions)),
		}
		if len(sc.Services) > 0 {
			c.services = make(map[string]struct{}, len(sc.Services))
			for _, s := range sc.Services {
				c.services[s] = struct{}{}
			}
		}
		for _, s := range sc.Subscriptions {
			c.subs[s] = struct{}{}
		}
		for k := range sc.Credentials {
			ix.add(c, &sc.Credentials[k])
		}
		for k := range sc.Plans {
			ix.addPlan(sc.ID, &sc.Plans[k])
		}
	}
	return ix
}

// addPlan indexes an application's plan for a service; of two for one
// service (the control plane sends one) the first counts.
func (ix *Index) addPlan(app string, cp *spec.ConsumerPlan) {
	if ix.plans == nil {
		ix.plans, ix.subs = map[string]map[string]*spec.ConsumerPlan{}, map[string]*spec.ConsumerPlan{}
	}
	byApp := ix.plans[cp.Service]
	if byApp == nil {
		byApp = map[string]*spec.ConsumerPlan{}
		ix.plans[cp.Service] = byApp
	}
	if _, ok := byApp[app]; !ok {
		byApp[app] = cp
	}
	ix.subs[cp.Subscription] = cp
}

// Plans are the plans the applications hold for a service, by
// application id; nil when none holds one. The map is the index's: not
// to be modified.
func (ix *Index) Plans(service string) map[string]*spec.ConsumerPlan {
	if ix == nil {
		return nil
	}
	return ix.plans[service]
}

// Subscription finds the plan of a subscription; nil when the group
// holds no such subscription.
func (ix *Index) Subscription(id string) *spec.ConsumerPlan {
	if ix == nil {
		return nil
	}
	return ix.subs[id]
}

func (ix *Index) add(c *Consumer, sc *spec.ConsumerCredential) {
	cr := &Credential{Consumer: c, ID: sc.ID, Type: sc.Type, Algorithm: sc.Algorithm}
	if !sc.ExpiresAt.IsZero() {
		cr.expiry = sc.ExpiresAt.UnixNano()
	}
	switch sc.Type {
	case spec.CredKeyAuth:
		b, err := hex.DecodeString(sc.Key)
		if err != nil || len(b) != 32 {
			return
		}
		ix.keys[[32]byte(b)] = cr
		return
	case spec.CredBasicAuth:
		if sc.Hash == "" {
			return
		}
		cr.hash = sc.Hash
	case spec.CredHMACAuth, spec.CredJWTAuth:
		if sc.Secret == "" {
			return // still sealed: this process cannot verify it
		}
		cr.Secret = []byte(sc.Secret)
		if sc.Type == spec.CredJWTAuth {
			if cr.Algorithm == "" {
				cr.Algorithm = "HS256"
			}
			if cr.PublicKey = publicKey(cr.Algorithm, sc.Secret); cr.PublicKey == nil && cr.Algorithm[0] != 'H' {
				return // not a usable public key
			}
		}
	case spec.CredOAuth2:
		b, err := hex.DecodeString(sc.Hash)
		if err != nil || len(b) != 32 {
			return
		}
		copy(cr.sum[:], b)
	case spec.CredMTLSAuth: // its key is the certificate subject; nothing else to check
	default:
		return
	}
	m := ix.named[sc.Type]
	if m == nil {
		m = map[string][]*Credential{}
		ix.named[sc.Type] = m
	}
	m[sc.Key] = append(m[sc.Key], cr)
}

// Key finds a key-auth credential by the SHA-256 of the presented key.
// Hashing first makes the map lookup's timing independent of the key.
func (ix *Index) Key(key string) *Credential {
	if ix == nil {
		return nil
	}
	// The key is copied to the stack to be hashed: a conversion of a
	// string longer than 32 bytes would allocate on every request.
	var buf [keyOnStack]byte
	b := buf[:0]
	if len(key) <= keyOnStack {
		b = append(b, key...)
	} else {
		b = []byte(key)
	}
	return ix.keys[sha256.Sum256(b)]
}

// keyOnStack is the longest key Key hashes without allocating: a
// generated key has 26 characters, a key its owner chose often 32 to 64.
const keyOnStack = 256

// Find returns the credentials of a type with an identifier (username,
// access key, jwt key, client id); more than one during a rotation.
func (ix *Index) Find(typ, id string) []*Credential {
	if ix == nil {
		return nil
	}
	return ix.named[typ][id]
}

// Upstream headers naming the consumer.
const (
	HeaderID   = "X-Consumer-Id"
	HeaderName = "X-Consumer-Name"
)

// Admit finishes a successful authentication: a consumer not admitted to
// the route's service is answered 403 (stop is true); otherwise it is
// recorded on the exchange and named to the upstream.
func Admit(ex *plugin.Exchange, cr *Credential) (stop bool) {
	c := cr.Consumer
	if !c.Admits(ex.Route()) {
		ex.Reject(http.StatusForbidden, "forbidden", "the application is not admitted to this service")
		return true
	}
	info := c.Info
	info.CredentialType = cr.Type
	ex.SetConsumer(info)
	ex.SetUpstreamHeader(HeaderID, info.ApplicationID)
	ex.SetUpstreamHeader(HeaderName, info.Name)
	return false
}

// Unauthorized answers 401 without saying what was wrong: missing, unknown,
// expired and mismatched credentials read the same.
func Unauthorized(ex *plugin.Exchange) bool {
	ex.Reject(http.StatusUnauthorized, "unauthorized", "missing or invalid credentials")
	return true
}

// publicKey parses the PEM public key of an RS256 or ES256 credential; nil
// for other algorithms or a key of the wrong kind.
func publicKey(alg, pemText string) any {
	if alg != "RS256" && alg != "ES256" {
		return nil
	}
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if alg == "RS256" {
			return k
		}
	case *ecdsa.PublicKey:
		if alg == "ES256" && k.Curve.Params().Name == "P-256" {
			return k
		}
	}
	return nil
}
