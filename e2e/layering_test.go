package e2e

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestLayering enforces DESIGN.md's forbidden import edges, so a shortcut
// through the wrong package fails CI instead of rotting the design.
func TestLayering(t *testing.T) {
	const mod = "github.com/portico-gw/portico/internal/"
	forbidden := []struct {
		from string // package prefix (under internal/)
		to   []string
	}{
		{"gateway", []string{"store", "adminapi", "release", "catalog", "manifest", "controlplane"}},
		{"spec", []string{""}}, // spec imports no internal package
		{"store", []string{"gateway"}},
		{"feed", []string{"store"}},
	}
	cmd := exec.Command("go", "list", "-json", "../...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(out)
	var checked int
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rel, ok := strings.CutPrefix(p.ImportPath, mod)
		if !ok {
			continue
		}
		checked++
		for _, rule := range forbidden {
			if rel != rule.from && !strings.HasPrefix(rel, rule.from+"/") {
				continue
			}
			for _, imp := range p.Imports {
				dep, ok := strings.CutPrefix(imp, mod)
				if !ok {
					continue
				}
				for _, bad := range rule.to {
					if bad == "" || dep == bad || strings.HasPrefix(dep, bad+"/") {
						t.Errorf("%s imports %s: DESIGN.md forbids %s → %s", rel, dep, rule.from, bad)
					}
				}
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if checked < 5 {
		t.Fatalf("only %d internal packages listed; the check did not run", checked)
	}
}
