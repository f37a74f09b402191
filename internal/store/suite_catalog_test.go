package store_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func testUpstreams(t *testing.T, s store.Store) {
	ids := seed(t, s)
	full := spec.Upstream{
		ProjectID: "p1", Name: "full", Scheme: "https", LoadBalancer: "chash", HashOn: "header:X-User",
		Nodes:     []spec.Node{{Host: "10.0.0.1", Port: 443, Weight: 5}, {Host: "10.0.0.2", Port: 443, Weight: 100}},
		Discovery: &spec.Discovery{Registry: "consul", Namespace: "ns", ServiceName: "svc"},
		Timeout:   &spec.Timeout{Connect: 1.5, Read: 30},
		Retries:   ptr(0), PassHost: "rewrite", UpstreamHost: "example.com",
		URL: "https://api.third.example/v2", TLSVerify: new(bool),
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateUpstream(ctx, &full) })
	if full.ID == "" || full.CreatedAt.IsZero() {
		t.Fatalf("CreateUpstream did not fill ID and CreatedAt: %+v", full)
	}
	ctx := testCtx(t)

	t.Run("get by id or name", func(t *testing.T) {
		for _, key := range []string{full.ID, "full"} {
			inTx(t, s, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.GetUpstream(ctx, "p1", key)
				wantErr(t, "GetUpstream "+key, err, nil)
				if diff := cmp.Diff(full, got); diff != "" {
					t.Errorf("GetUpstream %s (-want +got):\n%s", key, diff)
				}
				return nil
			})
		}
	})

	t.Run("id wins over name", func(t *testing.T) {
		// An upstream named like another's id must not shadow it.
		trick := spec.Upstream{ProjectID: "p1", Name: full.ID}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateUpstream(ctx, &trick); err != nil {
				return err
			}
			got, err := tx.GetUpstream(ctx, "p1", full.ID)
			wantErr(t, "GetUpstream", err, nil)
			if got.ID != full.ID {
				t.Errorf("GetUpstream(%s) = upstream %s named %q, want the one with that id", full.ID, got.ID, got.Name)
			}
			return tx.DeleteUpstream(ctx, "p1", trick.ID)
		})
	})

	t.Run("update", func(t *testing.T) {
		upd := full
		upd.Nodes, upd.Discovery, upd.Retries, upd.Name = nil, nil, nil, "full2"
		upd.URL, upd.TLSVerify = "", nil
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateUpstream(ctx, &upd) })
		if !upd.CreatedAt.Equal(full.CreatedAt) {
			t.Errorf("CreatedAt changed: %v -> %v", full.CreatedAt, upd.CreatedAt)
		}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetUpstream(ctx, "p1", "full2")
			wantErr(t, "GetUpstream", err, nil)
			if diff := cmp.Diff(upd, got); diff != "" {
				t.Errorf("after update (-want +got):\n%s", diff)
			}
			return nil
		})
	})

	cases := []struct {
		name string
		fn   func(tx store.Tx) error
		want error
	}{
		{"same name in another project", func(tx store.Tx) error {
			return tx.CreateUpstream(ctx, &spec.Upstream{ProjectID: "p2", Name: "up"})
		}, nil},
		{"duplicate name", func(tx store.Tx) error {
			return tx.CreateUpstream(ctx, &spec.Upstream{ProjectID: "p1", Name: "up"})
		}, store.ErrConflict},
		{"rename onto another", func(tx store.Tx) error {
			u, err := tx.GetUpstream(ctx, "p1", "full2")
			if err != nil {
				return err
			}
			u.Name = "up"
			return tx.UpdateUpstream(ctx, &u)
		}, store.ErrConflict},
		{"unknown project", func(tx store.Tx) error {
			return tx.CreateUpstream(ctx, &spec.Upstream{ProjectID: "nope", Name: "x"})
		}, store.ErrNotFound},
		{"get from another project", func(tx store.Tx) error { _, err := tx.GetUpstream(ctx, "p2", ids.upstream); return err }, store.ErrNotFound},
		{"update missing", func(tx store.Tx) error {
			return tx.UpdateUpstream(ctx, &spec.Upstream{ID: "nope", ProjectID: "p1", Name: "x"})
		}, store.ErrNotFound},
		{"delete missing", func(tx store.Tx) error { return tx.DeleteUpstream(ctx, "p1", "nope") }, store.ErrNotFound},
		{"delete in use", func(tx store.Tx) error {
			svc := spec.Service{ProjectID: "p1", Name: "user", UpstreamID: ids.upstream}
			if err := tx.CreateService(ctx, &svc); err != nil {
				return err
			}
			return tx.DeleteUpstream(ctx, "p1", ids.upstream)
		}, store.ErrConflict},
		{"delete unused", func(tx store.Tx) error { return tx.DeleteUpstream(ctx, "p1", ids.upstream) }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.name, s.Tx(ctx, c.fn), c.want) })
	}
}

func testServices(t *testing.T, s store.Store) {
	ids := seed(t, s)
	full := spec.Service{
		ProjectID: "p1", Name: "orders", Description: "orders API",
		Labels: map[string]string{"team": "a"}, Protocols: []string{"http", "https"},
		Path: "/orders", Hosts: []string{"api.example.com"},
		Plugins:    spec.Plugins{"cors": raw(`{"allow_origins":["*"]}`)},
		UpstreamID: ids.upstream,
		Upstream:   &spec.Upstream{Nodes: []spec.Node{{Host: "127.0.0.1", Port: 1, Weight: 100}}},
		State:      spec.StateDraft,
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateService(ctx, &full) })
	ctx := testCtx(t)

	t.Run("get by id or name", func(t *testing.T) {
		for _, key := range []string{full.ID, "orders"} {
			inTx(t, s, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.GetService(ctx, "p1", key)
				wantErr(t, "GetService", err, nil)
				if diff := cmp.Diff(full, got); diff != "" {
					t.Errorf("GetService %s (-want +got):\n%s", key, diff)
				}
				return nil
			})
		}
	})

	t.Run("update", func(t *testing.T) {
		upd := full
		upd.State, upd.UpstreamID, upd.Labels = spec.StatePublished, "", nil
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.UpdateService(ctx, &upd) })
		if !upd.CreatedAt.Equal(full.CreatedAt) {
			t.Errorf("CreatedAt changed: %v -> %v", full.CreatedAt, upd.CreatedAt)
		}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetService(ctx, "p1", full.ID)
			wantErr(t, "GetService", err, nil)
			if diff := cmp.Diff(upd, got); diff != "" {
				t.Errorf("after update (-want +got):\n%s", diff)
			}
			return nil
		})
	})

	other := newService(t, s, "p1", "other")
	cases := []struct {
		name string
		fn   func(tx store.Tx) error
		want error
	}{
		{"duplicate name", func(tx store.Tx) error {
			return tx.CreateService(ctx, &spec.Service{ProjectID: "p1", Name: "orders"})
		}, store.ErrConflict},
		{"same name in another project", func(tx store.Tx) error {
			return tx.CreateService(ctx, &spec.Service{ProjectID: "p2", Name: "orders"})
		}, nil},
		{"rename onto another", func(tx store.Tx) error {
			o := other
			o.Name = "orders"
			return tx.UpdateService(ctx, &o)
		}, store.ErrConflict},
		{"upstream of another project", func(tx store.Tx) error {
			return tx.CreateService(ctx, &spec.Service{ProjectID: "p2", Name: "x", UpstreamID: ids.upstream})
		}, store.ErrNotFound},
		{"unknown upstream on update", func(tx store.Tx) error {
			o := other
			o.UpstreamID = "nope"
			return tx.UpdateService(ctx, &o)
		}, store.ErrNotFound},
		{"get missing", func(tx store.Tx) error { _, err := tx.GetService(ctx, "p1", "nope"); return err }, store.ErrNotFound},
		{"get from another project", func(tx store.Tx) error { _, err := tx.GetService(ctx, "p2", full.ID); return err }, store.ErrNotFound},
		{"update missing", func(tx store.Tx) error {
			return tx.UpdateService(ctx, &spec.Service{ID: "nope", ProjectID: "p1", Name: "x"})
		}, store.ErrNotFound},
		{"delete missing", func(tx store.Tx) error { return tx.DeleteService(ctx, "p1", "nope") }, store.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.name, s.Tx(ctx, c.fn), c.want) })
	}

	t.Run("delete takes routes versions and history", func(t *testing.T) {
		svc := newService(t, s, "p1", "doomed", "a", "b")
		freeze(t, s, svc, "1.0.0")
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.AddHistory(ctx, &spec.HistoryEvent{ProjectID: "p1", ServiceID: svc.ID, Group: "default", Action: "publish", Version: "1.0.0"})
		})
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteService(ctx, "p1", svc.ID) })
		// Recreate the same id: if rows of the old service survived, they
		// would show up under it.
		again := spec.Service{ID: svc.ID, ProjectID: "p1", Name: "doomed"}
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.CreateService(ctx, &again); err != nil {
				return err
			}
			routes, err := tx.ListRoutes(ctx, svc.ID)
			wantErr(t, "ListRoutes", err, nil)
			versions, err := tx.ListVersions(ctx, svc.ID)
			wantErr(t, "ListVersions", err, nil)
			history, total, err := tx.ListHistory(ctx, svc.ID, store.ListQuery{})
			wantErr(t, "ListHistory", err, nil)
			if len(routes)+len(versions)+len(history)+total != 0 {
				t.Errorf("left behind: %d routes, %d versions, %d history", len(routes), len(versions), len(history))
			}
			return nil
		})
	})

	t.Run("delete while deployed", func(t *testing.T) {
		svc := newService(t, s, "p1", "running", "a")
		freeze(t, s, svc, "1.0.0")
		deploy(t, s, "default", svc, "1.0.0")
		err := s.Tx(ctx, func(tx store.Tx) error { return tx.DeleteService(ctx, "p1", svc.ID) })
		wantErr(t, "DeleteService", err, store.ErrConflict)
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.DeleteDeployment(ctx, "default", svc.ID); err != nil {
				return err
			}
			return tx.DeleteService(ctx, "p1", svc.ID)
		})
	})
}

func testRoutes(t *testing.T, s store.Store) {
	seed(t, s)
	svc := newService(t, s, "p1", "orders")
	other := newService(t, s, "p1", "other")
	full := spec.Route{
		ServiceID: svc.ID, Name: "get-order", Description: "one order",
		Paths: []string{"/orders/{id}"}, Methods: []string{"GET", "HEAD"}, Hosts: []string{"a.example.com"},
		Plugins: spec.Plugins{"limit-count": raw(`{"count":10,"time_window":60}`)},
		Backend: &spec.Backend{Type: "upstream", Path: "/v1/orders/{id}", Timeout: &spec.Timeout{Read: 2},
			Parameters: []spec.ConstParameter{{In: "header", Name: "X-Key", Value: raw(`"k"`)}}},
		Online: ptr(false),
		Parameters: []spec.Parameter{{Name: "id", In: "path", Required: true},
			{Name: "uid", In: "query", Type: "integer", Default: raw(`7`), Backend: &spec.ParameterTarget{In: "header", Name: "X-User-Id"}}},
		Responses: []spec.ResponseExample{{Status: 200, Example: raw(`{"id":1}`)}},
		Errors:    []spec.ErrorCode{{Code: "E1", Status: 404, Message: "no such order"}},
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.CreateRoute(ctx, &full) })
	ctx := testCtx(t)

	t.Run("get by id or name", func(t *testing.T) {
		for _, key := range []string{full.ID, "get-order"} {
			inTx(t, s, func(ctx context.Context, tx store.Tx) error {
				got, err := tx.GetRoute(ctx, svc.ID, key)
				wantErr(t, "GetRoute", err, nil)
				if diff := cmp.Diff(full, got); diff != "" {
					t.Errorf("GetRoute %s (-want +got):\n%s", key, diff)
				}
				return nil
			})
		}
	})

	t.Run("online round trip", func(t *testing.T) {
		for _, online := range []*bool{nil, ptr(true), ptr(false)} {
			r := full
			r.Online = online
			inTx(t, s, func(ctx context.Context, tx store.Tx) error {
				if err := tx.UpdateRoute(ctx, &r); err != nil {
					return err
				}
				got, err := tx.GetRoute(ctx, svc.ID, full.ID)
				wantErr(t, "GetRoute", err, nil)
				if diff := cmp.Diff(online, got.Online); diff != "" {
					t.Errorf("Online (-want +got):\n%s", diff)
				}
				return nil
			})
		}
	})

	t.Run("list in creation order", func(t *testing.T) {
		var want []string
		want = append(want, full.ID)
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			// Names in reverse alphabetical order, so name order would differ.
			for _, n := range []string{"z", "m", "a"} {
				r := spec.Route{ServiceID: svc.ID, Name: n}
				if err := tx.CreateRoute(ctx, &r); err != nil {
					return err
				}
				want = append(want, r.ID)
			}
			routes, err := tx.ListRoutes(ctx, svc.ID)
			wantErr(t, "ListRoutes", err, nil)
			var got []string
			for _, r := range routes {
				got = append(got, r.ID)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ListRoutes (-want +got):\n%s", diff)
			}
			return nil
		})
	})

	cases := []struct {
		name string
		fn   func(tx store.Tx) error
		want error
	}{
		{"duplicate name", func(tx store.Tx) error {
			return tx.CreateRoute(ctx, &spec.Route{ServiceID: svc.ID, Name: "get-order"})
		}, store.ErrConflict},
		{"same name in another service", func(tx store.Tx) error {
			return tx.CreateRoute(ctx, &spec.Route{ServiceID: other.ID, Name: "get-order"})
		}, nil},
		{"rename onto another", func(tx store.Tx) error {
			r, err := tx.GetRoute(ctx, svc.ID, "z")
			if err != nil {
				return err
			}
			r.Name = "get-order"
			return tx.UpdateRoute(ctx, &r)
		}, store.ErrConflict},
		{"unknown service", func(tx store.Tx) error {
			return tx.CreateRoute(ctx, &spec.Route{ServiceID: "nope", Name: "x"})
		}, store.ErrNotFound},
		{"get from another service", func(tx store.Tx) error { _, err := tx.GetRoute(ctx, other.ID, full.ID); return err }, store.ErrNotFound},
		{"update missing", func(tx store.Tx) error {
			return tx.UpdateRoute(ctx, &spec.Route{ID: "nope", ServiceID: svc.ID, Name: "x"})
		}, store.ErrNotFound},
		{"delete missing", func(tx store.Tx) error { return tx.DeleteRoute(ctx, svc.ID, "nope") }, store.ErrNotFound},
		{"delete", func(tx store.Tx) error {
			if err := tx.DeleteRoute(ctx, svc.ID, full.ID); err != nil {
				return err
			}
			_, err := tx.GetRoute(ctx, svc.ID, full.ID)
			return err
		}, store.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.name, s.Tx(ctx, c.fn), c.want) })
	}
}

func testVersions(t *testing.T, s store.Store) {
	seed(t, s)
	svc := newService(t, s, "p1", "orders", "list", "get")
	v1 := freeze(t, s, svc, "1.0.0")
	v2 := freeze(t, s, svc, "1.1.0")
	if v1.ID == "" || v1.CreatedAt.IsZero() {
		t.Fatalf("CreateVersion did not fill ID and CreatedAt: %+v", v1)
	}
	ctx := testCtx(t)

	t.Run("get keeps the frozen service", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.GetVersion(ctx, svc.ID, "1.0.0")
			wantErr(t, "GetVersion", err, nil)
			if diff := cmp.Diff(v1, got); diff != "" {
				t.Errorf("GetVersion (-want +got):\n%s", diff)
			}
			if len(got.Service.Routes) != 2 {
				t.Errorf("frozen service has %d routes, want 2", len(got.Service.Routes))
			}
			return nil
		})
	})

	t.Run("list newest first", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			got, err := tx.ListVersions(ctx, svc.ID)
			wantErr(t, "ListVersions", err, nil)
			if diff := cmp.Diff([]spec.Version{v2, v1}, got); diff != "" {
				t.Errorf("ListVersions (-want +got):\n%s", diff)
			}
			return nil
		})
	})

	cases := []struct {
		name string
		fn   func(tx store.Tx) error
		want error
	}{
		{"same version again", func(tx store.Tx) error {
			return tx.CreateVersion(ctx, &spec.Version{ProjectID: "p1", ServiceID: svc.ID, Version: "1.0.0"})
		}, store.ErrConflict},
		{"unknown service", func(tx store.Tx) error {
			return tx.CreateVersion(ctx, &spec.Version{ProjectID: "p1", ServiceID: "nope", Version: "1.0.0"})
		}, store.ErrNotFound},
		{"get missing", func(tx store.Tx) error { _, err := tx.GetVersion(ctx, svc.ID, "9.9.9"); return err }, store.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.name, s.Tx(ctx, c.fn), c.want) })
	}
}
