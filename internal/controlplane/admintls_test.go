package controlplane

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/certtest"
)

// The admin address's certificate flags: both or neither, and files that
// hold a matching pair; a mistake stops the start with the flags named.
func TestAdminTLSFlags(t *testing.T) {
	dir := t.TempDir()
	pair, other := certtest.SelfSigned(t, "127.0.0.1"), certtest.SelfSigned(t, "127.0.0.1")
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert, key, otherKey := write("c.pem", pair.Chain), write("k.pem", pair.Key), write("o.pem", other.Key)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{}, ""},
		{Options{AdminTLSCert: cert, AdminTLSKey: key}, ""},
		{Options{AdminTLSCert: cert}, "go together"},
		{Options{AdminTLSKey: key}, "go together"},
		{Options{AdminTLSCert: cert, AdminTLSKey: otherKey}, "--admin-tls-cert"},
		{Options{AdminTLSCert: filepath.Join(dir, "missing"), AdminTLSKey: key}, "--admin-tls-cert"},
	} {
		cfg, err := tc.o.adminTLS()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.o, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %v, want an error naming %q", tc.o, err, tc.want)
		case tc.want == "" && tc.o.AdminTLSCert != "" && (cfg == nil || len(cfg.Certificates) != 1):
			t.Errorf("%+v: no certificate configured", tc.o)
		}
	}
}
