// Package basicauth admits requests with an application's basic-auth
// username and password (RFC 7617). Passwords are checked with bcrypt once;
// the verdict, right or wrong, is then remembered (guard.go), so neither a
// client's repeated password nor an attacker's repeated guess costs a
// bcrypt, and guesses are bounded per client address and username.
package basicauth

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// Config has no options yet; {} turns basic-auth on.
type Config struct{}

// Filter is a compiled basic-auth.
type Filter struct {
	ix  *consumer.Index
	g   *guard
	now func() time.Time
}

// New returns the filter over the group's consumer index.
func New(_ Config, ix *consumer.Index) (*Filter, error) {
	return &Filter{ix: ix, g: shared, now: time.Now}, nil
}

const challenge = `Basic realm="portico", charset="UTF-8"`

// OnRequest admits a request whose Authorization names a known user with
// the right password.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	user, pw, ok := Parse(ex.Header("Authorization"))
	if !ok {
		return deny(ex)
	}
	now := f.now().UnixNano()
	creds := f.ix.Find(spec.CredBasicAuth, user)
	sum := passwordSum(creds, user, pw)
	// Verdicts already known: no bcrypt, and a right password passes
	// whatever the failure counts say.
	pending := false
	if len(creds) == 0 {
		_, found := f.g.known(now, verdictKey{sum: sum})
		pending = !found
	}
	for _, cr := range creds {
		if cr.Expired() {
			continue
		}
		good, found := f.g.known(now, keyOf(cr, sum))
		if good {
			return f.admit(ex, cr)
		}
		pending = pending || !found
	}
	if !pending {
		return f.failed(ex, now, user)
	}
	addr := ex.ClientAddr()
	if blocked, retry := f.g.blocked(now, addr, user); blocked {
		ex.SetResponseHeaderInt("Retry-After", retry)
		ex.Reject(http.StatusTooManyRequests, "too_many_failures", "too many failed logins; retry after the time in Retry-After")
		return true
	}
	if !f.g.acquire() {
		ex.SetResponseHeader("Retry-After", "1")
		ex.Reject(http.StatusServiceUnavailable, "busy", "too many logins are being checked; retry shortly")
		return true
	}
	match := f.verify(now, creds, sum, pw)
	f.g.release()
	if match == nil {
		return f.failed(ex, now, user)
	}
	return f.admit(ex, match)
}

// verify runs bcrypt for every credential without a verdict (or one
// throwaway bcrypt for an unknown user, so that it takes as long as a
// wrong password) and remembers the verdicts.
func (f *Filter) verify(now int64, creds []*consumer.Credential, sum [sha256.Size]byte, pw string) *consumer.Credential {
	if len(creds) == 0 {
		spendBcrypt(pw)
		f.g.remember(now, verdictKey{sum: sum}, false)
		return nil
	}
	for _, cr := range creds {
		if cr.Expired() {
			continue
		}
		key := keyOf(cr, sum)
		if _, found := f.g.known(now, key); found {
			continue // known wrong: known right ones were admitted
		}
		ok := cr.CheckPassword(pw)
		f.g.remember(now, key, ok)
		if ok {
			return cr
		}
	}
	return nil
}

// passwordSum hashes the password; for an unknown user the username too,
// as the verdict then belongs to the pair.
func passwordSum(creds []*consumer.Credential, user, pw string) [sha256.Size]byte {
	if len(creds) > 0 {
		return sha256.Sum256([]byte(pw))
	}
	h := sha256.New()
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(pw))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

func (f *Filter) admit(ex *plugin.Exchange, cr *consumer.Credential) bool {
	if consumer.Admit(ex, cr) {
		return true
	}
	ex.DelUpstreamHeader("Authorization")
	return false
}

// failed counts a failed login and answers 401.
func (f *Filter) failed(ex *plugin.Exchange, now int64, user string) bool {
	f.g.failed(now, ex.ClientAddr(), user)
	return deny(ex)
}

func deny(ex *plugin.Exchange) bool {
	ex.SetResponseHeader("WWW-Authenticate", challenge)
	return consumer.Unauthorized(ex)
}

var (
	dummyOnce sync.Once
	dummyHash []byte
)

// spendBcrypt runs one bcrypt comparison that always fails.
func spendBcrypt(pw string) {
	dummyOnce.Do(func() {
		dummyHash, _ = bcrypt.GenerateFromPassword([]byte("portico-dummy-password"), bcrypt.DefaultCost)
	})
	_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
}

// maxHeader bounds what is decoded: a username and a 72-byte password fit
// many times over.
const maxHeader = 1024

// Parse reads "Basic base64(user:password)". The scheme is
// case-insensitive; the user may not be empty; the password may hold ':'.
func Parse(h string) (user, pw string, ok bool) {
	const prefix = "basic "
	if len(h) <= len(prefix) || len(h) > maxHeader || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	user, pw, ok = strings.Cut(string(b), ":")
	if !ok || user == "" {
		return "", "", false
	}
	for i := range len(user) {
		if user[i] < 0x20 || user[i] == 0x7f {
			return "", "", false
		}
	}
	return user, pw, true
}
