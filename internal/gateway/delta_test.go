package gateway

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

func TestDeltas(t *testing.T) { forEachEngine(t, testDeltas) }

// testDeltas: a delta is compiled onto the table served (the changed
// service answers anew, the others as before); a delta from another
// revision than the one served, or one that needs the whole group, is
// answered by asking the source for the whole snapshot (after 0), and the
// table keeps serving meanwhile.
func testDeltas(t *testing.T, engine string) {
	be := backendServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.URL.Path) })
	g := start(t, engine)
	snap := snapshotOf(t, 4, be, named("r"))
	other := snap.Groups[0].Services[0]
	other.Service = spec.Service{ID: "other-id", Name: "other", Path: "/other", Routes: []spec.Route{named("o")}}
	snap.Groups[0].Services = append(snap.Groups[0].Services, other)
	g.publish(t, snap)

	changed := snap.Groups[0].Services[0]
	changed.Service.Routes = []spec.Route{named("r2")}
	g.deliver(t, spec.SnapshotUpdate{Delta: &spec.SnapshotDelta{Base: 4, Revision: 6,
		Groups: []spec.GroupDelta{{Group: snap.Groups[0].Group, Services: []spec.DeployedService{changed}}}}}, 6)
	for path, want := range map[string]int{"/r2": 200, "/r": 404, "/other/o": 200} {
		if code, _ := fetch(t, g.gw+path); code != want {
			t.Errorf("after the delta GET %s = %d, want %d", path, code, want)
		}
	}

	// A delta from a revision the gateway does not serve: it asks for the
	// whole snapshot.
	g.forgetPolls()
	g.hand(t, spec.SnapshotUpdate{Delta: &spec.SnapshotDelta{Base: 5, Revision: 7,
		Groups: []spec.GroupDelta{{Group: snap.Groups[0].Group, Removed: []string{"other-id"}}}}})
	g.askedForWhole(t)
	if code, _ := fetch(t, g.gw+"/other/o"); code != 200 {
		t.Errorf("a delta that was not applied changed what is served: GET /other/o = %d", code)
	}
	whole := *snap
	whole.Revision = 6
	whole.Groups = []spec.GroupSnapshot{{Group: snap.Groups[0].Group, Services: []spec.DeployedService{changed, other}}}
	g.publish(t, &whole)
	// So does one that names a group it does not serve.
	g.forgetPolls()
	g.hand(t, spec.SnapshotUpdate{Delta: &spec.SnapshotDelta{Base: 6, Revision: 7,
		Groups: []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "elsewhere"}, Removed: []string{"other-id"}}}}})
	g.askedForWhole(t)
}

// deliver hands the update to the gateway and waits until it serves rev.
func (r *running) deliver(t *testing.T, up spec.SnapshotUpdate, rev int64) {
	t.Helper()
	r.hand(t, up)
	for {
		select {
		case got := <-r.applied:
			if got == rev {
				return
			}
		case <-time.After(waitLimit):
			t.Fatalf("revision %d never applied", rev)
		}
	}
}

// forgetPolls drops the polls seen so far.
func (r *running) forgetPolls() {
	for {
		select {
		case <-r.src.polls:
		default:
			return
		}
	}
}

// askedForWhole waits for the gateway to poll its source with after 0.
func (r *running) askedForWhole(t *testing.T) {
	t.Helper()
	for {
		select {
		case after := <-r.src.polls:
			if after == 0 {
				return
			}
		case <-time.After(waitLimit):
			t.Fatal("the gateway never asked for the whole snapshot")
		}
	}
}
