package controlplane

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// TestFeedServer: the feed admits only live tokens of the group, checks
// its parameters, answers a change at once, an idle poll with 204 after
// wait, and a gateway ahead of the store with a reset.
func TestFeedServer(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, storetest.SQLiteDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const token, otherToken = "ptg_feed-test-token", "ptg_other-group-token"
	var rev int64
	err = st.Tx(ctx, func(tx store.Tx) error {
		for _, g := range []string{"prod", "test"} {
			if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: g}); err != nil {
				return err
			}
		}
		if err := tx.CreateGatewayToken(ctx, &spec.GatewayToken{Group: "prod", Name: "a"}, credential.HashKey(token)); err != nil {
			return err
		}
		if err := tx.CreateGatewayToken(ctx, &spec.GatewayToken{Group: "test", Name: "b"}, credential.HashKey(otherToken)); err != nil {
			return err
		}
		rev, err = tx.BumpRevision(ctx, store.RevisionChange{Group: "prod"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newFeedServer(st, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	poll := func(method, query, tok string) (*http.Response, feed.Update) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+feed.PathPrefix+"prod"+query, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var up feed.Update
		if resp.StatusCode == 200 {
			if err := json.NewDecoder(resp.Body).Decode(&up); err != nil {
				t.Fatal(err)
			}
		}
		return resp, up
	}
	for _, c := range []struct {
		method, query, token string
		want                 int
	}{
		{"GET", "?after=0", "", 401},
		{"GET", "?after=0", "ptg_nope", 401},
		{"GET", "?after=0", otherToken, 403},
		{"GET", "?after=-1", token, 400},
		{"GET", "?after=x", token, 400},
		{"GET", "?after=0&wait=2m", token, 400},
		{"GET", "?after=0&wait=-1s", token, 400},
		{"POST", "?after=0", token, 405},
	} {
		if resp, _ := poll(c.method, c.query, c.token); resp.StatusCode != c.want {
			t.Errorf("%s %s with %q: %d, want %d", c.method, c.query, c.token, resp.StatusCode, c.want)
		}
	}

	// A change is answered at once, whole.
	resp, up := poll("GET", "?after=0&wait=30s", token)
	if resp.StatusCode != 200 || up.Revision != rev || up.Snapshot.Revision != rev || up.Reset || len(up.Snapshot.Groups) != 1 || up.Snapshot.Groups[0].Group.Name != "prod" {
		t.Fatalf("first poll: %d %+v", resp.StatusCode, up)
	}
	// Nothing new: 204 once wait ends, with the current revision.
	resp, _ = poll("GET", "?after="+strconv.FormatInt(rev, 10)+"&wait=50ms", token)
	if resp.StatusCode != 204 || resp.Header.Get(feed.HeaderRevision) != strconv.FormatInt(rev, 10) {
		t.Fatalf("idle poll: %d, revision %q", resp.StatusCode, resp.Header.Get(feed.HeaderRevision))
	}
	// A change during the wait ends it.
	go func() {
		time.Sleep(20 * time.Millisecond) // let the poll start waiting; if it has not, it sees the change at once
		st.Tx(ctx, func(tx store.Tx) error {
			_, err := tx.BumpRevision(ctx, store.RevisionChange{Group: "prod"})
			return err
		})
	}()
	resp, up = poll("GET", "?after="+strconv.FormatInt(rev, 10)+"&wait=30s", token)
	if resp.StatusCode != 200 || up.Revision <= rev {
		t.Fatalf("poll across a change: %d %+v", resp.StatusCode, up)
	}
	// A gateway ahead of the store gets the store's snapshot as a reset.
	resp, up = poll("GET", "?after="+strconv.FormatInt(up.Revision+100, 10)+"&wait=30s", token)
	if resp.StatusCode != 200 || !up.Reset {
		t.Fatalf("poll from ahead: %d %+v, want a reset", resp.StatusCode, up)
	}
}

// TestFeedHeartbeat: a heartbeat of a live token is kept, stamped with the
// control plane's clock; every field is bounded and an unknown one is
// refused; without a token of the group nothing is kept.
func TestFeedHeartbeat(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, storetest.SQLiteDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const token = "ptg_heartbeat-test-token"
	tok := spec.GatewayToken{Group: "prod", Name: "a"}
	err = st.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "prod"}); err != nil {
			return err
		}
		return tx.CreateGatewayToken(ctx, &tok, credential.HashKey(token))
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newFeedServer(st, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	beat := func(method, id, tok, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+feed.PathPrefix+"prod"+feed.InstancesSegment+id, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := `{"hostname":"gw-1","addresses":["10.0.0.1:9080"],"version":"v1","engine":"fast","revision":3,"started_at":"2026-12-03T10:00:00Z","interval_ms":10000,"requests":5,"errors":1}`
	for _, c := range []struct {
		method, id, token, body string
		want                    int
	}{
		{"POST", "gw-1-abc", "", good, 401},
		{"POST", "gw-1-abc", "ptg_nope", good, 401},
		{"GET", "gw-1-abc", token, "", 405},
		{"POST", "bad id!", token, good, 400},
		{"POST", strings.Repeat("x", 65), token, good, 400},
		{"POST", "gw-1-abc", token, good + `{}`, 400},
		{"POST", "gw-1-abc", token, strings.Replace(good, `"gw-1"`, `"gw\u000a1"`, 1), 400},
		{"POST", "gw-1-abc", token, strings.Replace(good, `2026-12-03T10:00:00Z`, `1970-01-01T00:00:00Z`, 1), 400},
		{"POST", "gw-1-abc", token, `{"engine":"warp","interval_ms":10000}`, 400},
		{"POST", "gw-1-abc", token, `{"engine":"fast","interval_ms":10}`, 400},
		{"POST", "gw-1-abc", token, `{"engine":"fast","interval_ms":10000,"hostname":"` + strings.Repeat("h", 256) + `"}`, 400},
		{"POST", "gw-1-abc", token, `{"engine":"fast","interval_ms":10000,"detail":"` + strings.Repeat("d", 600) + `"}`, 400},
		{"POST", "gw-1-abc", token, `not json`, 400},
		// Figures no ring could hold: no canary id, a slot past the
		// histogram, more errors than requests.
		{"POST", "gw-1-abc", token, strings.Replace(good, `{`, `{"canaries":[{"id":"","buckets":[{"age":0,"requests":1}]}],`, 1), 400},
		{"POST", "gw-1-abc", token, strings.Replace(good, `{`, `{"services":[{"service":"s","buckets":[{"age":0,"requests":1,"latency":[[56,1]]}]}],`, 1), 400},
		{"POST", "gw-1-abc", token, strings.Replace(good, `{`, `{"services":[{"service":"s","buckets":[{"age":0,"requests":1,"errors":2}]}],`, 1), 400},
		// Upstream health and registries: bounded, states known.
		{"POST", "gw-1-abc", token, strings.Replace(good, `{`, `{"upstream_health":[{"group":"prod","service":"s","node":"a:1","state":"dead"}],`, 1), 400},
		{"POST", "gw-1-abc", token, strings.Replace(good, `{`, `{"upstream_health":[{"group":"prod","service":"s","node":"a:1","state":"healthy","last_error":"`+strings.Repeat("e", 600)+`"}],`, 1), 400},
		{"POST", "gw-1-abc", token, strings.Replace(good, `{`, `{"registries":[{"registry":"r","instance":"forged","healthy":true}],`, 1), 400},
	} {
		if got := beat(c.method, c.id, c.token, c.body); got != c.want {
			t.Errorf("%s %q with %q: %d, want %d", c.method, c.id, c.body, got, c.want)
		}
	}
	before := time.Now().UTC()
	// A member this control plane does not know (a newer gateway's) is
	// ignored; a second beat right after is refused.
	health := `"upstream_health":[{"group":"prod","service":"s","node":"10.0.0.9:80","state":"ejected","last_error":"the connection failed"},` +
		`{"group":"other","service":"s","node":"10.0.0.8:80","state":"healthy"}],"registries":[{"registry":"consul","healthy":false,"error":"refused","services":2}],`
	if got := beat("POST", "gw-1-abc", token, strings.Replace(good, `{`, `{"newer":true,`+health, 1)); got != 204 {
		t.Fatalf("a good heartbeat: %d", got)
	}
	if got := beat("POST", "gw-1-abc", token, good); got != 429 {
		t.Errorf("a heartbeat right after another: %d, want 429", got)
	}
	err = st.View(ctx, func(tx store.Tx) error {
		list, err := tx.ListGatewayInstances(ctx, "prod")
		if err != nil {
			return err
		}
		if len(list) != 1 {
			t.Fatalf("instances: %+v, want only the good heartbeat's", list)
		}
		in := list[0]
		if in.ID != "gw-1-abc" || in.Revision != 3 || in.Requests != 5 || in.Interval != 10*time.Second || in.LastSeen.Before(before) || in.Embedded || in.TokenID != tok.ID {
			t.Errorf("kept %+v", in)
		}
		// Only the group's own nodes are kept.
		if len(in.UpstreamHealth) != 1 || in.UpstreamHealth[0].State != spec.NodeEjected || in.UpstreamHealth[0].Node != "10.0.0.9:80" {
			t.Errorf("upstream health kept: %+v", in.UpstreamHealth)
		}
		if len(in.Registries) != 1 || in.Registries[0].Healthy || in.Registries[0].Services != 2 {
			t.Errorf("registries kept: %+v", in.Registries)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
