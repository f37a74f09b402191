package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery.
const (
	HeaderEvent     = "X-Portico-Event"
	HeaderDelivery  = "X-Portico-Delivery"
	HeaderTimestamp = "X-Portico-Timestamp" // unix seconds, as signed
	HeaderSignature = "X-Portico-Signature" // sha256=<hex>
	UserAgent       = "Portico-Webhook/1"
)

// signaturePrefix names the MAC in HeaderSignature, so that another can
// be added beside it later without breaking receivers.
const signaturePrefix = "sha256="

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock when Verify is given no tolerance: past it a captured
// delivery can no longer be replayed.
const DefaultTolerance = 5 * time.Minute

// Reasons Verify refuses a delivery (test with errors.Is).
var (
	ErrNoSignature = errors.New("webhook: no valid " + HeaderSignature + " or " + HeaderTimestamp + " header")
	ErrTimestamp   = errors.New("webhook: timestamp outside the tolerance (a replay, or a clock off)")
	ErrSignature   = errors.New("webhook: signature does not match")
)

// Sign is the value of HeaderSignature for a body sent at timestamp (unix
// seconds): "sha256=" and the hex HMAC-SHA256, under secret, of the
// timestamp in decimal, a dot and the body. Signing the timestamp with the
// body lets a receiver refuse an old delivery replayed with a new date.
func Sign(secret []byte, timestamp int64, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	var ts [20]byte
	m.Write(strconv.AppendInt(ts[:0], timestamp, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// maxSignatureHeader bounds the work Verify does for a hostile header.
const maxSignatureHeader = 1024

// Verify checks a delivery as a receiver gets it: the headers and the raw
// body, before it is decoded. It refuses a timestamp further than
// tolerance from now (0: DefaultTolerance) and a signature that is not
// Sign's under secret, comparing in constant time. HeaderSignature may
// hold several comma-separated values (one per secret while a receiver
// rotates its secret); one match is enough.
func Verify(secret []byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	tsText := strings.TrimSpace(header.Get(HeaderTimestamp))
	sigs := header.Get(HeaderSignature)
	if tsText == "" || sigs == "" || len(tsText) > 20 || len(sigs) > maxSignatureHeader {
		return ErrNoSignature
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not unix seconds", ErrNoSignature, HeaderTimestamp, tsText)
	}
	// Compared as bounds in seconds: the difference of a hostile
	// timestamp and now could overflow.
	n, limit := now.Unix(), int64(tolerance/time.Second)
	if ts < n-limit || ts > n+limit {
		return ErrTimestamp
	}
	want := mac(secret, ts, body)
	found := false
	for s := range strings.SplitSeq(sigs, ",") {
		hexSig, ok := strings.CutPrefix(strings.TrimSpace(s), signaturePrefix)
		if !ok {
			continue
		}
		got, err := hex.DecodeString(hexSig)
		if err != nil {
			continue
		}
		found = true
		if hmac.Equal(got, want) {
			return nil
		}
	}
	if !found {
		return ErrNoSignature
	}
	return ErrSignature
}
