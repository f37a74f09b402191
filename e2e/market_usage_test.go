package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMarketUsageOfStandaloneGateways: a group only stand-alone gateways
// serve counts its plan quotas in the Redis they share; the control plane
// (with the same --redis) answers a subscription's usage from there,
// though its own gateway serves another group.
func TestMarketUsageOfStandaloneGateways(t *testing.T) {
	t.Parallel()
	c := needRedis(t, sharedRedis)
	prefix := testPrefix(t, c)
	redisFlags := []string{"--redis", "redis://" + sharedRedis, "--redis-prefix", prefix}
	s := startServer(t, t.TempDir(), append([]string{"--group", "internal"}, redisFlags...)...)
	var hits atomic.Int64
	port := policyBackend(t, &hits)
	s.do(t, "POST", "/api/v1/gateway-groups", `{"name":"edge"}`, 201, nil)
	s.do(t, "POST", "/api/v1/projects", `{"id":"shop","test_group":"edge","production_group":"edge"}`, 201, nil)
	var tok struct{ Token string }
	s.do(t, "POST", "/api/v1/gateway-groups/edge/tokens", `{"name":"edge gateway"}`, 201, &tok)
	gw, err := launchGateway(t, s, "edge", tok.Token, t.TempDir(), append([]string{"--poll-wait", "1s", "--heartbeat", "1s"}, redisFlags...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, gw.out.String())
	}
	s.do(t, "POST", "/api/v1/projects/shop/services", `{"name":"orders","plugins":{"key-auth":{}},"upstream":`+nodes(port)+
		`,"routes":[{"name":"list","paths":["/orders"]}]}`, 201, nil)
	s.do(t, "POST", "/api/v1/projects/shop/services/orders/plans", `{"name":"small","quotas":[{"count":3,"period":"minute"}]}`, 201, nil)
	s.do(t, "POST", "/api/v1/projects/shop/services/orders/actions/submit", "", 200, nil)
	s.do(t, "POST", "/api/v1/projects/shop/services/orders/actions/publish", "", 200, nil)
	s.do(t, "PATCH", "/api/v1/projects/shop/services/orders/listing", `{"auto_approve":true}`, 200, nil)

	var app, cred, sub struct{ ID, Key string }
	s.do(t, "POST", "/api/v1/applications", `{"name":"mine"}`, 201, &app)
	s.do(t, "POST", "/api/v1/applications/"+app.ID+"/credentials", `{"type":"key-auth"}`, 201, &cred)
	s.do(t, "POST", "/api/v1/subscriptions", `{"application":"`+app.ID+`","service":"orders","plan":"small"}`, 201, &sub)
	// The minute must not end during the calls.
	if left := time.Minute - time.Duration(time.Now().UnixNano()%int64(time.Minute)); left < 10*time.Second {
		time.Sleep(left + time.Second)
	}
	waitFor(t, gw.Gateway+"/orders", 10*time.Second, func(int, []byte) bool { return true })
	key := map[string]string{"apikey": cred.Key}
	codes := []int{}
	deadline := time.Now().Add(10 * time.Second)
	for len(codes) < 5 && time.Now().Before(deadline) {
		resp, _ := send(t, "GET", gw.Gateway+"/orders", key)
		if resp.StatusCode == http.StatusUnauthorized && len(codes) == 0 {
			continue // the gateway has not applied the subscription yet
		}
		codes = append(codes, resp.StatusCode)
	}
	if fmt.Sprint(codes) != "[200 200 200 429 429]" {
		t.Fatalf("calls answered %v, want three admitted by the minute quota", codes)
	}
	// Day and month counts reach Redis within a second (the gateway's
	// flush); the minute quota's at once.
	var usage struct {
		Counted bool
		Periods []struct {
			Period      string
			Limit, Used int64
		}
	}
	waitFor(t, s.Admin+"/api/v1/subscriptions/"+sub.ID+"/usage", 10*time.Second, func(int, []byte) bool {
		body := s.do(t, "GET", "/api/v1/subscriptions/"+sub.ID+"/usage", "", 200, nil)
		if err := json.Unmarshal(body, &usage); err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, p := range usage.Periods {
			got[p.Period] = p.Used
		}
		return usage.Counted && got["minute"] == 3 && got["day"] == 3 && got["month"] == 3
	})
	if !strings.Contains(fmt.Sprint(usage.Periods), "minute 3 3") {
		t.Errorf("usage = %+v", usage)
	}
}
