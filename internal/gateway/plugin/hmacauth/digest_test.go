package hmacauth

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
)

// bodyBacking also gives filters the body.
type bodyBacking struct {
	*plugintest.Backing
	body  []byte
	reads int
}

func (b *bodyBacking) BufferBody(max int64) ([]byte, error) {
	b.reads++
	if int64(len(b.body)) > max {
		return nil, plugin.ErrBodyTooLarge
	}
	return b.body, nil
}

func digestOf(body string) string {
	sum := sha256.Sum256([]byte(body))
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// signedPost is a POST signing its Digest header.
func signedPost(digest, signedHeaders string) map[string]string {
	date := time.Now().UTC().Format(http.TimeFormat)
	h := map[string]string{"X-HMAC-ACCESS-KEY": seedKey, "Date": date, "X-HMAC-SIGNED-HEADERS": signedHeaders}
	if digest != "" {
		h["Digest"] = digest
	}
	headerLines := ""
	for name := range strings.SplitSeq(signedHeaders, ";") {
		if name != "" {
			headerLines += name + ":" + h[http.CanonicalHeaderKey(name)] + "\n"
		}
	}
	h["X-HMAC-SIGNATURE"] = postman(seedSecret, "POST", "/api/orders", "", seedKey, date, headerLines)
	return h
}

func TestBodyDigest(t *testing.T) {
	on := true
	f, err := New(Config{ValidateRequestBody: &on, MaxReqBody: 64}, index())
	if err != nil {
		t.Fatal(err)
	}
	f.seen = newReplayGuard(64)
	const body = `{"city":"paris"}`
	for _, tc := range []struct {
		name    string
		headers map[string]string
		body    string
		status  int
		reads   int
	}{
		{"matching digest", signedPost(digestOf(body), "digest"), body, 0, 1},
		{"several digests listed", signedPost("MD5=abc, sha-256="+strings.TrimPrefix(digestOf(body), "SHA-256="), "digest"), body, 0, 1},
		{"tampered body", signedPost(digestOf(body), "digest"), `{"city":"rome"}`, 401, 1},
		{"no digest", signedPost("", ""), body, 401, 0},
		{"digest not signed", signedPost(digestOf(body), ""), body, 401, 0},
		{"digest of nothing", signedPost(digestOf(""), "digest"), "", 0, 1},
		{"malformed digest", signedPost("SHA-256=!!!", "digest"), body, 401, 0},
		{"overlong digest", signedPost("SHA-256="+strings.Repeat("A", 400), "digest"), body, 401, 0},
		{"too large", signedPost(digestOf(strings.Repeat("x", 65)), "digest"), strings.Repeat("x", 65), 413, 1},
		{"bad signature reads nothing", func() map[string]string {
			h := signedPost(digestOf(body), "digest")
			h["X-HMAC-SIGNATURE"] = base64.StdEncoding.EncodeToString(make([]byte, 32))
			return h
		}(), body, 401, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &bodyBacking{Backing: plugintest.New("127.0.0.1"), body: []byte(tc.body)}
			b.ReqMethod, b.ReqPath = "POST", "/api/orders"
			for k, v := range tc.headers {
				b.ReqHeader.Set(k, v)
			}
			ex := &plugin.Exchange{}
			ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: "p1", ServiceID: "s1"}}, nil)
			stop := f.OnRequest(ex)
			if tc.status == 0 && stop {
				t.Fatalf("refused %d: %s", b.ErrorStatus, b.ErrorBody)
			}
			if tc.status != 0 && (!stop || b.ErrorStatus != tc.status) {
				t.Fatalf("stop %v status %d, want %d", stop, b.ErrorStatus, tc.status)
			}
			if b.reads != tc.reads {
				t.Errorf("body read %d times, want %d", b.reads, tc.reads)
			}
		})
	}
}

func TestBodyDigestConfig(t *testing.T) {
	on, off := true, false
	for _, cfg := range []Config{
		{ValidateRequestBody: &off, MaxReqBody: 10},
		{ValidateRequestBody: &on, MaxReqBody: -1},
		{MaxReqBody: -1},
	} {
		if _, err := New(cfg, index()); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	for _, cfg := range []Config{{}, {ValidateRequestBody: &on}, {MaxReqBody: DefaultMaxReqBody}} {
		f, err := New(cfg, index())
		if err != nil || f.maxBody != DefaultMaxReqBody {
			t.Errorf("%+v: max_req_body %d, %v", cfg, f.maxBody, err)
		}
	}
}

// TestBodyDigestDefault: a request with a body must sign its digest unless
// the route says validate_request_body: false; a request without one signs
// as the documented script does.
func TestBodyDigestDefault(t *testing.T) {
	off := false
	const body = `{"city":"paris"}`
	for _, tc := range []struct {
		name    string
		cfg     Config
		headers map[string]string
		body    string
		length  int64
		status  int
		reads   int
	}{
		{"default: unsigned body refused", Config{}, signedPost("", ""), body, int64(len(body)), 401, 0},
		{"default: chunked unsigned body refused", Config{}, signedPost("", ""), body, -1, 401, 0},
		{"default: signed digest admitted", Config{}, signedPost(digestOf(body), "digest"), body, int64(len(body)), 0, 1},
		{"default: changed body refused", Config{}, signedPost(digestOf(body), "digest"), `{"city":"rome!"}`, 16, 401, 1},
		{"default: no body, no digest", Config{}, signedPost("", ""), "", 0, 0, 0},
		{"default: body taken away from a signed digest", Config{}, signedPost(digestOf(body), "digest"), "", 0, 401, 1},
		{"explicitly off: unsigned body admitted", Config{ValidateRequestBody: &off}, signedPost("", ""), body, int64(len(body)), 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New(tc.cfg, index())
			if err != nil {
				t.Fatal(err)
			}
			f.seen = newReplayGuard(64)
			b := &bodyBacking{Backing: plugintest.New("127.0.0.1"), body: []byte(tc.body)}
			b.ReqMethod, b.ReqPath, b.Length = "POST", "/api/orders", tc.length
			for k, v := range tc.headers {
				b.ReqHeader.Set(k, v)
			}
			ex := &plugin.Exchange{}
			ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: "p1", ServiceID: "s1"}}, nil)
			stop := f.OnRequest(ex)
			if tc.status == 0 && stop {
				t.Fatalf("refused %d: %s", b.ErrorStatus, b.ErrorBody)
			}
			if tc.status != 0 && (!stop || b.ErrorStatus != tc.status) {
				t.Fatalf("stop %v status %d, want %d", stop, b.ErrorStatus, tc.status)
			}
			if b.reads != tc.reads {
				t.Errorf("body read %d times, want %d", b.reads, tc.reads)
			}
		})
	}
}

func FuzzDigestHeader(f *testing.F) {
	f.Add(digestOf("x"))
	f.Add("MD5=a, SHA-256=" + strings.Repeat("=", 44))
	f.Add("sha-256=,,,=")
	f.Fuzz(func(t *testing.T, h string) {
		sum, ok := sha256Digest(h)
		if ok && sum == ([32]byte{}) && !strings.Contains(h, "AAAA") {
			t.Fatalf("accepted %q as a zero digest", h)
		}
	})
}
