package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

func TestPrintChanges(t *testing.T) {
	var b bytes.Buffer
	long := strings.Repeat("é", 150) // 300 bytes: cut on a rune's start
	err := printChanges(&b, []spec.FieldChange{
		{Path: "routes[name=list].backend.path", Op: "changed", From: "/v1", To: "/v2"},
		{Path: "upstream.nodes[host:port=10.0.0.2:80]", Op: "added", To: map[string]any{"host": "10.0.0.2", "port": 80}},
		{Path: "routes[name=get]", Op: "removed", From: map[string]any{"name": "get"}},
		{Path: "description", Op: "added", To: long},
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{
		`~ routes[name=list].backend.path: "/v1" → "/v2"`,
		`+ upstream.nodes[host:port=10.0.0.2:80]: {"host":"10.0.0.2","port":80}`,
		`- routes[name=get]: {"name":"get"}`,
	}
	if len(lines) != 4 {
		t.Fatalf("lines = %q", lines)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
	if !strings.HasSuffix(lines[3], "…") || len(lines[3]) > len("+ description: ")+maxShown+len("…") || !strings.Contains(lines[3], "é") {
		t.Errorf("long value line = %q", lines[3])
	}
	b.Reset()
	if err := printChanges(&b, nil); err != nil || b.String() != "no differences\n" {
		t.Errorf("no changes: %q, %v", b.String(), err)
	}
}
