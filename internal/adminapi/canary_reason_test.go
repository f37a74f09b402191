package adminapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
)

// failingTarget is what the gateways report of a target that fails three
// requests in four, above the guard's limit of one in two.
type failingTarget struct{}

func (failingTarget) TargetFigures(string, time.Duration) (spec.SideFigures, bool) {
	return spec.SideFigures{Requests: 40, Errors: 30, ErrorRate: 0.75}, true
}

func (failingTarget) CanaryFigures(string) ([]spec.CanaryWindow, bool) { return nil, false }

// TestGuardCancelledCanaryCarriesReason: a canary its guard cancelled
// answers, alone and in the list, its state and the guard's finding, so a
// client can say why the traffic went back.
func TestGuardCancelledCanaryCarriesReason(t *testing.T) {
	a := newTestAPI(t)
	id := runningCanary(t, a) // guard: more than 50 % errors over 5 requests
	g := release.Guard{Store: a.store, Figures: failingTarget{}}
	if err := g.Check(context.Background()); err != nil {
		t.Fatalf("guard check: %v", err)
	}
	var c spec.Canary
	a.mustJSON("GET", "/projects/default/services/svc/canary/"+id, nil, http.StatusOK, &c)
	if c.State != spec.CanaryCancelled || !strings.HasPrefix(c.Reason, "guard:") || !strings.Contains(c.Reason, "error rate") {
		t.Fatalf("canary after its guard tripped: state %q reason %q", c.State, c.Reason)
	}
	var l struct{ Items []spec.Canary }
	a.mustJSON("GET", "/projects/default/services/svc/canary", nil, http.StatusOK, &l)
	if len(l.Items) != 1 || l.Items[0].Reason != c.Reason {
		t.Errorf("list: %+v, want the one canary with reason %q", l.Items, c.Reason)
	}
}
