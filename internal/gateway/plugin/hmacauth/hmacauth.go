// Package hmacauth admits requests signed with an application's HMAC
// secret, exactly as the documented Postman pre-request script signs
// it:
//
//	signing string = method "\n" path "\n" query "\n" access key "\n"
//	                 Date "\n" { signed header name ":" value "\n" }
//	X-HMAC-SIGNATURE = base64(HMAC-SHA256(secret, signing string))
//
// with X-HMAC-ACCESS-KEY, X-HMAC-ALGORITHM (hmac-sha256, the default when
// left out, or hmac-sha512), Date and X-HMAC-SIGNED-HEADERS (names
// separated by ';' or ','). The query is taken as the client sent it (what
// Postman's getQueryString() signs) or, failing that, with its parameters
// sorted (the canonical form other clients use). A Date further than
// clock_skew seconds from the gateway's clock is refused, and so is a
// signature already accepted within that window (replay.go). A request
// with a body must sign its Digest unless validate_request_body is false
// (digest.go); one without a body signs as the script does.
package hmacauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// Request headers (canonical form: net/http's Header.Get does not allocate).
const (
	HeaderAccessKey     = "X-Hmac-Access-Key"
	HeaderSignature     = "X-Hmac-Signature"
	HeaderAlgorithm     = "X-Hmac-Algorithm"
	HeaderSignedHeaders = "X-Hmac-Signed-Headers"
)

// DefaultClockSkew is how far (seconds) Date may be from the gateway's clock.
const DefaultClockSkew = 300

// Config of hmac-auth. ClockSkew 0 keeps the default; a negative value
// turns the Date check off (not recommended: signatures can be replayed
// forever). SignedHeaders lists headers every request must sign.
type Config struct {
	ClockSkew     int      `json:"clock_skew,omitempty"`
	SignedHeaders []string `json:"signed_headers,omitempty"`
	Algorithms    []string `json:"algorithms,omitempty"` // default: hmac-sha256 and hmac-sha512
	// KeepHeaders forwards the X-HMAC-* headers upstream (default: removed).
	KeepHeaders bool `json:"keep_headers,omitempty"`
	// ValidateRequestBody (default true; only an explicit false turns it
	// off) requires a request with a body to carry a signed "Digest:
	// SHA-256=<base64>" header (RFC 3230, as APISIX's option of the same
	// name) matching the body; without it a captured signature would carry
	// any other body. Bodies over MaxReqBody bytes (default 512 KiB) are
	// refused with 413 (digest.go).
	ValidateRequestBody *bool `json:"validate_request_body,omitempty"`
	MaxReqBody          int64 `json:"max_req_body,omitempty"`
}

// Filter is a compiled hmac-auth.
type Filter struct {
	ix       *consumer.Index
	skew     time.Duration // 0: no check
	required []string      // lower-case names that must be signed
	algs     []string
	keep     bool
	now      func() time.Time
	// maxBody > 0: the body digest is checked (digest.go).
	maxBody int64
	// seen remembers accepted signatures (replay.go).
	seen *replayGuard
}

var algorithms = map[string]func() hash.Hash{"hmac-sha256": sha256.New, "hmac-sha512": sha512.New}

// New validates cfg over the group's consumer index.
func New(cfg Config, ix *consumer.Index) (*Filter, error) {
	f := &Filter{ix: ix, keep: cfg.KeepHeaders, now: time.Now, seen: seen}
	switch {
	case cfg.ClockSkew == 0:
		f.skew = DefaultClockSkew * time.Second
	case cfg.ClockSkew > 0:
		f.skew = time.Duration(cfg.ClockSkew) * time.Second
	}
	for _, h := range cfg.SignedHeaders {
		if h == "" || strings.ContainsAny(h, " :;,") {
			return nil, errors.New("signed_headers: must be header names")
		}
		f.required = append(f.required, strings.ToLower(h))
	}
	f.algs = cfg.Algorithms
	if len(f.algs) == 0 {
		f.algs = []string{"hmac-sha256", "hmac-sha512"}
	}
	for _, a := range f.algs {
		if algorithms[a] == nil {
			return nil, errors.New("algorithms: each must be hmac-sha256 or hmac-sha512")
		}
	}
	if err := f.digestConfig(cfg); err != nil {
		return nil, err
	}
	return f, nil
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// OnRequest admits a request signed with the secret of a known, unexpired
// credential of an admitted application.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	accessKey := ex.Header(HeaderAccessKey)
	sig := ex.Header(HeaderSignature)
	date := ex.Header("Date")
	alg := ex.Header(HeaderAlgorithm)
	if alg == "" {
		alg = "hmac-sha256"
	}
	if accessKey == "" || sig == "" || date == "" || !slices.Contains(f.algs, alg) {
		return consumer.Unauthorized(ex)
	}
	now := f.now()
	// How long this signature stays acceptable: until its Date leaves the
	// window (a second more, as Date has whole seconds).
	fresh := 2 * DefaultClockSkew * time.Second
	if f.skew > 0 {
		t, err := http.ParseTime(date)
		if err != nil {
			return consumer.Unauthorized(ex)
		}
		d := now.Sub(t)
		if d > f.skew || d < -f.skew {
			return consumer.Unauthorized(ex)
		}
		fresh = f.skew - d + time.Second
	}
	var want [sha512.Size]byte
	n, ok := decodeSignature(want[:], sig)
	if !ok {
		return consumer.Unauthorized(ex)
	}
	creds := f.ix.Find(spec.CredHMACAuth, accessKey)
	if len(creds) == 0 {
		return consumer.Unauthorized(ex)
	}
	signed := ex.Header(HeaderSignedHeaders)
	if !f.signsRequired(signed) {
		return consumer.Unauthorized(ex)
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	query := ex.RawQuery()
	msg, ok := AppendSigningString((*bp)[:0], ex.Method(), ex.Path(), query, accessKey, date, signed, ex.Header)
	*bp = msg
	if !ok {
		return consumer.Unauthorized(ex)
	}
	match := f.check(creds, alg, msg, want[:n])
	if match == nil && strings.Contains(query, "&") {
		// Not as sent: perhaps signed with the parameters sorted.
		msg, _ = AppendSigningString(msg[:0], ex.Method(), ex.Path(), SortedQuery(query), accessKey, date, signed, ex.Header)
		*bp = msg
		match = f.check(creds, alg, msg, want[:n])
	}
	if match == nil {
		return consumer.Unauthorized(ex)
	}
	if consumer.Admit(ex, match) {
		return true
	}
	// Only a signed request of an admitted consumer gets its body read.
	if f.maxBody > 0 && f.hasBody(ex) && f.checkDigest(ex, signed) {
		return true
	}
	// Last, so that only a request that passed every check uses the
	// signature up: a forged body cannot burn it.
	if !f.seen.firstUse(now, replayKey(accessKey, want[:n]), fresh) {
		return consumer.Unauthorized(ex)
	}
	if !f.keep {
		ex.DelUpstreamHeader(HeaderSignature)
		ex.DelUpstreamHeader(HeaderAccessKey)
		ex.DelUpstreamHeader(HeaderAlgorithm)
		ex.DelUpstreamHeader(HeaderSignedHeaders)
	}
	return false
}

// check returns the credential whose secret signs msg as want.
func (f *Filter) check(creds []*consumer.Credential, alg string, msg, want []byte) *consumer.Credential {
	var got [sha512.Size]byte
	for _, cr := range creds {
		if cr.Expired() {
			continue
		}
		m := hmac.New(algorithms[alg], cr.Secret)
		m.Write(msg)
		if hmac.Equal(m.Sum(got[:0]), want) {
			return cr
		}
	}
	return nil
}

// signsRequired reports whether every header the configuration requires
// is in the client's signed list.
func (f *Filter) signsRequired(signed string) bool {
	for _, r := range f.required {
		found := false
		for name := range splitNames(signed) {
			if strings.EqualFold(name, r) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// decodeSignature decodes standard base64 (padded or not) into dst.
func decodeSignature(dst []byte, sig string) (int, bool) {
	sig = strings.TrimRight(sig, "=")
	if base64.RawStdEncoding.DecodedLen(len(sig)) > len(dst) {
		return 0, false
	}
	n, err := base64.RawStdEncoding.Decode(dst, []byte(sig))
	return n, err == nil && n > 0
}

// splitNames yields the header names of an X-HMAC-SIGNED-HEADERS value.
func splitNames(list string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for list != "" {
			i := strings.IndexAny(list, ";,")
			var name string
			if i < 0 {
				name, list = list, ""
			} else {
				name, list = list[:i], list[i+1:]
			}
			if name = strings.TrimSpace(name); name != "" && !yield(name) {
				return
			}
		}
	}
}

// maxSigned bounds how many headers one request may sign.
const maxSigned = 32

// AppendSigningString appends the string a client signs to dst. header
// reads a request header. It fails (ok false) on a malformed signed-header
// list: too many names, or a name that is not a header name.
func AppendSigningString(dst []byte, method, path, query, accessKey, date, signed string, header func(string) string) ([]byte, bool) {
	dst = append(dst, method...)
	dst = append(dst, '\n')
	dst = append(dst, path...)
	dst = append(dst, '\n')
	dst = append(dst, query...)
	dst = append(dst, '\n')
	dst = append(dst, accessKey...)
	dst = append(dst, '\n')
	dst = append(dst, date...)
	dst = append(dst, '\n')
	n := 0
	for name := range splitNames(signed) {
		if n++; n > maxSigned || !validName(name) {
			return dst, false
		}
		dst = append(dst, name...)
		dst = append(dst, ':')
		dst = append(dst, header(textproto.CanonicalMIMEHeaderKey(name))...)
		dst = append(dst, '\n')
	}
	return dst, true
}

func validName(s string) bool {
	for i := range len(s) {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// SortedQuery is the raw query with its parameters in byte order.
func SortedQuery(raw string) string {
	parts := strings.Split(raw, "&")
	slices.Sort(parts)
	return strings.Join(parts, "&")
}
