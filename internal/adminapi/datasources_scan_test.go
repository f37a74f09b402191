package adminapi

import (
	"net"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestDataSourceTestIsNoScanner: the connection test dials only the saved
// data source (parameters sent with it are refused) and is rate limited
// per user.
func TestDataSourceTestIsNoScanner(t *testing.T) {
	clk := &clock{t: time.Now().UTC()}
	a := withClock(newTestAPI(t), clk)
	var d spec.DataSource
	a.mustJSON("POST", "/projects/default/data-sources", map[string]any{"name": "db", "type": "postgres",
		"host": "127.0.0.1", "port": closedPort(t), "database": "x", "user": "x"}, http.StatusCreated, &d)
	test := "/projects/default/data-sources/" + d.ID + "/test"
	for body, fields := range map[string][]string{`{"host":"10.0.0.1","port":22}`: {"host", "port"}, `{"port":22}`: {"port"}, `x`: {"body"}} {
		r := a.do("POST", test, body)
		if r.status != http.StatusBadRequest || !slices.Equal(r.fields(t), fields) {
			t.Fatalf("test with %s: %d %s, want 400 naming %v", body, r.status, r.body, fields)
		}
	}
	for i := range dataSourceTestLimit {
		var res dataSourceTest
		a.mustJSON("POST", test, nil, http.StatusOK, &res)
		if res.OK {
			t.Fatalf("test %d of a closed port answered ok", i)
		}
	}
	r := a.do("POST", test, nil)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("test %d: %d, want 429", dataSourceTestLimit+1, r.status)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	clk.advance(dataSourceTestPeriod)
	a.mustJSON("POST", test, nil, http.StatusOK, nil)
}

func TestRateWindow(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	w := newRateWindow(2, time.Minute)
	steps := []struct {
		at   time.Duration
		key  string
		ok   bool
		wait time.Duration
	}{
		{0, "u1", true, 0},
		{10 * time.Second, "u1", true, 0},
		{20 * time.Second, "u1", false, 40 * time.Second},
		{20 * time.Second, "u2", true, 0},
		{60 * time.Second, "u1", true, 0},
		{61 * time.Second, "u1", false, 9 * time.Second},
	}
	for i, s := range steps {
		wait, ok := w.allow(s.key, t0.Add(s.at))
		if ok != s.ok || wait != s.wait {
			t.Errorf("step %d: %v %v, want %v %v", i, ok, wait, s.ok, s.wait)
		}
	}
}
