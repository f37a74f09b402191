package credential

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvKey names the environment variable that holds the secret key: 32
// bytes, base64 (standard or URL alphabet, padded or not) or 64 hex digits.
const EnvKey = "PORTICO_SECRET_KEY"

// KeyFile is the key file's name in the data directory, used when EnvKey is
// unset. It is created with mode 0600 on first start.
const KeyFile = "secret.key"

// sealPrefix starts every sealed value; the version lets the format change.
const sealPrefix = "v1."

// ErrWrongKey is returned when a sealed value was made under another key.
var ErrWrongKey = errors.New("sealed under a different secret key")

// Keyring encrypts and decrypts secrets with AES-256-GCM under one key.
// It is safe for concurrent use.
type Keyring struct {
	aead cipher.AEAD
	kid  string // first 8 hex digits of SHA-256(key): names the key in sealed values
	key  []byte // for Derive
}

// NewKeyring uses a 32-byte key.
func NewKeyring(key []byte) (*Keyring, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key: %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	sum := sha256.Sum256(key)
	return &Keyring{aead: aead, kid: hex.EncodeToString(sum[:4]), key: bytes.Clone(key)}, nil
}

// ID names the key: the first 8 hex digits of its SHA-256, as sealed
// values carry it. It tells which key sealed a store without revealing it.
func (k *Keyring) ID() string { return k.kid }

// SealedKeyID is the ID of the key that sealed a value made by Seal; ""
// when it is not one.
func SealedKeyID(sealed string) string {
	rest, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return ""
	}
	kid, _, ok := strings.Cut(rest, ".")
	if !ok {
		return ""
	}
	return kid
}

// PurposeOAuth2Tokens derives the key that signs OAuth2 access tokens.
const PurposeOAuth2Tokens = "oauth2 access tokens"

// Derive is a 32-byte key for one purpose, made from the secret key with
// HKDF-SHA256 (RFC 5869): every process holding the same secret key
// derives the same one, and it tells nothing about the secret key or the
// keys of other purposes.
func (k *Keyring) Derive(purpose string) []byte {
	out, err := hkdf.Key(sha256.New, k.key, nil, "portico "+purpose, 32)
	if err != nil {
		panic(fmt.Sprintf("hkdf of 32 bytes: %v", err)) // only past 255 hash lengths
	}
	return out
}

// NewRandomKeyring returns a keyring with a fresh key that is kept nowhere:
// for tests and for stores that never outlive the process.
func NewRandomKeyring() *Keyring {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	k, _ := NewKeyring(key)
	return k
}

// LoadKeyring reads the key from $PORTICO_SECRET_KEY or, when that is
// unset, from <dir>/secret.key, creating that file (mode 0600, never
// overwritten) with a random key on first start. dir may be "" only when
// the environment variable is set.
func LoadKeyring(dir string) (*Keyring, error) {
	if v := strings.TrimSpace(os.Getenv(EnvKey)); v != "" {
		key, err := parseKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return NewKeyring(key)
	}
	if dir == "" {
		return nil, fmt.Errorf("no secret key: set %s", EnvKey)
	}
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	key, err := parseKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return NewKeyring(key)
}

// LoadKeyFile reads a key file written by LoadKeyring (a control plane's
// <data-dir>/secret.key, copied to a stand-alone gateway); unlike
// LoadKeyring it never creates one.
func LoadKeyFile(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	key, err := parseKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return NewKeyring(key)
}

// createKeyFile writes a new random key. O_EXCL: two processes starting on
// one directory must not each write their own key; the loser reads the
// winner's.
func createKeyFile(path string) (*Keyring, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create secret key directory: %w", err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadKeyring(filepath.Dir(path))
	}
	if err != nil {
		return nil, fmt.Errorf("create secret key file: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	return NewKeyring(key)
}

func parseKey(s string) ([]byte, error) {
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("must be 32 bytes as base64 or 64 hex digits (e.g. openssl rand -base64 32)")
}

// Seal encrypts plaintext. aad binds the result to its owner (a credential
// id): a sealed value copied onto another row does not open there.
// Result: "v1.<key id>.<base64url(nonce|ciphertext)>".
func (k *Keyring) Seal(plaintext, aad string) (string, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	out := k.aead.Seal(nonce, nonce, []byte(plaintext), []byte(aad))
	return sealPrefix + k.kid + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal with the same aad.
func (k *Keyring) Open(sealed, aad string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return "", errors.New("open sealed secret: unknown format")
	}
	kid, body, ok := strings.Cut(rest, ".")
	if !ok {
		return "", errors.New("open sealed secret: unknown format")
	}
	if kid != k.kid {
		return "", fmt.Errorf("open sealed secret: key %s, have %s: %w", kid, k.kid, ErrWrongKey)
	}
	b, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(b) < k.aead.NonceSize()+k.aead.Overhead() {
		return "", errors.New("open sealed secret: malformed")
	}
	n := k.aead.NonceSize()
	pt, err := k.aead.Open(nil, b[:n], b[n:], []byte(aad))
	if err != nil {
		return "", errors.New("open sealed secret: authentication failed")
	}
	return string(pt), nil
}
