package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// signed is a delivery's headers as the Deliverer sends them.
func signed(secret []byte, ts int64, body []byte) http.Header {
	h := http.Header{}
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, Sign(secret, ts, body))
	return h
}

// TestSignIsDocumentedHMAC: the signature is what a receiver computes by
// hand from the documentation, HMAC-SHA256 of "<timestamp>.<body>".
func TestSignIsDocumentedHMAC(t *testing.T) {
	secret, body := []byte("whsec_example"), []byte(`{"id":"1"}`)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("1767225600." + string(body)))
	if got, want := Sign(secret, 1767225600, body), "sha256="+hex.EncodeToString(m.Sum(nil)); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	secret, body := []byte("a secret of 16+ chars"), []byte(`{"id":"d1","event":"approval.approved"}`)
	now := time.Unix(1767225600, 0)
	ts := now.Unix()
	good := signed(secret, ts, body)
	with := func(edit func(h http.Header)) http.Header {
		h := good.Clone()
		edit(h)
		return h
	}
	for _, tc := range []struct {
		name      string
		secret    []byte
		header    http.Header
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error // nil: accepted
	}{
		{name: "as sent", header: good, want: nil},
		{name: "4 minutes later, default tolerance", header: good, now: now.Add(4 * time.Minute), want: nil},
		{name: "receiver clock 4 minutes behind", header: good, now: now.Add(-4 * time.Minute), want: nil},
		{name: "replayed 6 minutes later", header: good, now: now.Add(6 * time.Minute), want: ErrTimestamp},
		{name: "from 6 minutes in the future", header: good, now: now.Add(-6 * time.Minute), want: ErrTimestamp},
		{name: "replayed within a wider tolerance", header: good, now: now.Add(6 * time.Minute), tolerance: 10 * time.Minute, want: nil},
		{name: "body changed", header: good, body: []byte(`{"id":"d1","event":"approval.rejected"}`), want: ErrSignature},
		{name: "body with a trailing newline", header: good, body: append(append([]byte{}, body...), '\n'), want: ErrSignature},
		{name: "other secret", header: good, secret: []byte("another secret, 16+"), want: ErrSignature},
		{name: "timestamp moved forward", header: with(func(h http.Header) { h.Set(HeaderTimestamp, strconv.FormatInt(ts+60, 10)) }), want: ErrSignature},
		{name: "signature of another timestamp", header: with(func(h http.Header) { h.Set(HeaderSignature, Sign(secret, ts+1, body)) }), want: ErrSignature},
		{name: "no signature", header: with(func(h http.Header) { h.Del(HeaderSignature) }), want: ErrNoSignature},
		{name: "no timestamp", header: with(func(h http.Header) { h.Del(HeaderTimestamp) }), want: ErrNoSignature},
		{name: "timestamp not a number", header: with(func(h http.Header) { h.Set(HeaderTimestamp, "yesterday") }), want: ErrNoSignature},
		{name: "timestamp at the end of time", header: with(func(h http.Header) { h.Set(HeaderTimestamp, "-9223372036854775808") }), want: ErrTimestamp},
		{name: "other scheme", header: with(func(h http.Header) {
			h.Set(HeaderSignature, "sha1="+strings.TrimPrefix(good.Get(HeaderSignature), "sha256="))
		}), want: ErrNoSignature},
		{name: "not hex", header: with(func(h http.Header) { h.Set(HeaderSignature, "sha256=zz") }), want: ErrNoSignature},
		{name: "truncated", header: with(func(h http.Header) { h.Set(HeaderSignature, good.Get(HeaderSignature)[:41]) }), want: ErrSignature},
		{name: "empty hex", header: with(func(h http.Header) { h.Set(HeaderSignature, "sha256=") }), want: ErrSignature},
		{name: "one of several (a rotation)", header: with(func(h http.Header) {
			h.Set(HeaderSignature, Sign([]byte("the old secret"), ts, body)+", "+good.Get(HeaderSignature))
		}), want: nil},
		{name: "none of several", header: with(func(h http.Header) {
			h.Set(HeaderSignature, Sign([]byte("x"), ts, body)+","+Sign([]byte("y"), ts, body))
		}), want: ErrSignature},
		{name: "huge header", header: with(func(h http.Header) {
			h.Set(HeaderSignature, strings.Repeat(good.Get(HeaderSignature)+",", 100))
		}), want: ErrNoSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec, b, at := secret, body, now
			if tc.secret != nil {
				sec = tc.secret
			}
			if tc.body != nil {
				b = tc.body
			}
			if !tc.now.IsZero() {
				at = tc.now
			}
			err := Verify(sec, tc.header, b, at, tc.tolerance)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzVerify: hostile headers never panic, and nothing but the real
// signature of the real timestamp is accepted.
func FuzzVerify(f *testing.F) {
	secret := []byte("fuzzing secret 0123456789")
	now := time.Unix(1767225600, 0)
	body := []byte(`{"id":"x"}`)
	f.Add("1767225600", Sign(secret, 1767225600, body), body)
	f.Add("1767225600", "sha256=", body)
	f.Add("-1", "sha256=00,sha256=zz,,", []byte{})
	f.Add("99999999999999999999", "sha256="+strings.Repeat("0", 64), body)
	f.Add(" 1767225600 ", ","+Sign(secret, 1767225600, body), body)
	f.Fuzz(func(t *testing.T, ts, sig string, b []byte) {
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		if err := Verify(secret, h, b, now, 0); err == nil {
			n, perr := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
			if perr != nil || n < now.Unix()-300 || n > now.Unix()+300 || !strings.Contains(strings.ToLower(sig), strings.TrimPrefix(Sign(secret, n, b), "sha256=")) {
				t.Fatalf("accepted timestamp %q signature %q for body %q", ts, sig, b)
			}
		}
	})
}
