package hmacauth

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzHMACHeaders: arbitrary header values and queries never panic, and a
// request is admitted only when its signature is the reference signature
// of its signing string (query as sent, or sorted) with no signed headers.
func FuzzHMACHeaders(f *testing.F) {
	now := time.Now()
	date := now.UTC().Format(http.TimeFormat)
	good := postman(seedSecret, "GET", "/p", "a=1", seedKey, date, "")
	f.Add(seedKey, good, "hmac-sha256", "", "a=1", false)
	f.Add(seedKey, good, "", "x;y,,z", "a=1&b", true)
	f.Add("", "=", "hmac-sha512", ";;;", "", false)
	f.Add(seedKey, good+"==", "hmac-sha256", "date", "b=2&a=1", false)
	fl, _ := New(Config{}, index())
	fl.now = func() time.Time { return now }
	fl.seen = newReplayGuard(1 << 10) // a replayed input is refused: allowed
	f.Fuzz(func(t *testing.T, key, sig, alg, signed, query string, oldDate bool) {
		d := date
		if oldDate {
			d = now.Add(-15 * time.Minute).UTC().Format(http.TimeFormat)
		}
		r := req{"GET", "/p", query, map[string]string{
			"X-HMAC-ACCESS-KEY": key, "X-HMAC-SIGNATURE": sig, "X-HMAC-ALGORITHM": alg,
			"X-HMAC-SIGNED-HEADERS": signed, "Date": d,
		}}
		b, _, stop := r.run(fl, "p1")
		if stop {
			if b.ErrorStatus != 401 {
				t.Fatalf("status %d, want 401", b.ErrorStatus)
			}
			return
		}
		hasNames := false
		for range splitNames(signed) {
			hasNames = true
		}
		if oldDate || key != seedKey || (alg != "" && alg != "hmac-sha256") || hasNames {
			t.Fatalf("admitted key %q alg %q signed %q old %v", key, alg, signed, oldDate)
		}
		trimmed := strings.TrimRight(sig, "=")
		ok := false
		for _, q := range []string{query, SortedQuery(query)} {
			if strings.TrimRight(postman(seedSecret, "GET", "/p", q, seedKey, d, ""), "=") == trimmed {
				ok = true
			}
		}
		if !ok {
			t.Fatalf("admitted signature %q for query %q", sig, query)
		}
	})
}
