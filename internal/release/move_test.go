package release_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// TestMoveFolderPath changes the path of a folder whose service runs in two
// groups: unconfirmed, nothing happens and the URLs are listed; confirmed,
// each group gets a new revision and a "move" history event.
func TestMoveFolderPath(t *testing.T) {
	e := newEnv(t)
	var f spec.Folder
	e.tx(func(ctx context.Context, tx store.Tx) error {
		f = spec.Folder{ProjectID: spec.DefaultProject, Name: "用户域", Path: "/user"}
		return tx.CreateFolder(ctx, &f)
	})
	svc := e.service(spec.Service{Name: "user_info", Path: spec.DefaultPath, FolderID: f.ID, Upstream: nodes("a")},
		spec.Route{Name: "user_info"})
	e.service(spec.Service{Name: "elsewhere", Path: "/own", Upstream: nodes("b")}, spec.Route{Name: "x"})
	e.mustPublish(svc.Name, release.PublishRequest{Group: "test", Version: "1.0.0"})
	e.mustPublish(svc.Name, release.PublishRequest{Group: "default", Version: "1.0.1"})
	e.mustPublish("elsewhere", release.PublishRequest{Group: "default", Version: "1.0.0"})

	move := func(confirm bool) ([]release.URLChange, error) {
		var changes []release.URLChange
		ctx := t.Context()
		err := e.st.Tx(ctx, func(tx store.Tx) error {
			before, err := tx.Snapshot(ctx, []string{"default", "test"})
			if err != nil {
				return err
			}
			g := f
			g.Path = "/user/active"
			if err := tx.UpdateFolder(ctx, &g); err != nil {
				return err
			}
			changes, err = release.Move(ctx, tx, actor, "changing the path of folder 用户域", before, confirm)
			return err
		})
		return changes, err
	}
	want := []release.URLChange{
		{Group: "default", ProjectID: "default", ServiceID: svc.ID, Service: "user_info", Route: "user_info", From: "/user/user_info", To: "/user/active/user_info"},
		{Group: "test", ProjectID: "default", ServiceID: svc.ID, Service: "user_info", Route: "user_info",
			From: "/api/gateway/test/default/user/user_info", To: "/api/gateway/test/default/user/active/user_info"},
	}

	before := e.state()
	_, err := move(false)
	checkErr(t, err, errConflict)
	me, ok := errors.AsType[*release.MoveError](err)
	if !ok {
		t.Fatalf("error %v is no *release.MoveError", err)
	}
	if diff := cmp.Diff(want, me.Changes); diff != "" {
		t.Errorf("unconfirmed changes (-want +got):\n%s", diff)
	}
	e.unchanged(before)

	changes, err := move(true)
	checkErr(t, err, errNone)
	if diff := cmp.Diff(want, changes); diff != "" {
		t.Errorf("confirmed changes (-want +got):\n%s", diff)
	}
	after := e.state()
	for _, g := range []string{"default", "test"} {
		if after.Revisions[g] <= before.Revisions[g] {
			t.Errorf("group %s revision %d -> %d, want it bumped", g, before.Revisions[g], after.Revisions[g])
		}
	}
	h := after.History[svc.ID]
	if len(h) < 2 || h[0].Action != "move" || h[1].Action != "move" || h[0].Detail != "changing the path of folder 用户域" {
		t.Errorf("history = %+v, want two move events", h[:2])
	}
	if v, routes := e.snapshotRoutes("test", svc.ID); v != "1.0.0" || routes["user_info"] != nil {
		t.Errorf("test runs %s %v", v, routes)
	}
	// Nothing moves now: nothing is committed.
	before = e.state()
	changes, err = move(false)
	checkErr(t, err, errNone)
	if len(changes) != 0 {
		t.Errorf("second move changed %v", changes)
	}
	e.unchanged(before)
}
