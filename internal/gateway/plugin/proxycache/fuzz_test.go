package proxycache

import (
	"strings"
	"testing"
	"time"
)

// FuzzCacheControl: any header value parses without panicking, ages are
// never negative nor past the cap, and a value naming no-store is never
// stored.
func FuzzCacheControl(f *testing.F) {
	for _, s := range []string{"", "max-age=60", "public, s-maxage=10, max-age=5", "no-store", `private="Set-Cookie", max-age=1`,
		`no-cache="a,b", max-age=99999999999999999999`, "max-age=\"30\"", "max-age=-1", ",,,=,", `"`, "MAX-AGE=7"} {
		f.Add(s, "5")
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, cc, age string) {
		p := parseCacheControl(cc)
		for _, v := range []int64{p.maxAge, p.sMaxAge} {
			if v < -1 || v > maxDelta {
				t.Fatalf("parseCacheControl(%q) age %d", cc, v)
			}
		}
		d, ok := freshness(true, time.Minute, respHeaders{cacheControl: cc, age: age}, now)
		if ok && (d < time.Second || d > maxTTL*time.Second) {
			t.Fatalf("freshness(%q, age %q) = %v", cc, age, d)
		}
		if ok && p.noStore {
			t.Fatalf("freshness(%q) stores an answer with no-store", cc)
		}
		if strings.EqualFold(strings.TrimSpace(cc), "no-store") && !p.noStore {
			t.Fatalf("parseCacheControl(%q) missed no-store", cc)
		}
		_ = clientNoCache(cc, age)
	})
}

// FuzzDecodeEntry: a Redis value is input; decoding never panics and
// what decodes has valid headers.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(&entry{status: 200, body: []byte("x"), stored: time.UnixMilli(1), expires: time.UnixMilli(2)}))
	f.Add([]byte{1, 200, 1, 2, 4, 1, 1, 'a', 1, 'b'})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeEntry(b)
	})
}
