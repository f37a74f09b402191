package credential

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s := Generate()
		if len(s) < 26 {
			t.Fatalf("Generate() = %q: shorter than 26 base32 characters (130 bits)", s)
		}
		if seen[s] {
			t.Fatalf("Generate() repeated %q", s)
		}
		seen[s] = true
	}
}

func TestHashKey(t *testing.T) {
	got := HashKey("abc")
	want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got != want {
		t.Errorf("HashKey(abc) = %s, want %s", got, want)
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h, "s3cret") {
		t.Errorf("hash holds the password: %s", h)
	}
	if !CheckPassword(h, "s3cret") || CheckPassword(h, "s3creT") || CheckPassword("", "s3cret") {
		t.Errorf("CheckPassword answers wrongly")
	}
	if _, err := HashPassword(strings.Repeat("x", 73)); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("73-byte password: err %v", err)
	}
}

func TestEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{{"a", "a", true}, {"a", "b", false}, {"", "", true}, {"ab", "a", false}} {
		if got := Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestSealOpen(t *testing.T) {
	k := NewRandomKeyring()
	s, err := k.Seal("815ba6d666d58ef1e79b", "cred-1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "815ba6d666d58ef1e79b") || !strings.HasPrefix(s, "v1.") {
		t.Fatalf("sealed value %q", s)
	}
	s2, _ := k.Seal("815ba6d666d58ef1e79b", "cred-1")
	if s == s2 {
		t.Errorf("two seals of one value are equal: the nonce is not random")
	}
	got, err := k.Open(s, "cred-1")
	if err != nil || got != "815ba6d666d58ef1e79b" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := k.Open(s, "cred-2"); err == nil {
		t.Errorf("Open with another aad succeeded")
	}
	if _, err := NewRandomKeyring().Open(s, "cred-1"); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Open under another key: %v, want ErrWrongKey", err)
	}
	for _, bad := range []string{"", "v1.", "v1.x", "v2.ab.cd", s[:len(s)-2], s + "A", "v1." + k.kid + ".!!"} {
		if _, err := k.Open(bad, "cred-1"); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestLoadKeyringFile(t *testing.T) {
	t.Setenv(EnvKey, "")
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	sealed, _ := k1.Seal("x", "a")
	k2, err := LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k2.Open(sealed, "a"); err != nil || got != "x" {
		t.Errorf("reloaded key does not open: %q %v", got, err)
	}
}

func TestLoadKeyringEnv(t *testing.T) {
	key := strings.Repeat("k", 32)
	t.Setenv(EnvKey, base64.StdEncoding.EncodeToString([]byte(key)))
	k, err := LoadKeyring("")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := NewKeyring([]byte(key))
	if k.kid != want.kid {
		t.Errorf("key from env differs")
	}
	t.Setenv(EnvKey, "too-short")
	if _, err := LoadKeyring(t.TempDir()); err == nil {
		t.Errorf("short key accepted")
	}
	t.Setenv(EnvKey, "")
	if _, err := LoadKeyring(""); err == nil {
		t.Errorf("no key and no directory accepted")
	}
}
