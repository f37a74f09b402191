package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// skipUnderRace skips the tests that post odd values to every form: they
// send thousands of requests, one at a time, so the race detector finds
// nothing in them and makes them cost minutes; make test runs them in its
// pass without it.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("run without the race detector (make test's second pass)")
	}
}

// TestRefusedNodesKeepEveryRow: an upstream refused for its second node
// comes back with both nodes as typed (the form adds rows in the
// browser; only the first was kept before), plus an empty row.
func TestRefusedNodesKeepEveryRow(t *testing.T) {
	f := newFixture(t)
	rec := f.send("POST", "/p/default/upstreams", url.Values{"name": {"two_nodes"}, "scheme": {"http"},
		"node_host": {"10.0.0.1", "10.0.0.2"}, "node_port": {"8080", "70000"}, "node_weight": {"5", "7"}}, true)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("a port of 70000: %d, want the form again with 400", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{`value="two_nodes"`, `value="10.0.0.1"`, `value="8080"`, `value="5"`, `value="10.0.0.2"`, `value="70000"`, `value="7"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the refused form lost %s", want)
		}
	}
	if n := strings.Count(body, `name="node_host"`); n != 3 {
		t.Errorf("%d node rows, want the 2 typed and an empty one", n)
	}
}
