package webhook

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docBlocks returns the fenced blocks of docs/webhooks.md by their
// language ("" for a plain fence).
func docBlocks(t *testing.T) (doc string, blocks map[string][]string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "webhooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks = map[string][]string{}
	var lang string
	var cur *strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			lang, cur = strings.TrimPrefix(line, "```"), &strings.Builder{}
		case cur != nil && line == "```":
			blocks[lang] = append(blocks[lang], cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return string(b), blocks
}

// docSample is the delivery the documentation's examples check, read
// from its openssl example.
type docSample struct {
	script, secret, sig, body string
	ts                        int64
}

func readDocSample(t *testing.T) (string, docSample) {
	doc, blocks := docBlocks(t)
	var s docSample
	for _, b := range blocks[""] {
		if strings.Contains(b, "openssl dgst") {
			s.script = b
		}
	}
	if s.script == "" {
		t.Fatal("docs/webhooks.md has no openssl example")
	}
	field := func(re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(s.script)
		if m == nil {
			t.Fatalf("the openssl example has no %s", re)
		}
		return m[1]
	}
	s.secret, s.sig, s.body = field(`(?m)^SECRET='([^']*)'$`), field(`(?m)^SIG='([^']*)'$`), field(`(?m)^printf '%s' '([^']*)' > body.json$`)
	ts, err := strconv.ParseInt(field(`(?m)^TS=([0-9]+)$`), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	s.ts = ts
	return doc, s
}

// TestDocSample: the documented signature is Sign's, and the request
// shown carries it.
func TestDocSample(t *testing.T) {
	doc, s := readDocSample(t)
	if got := Sign([]byte(s.secret), s.ts, []byte(s.body)); got != s.sig {
		t.Errorf("the documented signature is %s; Sign makes %s", s.sig, got)
	}
	h := http.Header{}
	h.Set(HeaderTimestamp, strconv.FormatInt(s.ts, 10))
	h.Set(HeaderSignature, s.sig)
	if err := Verify([]byte(s.secret), h, []byte(s.body), time.Unix(s.ts, 0), 0); err != nil {
		t.Error(err)
	}
	for _, line := range []string{HeaderTimestamp + ": " + strconv.FormatInt(s.ts, 10), HeaderSignature + ": " + s.sig, "User-Agent: " + UserAgent} {
		if !strings.Contains(doc, line) {
			t.Errorf("the documented request lacks %q", line)
		}
	}
}

// TestDocOpenSSLExample runs the shell example as a reader would.
func TestDocOpenSSLExample(t *testing.T) {
	_, s := readDocSample(t)
	for _, tool := range []string{"bash", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s here", tool)
		}
	}
	cmd := exec.CommandContext(t.Context(), "bash", "-euo", "pipefail", "-c", s.script)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "signature valid" {
		t.Errorf("the openssl example: %v\n%s", err, out)
	}
}

// receiverTest drives the documentation's Go receiver's verify.
const receiverTest = `package main

import (
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret, body := []byte(os.Getenv("SAMPLE_SECRET")), []byte(os.Getenv("SAMPLE_BODY"))
	ts, _ := strconv.ParseInt(os.Getenv("SAMPLE_TS"), 10, 64)
	h := http.Header{}
	h.Set("X-Portico-Timestamp", os.Getenv("SAMPLE_TS"))
	h.Set("X-Portico-Signature", os.Getenv("SAMPLE_SIG"))
	now := time.Unix(ts, 0)
	if err := verify(secret, h, body, now.Add(time.Minute)); err != nil {
		t.Errorf("Portico's signature: %v", err)
	}
	if verify(secret, h, append(body, ' '), now) == nil {
		t.Error("a changed body passed")
	}
	if verify([]byte("another secret"), h, body, now) == nil {
		t.Error("another secret passed")
	}
	if verify(secret, h, body, now.Add(6*time.Minute)) == nil {
		t.Error("a replay six minutes later passed")
	}
}
`

// TestDocGoExample compiles the documentation's Go receiver and checks
// its verify against a delivery signed by Sign.
func TestDocGoExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	_, blocks := docBlocks(t)
	if len(blocks["go"]) != 1 {
		t.Fatalf("docs/webhooks.md has %d Go blocks, want 1", len(blocks["go"]))
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command here")
	}
	dir := t.TempDir()
	for name, text := range map[string]string{"go.mod": "module receiver\n\ngo 1.22\n", "main.go": blocks["go"][0], "main_test.go": receiverTest} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A sample of our own, so the example is checked against Sign and
	// not only against the documented values.
	secret, body, ts := "whsec_"+strconv.FormatInt(time.Now().UnixNano(), 36), `{"id":"x","event":"approval.requested"}`, time.Now().Unix()
	cmd := exec.CommandContext(t.Context(), goCmd, "test", "-count=1", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local", "GOPROXY=off",
		"SAMPLE_SECRET="+secret, "SAMPLE_BODY="+body, "SAMPLE_TS="+strconv.FormatInt(ts, 10),
		"SAMPLE_SIG="+Sign([]byte(secret), ts, []byte(body)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the Go example: %v\n%s", err, out)
	}
}
