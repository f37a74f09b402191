package oauth2

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// Store issues and checks access tokens. A token carries what it was
// issued for (the credential and client ids, its expiry) and an
// HMAC-SHA256 of that under the Store's key, so it is checked without
// any state: every gateway whose Store has the same key — every gateway of
// an install, the key being derived from the control plane's secret key —
// accepts a token any of them issued, and a gateway keeps no memory per
// token, however many are asked for.
//
// Whether a token still works is decided against the current revision's
// consumer index (Filter): a revoked credential's tokens stop working on
// every gateway with the snapshot that drops it.
type Store struct {
	key []byte
	now func() time.Time
}

// grant is what a token stands for.
type grant struct {
	credentialID string
	clientID     string
	expires      int64 // unix nanoseconds
}

// NewStore returns a store signing with key (at least 32 bytes); with
// none, a random key of its own: its tokens then work on this gateway
// only, until it stops.
func NewStore(key []byte) *Store {
	if len(key) < 32 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	}
	return &Store{key: key, now: time.Now}
}

// Token layout, before base64url: version, expiry (unix nanoseconds,
// big-endian), 16 random bytes (no two tokens alike), then the credential
// id and the client id, each after its length; a "." and the MAC follow.
const (
	tokenVersion = 1
	nonceBytes   = 16
	maxIDLen     = 255
	// maxTokenLen bounds what Lookup decodes: the longest token two
	// 255-byte ids make.
	maxTokenLen = 4*(1+8+nonceBytes+2*(1+maxIDLen)+2)/3 + 1 + 43
)

var errIDTooLong = errors.New("an id longer than a token carries")

// Issue makes a new token for a credential, valid for ttl.
func (s *Store) Issue(credentialID, clientID string, ttl time.Duration) (string, error) {
	if len(credentialID) > maxIDLen || len(clientID) > maxIDLen {
		return "", errIDTooLong
	}
	p := make([]byte, 0, 1+8+nonceBytes+2+len(credentialID)+len(clientID))
	p = append(p, tokenVersion)
	p = binary.BigEndian.AppendUint64(p, uint64(s.now().Add(ttl).UnixNano()))
	var nonce [nonceBytes]byte
	_, _ = rand.Read(nonce[:])
	p = append(p, nonce[:]...)
	p = append(p, byte(len(credentialID)))
	p = append(p, credentialID...)
	p = append(p, byte(len(clientID)))
	p = append(p, clientID...)
	return base64.RawURLEncoding.EncodeToString(p) + "." + base64.RawURLEncoding.EncodeToString(s.mac(p)), nil
}

func (s *Store) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(payload)
	return m.Sum(nil)
}

// Lookup returns the grant of a token this store's key signed, unexpired.
func (s *Store) Lookup(tok string) (grant, bool) {
	if s == nil || len(tok) == 0 || len(tok) > maxTokenLen {
		return grant{}, false
	}
	body, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return grant{}, false
	}
	p, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return grant{}, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(p)) {
		return grant{}, false
	}
	// Signed by this key, so well formed; still read defensively.
	if len(p) < 1+8+nonceBytes+2 || p[0] != tokenVersion {
		return grant{}, false
	}
	g := grant{expires: int64(binary.BigEndian.Uint64(p[1:9]))}
	rest := p[1+8+nonceBytes:]
	var cred, client string
	if cred, rest, ok = cutID(rest); !ok {
		return grant{}, false
	}
	if client, rest, ok = cutID(rest); !ok || len(rest) != 0 {
		return grant{}, false
	}
	g.credentialID, g.clientID = cred, client
	if s.now().UnixNano() >= g.expires {
		return grant{}, false
	}
	return g, true
}

// cutID reads one length-prefixed id.
func cutID(b []byte) (string, []byte, bool) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return "", nil, false
	}
	n := int(b[0])
	return string(b[1 : 1+n]), b[1+n:], true
}
