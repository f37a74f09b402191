package jwtauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/spec"
)

const hsSecret = "a-long-enough-hs-secret"

var (
	rsaKey, _ = rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _  = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
)

func pemOf(pub any) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func index() *consumer.Index {
	return consumer.New([]spec.Consumer{{ID: "app-1", Name: "mobile", ProjectID: "p1", Credentials: []spec.ConsumerCredential{
		{ID: "c1", Type: spec.CredJWTAuth, Key: "hs-key", Secret: hsSecret, Algorithm: "HS256"},
		{ID: "c2", Type: spec.CredJWTAuth, Key: "rs-key", Secret: pemOf(&rsaKey.PublicKey), Algorithm: "RS256"},
		{ID: "c3", Type: spec.CredJWTAuth, Key: "es-key", Secret: pemOf(&ecKey.PublicKey), Algorithm: "ES256"},
		{ID: "c4", Type: spec.CredJWTAuth, Key: "hs512-key", Secret: hsSecret, Algorithm: "HS512"},
	}}})
}

func sign(t testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(f *Filter, project string, set func(b *plugintest.Backing)) (*plugintest.Backing, *plugin.Exchange, bool) {
	b := plugintest.New("127.0.0.1")
	set(b)
	ex := &plugin.Exchange{}
	ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: project, ServiceID: "s1"}}, nil)
	return b, ex, f.OnRequest(ex)
}

func TestJWTAuth(t *testing.T) {
	f, err := New(Config{}, index())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	exp := now.Add(time.Hour).Unix()
	for _, tc := range []struct {
		name    string
		token   string
		project string
		status  int
	}{
		{"HS256", sign(t, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"key": "hs-key", "exp": exp}), "p1", 0},
		{"HS512", sign(t, jwt.SigningMethodHS512, []byte(hsSecret), jwt.MapClaims{"key": "hs512-key", "exp": exp}), "p1", 0},
		{"RS256", sign(t, jwt.SigningMethodRS256, rsaKey, jwt.MapClaims{"key": "rs-key", "exp": exp}), "p1", 0},
		{"ES256", sign(t, jwt.SigningMethodES256, ecKey, jwt.MapClaims{"key": "es-key", "exp": exp}), "p1", 0},
		{"expired", sign(t, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"key": "hs-key", "exp": now.Add(-time.Minute).Unix()}), "p1", 401},
		{"not yet valid", sign(t, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"key": "hs-key", "nbf": now.Add(time.Hour).Unix(), "exp": exp}), "p1", 401},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte("another-secret"), jwt.MapClaims{"key": "hs-key", "exp": exp}), "p1", 401},
		{"algorithm of another credential", sign(t, jwt.SigningMethodHS384, []byte(hsSecret), jwt.MapClaims{"key": "hs-key", "exp": exp}), "p1", 401},
		{"HS256 with the RSA public key", sign(t, jwt.SigningMethodHS256, []byte(pemOf(&rsaKey.PublicKey)), jwt.MapClaims{"key": "rs-key", "exp": exp}), "p1", 401},
		{"none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"key": "hs-key", "exp": exp}), "p1", 401},
		{"no key claim", sign(t, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"sub": "x", "exp": exp}), "p1", 401},
		{"unknown key", sign(t, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"key": "nobody", "exp": exp}), "p1", 401},
		{"garbage", "a.b.c", "p1", 401},
		{"another project", sign(t, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"key": "hs-key", "exp": exp}), "p2", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ex, stop := run(f, tc.project, func(b *plugintest.Backing) {
				b.ReqHeader.Set("Authorization", "Bearer "+tc.token)
				b.UpstreamHeader.Set("Authorization", "Bearer "+tc.token)
			})
			if tc.status != 0 {
				if !stop || b.ErrorStatus != tc.status {
					t.Fatalf("stop %v status %d, want %d", stop, b.ErrorStatus, tc.status)
				}
				return
			}
			c, ok := ex.Consumer()
			if stop || !ok || c.ApplicationID != "app-1" || c.CredentialType != "jwt-auth" {
				t.Fatalf("stop %v (%s) consumer %+v", stop, b.ErrorBody, c)
			}
			if b.UpstreamHeader.Get("Authorization") != "" {
				t.Errorf("the token goes upstream")
			}
		})
	}
	t.Run("query", func(t *testing.T) {
		tok := sign(t, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"key": "hs-key", "exp": exp})
		_, ex, stop := run(f, "p1", func(b *plugintest.Backing) {
			b.ReqQuery["jwt"], b.ReqRawQuery = tok, "a=1&jwt="+tok
		})
		q, edited := ex.UpstreamQuery()
		if stop || !edited || q != "a=1" {
			t.Errorf("stop %v upstream query %q", stop, q)
		}
	})
}

// TestRequireExp: a token without exp would never expire, so it is refused
// unless the configuration explicitly says require_exp: false.
func TestRequireExp(t *testing.T) {
	no, yes := false, true
	noExp := sign(t, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"key": "hs-key"})
	withExp := sign(t, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"key": "hs-key", "exp": time.Now().Add(time.Hour).Unix()})
	for _, tc := range []struct {
		name  string
		cfg   Config
		token string
		ok    bool
	}{
		{"default refuses a token without exp", Config{}, noExp, false},
		{"default admits a token with exp", Config{}, withExp, true},
		{"require_exp true refuses", Config{RequireExp: &yes}, noExp, false},
		{"require_exp false admits", Config{RequireExp: &no}, noExp, true},
		{"require_exp false still checks exp", Config{RequireExp: &no}, withExp, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New(tc.cfg, index())
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := f.Verify(tc.token); ok != tc.ok {
				t.Errorf("Verify = %v, want %v", ok, tc.ok)
			}
			b, _, stop := run(f, "p1", func(b *plugintest.Backing) { b.ReqHeader.Set("Authorization", "Bearer "+tc.token) })
			if stop == tc.ok || (!tc.ok && b.ErrorStatus != 401) {
				t.Errorf("OnRequest stop %v status %d", stop, b.ErrorStatus)
			}
		})
	}
}

// FuzzVerify: arbitrary tokens never panic, and an accepted one verifies
// with the named credential's secret.
func FuzzVerify(f *testing.F) {
	f.Add(sign(f, jwt.SigningMethodHS256, []byte(hsSecret), jwt.MapClaims{"key": "hs-key"}))
	f.Add("eyJhbGciOiJub25lIn0.eyJrZXkiOiJocy1rZXkifQ.")
	f.Add("a.b.c")
	f.Add("..")
	fl, _ := New(Config{}, index())
	f.Fuzz(func(t *testing.T, raw string) {
		cr, ok := fl.Verify(raw)
		if !ok {
			return
		}
		_, err := jwt.NewParser().Parse(raw, func(*jwt.Token) (any, error) { return verificationKey(cr), nil })
		if err != nil || !strings.Contains(raw, ".") {
			t.Fatalf("accepted %q that does not verify: %v", raw, err)
		}
	})
}
