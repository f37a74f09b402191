package adminapi

import (
	"net/http"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// TestGroupTraceSampleRatio: a group's trace sample ratio is part of what
// its gateways run, so setting it is a new revision; out of 0..1 is 400
// naming it, and null goes back to each gateway's own ratio.
func TestGroupTraceSampleRatio(t *testing.T) {
	a := newTestAPI(t)
	var g spec.GatewayGroup
	a.mustJSON("GET", "/gateway-groups/default", nil, http.StatusOK, &g)
	before := g.Revision
	a.mustJSON("PATCH", "/gateway-groups/default", map[string]any{"trace_sample_ratio": 0.25}, http.StatusOK, &g)
	if g.TraceSampleRatio == nil || *g.TraceSampleRatio != 0.25 || g.Revision <= before {
		t.Fatalf("after a ratio: %+v (revision before %d)", g, before)
	}
	if snap := groupSnapshot(t, a); snap.Group.TraceSampling() != 0.25 {
		t.Errorf("the snapshot's group = %+v", snap.Group)
	}
	wantCode(t, "a ratio above 1", a.do("PATCH", "/gateway-groups/default", map[string]any{"trace_sample_ratio": 1.5}), http.StatusBadRequest)
	rev := g.Revision
	var back spec.GatewayGroup
	a.mustJSON("PATCH", "/gateway-groups/default", map[string]any{"trace_sample_ratio": nil}, http.StatusOK, &back)
	if back.TraceSampleRatio != nil || back.Revision <= rev {
		t.Errorf("after null: %+v (revision before %d)", back, rev)
	}
}
