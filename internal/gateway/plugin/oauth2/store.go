package oauth2

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// Store keeps the access tokens a gateway issued, with their expiry. It is
// long-lived: routing.Deps carries one Store across
// every reload, so a new configuration revision does not log clients out.
// Whether a token still works is decided against the current revision's
// consumer index (Filter): a revoked credential's tokens stop working with
// the snapshot that drops it, whatever the Store still holds.
//
// Tokens are kept by their SHA-256: the map lookup's timing does not
// depend on how much of a guessed token matches, and the Store holds no
// usable token.
type Store struct {
	mu      sync.RWMutex
	tokens  map[[32]byte]grant
	byCred  map[string][][32]byte // credential id → its tokens, oldest first
	issued  int                   // since the last sweep
	perCred int
	now     func() time.Time
}

// grant is what a token stands for.
type grant struct {
	credentialID string
	clientID     string
	expires      int64 // unix nanoseconds
}

// MaxTokensPerCredential bounds the live tokens of one credential: a
// client that asks for a token per call evicts its own oldest ones
// instead of growing the gateway's memory without bound.
const MaxTokensPerCredential = 1000

// sweepEvery is how many issues pass between two sweeps of expired tokens
// (at least; a big store waits for half its size).
const sweepEvery = 1024

// NewStore returns an empty token store.
func NewStore() *Store {
	return &Store{
		tokens:  map[[32]byte]grant{},
		byCred:  map[string][][32]byte{},
		perCred: MaxTokensPerCredential,
		now:     time.Now,
	}
}

// tokenBytes is the random part of a token: 256 bits.
const tokenBytes = 32

// Issue makes a new opaque token for a credential, valid for ttl.
func (s *Store) Issue(credentialID, clientID string, ttl time.Duration) (string, error) {
	var raw [tokenBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(tok))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issued++
	if s.issued >= sweepEvery && s.issued >= len(s.tokens)/2 {
		s.sweepLocked(now.UnixNano())
	}
	list := s.byCred[credentialID]
	if len(list) >= s.perCred {
		drop := len(list) - s.perCred + 1
		for _, old := range list[:drop] {
			delete(s.tokens, old)
		}
		list = append(list[:0], list[drop:]...)
	}
	s.byCred[credentialID] = append(list, sum)
	s.tokens[sum] = grant{credentialID: credentialID, clientID: clientID, expires: now.Add(ttl).UnixNano()}
	return tok, nil
}

// maxTokenLen bounds what Lookup hashes; issued tokens are 43 bytes.
const maxTokenLen = 64

// Lookup returns the grant of an unexpired token.
func (s *Store) Lookup(tok string) (grant, bool) {
	if s == nil || len(tok) == 0 || len(tok) > maxTokenLen {
		return grant{}, false
	}
	var buf [maxTokenLen]byte
	n := copy(buf[:], tok)
	sum := sha256.Sum256(buf[:n])
	s.mu.RLock()
	g, ok := s.tokens[sum]
	s.mu.RUnlock()
	if !ok || s.now().UnixNano() >= g.expires {
		return grant{}, false
	}
	return g, true
}

// Len is the number of tokens held (expired ones not yet swept included).
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.tokens)
}

// sweepLocked drops expired tokens.
func (s *Store) sweepLocked(now int64) {
	s.issued = 0
	for sum, g := range s.tokens {
		if now >= g.expires {
			delete(s.tokens, sum)
		}
	}
	for cred, list := range s.byCred {
		kept := list[:0]
		for _, sum := range list {
			if _, ok := s.tokens[sum]; ok {
				kept = append(kept, sum)
			}
		}
		if len(kept) == 0 {
			delete(s.byCred, cred)
			continue
		}
		s.byCred[cred] = kept
	}
}
