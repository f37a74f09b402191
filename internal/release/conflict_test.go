package release_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
)

// TestPublishConflicts publishes service "pets" with one route to group
// default, then "other" with another: routes of two services that would
// answer the same host, method and path are refused with a 409 naming both.
func TestPublishConflicts(t *testing.T) {
	off := false
	cases := []struct {
		name   string
		pets   spec.Service // template of pets (name and upstream filled in)
		mine   spec.Route
		other  spec.Service
		theirs spec.Route
		group  string // where other is published; default "default"
		want   *release.Conflict
	}{
		{
			name: "same path and method",
			mine: spec.Route{Name: "get_pet", Paths: []string{"/pets/{id}"}, Methods: []string{"GET"}}, theirs: spec.Route{Name: "fetch", Paths: []string{"/pets/{id}"}, Methods: []string{"GET"}},
			want: &release.Conflict{Group: "default", Path: "/pets/{id}", Method: "GET", Service: "other", Route: "fetch", OtherProject: "default", OtherService: "pets", OtherRoute: "get_pet"},
		},
		{
			name: "parameter names do not count",
			mine: spec.Route{Name: "get_pet", Paths: []string{"/pets/{id}"}, Methods: []string{"GET"}}, theirs: spec.Route{Name: "fetch", Paths: []string{"/pets/:pid"}, Methods: []string{"GET", "POST"}},
			want: &release.Conflict{Group: "default", Path: "/pets/:pid", Method: "GET", Service: "other", Route: "fetch", OtherProject: "default", OtherService: "pets", OtherRoute: "get_pet"},
		},
		{
			name: "no methods means all",
			mine: spec.Route{Name: "any", Paths: []string{"/pets"}}, theirs: spec.Route{Name: "add", Paths: []string{"/pets"}, Methods: []string{"POST"}},
			want: &release.Conflict{Group: "default", Path: "/pets", Method: "POST", Service: "other", Route: "add", OtherProject: "default", OtherService: "pets", OtherRoute: "any"},
		},
		{
			name: "no host means any host",
			mine: spec.Route{Name: "list", Paths: []string{"/pets"}}, theirs: spec.Route{Name: "list", Paths: []string{"/pets"}, Hosts: []string{"api.example.com"}},
			want: &release.Conflict{Group: "default", Path: "/pets", Method: "any method", Host: "api.example.com", Service: "other", Route: "list", OtherProject: "default", OtherService: "pets", OtherRoute: "list"},
		},
		{
			name: "wildcard host covers the host",
			pets: spec.Service{Hosts: []string{"*.example.com"}},
			mine: spec.Route{Name: "list", Paths: []string{"/pets"}}, theirs: spec.Route{Name: "list", Paths: []string{"/pets"}, Hosts: []string{"api.example.com"}},
			want: &release.Conflict{Group: "default", Path: "/pets", Method: "any method", Host: "api.example.com", Service: "other", Route: "list", OtherProject: "default", OtherService: "pets", OtherRoute: "list"},
		},
		{
			name: "a route without paths answers on its name",
			mine: spec.Route{Name: "user_info"}, theirs: spec.Route{Name: "x", Paths: []string{"/user_info"}, Methods: []string{"GET"}},
			want: &release.Conflict{Group: "default", Path: "/user_info", Method: "GET", Service: "other", Route: "x", OtherProject: "default", OtherService: "pets", OtherRoute: "user_info"},
		},
		{
			name: "service paths compose the same URL",
			pets: spec.Service{Path: "/a"},
			mine: spec.Route{Name: "list", Paths: []string{"/b/list"}}, other: spec.Service{Path: "/a/b"}, theirs: spec.Route{Name: "list", Paths: []string{"/list"}},
			want: &release.Conflict{Group: "default", Path: "/a/b/list", Method: "any method", Service: "other", Route: "list", OtherProject: "default", OtherService: "pets", OtherRoute: "list"},
		},
		{name: "exact beats parameter", mine: spec.Route{Name: "get_pet", Paths: []string{"/pets/{id}"}}, theirs: spec.Route{Name: "mine", Paths: []string{"/pets/mine"}}},
		{name: "parameter beats wildcard", mine: spec.Route{Name: "get_pet", Paths: []string{"/pets/{id}"}}, theirs: spec.Route{Name: "all", Paths: []string{"/pets/*"}}},
		{name: "other methods", mine: spec.Route{Name: "get", Paths: []string{"/pets"}, Methods: []string{"GET"}}, theirs: spec.Route{Name: "add", Paths: []string{"/pets"}, Methods: []string{"POST", "PUT"}}},
		{name: "other hosts", mine: spec.Route{Name: "a", Paths: []string{"/pets"}, Hosts: []string{"a.example.com"}}, theirs: spec.Route{Name: "b", Paths: []string{"/pets"}, Hosts: []string{"b.example.com"}}},
		{name: "other service paths", pets: spec.Service{Path: "/a"}, mine: spec.Route{Name: "list", Paths: []string{"/list"}}, other: spec.Service{Path: "/b"}, theirs: spec.Route{Name: "list", Paths: []string{"/list"}}},
		{name: "an offline route answers nothing", mine: spec.Route{Name: "list", Paths: []string{"/pets"}, Online: &off}, theirs: spec.Route{Name: "list", Paths: []string{"/pets"}}},
		{name: "another group", mine: spec.Route{Name: "list", Paths: []string{"/pets"}}, theirs: spec.Route{Name: "list", Paths: []string{"/pets"}}, group: "test"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.pets.Name, tc.pets.Upstream = "pets", nodes("a")
			tc.other.Name, tc.other.Upstream = "other", nodes("b")
			pets := e.service(tc.pets, tc.mine)
			other := e.service(tc.other, tc.theirs)
			e.mustPublish(pets.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
			group := tc.group
			if group == "" {
				group = "default"
			}
			before := e.state()
			_, err := e.publish(other.Name, release.PublishRequest{Group: group, Version: "1.0.0"})
			if tc.want == nil {
				checkErr(t, err, errNone)
				return
			}
			checkErr(t, err, errConflict)
			ce, ok := errors.AsType[*release.ConflictError](err)
			if !ok {
				t.Fatalf("error %v is no *release.ConflictError", err)
			}
			if diff := cmp.Diff([]release.Conflict{*tc.want}, ce.Conflicts); diff != "" {
				t.Errorf("conflicts (-want +got):\n%s", diff)
			}
			for _, s := range []string{`"pets"`, `"other"`, tc.want.Path, tc.want.OtherRoute} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %s", err, s)
				}
			}
			e.unchanged(before)
		})
	}
}

// TestStreamConflicts publishes stream service "redis", then "other":
// two stream routes collide when they take one listener and one server
// name (or both are its default); an exact name beside a wildcard that
// covers it does not (the exact one is picked first), nor do HTTP routes.
func TestStreamConflicts(t *testing.T) {
	route := func(name, listener, mode string, sni ...string) spec.StreamRoute {
		return spec.StreamRoute{Name: name, Listener: listener, TLS: mode, SNI: sni}
	}
	cases := []struct {
		name         string
		mine, theirs spec.StreamRoute
		want         *release.Conflict
	}{
		{name: "two defaults", mine: route("a", "redis", ""), theirs: route("b", "redis", "passthrough"),
			want: &release.Conflict{Group: "default", Path: "stream:redis", Method: "TCP", Service: "other", Route: "b",
				OtherProject: "default", OtherService: "redis", OtherRoute: "a"}},
		{name: "one server name", mine: route("a", "tls", "passthrough", "x.test", "y.test"), theirs: route("b", "tls", "terminate", "y.test"),
			want: &release.Conflict{Group: "default", Path: "stream:tls", Method: "TCP", Host: "y.test", Service: "other", Route: "b",
				OtherProject: "default", OtherService: "redis", OtherRoute: "a"}},
		{name: "default and a name", mine: route("a", "tls", ""), theirs: route("b", "tls", "passthrough", "x.test")},
		{name: "exact beside wildcard", mine: route("a", "tls", "passthrough", "*.w.test"), theirs: route("b", "tls", "passthrough", "x.w.test")},
		{name: "other listeners", mine: route("a", "redis", ""), theirs: route("b", "redis2", "")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			up := &spec.Upstream{Scheme: "tcp", Nodes: []spec.Node{{Host: "127.0.0.1", Port: 6379, Weight: 100}}}
			mine := e.service(spec.Service{Name: "redis", Type: spec.ServiceStream, StreamRoutes: []spec.StreamRoute{tc.mine}, Upstream: up})
			theirs := e.service(spec.Service{Name: "other", Type: spec.ServiceStream, StreamRoutes: []spec.StreamRoute{tc.theirs}, Upstream: up})
			http := e.service(spec.Service{Name: "web", Upstream: nodes("a")}, spec.Route{Name: "redis", Paths: []string{"/stream:redis"}})
			e.mustPublish(mine.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
			e.mustPublish(http.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
			_, err := e.publish(theirs.Name, release.PublishRequest{Group: "default", Version: "1.0.0"})
			if tc.want == nil {
				checkErr(t, err, errNone)
				return
			}
			checkErr(t, err, errConflict)
			ce, ok := errors.AsType[*release.ConflictError](err)
			if !ok {
				t.Fatalf("error %v is no *release.ConflictError", err)
			}
			if diff := cmp.Diff([]release.Conflict{*tc.want}, ce.Conflicts); diff != "" {
				t.Errorf("conflicts (-want +got):\n%s", diff)
			}
		})
	}
}
