package controlplane

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// TestFeedDeltas: a gateway that serves a revision and holds the group's
// consumers is sent only the services changed since (a publish: that
// service; a lifecycle action that stops it: its id as removed); one that
// asks without deltas, from revision 0, with other consumers, or across
// a change of the whole group is sent the whole snapshot.
func TestFeedDeltas(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, storetest.SQLiteDir(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const token = "ptg_delta-test-token"
	tx := func(fn func(tx store.Tx) error) {
		t.Helper()
		if err := st.Tx(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]string{}
	publish := func(name, version string) {
		t.Helper()
		tx(func(tx store.Tx) error {
			_, err := release.Publish(ctx, tx, "test", "p", ids[name], release.PublishRequest{Group: "prod", Version: version})
			return err
		})
	}
	tx(func(tx store.Tx) error {
		if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "prod", PathPrefix: "/{project}"}); err != nil {
			return err
		}
		if _, err := release.Apply(ctx, tx, release.Change{Groups: []string{"prod"}, Audit: &release.AuditNote{Actor: "test", Action: "release.gateway_group"}}); err != nil {
			return err
		}
		if err := tx.CreateProject(ctx, &spec.Project{ID: "p", Name: "P", TestGroup: "prod", ProductionGroup: "prod"}); err != nil {
			return err
		}
		for _, name := range []string{"a", "b", "c"} {
			s := spec.Service{ProjectID: "p", Name: name, Path: "/" + name, Upstream: &spec.Upstream{Nodes: []spec.Node{{Host: "127.0.0.1", Port: 9, Weight: 1}}}}
			if err := tx.CreateService(ctx, &s); err != nil {
				return err
			}
			ids[name] = s.ID
			if err := tx.CreateRoute(ctx, &spec.Route{ServiceID: s.ID, Name: "r", Paths: []string{"/r"}}); err != nil {
				return err
			}
		}
		return tx.CreateGatewayToken(ctx, &spec.GatewayToken{Group: "prod", Name: "g"}, credential.HashKey(token))
	})
	for _, name := range []string{"a", "b", "c"} {
		publish(name, "1")
	}
	srv := httptest.NewServer(newFeedServer(st, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	poll := func(query string) feed.Update {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+feed.PathPrefix+"prod"+query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var up feed.Update
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&up) != nil {
			t.Fatalf("poll %s: %d", query, resp.StatusCode)
		}
		return up
	}
	whole := poll("?after=0")
	if whole.Snapshot == nil || len(whole.Snapshot.Groups[0].Services) != 3 || whole.Consumers == "" {
		t.Fatalf("after 0: %+v, want the whole snapshot of 3 services and the consumers' digest", whole)
	}
	from := strconv.FormatInt(whole.Revision, 10)
	deltaQuery := "?after=" + from + "&deltas=1&consumers=" + whole.Consumers

	publish("b", "2")
	up := poll(deltaQuery)
	if up.Delta == nil || up.Snapshot != nil || up.Delta.Base != whole.Revision || up.Delta.Revision != up.Revision {
		t.Fatalf("after a publish: %+v, want a delta from %d", up, whole.Revision)
	}
	if g := up.Delta.Groups; len(g) != 1 || len(g[0].Services) != 1 || g[0].Services[0].Service.ID != ids["b"] || g[0].Services[0].Version != "2" || len(g[0].Removed) != 0 {
		t.Fatalf("the delta of a publish of b: %+v", up.Delta.Groups)
	}
	if up.Consumers != whole.Consumers {
		t.Errorf("the consumers' digest moved on a publish: %q, was %q", up.Consumers, whole.Consumers)
	}
	for _, q := range []string{
		"?after=" + from, // a gateway that does not take deltas
		"?after=0&deltas=1&consumers=" + whole.Consumers,   // from nothing
		"?after=" + from + "&deltas=1&consumers=different", // other consumers
		"?after=" + from + "&deltas=1",                     // unknown consumers
	} {
		if up := poll(q); up.Snapshot == nil || up.Delta != nil {
			t.Errorf("poll %s: %+v, want the whole snapshot", q, up)
		}
	}

	// Another control plane process (a restart, perhaps onto a store
	// restored from a backup) sends a gateway its whole snapshot first.
	restarted := httptest.NewServer(newFeedServer(st, slog.New(slog.DiscardHandler)))
	t.Cleanup(restarted.Close)
	req, _ := http.NewRequest("GET", restarted.URL+feed.PathPrefix+"prod"+deltaQuery, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var first feed.Update
	if err := json.NewDecoder(resp.Body).Decode(&first); err != nil || first.Snapshot == nil {
		t.Errorf("a restarted control plane's first answer: %+v, %v; want the whole snapshot", first, err)
	}
	resp.Body.Close()

	// Taking c offline stops it running: a delta naming it removed, on
	// top of b's publish.
	tx(func(tx store.Tx) error {
		if err := tx.DeleteDeployment(ctx, "prod", ids["c"]); err != nil {
			return err
		}
		_, err := release.Commit(ctx, tx, spec.HistoryEvent{ProjectID: "p", ServiceID: ids["c"], Group: "prod", Action: "offline", Actor: "test"})
		return err
	})
	up = poll(deltaQuery)
	if up.Delta == nil || len(up.Delta.Groups[0].Services) != 1 || len(up.Delta.Groups[0].Removed) != 1 || up.Delta.Groups[0].Removed[0] != ids["c"] {
		t.Fatalf("after b's publish and c's removal: %+v", up)
	}
	// A change of the whole group (its prefix) is sent whole.
	tx(func(tx store.Tx) error {
		g, err := tx.GetGroup(ctx, "prod")
		if err != nil {
			return err
		}
		g.Description = "whole"
		if err := tx.UpdateGroup(ctx, &g); err != nil {
			return err
		}
		_, err = release.Apply(ctx, tx, release.Change{Groups: []string{"prod"}, Audit: &release.AuditNote{Actor: "test", Action: "release.gateway_group"}})
		return err
	})
	if up := poll(deltaQuery); up.Snapshot == nil {
		t.Errorf("across a change of the whole group: %+v, want the whole snapshot", up)
	}
}
