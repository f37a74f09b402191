package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// h2loadOut is h2load 1.52's output of a timing-based run (-D) against
// nginx whose connections were closed after 1 000 requests each.
const h2loadOut = `starting benchmark...
spawning thread #0: 4 total client(s). Timing-based test with 0s of warm-up time and 2s of main duration for measurements.
Warm-up started for thread #0.
progress: 25% of clients started
Main benchmark duration is started for thread #0.
TLS Protocol: TLSv1.3
Cipher: TLS_AES_128_GCM_SHA256
Server Temp Key: X25519 253 bits
Application protocol: h2
Process Request Failure:1
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 2.01s, 2000.00 req/s, 134.89KB/s
requests: 4004 total, 4012 started, 4004 done, 4000 succeeded, 4 failed, 4 errored, 0 timeout
status codes: 3990 2xx, 0 3xx, 7 4xx, 3 5xx
traffic: 269.79KB (276264) total, 187.50KB (192000) headers (space savings 51.02%), 11.72KB (12000) data
                     min         max         mean         sd        +/- sd
time for request:       54us      3.86ms       211us       138us    91.18%
time for connect:    22.81ms     26.58ms     24.15ms      1.76ms    75.00%
time to 1st byte:    30.44ms     31.00ms     30.67ms       235us    75.00%
req/s           :    8972.86     9229.77     9103.26      105.21    50.00%
`

func TestParseH2load(t *testing.T) {
	r, err := parseH2load(h2loadOut)
	if err != nil {
		t.Fatal(err)
	}
	if r.RPS != 2000 || r.Requests != 4004 || (r.Elapsed-2010*time.Millisecond).Abs() > time.Microsecond {
		t.Errorf("rps %v requests %d elapsed %v", r.RPS, r.Requests, r.Elapsed)
	}
	if r.Errors != 14 {
		t.Errorf("errors = %d, want 4 failed + 7 4xx + 3 5xx", r.Errors)
	}
	if r.P50 != 0 || r.P99 != 0 {
		t.Errorf("h2load has no percentiles, got p50 %v p99 %v", r.P50, r.P99)
	}
	if r.Note != "TLSv1.3 TLS_AES_128_GCM_SHA256 X25519 ALPN h2" {
		t.Errorf("note = %q", r.Note)
	}
	for _, tc := range []struct{ name, out, err string }{
		{"http/1.1 negotiated", strings.Replace(h2loadOut, "protocol: h2", "protocol: http/1.1", 1), "negotiated http/1.1, not h2"},
		{"no protocol", strings.Replace(h2loadOut, "Application protocol: h2\n", "No protocol negotiated. Aborting\n", 1), "no protocol negotiated"},
		{"cut short", h2loadOut[:strings.Index(h2loadOut, "finished")], "no 'finished in' line"},
		{"no requests line", strings.Replace(h2loadOut, "requests: 4004", "reqs: 4004", 1), "no 'requests:' line"},
	} {
		if _, err := parseH2load(tc.out); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.err)
		}
	}
	// Without the TLS lines (not printed over cleartext) the figures stand.
	noTLS := strings.Replace(h2loadOut, "Server Temp Key: X25519 253 bits\n", "", 1)
	if r, err := parseH2load(noTLS); err != nil || r.Note != "TLSv1.3 TLS_AES_128_GCM_SHA256 ALPN h2" {
		t.Errorf("without a temp key line: %q %v", r.Note, err)
	}
}

func TestNginxHTTP2Directive(t *testing.T) {
	for v, want := range map[string]bool{
		"1.22.1": false, "1.25.0": false, "1.25.1": true, "1.27.4": true, "1.3.9": false,
		"2.0.0": true, "1.18.0 (Ubuntu)": false, "unknown": true, "": true,
		"nginx/1.22.1": false, "nginx/1.26.2": true, "openresty/1.21.4.1": false,
	} {
		if got := nginxHasHTTP2Directive(v); got != want {
			t.Errorf("nginxHasHTTP2Directive(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestBenchCert(t *testing.T) {
	c, err := writeBenchCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(c.certFile, c.keyFile); err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair([]byte(c.certPEM), []byte(c.keyPEM)); err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(c.certPEM))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	if err := leaf.VerifyHostname(benchCertName); err != nil {
		t.Error(err)
	}
	if now := time.Now(); now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		t.Errorf("not valid now: %v to %v", leaf.NotBefore, leaf.NotAfter)
	}
	if fi, err := os.Stat(c.keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v %v", fi.Mode(), err)
	}
}

func TestNginxTLSConf(t *testing.T) {
	dir := t.TempDir()
	cert, err := writeBenchCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		tls       nginxTLS
		want, not []string
	}{
		{"https, nginx 1.22", nginxTLS{}, []string{"listen 127.0.0.1:1 ssl;", "ssl_protocols TLSv1.2 TLSv1.3;", "ssl_prefer_server_ciphers on;"}, []string{"http2"}},
		{"h2, nginx 1.22", nginxTLS{H2: true}, []string{"listen 127.0.0.1:1 ssl http2;"}, []string{"http2 on"}},
		{"https, nginx 1.25.1+", nginxTLS{H2Directive: true}, []string{"listen 127.0.0.1:1 ssl;", "http2 off;"}, nil},
		{"h2, nginx 1.25.1+", nginxTLS{H2: true, H2Directive: true}, []string{"listen 127.0.0.1:1 ssl;", "http2 on;"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := tc.tls
			tl.Cert, tl.Key = cert.certFile, cert.keyFile
			sub := t.TempDir()
			conf, err := writeNginxConf(sub, "127.0.0.1:1", "127.0.0.1:2", &tl, "", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(conf)
			text := string(b)
			for _, w := range append(tc.want, "ssl_certificate "+cert.certFile+";", "keepalive 1024;") {
				if !strings.Contains(text, w) {
					t.Errorf("config lacks %q:\n%s", w, text)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(text, w) {
					t.Errorf("config has %q:\n%s", w, text)
				}
			}
			path, err := exec.LookPath("nginx")
			if err != nil {
				t.Skip("nginx is not installed")
			}
			if tl.H2Directive != nginxHasHTTP2Directive(nginxVersion(path)) {
				return // the other syntax than this nginx's: nginx -t would refuse it
			}
			if err := checkNginxConf(path, sub, conf); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestHandshakeNoResumption checks the handshake driver's claim against a
// server that does resume (crypto/tls with session tickets, as Portico):
// every connection of the driver is a full TLS 1.3 handshake over X25519,
// while the same client given a session cache resumes.
func TestHandshakeNoResumption(t *testing.T) {
	cert, err := writeBenchCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair([]byte(cert.certPEM), []byte(cert.keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Connection") != "close" {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()
	host := srv.Listener.Addr().String()
	req := []byte("GET /bench HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
	deadline := time.Now().Add(10 * time.Second)

	conf := handshakeConfig()
	for i := range 4 {
		st, status, err := handshakeOnce(host, conf, req, deadline)
		if err != nil || status != 200 {
			t.Fatalf("connection %d: %d %v", i, status, err)
		}
		if st.DidResume || st.Version != tls.VersionTLS13 || st.CurveID != tls.X25519 || st.NegotiatedProtocol != "http/1.1" {
			t.Errorf("connection %d: resumed %v, %s, %v, ALPN %q", i, st.DidResume, tls.VersionName(st.Version), st.CurveID, st.NegotiatedProtocol)
		}
	}
	cached := handshakeConfig()
	cached.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	resumed := false
	for range 3 {
		st, _, err := handshakeOnce(host, cached, req, deadline)
		if err != nil {
			t.Fatal(err)
		}
		resumed = resumed || st.DidResume
	}
	if !resumed {
		t.Error("with a session cache the server resumed nothing: the control does not show what the driver avoids")
	}
}

func TestRateGoal(t *testing.T) {
	hs := perfGoals[len(perfGoals)-1]
	if hs.target != "portico-fast-handshake" || !hs.rate {
		t.Fatalf("the last goal is %+v, want the handshake rate", hs)
	}
	sel := map[string]bool{"nginx-handshake": true, "portico-fast-handshake": true}
	mk := func(target string, rps, cpu, cores float64) sample {
		return sample{target: target, conns: 50, rps: rps, cpuPerReq: cpu, proxyCores: cores}
	}
	for _, tc := range []struct {
		name     string
		samples  []sample
		ratio    float64
		verdict  string
		contains string
	}{
		{"met, saturated", []sample{mk("nginx-handshake", 4000, 240, 0.97), mk("portico-fast-handshake", 3600, 270, 0.98)},
			0.9, "met", ""},
		{"not met", []sample{mk("nginx-handshake", 4000, 240, 0.97), mk("portico-fast-handshake", 2000, 480, 0.96)},
			0.5, "NOT met (38 % under ≥ 0.80×)", ""},
		{"client-bound, judged on CPU", []sample{mk("nginx-handshake", 3000, 150, 0.45), mk("portico-fast-handshake", 2900, 300, 0.87)},
			0.5, "NOT met (38 % under ≥ 0.80×) on a full core (1 / CPU per unit 2.00×)", "measured rates 0.97×, the load generator's: proxies at 0.87 / 0.45 cores"},
		{"client-bound, met", []sample{mk("nginx-handshake", 2172, 327, 0.70), mk("portico-fast-handshake", 2150, 336, 0.71)},
			327.0 / 336, "met on a full core (1 / CPU per unit 1.03×)", "measured rates 0.99×"},
		{"one saturated", []sample{mk("nginx-handshake", 3000, 200, 0.70), mk("portico-fast-handshake", 3000, 250, 0.95)},
			0.8, "met on a full core", "0.95 / 0.70 cores"},
		{"no nginx round", []sample{mk("portico-fast-handshake", 2900, 300, 0.87)}, math.NaN(), "not measured: no round with both", ""},
	} {
		got := checkGoal(hs, tc.samples, 50, sel, nil)
		if math.IsNaN(tc.ratio) != math.IsNaN(got.ratio) || (!math.IsNaN(tc.ratio) && math.Abs(got.ratio-tc.ratio) > 1e-9) {
			t.Errorf("%s: ratio = %v, want %v", tc.name, got.ratio, tc.ratio)
		}
		if !strings.HasPrefix(got.verdict, tc.verdict) || !strings.Contains(got.verdict, tc.contains) {
			t.Errorf("%s: verdict = %q, want %q … %q", tc.name, got.verdict, tc.verdict, tc.contains)
		}
	}
}

func TestPrintTLSTable(t *testing.T) {
	cfg := config{rounds: 1, connections: []int{50}}
	for _, n := range []string{"nginx", "portico-fast", "nginx-https", "portico-fast-https", "nginx-h2", "portico-h2"} {
		tg, _ := targetByName(n)
		cfg.targets = append(cfg.targets, tg)
	}
	samples := []sample{
		{target: "nginx", conns: 50, rps: 40000, cpuPerReq: 20},
		{target: "portico-fast", conns: 50, rps: 30000, cpuPerReq: 25},
		{target: "nginx-https", conns: 50, rps: 20000, cpuPerReq: 40, proxyCores: 0.8},
		{target: "portico-fast-https", conns: 50, rps: 16000, cpuPerReq: 50, proxyCores: 0.8},
	}
	failures := map[string]error{"nginx-h2 c=50": errSkip("h2load is not installed"), "portico-h2 c=50": errSkip("h2load is not installed")}
	var b bytes.Buffer
	printTable(&b, cfg, samples, failures)
	out := b.String()
	plain, tlsPart, ok := strings.Cut(out, "over TLS")
	if !ok {
		t.Fatalf("no TLS table:\n%s", out)
	}
	if strings.Contains(plain, "nginx-https") || !strings.Contains(tlsPart, "portico-fast-https") {
		t.Errorf("TLS rows in the wrong table:\n%s", out)
	}
	// portico-fast-https against nginx-https: rate 0.80, CPU 1.25, the goal met.
	for _, want := range []string{"https req", "0.80", "1.25", "h2 req", "skipped", "portico-fast-https / nginx-https", "1.25×  met", "proxy cores"} {
		if !strings.Contains(tlsPart, want) {
			t.Errorf("TLS part lacks %q:\n%s", want, tlsPart)
		}
	}
}
