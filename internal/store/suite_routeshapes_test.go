package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func testRouteShapes(t *testing.T, s store.Store) {
	seed(t, s)
	ctx := testCtx(t)
	try := func(fn func(tx store.Tx) error) error { return s.Tx(ctx, fn) }
	orders := newService(t, s, "p1", "orders", "get")
	billing := newService(t, s, "p1", "billing", "pay")
	alpha := newService(t, s, "p2", "alpha", "x")
	for _, svc := range []spec.Service{orders, billing, alpha} {
		freeze(t, s, svc, "1.0.0")
		deploy(t, s, "default", svc, "1.0.0")
	}
	deploy(t, s, "team", orders, "1.0.0")

	shape := func(svc spec.Service, route, shape, path string, methods, hosts []string) store.RouteShape {
		return store.RouteShape{Shape: shape, Path: path, Methods: methods, Hosts: hosts,
			ProjectID: svc.ProjectID, ServiceID: svc.ID, ServiceName: svc.Name, RouteName: route}
	}
	find := func(t *testing.T, group string, shapes []string, except string) []store.RouteShape {
		t.Helper()
		var out []store.RouteShape
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			out, err = tx.FindRouteShapes(ctx, group, shapes, except)
			return err
		})
		wantErr(t, "FindRouteShapes", err, nil)
		return out
	}
	put := func(group string, svc spec.Service, shapes ...store.RouteShape) error {
		return try(func(tx store.Tx) error { return tx.PutRouteShapes(ctx, group, svc.ID, shapes) })
	}
	complete := func(t *testing.T, group string) bool {
		t.Helper()
		var ok bool
		err := s.View(ctx, func(tx store.Tx) error {
			var err error
			ok, err = tx.RouteShapesComplete(ctx, group)
			return err
		})
		wantErr(t, "RouteShapesComplete "+group, err, nil)
		return ok
	}
	// sorted is the order FindRouteShapes answers in.
	sorted := func(rs ...store.RouteShape) []store.RouteShape {
		out := slices.Clone(rs)
		slices.SortFunc(out, func(a, b store.RouteShape) int {
			for _, c := range [][2]string{{a.Shape, b.Shape}, {a.ServiceID, b.ServiceID}, {a.RouteName, b.RouteName}, {a.Path, b.Path}} {
				if n := strings.Compare(c[0], c[1]); n != 0 {
					return n
				}
			}
			return 0
		})
		return out
	}

	ordersGet := shape(orders, "get", "/orders/{}", "/orders/{id}", []string{"GET"}, nil)
	ordersList := shape(orders, "get", "/orders", "/orders", []string{"GET", "HEAD"}, []string{"api.example.com"})
	billingPay := shape(billing, "pay", "/orders/{}", "/orders/:oid", nil, []string{})
	alphaX := shape(alpha, "x", "/p2/alpha/x", "/p2/alpha/x", []string{}, nil)

	t.Run("a new group is complete and empty", func(t *testing.T) {
		if !complete(t, "default") || !complete(t, "team") {
			t.Error("a group created with the index is not complete")
		}
		if got := find(t, "default", []string{"/orders/{}", "/orders"}, ""); len(got) != 0 {
			t.Errorf("FindRouteShapes in a new group = %+v", got)
		}
		err := s.View(ctx, func(tx store.Tx) error { _, err := tx.RouteShapesComplete(ctx, "nope"); return err })
		wantErr(t, "RouteShapesComplete of a missing group", err, store.ErrNotFound)
	})

	t.Run("put and find", func(t *testing.T) {
		// ServiceID may be left to the call.
		get := ordersGet
		get.ServiceID = ""
		wantErr(t, "put orders", put("default", orders, get, ordersList), nil)
		wantErr(t, "put billing", put("default", billing, billingPay), nil)
		wantErr(t, "put alpha", put("default", alpha, alphaX), nil)

		got := find(t, "default", []string{"/orders/{}", "/nothing", "/orders/{}"}, orders.ID)
		if diff := cmp.Diff([]store.RouteShape{billingPay}, got); diff != "" {
			t.Errorf("shapes of others than orders (-want +got):\n%s", diff)
		}
		got = find(t, "default", []string{"/orders/{}", "/orders", "/p2/alpha/x"}, "")
		if diff := cmp.Diff(sorted(ordersGet, ordersList, billingPay, alphaX), got); diff != "" {
			t.Errorf("every shape (-want +got):\n%s", diff)
		}
		if got := find(t, "default", nil, ""); len(got) != 0 {
			t.Errorf("FindRouteShapes of no shapes = %+v", got)
		}
		if got := find(t, "team", []string{"/orders/{}"}, ""); len(got) != 0 {
			t.Errorf("another group's shapes found: %+v", got)
		}
	})

	t.Run("replace", func(t *testing.T) {
		moved := shape(orders, "get", "/v2/orders/{}", "/v2/orders/{id}", []string{"GET"}, nil)
		// A repeated (route, shape) keeps the first.
		dup := moved
		dup.Path = "/v2/orders/{other}"
		wantErr(t, "replace orders", put("default", orders, moved, dup), nil)
		got := find(t, "default", []string{"/orders/{}", "/orders", "/v2/orders/{}"}, "")
		if diff := cmp.Diff(sorted(moved, billingPay), got); diff != "" {
			t.Errorf("after replacing orders' shapes (-want +got):\n%s", diff)
		}
		wantErr(t, "no shapes", put("default", orders), nil)
		got = find(t, "default", []string{"/orders/{}", "/v2/orders/{}"}, "")
		if diff := cmp.Diff([]store.RouteShape{billingPay}, got); diff != "" {
			t.Errorf("after removing orders' shapes (-want +got):\n%s", diff)
		}
		wantErr(t, "put orders back", put("default", orders, ordersGet, ordersList), nil)
	})

	t.Run("refused", func(t *testing.T) {
		other := ordersGet
		other.ServiceID = billing.ID
		if err := put("default", orders, other); err == nil {
			t.Error("a shape of another service was stored")
		}
		wantErr(t, "a service not deployed in the group", put("team", billing, billingPay), store.ErrNotFound)
		wantErr(t, "a missing group", put("nope", orders, ordersGet), store.ErrNotFound)
		got := find(t, "default", []string{"/orders/{}"}, "")
		if diff := cmp.Diff(sorted(ordersGet, billingPay), got); diff != "" {
			t.Errorf("a refused put changed the index (-want +got):\n%s", diff)
		}
	})

	t.Run("many shapes", func(t *testing.T) {
		var many []store.RouteShape
		var names []string
		for i := range 1200 {
			names = append(names, fmt.Sprintf("/bulk/%04d", i))
			if i%2 == 0 {
				many = append(many, shape(alpha, fmt.Sprintf("r%04d", i), names[i], names[i], nil, nil))
			}
		}
		wantErr(t, "put 600 shapes", put("default", alpha, many...), nil)
		got := find(t, "default", names, orders.ID)
		if diff := cmp.Diff(sorted(many...), got); diff != "" {
			t.Errorf("FindRouteShapes of 1200 shapes (-want +got):\n%s", diff)
		}
		wantErr(t, "put alpha back", put("default", alpha, alphaX), nil)
	})

	t.Run("reset", func(t *testing.T) {
		teamOrders := ordersGet
		wantErr(t, "reset team", try(func(tx store.Tx) error {
			return tx.ResetRouteShapes(ctx, "team", []store.RouteShape{teamOrders})
		}), nil)
		if !complete(t, "team") {
			t.Error("team is not complete after a reset")
		}
		wantErr(t, "reset default", try(func(tx store.Tx) error {
			return tx.ResetRouteShapes(ctx, "default", []store.RouteShape{billingPay, alphaX})
		}), nil)
		got := find(t, "default", []string{"/orders/{}", "/orders", "/p2/alpha/x"}, "")
		if diff := cmp.Diff(sorted(billingPay, alphaX), got); diff != "" {
			t.Errorf("default after a reset (-want +got):\n%s", diff)
		}
		got = find(t, "team", []string{"/orders/{}"}, "")
		if diff := cmp.Diff([]store.RouteShape{teamOrders}, got); diff != "" {
			t.Errorf("team after resetting default (-want +got):\n%s", diff)
		}

		wantErr(t, "reset a missing group", try(func(tx store.Tx) error {
			return tx.ResetRouteShapes(ctx, "nope", nil)
		}), store.ErrNotFound)
		wantErr(t, "reset with a service not deployed", try(func(tx store.Tx) error {
			return tx.ResetRouteShapes(ctx, "team", []store.RouteShape{billingPay})
		}), store.ErrNotFound)
		anonymous := alphaX
		anonymous.ServiceID = ""
		if err := try(func(tx store.Tx) error { return tx.ResetRouteShapes(ctx, "default", []store.RouteShape{anonymous}) }); err == nil {
			t.Error("a shape without its service was stored")
		}
	})

	t.Run("shapes go with the deployment and the group", func(t *testing.T) {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.DeleteDeployment(ctx, "default", billing.ID) })
		got := find(t, "default", []string{"/orders/{}", "/p2/alpha/x"}, "")
		if diff := cmp.Diff([]store.RouteShape{alphaX}, got); diff != "" {
			t.Errorf("after billing left default (-want +got):\n%s", diff)
		}

		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.DeleteDeployment(ctx, "team", orders.ID); err != nil {
				return err
			}
			return tx.DeleteGroup(ctx, "team")
		})
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			return tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "team"})
		})
		deploy(t, s, "team", orders, "1.0.0")
		if got := find(t, "team", []string{"/orders/{}"}, ""); len(got) != 0 {
			t.Errorf("shapes of a deleted group came back: %+v", got)
		}
		if !complete(t, "team") {
			t.Error("a recreated group is not complete")
		}
	})
}
