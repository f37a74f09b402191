package controlplane

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"

	"github.com/portico-gw/portico/internal/gateway/accesslog"
	"github.com/portico-gw/portico/internal/spec"
)

// TestCallBudgetKeepsFailedCalls: past its budget of a second, the
// collector keeps failed calls only, told apart on the encoder's own
// lines (a 200 whose backend answered 500 is not a failed call).
func TestCallBudgetKeepsFailedCalls(t *testing.T) {
	line := func(status, upstream int) []byte {
		return accesslog.AppendJSON(nil, &spec.CallRecord{Time: time.Now(), RequestID: "r", Group: "g", Method: "GET", Path: "/",
			Status: status, UpstreamStatus: upstream})
	}
	c := newCallCollector(nil, nil, 2)
	const now = 100
	for i, tc := range []struct {
		line []byte
		want bool
	}{
		{line(200, 200), true},
		{line(200, 200), true}, // the budget of the second is used up
		{line(200, 200), false},
		{line(200, 500), false},
		{withFailedStep(), false}, // a composite's step failed, the call did not
		{line(502, 0), true},
		{line(404, 0), true},
		{line(503, 0), false}, // as many failed again, no more
	} {
		if got := c.admit(tc.line, now); got != tc.want {
			t.Errorf("line %d %s: admitted %v, want %v", i, tc.line, got, tc.want)
		}
	}
	if c.droppedCalls() != 4 {
		t.Errorf("dropped %d, want 4", c.droppedCalls())
	}
	if !c.admit(line(200, 200), now+1) {
		t.Errorf("a new second has a new budget")
	}
}

// withFailedStep is the line of a composite call answered 200 whose
// optional step failed with 500.
func withFailedStep() []byte {
	return accesslog.AppendJSON(nil, &spec.CallRecord{Time: time.Now(), RequestID: "r", Group: "g", Method: "GET", Path: "/", Status: 200,
		Steps: []spec.CallStep{{Name: "a", Target: "s/r", Status: 500, Outcome: "fallback"}}})
}

// TestFeedCalls: a stand-alone gateway's calls land in its token's group
// whatever the lines claim, under its instance id; no token, another
// group's token or an oversized post is refused and stores nothing.
func TestFeedCalls(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, storetest.SQLiteDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const token, otherToken = "ptg_calls-test-token", "ptg_calls-other-token"
	err = st.Tx(ctx, func(tx store.Tx) error {
		for _, g := range []string{"prod", "test"} {
			if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: g}); err != nil {
				return err
			}
		}
		if err := tx.CreateGatewayToken(ctx, &spec.GatewayToken{Group: "prod", Name: "a"}, credential.HashKey(token)); err != nil {
			return err
		}
		return tx.CreateGatewayToken(ctx, &spec.GatewayToken{Group: "test", Name: "b"}, credential.HashKey(otherToken))
	})
	if err != nil {
		t.Fatal(err)
	}
	fs := newFeedServer(st, slog.New(slog.DiscardHandler))
	fs.calls = newCallCollector(st, slog.New(slog.DiscardHandler), 0)
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	line := func(id, group string) string {
		return string(accesslog.AppendJSON(nil, &spec.CallRecord{Time: time.Now(), RequestID: id, Group: group, Method: "GET", Path: "/x", Status: 502}))
	}
	post := func(group, query, tok, body string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+feed.PathPrefix+group+feed.CallsSegment+query, strings.NewReader(body))
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
	for _, c := range []struct {
		name, group, query, token, body string
		want                            int
	}{
		{"no token", "prod", "", "", line("r0", "prod"), 401},
		{"another group's token", "prod", "", otherToken, line("r0", "prod"), 403},
		{"a bad instance id", "prod", "?instance=bad%20id", token, line("r0", "prod"), 400},
		{"too many lines", "prod", "", token, strings.Repeat(line("r0", "prod")+"\n", feed.MaxCallLines+1), 413},
		{"lines claiming another group", "prod", "?instance=gw-1", token, line("r1", "test") + "\n" + line("r2", "prod") + "\nnot json\n", 204},
	} {
		if got := post(c.group, c.query, c.token, c.body); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	fs.calls.flush(ctx)
	var recs []spec.CallRecord
	err = st.View(ctx, func(tx store.Tx) error {
		recs, _, err = tx.SearchCallRecords(ctx, store.CallLogFilter{AllProjects: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("stored %+v, want the two calls of the last post", recs)
	}
	for _, r := range recs {
		if r.Group != "prod" || r.Instance != "gw-1" || (r.RequestID != "r1" && r.RequestID != "r2") {
			t.Errorf("stored %+v: want group prod, instance gw-1", r)
		}
	}
}
