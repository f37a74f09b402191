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
