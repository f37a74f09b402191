package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRedisLimitCountAcrossStandaloneGateways: three stand-alone gateways
// of one group share a limit-count of 300 a minute through the real
// Redis: under concurrent requests spread over the three, 300 are
// admitted, and the rest answered 429.
func TestRedisLimitCountAcrossStandaloneGateways(t *testing.T) {
	c := needRedis(t, sharedRedis)
	prefix := testPrefix(t, c)
	var hits atomic.Int64
	port := policyBackend(t, &hits)
	s := startServer(t, t.TempDir())
	var tok struct{ Token string }
	s.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"limited gateways"}`, 201, &tok)
	var gws []*server
	for i := range 3 {
		g, err := launchGateway(t, s, "default", tok.Token, t.TempDir(), "--poll-wait", "1s", "--heartbeat", "1s",
			"--instance-id", fmt.Sprintf("limited-%d", i), "--redis", "redis://"+sharedRedis, "--redis-prefix", prefix)
		if err != nil {
			t.Fatalf("%v\n%s", err, g.out.String())
		}
		gws = append(gws, g)
	}
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"shared","protocols":["http"]}`, 201, &svc)
	s.do(t, "POST", "/api/v1/projects/default/services/"+svc.ID+"/routes",
		`{"name":"limited","paths":["/limited"],"plugins":{"limit-count":{"count":300,"time_window":60,"key":"route","policy":"redis"}}}`, 201, nil)
	s.do(t, "POST", "/api/v1/projects/default/services/"+svc.ID+"/publish?wait=10s",
		`{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	for _, g := range gws {
		waitFor(t, g.Status+"/readyz", 5*time.Second, func(st int, body []byte) bool {
			return st == 200 && strings.Contains(string(body), `"routes":1`)
		})
	}
	// The minute window must not end during the burst.
	if left := time.Minute - time.Duration(time.Now().UnixNano()%int64(time.Minute)); left < 10*time.Second {
		time.Sleep(left + time.Second)
	}

	const sent = 450
	var ok, limited, other atomic.Int64
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 9 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= sent {
					return
				}
				resp, body := send(t, "GET", gws[i%3].Gateway+"/limited", nil)
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusTooManyRequests:
					limited.Add(1)
				default:
					other.Add(1)
					t.Errorf("request %d: %d %s", i, resp.StatusCode, body)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d sent over three gateways: %d admitted, %d refused", sent, ok.Load(), limited.Load())
	if n := ok.Load(); n < 297 || n > 303 {
		t.Errorf("%d admitted, want 300 ± 1 %% across the three gateways", n)
	}
	if hits.Load() != ok.Load() {
		t.Errorf("the backend saw %d requests, %d were admitted", hits.Load(), ok.Load())
	}
	for _, g := range gws {
		if n := fallbacks(t, g); n != 0 {
			t.Errorf("%s counted %d requests locally: Redis was not used", g.Gateway, n)
		}
	}
}
