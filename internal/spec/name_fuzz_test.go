package spec

import (
	"regexp"
	"testing"
)

// namePattern is what isName checks, as the regular expression it
// replaces: the two must agree on every input.
var namePattern = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,99}$`)

func FuzzIsName(f *testing.F) {
	for _, s := range []string{"", "a", "Shop API", "订单 服务", "٣x", " lead", "a\x00b", "a\nb", "\xff", "x\uFFFD",
		"_x", "x-y.z_w", string(make([]byte, 101)), "ääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääää"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isName(s), namePattern.MatchString(s); got != want {
			t.Errorf("isName(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
