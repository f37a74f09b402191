// Package credential makes and checks the secrets of applications: it
// generates them, hashes what only needs checking (API keys: SHA-256,
// passwords: bcrypt) and encrypts what must be recovered to verify a
// signature (HMAC and JWT secrets) with AES-256-GCM. It holds no state
// besides a Keyring and imports only the standard library and bcrypt.
package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Generate returns a new random secret: 26 base32 characters, 130 bits from
// crypto/rand. Being printable and free of punctuation, it survives headers,
// query strings, Basic auth and shell quoting unchanged.
func Generate() string { return rand.Text() }

// HashKey is what is kept of an API key (or any random, high-entropy
// secret): its hex SHA-256. A slow hash buys nothing for 128 random bits,
// and the gateway looks keys up by this value on every request.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// bcryptCost is bcrypt's default, about 50 ms per check here, for the
// passwords of basic-auth credentials and of users. The gateway caches
// successful checks, so the cost is paid once per password and
// configuration revision, not per request.
//
// Test binaries, and the end-to-end tests' build of the binary
// (cost_e2e.go), use MinCost: they hash hundreds of passwords, and one
// cost-10 hash under the race detector takes most of a second. Checking
// reads the cost from the hash, so nothing else differs; a release build
// uses DefaultCost.
var bcryptCost = func() int {
	if testing.Testing() {
		return bcrypt.MinCost
	}
	return bcrypt.DefaultCost
}()

// ErrPasswordTooLong is returned for passwords bcrypt cannot hash whole.
var ErrPasswordTooLong = errors.New("password longer than 72 bytes")

// HashPassword returns the bcrypt hash of a password chosen by a person.
func HashPassword(pw string) (string, error) {
	if len(pw) > 72 {
		return "", ErrPasswordTooLong
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether pw matches a bcrypt hash (in constant time
// with respect to pw).
func CheckPassword(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// Equal compares two secrets in time that depends only on their lengths.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
