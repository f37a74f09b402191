package archtest

import (
	"bufio"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// rule is one forbidden kind of import edge between packages of this
// module. Packages are named by their path inside the module
// ("internal/gateway/routing").
type rule struct {
	name string
	// why the edge is forbidden, in one line; printed with a violation.
	why string
	// from reports whether the rule constrains package pkg.
	from func(pkg string) bool
	// forbids reports whether pkg must not import imp (another package of
	// this module).
	forbids func(pkg, imp string) bool
}

// rules are the architecture's forbidden import edges. Imports point one
// way: spec at the bottom; store, release and the admin API above it; the
// gateway beside them, fed only compiled snapshots; the CLI outside,
// talking to a server over HTTP.
var rules = []rule{
	{
		name: "gateway_without_control_plane",
		why:  "the gateway runs from compiled snapshots alone (embedded or standalone), so it must not reach the control plane's storage, release logic, admin API, manifests or wiring",
		from: under("internal/gateway"),
		forbids: func(_, imp string) bool {
			return in(imp, "internal/store", "internal/adminapi", "internal/release", "internal/manifest", "internal/controlplane")
		},
	},
	{
		name: "spec_imports_nothing_internal",
		why:  "spec is the vocabulary every layer shares; importing any other package of the module would drag behaviour into it and make cycles",
		from: under("internal/spec"),
		forbids: func(_, imp string) bool {
			return !in(imp, "internal/spec")
		},
	},
	{
		name: "rbac_imports_nothing_internal",
		why:  "who may do what is pure decisions over names; loading principals is the admin API's job, so rbac stays free of the store and of HTTP",
		from: under("internal/rbac"),
		forbids: func(_, imp string) bool {
			return !in(imp, "internal/rbac")
		},
	},
	{
		name: "store_without_gateway",
		why:  "the store only persists spec values; checking a change with the gateway's compiler is release.Commit's job, one layer up",
		from: under("internal/store"),
		forbids: func(_, imp string) bool {
			return in(imp, "internal/gateway")
		},
	},
	{
		// manifest is not on the list: the CLI uses its offline
		// conversions (APISIX and Kong files to a project document) and
		// the Plan type the admin API answers with.
		name: "cli_only_through_adminclient",
		why:  "portico ctl must work against a remote install, through the admin API's authorization and validation, so it reaches the server only through adminclient",
		from: under("internal/cli"),
		forbids: func(_, imp string) bool {
			return in(imp, "internal/store", "internal/release", "internal/adminapi", "internal/console", "internal/controlplane", "internal/gateway")
		},
	},
	{
		name: "adminclient_only_spec",
		why:  "adminclient is a client of the public admin API; depending on server packages would ship server code in the CLI and tie the wire contract to internals",
		from: under("internal/adminclient"),
		forbids: func(_, imp string) bool {
			return !in(imp, "internal/adminclient", "internal/spec")
		},
	},
	{
		name: "standalone_gateway_without_control_plane",
		why:  "a stand-alone gateway (feed client, dataplane wiring) must keep serving through any control-plane outage and carry no control-plane code: it learns its configuration only from the feed",
		from: func(pkg string) bool { return in(pkg, "internal/feed", "internal/dataplane") },
		forbids: func(_, imp string) bool {
			return in(imp, "internal/store", "internal/adminapi", "internal/release", "internal/manifest", "internal/controlplane", "internal/console", "internal/cli", "internal/adminclient")
		},
	},
	{
		name: "webhook_below_admin_api",
		why:  "the admin API queues webhook events in its transactions and the control plane delivers them, so webhook sits below both: it reads the store and opens secrets, nothing else of the server",
		from: under("internal/webhook"),
		forbids: func(_, imp string) bool {
			return !in(imp, "internal/webhook", "internal/store", "internal/credential", "internal/spec")
		},
	},
	{
		// store is not on the list: the portal's tests run it against the
		// real admin API on a real store.
		name: "portal_only_through_adminapi",
		why:  "the developer portal is a client of the admin API (called in process with the user's token), so every permission, validation and audit stays there; it must not reach release logic, the gateway, the wiring or the console's internals",
		from: under("internal/portal"),
		forbids: func(_, imp string) bool {
			return in(imp, "internal/release", "internal/gateway", "internal/controlplane", "internal/console", "internal/manifest", "internal/cli", "internal/dataplane", "internal/feed")
		},
	},
	{
		// webpagetest, the page tests' set-up, also opens a store.
		name: "webpage_below_console_and_portal",
		why:  "webpage is what the console's and the portal's pages share, beneath both: it calls the admin API in process and knows nothing else of the server, so it can never become a back door around the admin API or couple one front end to the other",
		from: under("internal/webpage"),
		forbids: func(pkg, imp string) bool {
			if in(pkg, "internal/webpage/webpagetest") {
				return !in(imp, "internal/webpage", "internal/adminapi", "internal/store", "internal/spec")
			}
			return !in(imp, "internal/webpage", "internal/adminapi")
		},
	},
	{
		name: "plugin_imports_no_other_plugin",
		why:  "plugins are composed only by routing's registry and the phase order; one plugin importing another hides a dependency between their configurations and run order",
		from: func(pkg string) bool {
			_, ok := pluginName(pkg)
			return ok
		},
		forbids: func(pkg, imp string) bool {
			a, _ := pluginName(pkg)
			b, ok := pluginName(imp)
			return ok && a != b
		},
	},
}

// pluginName answers the plugin a package belongs to: the first element
// under internal/gateway/plugin/. The plugin package itself (the filter
// contract) and plugintest (the shared test harness) belong to none.
func pluginName(pkg string) (string, bool) {
	rest, ok := strings.CutPrefix(pkg, "internal/gateway/plugin/")
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, "/")
	return name, name != "plugintest"
}

// under matches root and every package below it.
func under(root string) func(string) bool {
	return func(pkg string) bool { return in(pkg, root) }
}

// in reports whether pkg is one of roots or below one of them.
func in(pkg string, roots ...string) bool {
	for _, r := range roots {
		if pkg == r || strings.HasPrefix(pkg, r+"/") {
			return true
		}
	}
	return false
}

// edge is one import of a package of this module by a file.
type edge struct {
	imp  string // imported package, relative to the module
	file string // importing file, relative to the module root
}

// violations checks rule r against graph (package → its imports of this
// module, test files included: a test's shortcut couples packages as much
// as production code's does).
func (r rule) violations(graph map[string][]edge) []string {
	var out []string
	for pkg, edges := range graph {
		if !r.from(pkg) {
			continue
		}
		for _, e := range edges {
			if r.forbids(pkg, e.imp) {
				out = append(out, fmt.Sprintf("%s: %s imports %s, which is forbidden: %s", e.file, pkg, e.imp, r.why))
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestLayering parses the imports of every .go file in the module and
// fails on each forbidden edge, so a shortcut through the wrong package
// fails CI instead of eroding the layering.
func TestLayering(t *testing.T) {
	root, module := moduleRoot(t)
	graph, err := importGraph(root, module)
	if err != nil {
		t.Fatal(err)
	}
	// A walk that found nothing would pass every rule.
	if len(graph) < 20 {
		t.Fatalf("only %d packages found under %s; the walk is broken", len(graph), root)
	}
	pkgs := slices.Sorted(maps.Keys(graph))
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			// A rule whose packages were renamed away would pass silently.
			if !slices.ContainsFunc(pkgs, r.from) {
				t.Errorf("the rule constrains no package; update it to the current layout")
			}
			for _, v := range r.violations(graph) {
				t.Error(v)
			}
		})
	}
}

// TestRulesCatch proves each rule reports the edge it is written for and
// lets the allowed ones through, on a made-up graph.
func TestRulesCatch(t *testing.T) {
	for _, tc := range []struct {
		pkg, imp string
		bad      bool
	}{
		{"internal/gateway/routing", "internal/store", true},
		{"internal/gateway", "internal/controlplane", true},
		{"internal/gateway/engine/fast", "internal/manifest", true},
		{"internal/gateway", "internal/spec", false},
		{"internal/spec", "internal/gateway/match", true},
		{"internal/store", "internal/gateway/routing", true},
		{"internal/store", "internal/store/migrations", false},
		{"internal/cli", "internal/adminapi", true},
		{"internal/cli", "internal/gateway/sqlbackend", true},
		{"internal/cli", "internal/adminclient", false},
		{"internal/adminclient", "internal/manifest", true},
		{"internal/adminclient", "internal/spec", false},
		{"internal/gateway/plugin/keyauth", "internal/gateway/plugin/basicauth", true},
		{"internal/gateway/plugin/keyauth", "internal/gateway/plugin", false},
		{"internal/gateway/plugin/keyauth", "internal/gateway/plugin/plugintest", false},
		{"internal/gateway/plugin/keyauth", "internal/gateway/consumer", false},
		{"internal/gateway/routing", "internal/gateway/plugin/keyauth", false},
		{"internal/gateway/plugin/plugintest", "internal/gateway/plugin", false},
		{"internal/portal", "internal/console", true},
		{"internal/portal", "internal/release", true},
		{"internal/portal", "internal/adminapi", false},
		{"internal/webhook", "internal/adminapi", true},
		{"internal/webhook", "internal/controlplane", true},
		{"internal/webhook", "internal/store/storetest", false},
		{"internal/webhook", "internal/credential", false},
		{"internal/webpage", "internal/adminapi", false},
		{"internal/webpage", "internal/console", true},
		{"internal/webpage", "internal/portal", true},
		{"internal/webpage", "internal/store", true},
		{"internal/webpage/webpagetest", "internal/store", false},
		{"internal/webpage/webpagetest", "internal/portal", true},
	} {
		graph := map[string][]edge{tc.pkg: {{imp: tc.imp, file: "x.go"}}}
		var got []string
		for _, r := range rules {
			got = append(got, r.violations(graph)...)
		}
		if (len(got) > 0) != tc.bad {
			t.Errorf("%s → %s: violations %q, want forbidden=%v", tc.pkg, tc.imp, got, tc.bad)
		}
	}
}

// moduleRoot finds the directory holding go.mod above the test's working
// directory and the module path it declares.
func moduleRoot(t *testing.T) (dir, module string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
					m := strings.TrimSpace(rest)
					if uq, err := strconv.Unquote(m); err == nil {
						m = uq
					}
					return dir, m
				}
			}
			t.Fatalf("%s/go.mod declares no module", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// importGraph parses the import clauses of every .go file under root (test
// files included, build constraints ignored) and answers, per package
// directory relative to root, its imports of packages of module.
func importGraph(root, module string) (map[string][]edge, error) {
	graph := map[string][]edge{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			// The go command ignores these directories too.
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		if _, ok := graph[pkg]; !ok {
			graph[pkg] = nil
		}
		for _, is := range f.Imports {
			p, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			if imp, ok := strings.CutPrefix(p, module+"/"); ok {
				graph[pkg] = append(graph[pkg], edge{imp: imp, file: filepath.ToSlash(rel)})
			}
		}
		return nil
	})
	return graph, err
}
