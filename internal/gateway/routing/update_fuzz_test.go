package routing

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// FuzzUpdate: whatever delta a gateway decodes from its feed (or its
// cache), compiling it onto the table it serves never panics, and leaves
// that table answering as before; an accepted delta gives a table whose
// lookups answer.
func FuzzUpdate(f *testing.F) {
	base := snapshot(group("g", "/{project}",
		deployed("p", "s1", "/s1", route("list", "/items"), withMethods(route("get", "/items/{id}"), "GET")),
		deployed("p", "s2", "/s2", route("files", "/files/*"))))
	base.Revision = 3
	f.Add([]byte(`{"base":3,"revision":4,"groups":[{"group":{"name":"g","path_prefix":"/{project}"},"removed":["s2-id"]}]}`))
	f.Add([]byte(`{"base":3,"revision":4,"groups":[{"group":{"name":"g","path_prefix":"/{project}"},"services":[{"project_id":"p","version":"2","service":{"id":"s3-id","name":"s3","path":"/s3","routes":[{"id":"r","name":"r","paths":["/a/{x}/b"],"methods":["GET"]}]},"upstream":{"nodes":[{"host":"127.0.0.1","port":80,"weight":1}]}}]}]}`))
	f.Add([]byte(`{"base":3,"revision":4,"groups":[{"group":{"name":"g","path_prefix":"/{project}"},"services":[{"project_id":"p","service":{"id":"s1-id","name":"s1","path":"/s1","routes":[{"id":"x","name":"x","paths":["/items"],"plugins":{"key-auth":{}}}]},"upstream":{"nodes":[]}}]}]}`))
	f.Add([]byte(`{"base":3,"revision":2,"groups":[{"group":{"name":"other"}}]}`))
	probes := [][3]string{{"x", "GET", "/p/s1/items"}, {"x", "GET", "/p/s1/items/7"}, {"x", "GET", "/p/s2/files/a/b"}, {"x", "GET", "/p/s3/a/1/b"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d spec.SnapshotDelta
		if json.Unmarshal(data, &d) != nil {
			return
		}
		tbl, err := Build(base, Deps{})
		if err != nil {
			t.Fatal(err)
		}
		before := answers(tbl, probes)
		next, err := tbl.Update(&d, Deps{})
		if after := answers(tbl, probes); !slices.Equal(before, after) {
			t.Fatalf("the table served changed under an update: %v, then %v", before, after)
		}
		if err != nil {
			return
		}
		if next.Revision != d.Revision {
			t.Fatalf("an accepted delta to %d gave a table at %d", d.Revision, next.Revision)
		}
		answers(next, probes)
	})
}
