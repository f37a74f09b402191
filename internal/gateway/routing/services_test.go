package routing

import (
	"fmt"
	"maps"
	"testing"
)

// An edit of serviceParts leaves the one it started from as it was, and
// keeps the canaries of its services in step.
func TestServicePartsEdit(t *testing.T) {
	e := editServices(nil)
	for i := range 200 {
		sp := &servicePart{}
		if i%50 == 0 {
			sp.canaryID = fmt.Sprintf("c%d", i)
		}
		e.set(fmt.Sprint(i), sp)
	}
	base := e.s
	baseCanaries := maps.Clone(base.canaries)

	e = editServices(base)
	e.remove("0")                                 // had a canary
	e.set("50", &servicePart{})                   // its canary ended
	e.set("7", &servicePart{canaryID: "c7"})      // a new one
	e.set("new", &servicePart{canaryID: "c-new"}) // a new service with one
	e.remove("missing")                           // nothing
	next := e.s

	if base.n != 200 || base.get("0") == nil || base.get("new") != nil || !maps.Equal(base.canaries, baseCanaries) {
		t.Errorf("the original changed: n=%d, canaries %v", base.n, base.canaries)
	}
	want := map[string]string{"7": "c7", "100": "c100", "150": "c150", "new": "c-new"}
	if next.n != 200 || next.get("0") != nil || next.get("new") == nil || !maps.Equal(next.canaries, want) {
		t.Errorf("the edit: n=%d, canaries %v, want %v", next.n, next.canaries, want)
	}
}
