package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The attacks of a penetration test on the authentication plugins, against
// the real binary on both engines: replayed HMAC signatures and bodies
// changed under them, weak keys and the hints that gave them away,
// tokens that never expire, forwarded addresses with a port, and wrong
// Basic passwords sent to burn the gateway's CPU.

const (
	attackAccessKey = "attack-access-key-1"
	attackSecretKey = "attack-secret-key-0123456789"
)

// gatewayCall sends one request with a body and headers to the gateway.
func gatewayCall(t *testing.T, method, url, body string, headers map[string]string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// signPost signs a request as hmac-auth wants it with a body: the Digest
// header signed. A date in the past keeps signatures of one test apart.
func signPost(method, path, body string, at time.Time) map[string]string {
	sum := sha256.Sum256([]byte(body))
	digest := "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
	date := at.UTC().Format(http.TimeFormat)
	m := hmac.New(sha256.New, []byte(attackSecretKey))
	m.Write([]byte(method + "\n" + path + "\n\n" + attackAccessKey + "\n" + date + "\ndigest:" + digest + "\n"))
	return map[string]string{"Digest": digest, "Date": date, "X-HMAC-ACCESS-KEY": attackAccessKey,
		"X-HMAC-SIGNED-HEADERS": "digest", "X-HMAC-SIGNATURE": base64.StdEncoding.EncodeToString(m.Sum(nil))}
}

// publishAttack publishes service name at /name with plugins and one route
// /r for GET and POST.
func publishAttack(t *testing.T, s *server, name, plugins string, port int) {
	t.Helper()
	svcs := "/api/v1/projects/default/services"
	s.do(t, "POST", svcs, fmt.Sprintf(`{"name":%q,"path":"/%s","plugins":{%s}}`, name, name, plugins), 201, nil)
	s.do(t, "POST", svcs+"/"+name+"/routes", `{"name":"r","paths":["/r"],"methods":["GET","POST"]}`, 201, nil)
	s.do(t, "POST", svcs+"/"+name+"/publish", fmt.Sprintf(`{"group":"default","version":"1.0.0","upstream":%s}`, nodes(port)), 201, nil)
}

// firstAccepted sends a freshly signed request until the gateway knows the
// credential (a consumer reaches it with the next revision) and returns
// the headers of the accepted one.
func firstAccepted(t *testing.T, method, url, body string, sign func(at time.Time) map[string]string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; ; i++ {
		h := sign(time.Now().Add(-time.Duration(i) * time.Second))
		status, _, answer := gatewayCall(t, method, url, body, h)
		if status == 200 {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s never accepted: %d %s", method, url, status, answer)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var attackEngines = []string{"fast", "nethttp"}

func TestAttackAuth(t *testing.T) {
	for _, engine := range attackEngines {
		t.Run(engine, func(t *testing.T) { attackAuth(t, engine) })
	}
}

func attackAuth(t *testing.T, engine string) {
	s := startServer(t, t.TempDir(), "--engine", engine)
	port := bodyBackend(t)
	publishAttack(t, s, "signed", `"hmac-auth":{}`, port)
	publishAttack(t, s, "loose", `"hmac-auth":{"validate_request_body":false}`, port)
	publishAttack(t, s, "tokens", `"jwt-auth":{}`, port)
	publishAttack(t, s, "lax", `"jwt-auth":{"require_exp":false}`, port)
	publishAttack(t, s, "basic", `"basic-auth":{}`, port)
	publishAttack(t, s, "guarded", `"ip-restriction":{"deny":["10.0.0.1","2001:db8::bad"],"trusted_proxies":["127.0.0.1"]}`, port)

	var app struct{ ID string }
	s.do(t, "POST", "/api/v1/applications", `{"name":"attacked","project":"default"}`, 201, &app)
	creds := "/api/v1/applications/" + app.ID + "/credentials"
	s.do(t, "POST", creds, fmt.Sprintf(`{"type":"hmac-auth","access_key":%q,"secret_key":%q}`, attackAccessKey, attackSecretKey), 201, nil)
	var jwtCred struct{ Secret string }
	s.do(t, "POST", creds, `{"type":"jwt-auth","key":"attack-jwt"}`, 201, &jwtCred)
	const password = "a-long-basic-password"
	s.do(t, "POST", creds, `{"type":"basic-auth","username":"alice","password":"`+password+`"}`, 201, nil)

	t.Run("hmac replay of a body-less request", func(t *testing.T) {
		url := s.Gateway + "/signed/r"
		h := firstAccepted(t, "GET", url, "", func(at time.Time) map[string]string {
			return recipeSign(attackAccessKey, attackSecretKey, "GET", "/signed/r", "", at)
		})
		if status, _, body := gatewayCall(t, "GET", url, "", h); status != 401 {
			t.Errorf("the same signed GET again: %d %s, want 401", status, body)
		}
	})

	t.Run("hmac body changed under a signature", func(t *testing.T) {
		url := s.Gateway + "/signed/r"
		// The documented signing recipe signs no body: on a POST with one that proves
		// nothing about the body, so it is refused.
		unsigned := recipeSign(attackAccessKey, attackSecretKey, "POST", "/signed/r", "", time.Now().Add(-30*time.Second))
		if status, _, body := gatewayCall(t, "POST", url, `{"amount":1}`, unsigned); status != 401 {
			t.Errorf("a body under a signature without its digest: %d %s, want 401", status, body)
		}
		const order = `{"amount":1}`
		h := firstAccepted(t, "POST", url, order, func(at time.Time) map[string]string {
			return signPost("POST", "/signed/r", order, at.Add(-time.Minute))
		})
		for _, body := range []string{`{"amount":1000}`, order} {
			if status, _, answer := gatewayCall(t, "POST", url, body, h); status != 401 {
				t.Errorf("captured signature replayed with %s: %d %s, want 401", body, status, answer)
			}
		}
	})

	t.Run("hmac body unsigned where the route allows it", func(t *testing.T) {
		h := firstAccepted(t, "POST", s.Gateway+"/loose/r", `{"amount":1}`, func(at time.Time) map[string]string {
			return recipeSign(attackAccessKey, attackSecretKey, "POST", "/loose/r", "", at)
		})
		if status, _, _ := gatewayCall(t, "POST", s.Gateway+"/loose/r", `{"amount":2}`, h); status != 401 {
			t.Errorf("a replay on the loose route: %d, want 401", status)
		}
	})

	t.Run("hmac config refused", func(t *testing.T) {
		b := s.do(t, "POST", "/api/v1/projects/default/services",
			`{"name":"bad","path":"/bad","plugins":{"hmac-auth":{"validate_request_body":false,"max_req_body":10}}}`, 400, nil)
		if !strings.Contains(string(b), "plugins.hmac-auth") || !strings.Contains(string(b), "max_req_body") {
			t.Errorf("400 does not name the field: %s", b)
		}
	})

	t.Run("weak keys and hints", func(t *testing.T) {
		for _, tc := range []struct{ body, field string }{
			{`{"type":"key-auth","key":"k"}`, "key"},
			{`{"type":"key-auth","key":"fifteen-chars-k"}`, "key"},
			{`{"type":"basic-auth","username":"bob","password":"short"}`, "password"},
			{`{"type":"oauth2","client_secret":"shortsecret"}`, "client_secret"},
		} {
			b := s.do(t, "POST", creds, tc.body, 400, nil)
			if !strings.Contains(string(b), `"field":"`+tc.field+`"`) {
				t.Errorf("%s: 400 does not name %s: %s", tc.body, tc.field, b)
			}
		}
		const key = "a-chosen-key-of-22-chr"
		var made struct{ Hint string }
		s.do(t, "POST", creds, `{"type":"key-auth","key":"`+key+`"}`, 201, &made)
		var list struct{ Items []struct{ Type, Hint string } }
		s.do(t, "GET", creds, "", 200, &list)
		for _, c := range list.Items {
			if c.Type == "key-auth" && (c.Hint != "...-chr" || made.Hint != c.Hint) {
				t.Errorf("hint %q (created %q), want ...-chr", c.Hint, made.Hint)
			}
			if strings.Contains(c.Hint, "sha256") {
				t.Errorf("hint %q shows the key's hash", c.Hint)
			}
		}
	})

	t.Run("jwt without exp", func(t *testing.T) {
		withExp := hs256(jwtCred.Secret, fmt.Sprintf(`{"key":"attack-jwt","exp":%d}`, time.Now().Add(time.Hour).Unix()))
		bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
		until(t, 200, func() (int, echoed, string) { return gw(t, "GET", s.Gateway+"/tokens/r", bearer(withExp)) })
		forever := hs256(jwtCred.Secret, `{"key":"attack-jwt"}`)
		if status, _, _ := gw(t, "GET", s.Gateway+"/tokens/r", bearer(forever)); status != 401 {
			t.Errorf("a token without exp by default: %d, want 401", status)
		}
		if status, _, _ := gw(t, "GET", s.Gateway+"/lax/r", bearer(forever)); status != 200 {
			t.Errorf("a token without exp where require_exp is false: %d, want 200", status)
		}
	})

	t.Run("forwarded address with a port", func(t *testing.T) {
		url := s.Gateway + "/guarded/r"
		until(t, 200, func() (int, echoed, string) { return gw(t, "GET", url, nil) })
		for _, tc := range []struct {
			xff    string
			status int
		}{
			{"10.0.0.1:1234", 403},
			{"[2001:db8::bad]:443", 403},
			{"10.0.0.1", 403},
			{"10.0.0.1:1234x", 403},
			{"203.0.113.5, not-an-address", 403},
			{"10.0.0.2:1234", 200},
			{"[2001:db8::1]:443", 200},
		} {
			if status, _, _ := gw(t, "GET", url, map[string]string{"X-Forwarded-For": tc.xff}); status != tc.status {
				t.Errorf("X-Forwarded-For %q: %d, want %d", tc.xff, status, tc.status)
			}
		}
	})

	t.Run("basic-auth guessing", func(t *testing.T) {
		url := s.Gateway + "/basic/r"
		auth := func(pw string) map[string]string {
			return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+pw))}
		}
		// The guard counts every failure from this address, so the right
		// password is first sent once the gateway serves the revision that
		// holds the credential: a probe sent before would count one.
		var group struct{ Revision int64 }
		s.do(t, "GET", "/api/v1/gateway-groups/default", "", 200, &group)
		s.waitApplied(t, group.Revision)
		if status, _, body := gw(t, "GET", url, auth(password)); status != 200 {
			t.Fatalf("the right password: %d %s", status, body)
		}
		// Each round guesses passwords not tried before: a known wrong one
		// is answered 401 from the guard's memory, before the counts.
		guess := func(round string) (statuses []int, retry string, oneMinute bool) {
			minute := time.Now().Truncate(time.Minute)
			for i := range 12 {
				status, h, _ := gatewayCall(t, "GET", url, "", auth("guess-"+round+strconv.Itoa(i)))
				statuses = append(statuses, status)
				if status == 429 {
					retry = h.Get("Retry-After")
				}
			}
			return statuses, retry, time.Now().Truncate(time.Minute).Equal(minute)
		}
		statuses, retry, oneMinute := guess("a")
		if !oneMinute {
			// The failures are counted per clock minute, and the guesses
			// (well under a second) crossed a minute's end: once more from
			// the start of the next minute, where none is counted yet.
			time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute + 100*time.Millisecond)))
			statuses, retry, _ = guess("b")
		}
		want := []int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429, 429}
		if fmt.Sprint(statuses) != fmt.Sprint(want) {
			t.Errorf("statuses of 12 guesses %v, want %v", statuses, want)
		}
		if n, err := strconv.Atoi(retry); err != nil || n < 1 || n > 60 {
			t.Errorf("429 Retry-After %q", retry)
		}
		// The owner, whose password the gateway already checked, is not
		// locked out by the guesses.
		status, _, body := gatewayCall(t, "GET", url, "", auth(password))
		var got struct{ Consumer string }
		_ = json.Unmarshal([]byte(body), &got)
		if status != 200 || got.Consumer != app.ID {
			t.Errorf("the right password after the guesses: %d %s", status, body)
		}
	})
}

// TestAttackAuthHMACReplayAcrossGateways: two gateways sharing a Redis
// refuse at one a signature the other accepted.
func TestAttackAuthHMACReplayAcrossGateways(t *testing.T) {
	c := needRedis(t, sharedRedis)
	prefix := testPrefix(t, c)
	port := bodyBackend(t)
	var gws []*server
	for _, engine := range attackEngines {
		s := startServer(t, t.TempDir(), "--engine", engine, "--redis", "redis://"+sharedRedis, "--redis-prefix", prefix)
		publishAttack(t, s, "signed", `"hmac-auth":{}`, port)
		var app struct{ ID string }
		s.do(t, "POST", "/api/v1/applications", `{"name":"shared","project":"default"}`, 201, &app)
		s.do(t, "POST", "/api/v1/applications/"+app.ID+"/credentials",
			fmt.Sprintf(`{"type":"hmac-auth","access_key":%q,"secret_key":%q}`, attackAccessKey, attackSecretKey), 201, nil)
		gws = append(gws, s)
	}
	a, b := gws[0], gws[1]
	sign := func(at time.Time) map[string]string {
		return recipeSign(attackAccessKey, attackSecretKey, "GET", "/signed/r", "", at)
	}
	// Both know the credential and have their Redis connection open (each
	// with signatures of its own: dates minutes apart); a first call to a
	// cold Redis may time out, and the gateway then checks locally only.
	firstAccepted(t, "GET", b.Gateway+"/signed/r", "", func(at time.Time) map[string]string { return sign(at.Add(-time.Minute)) })
	firstAccepted(t, "GET", a.Gateway+"/signed/r", "", func(at time.Time) map[string]string { return sign(at.Add(-2 * time.Minute)) })
	h := firstAccepted(t, "GET", a.Gateway+"/signed/r", "", sign)
	if status, _, body := gatewayCall(t, "GET", b.Gateway+"/signed/r", "", h); status != 401 {
		t.Errorf("a signature accepted by gateway a, replayed at gateway b: %d %s, want 401", status, body)
	}
	keys, err := c.Keys(t.Context(), prefix+"hmac:*").Result()
	if err != nil || len(keys) < 2 {
		t.Errorf("Redis holds %v (%v), want the used signatures", keys, err)
	}
	for _, k := range keys {
		if ttl := c.TTL(t.Context(), k).Val(); ttl <= 0 || ttl > 302*time.Second {
			t.Errorf("%s expires in %v, want within the clock skew", k, ttl)
		}
	}
}
