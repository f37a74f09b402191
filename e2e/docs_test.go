package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"

	"github.com/portico-gw/portico/internal/demobackend"
)

// The tours in README.md and docs/ are run here as a reader runs them: every
// ```sh block, statement by statement, in a shell interpreter (mvdan.cc/sh)
// in an empty directory. Only what a reader's machine would do differently
// is stood in for, by the exec handler of tourRun:
//
//   - `go run ./cmd/portico server …` starts the built binary with the
//     block's flags on ports it picks itself, and `demo-backend --addr :P`
//     starts the demo backend on a free port; the documented ports
//     (localhost:9180, localhost:9080, backend port P) are rewritten to the
//     bound ones in every argument of curl, portico and psql;
//   - `portico …` is the built binary; `make …` is not run (it is what runs
//     this test);
//   - names a reader picks on a shared machine (database and role names of
//     the data API tour) get a prefix unique to the run.
//
// Each curl must answer 2xx, or the status its statement's comment starts
// with (`# 409 …`); every statement must exit 0.
type docTour struct {
	name   string
	files  []string // run in order, in one shell, against one server
	rename []string // words made unique per run
}

var docTours = []docTour{
	{name: "readme", files: []string{"README.md"}},
	{name: "lifecycle-and-sync", files: []string{"docs/tour-lifecycle.md", "docs/tour-sync.md"}},
	{name: "canary", files: []string{"docs/tour-canary.md"}},
	{name: "credentials", files: []string{"docs/tour-credentials.md"}},
	{name: "people", files: []string{"docs/tour-people.md"}},
	{name: "market", files: []string{"docs/tour-market.md"}},
	{name: "openapi", files: []string{"docs/tour-openapi.md"}},
	{name: "data-api", files: []string{"docs/tour-data-api.md"}, rename: []string{"crm", "crm_prod", "app"}},
	{name: "declarative", files: []string{"docs/declarative.md"}},
	{name: "deploy", files: []string{"docs/deploy.md"}},
	{name: "admin-api", files: []string{"docs/admin-api.md"}},
	{name: "cli", files: []string{"docs/cli.md"}},
}

// TestDocsToursRunAsWritten runs every tour. Every markdown file in docs/
// with a ```sh block must be one of docTours.
func TestDocsToursRunAsWritten(t *testing.T) {
	covered := map[string]bool{}
	for _, tour := range docTours {
		for _, f := range tour.files {
			covered[f] = true
		}
	}
	docs, _ := filepath.Glob("../docs/*.md")
	for _, d := range docs {
		rel := strings.TrimPrefix(d, "../")
		if b, err := os.ReadFile(d); err == nil && bytes.Contains(b, []byte("```sh\n")) && !covered[rel] {
			t.Errorf("%s has sh blocks but is in no docTour: add it so its commands are run", rel)
		}
	}
	for _, tour := range docTours {
		t.Run(tour.name, func(t *testing.T) {
			t.Parallel()
			runTour(t, tour)
		})
	}
}

// shBlocks returns the ```sh blocks of a markdown file, each with the line
// its first command is on.
func shBlocks(t *testing.T, path string) (blocks []string, lines []int) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cur *strings.Builder
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && line == "```sh":
			cur = &strings.Builder{}
			lines = append(lines, n+1)
		case cur != nil && line == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	if cur != nil {
		t.Fatalf("%s: unterminated sh block", path)
	}
	return blocks, lines
}

func runTour(t *testing.T, tour docTour) {
	r := &tourRun{t: t, dir: t.TempDir(), files: map[string][]byte{}}
	for _, f := range tourFiles {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		r.files[f] = b
	}
	if len(tour.rename) > 0 {
		prefix := fmt.Sprintf("tour%d_", time.Now().UnixNano()%1_000_000_000)
		for _, w := range tour.rename {
			r.renames = append(r.renames, [2]string{w, prefix + w})
		}
		t.Cleanup(func() { dropPostgres(t, prefix, tour.rename) })
	}
	home := t.TempDir()
	env := expand.ListEnviron(
		"PATH="+os.Getenv("PATH"),
		"HOME="+home, "XDG_CONFIG_HOME="+home,
		"EDITOR=true", // the declarative tour opens the dump in the reader's editor
		"LANG=C.UTF-8",
	)
	// Both ends of a pipe (curl | jq) write to out at once.
	var out syncBuffer
	runner, err := interp.New(interp.Env(env), interp.Dir(r.dir), interp.StdIO(nil, &out, &out),
		interp.ExecHandlers(r.exec))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	parser := syntax.NewParser(syntax.KeepComments(true))
	for _, path := range tour.files {
		blocks, lines := shBlocks(t, path)
		for i, block := range blocks {
			file, err := parser.Parse(strings.NewReader(block), path)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, lines[i], err)
			}
			comments := lineComments(file)
			for _, stmt := range file.Stmts {
				at := fmt.Sprintf("%s:%d", path, lines[i]+int(stmt.Pos().Line())-1)
				want := expectedStatus(comments[stmt.End().Line()])
				out.Reset()
				r.begin(want)
				// `… &` runs in the foreground: the stand-ins return once
				// they listen, which is when the tour's next line may use them.
				fg := *stmt
				fg.Background = false
				err := runner.Run(ctx, &fg)
				statuses := r.end()
				text := statementText(block, stmt)
				if err != nil {
					t.Fatalf("%s: %s\n%v\noutput:\n%s", at, text, err, out.String())
				}
				for _, got := range statuses {
					if !r.answers(got) {
						wanted := "2xx"
						if want != 0 {
							wanted = strconv.Itoa(want)
						}
						t.Fatalf("%s: %s\nanswered %d, the tour says %s; output:\n%s", at, text, got, wanted, out.String())
					}
				}
			}
		}
	}
}

// lineComments maps each line of a block to the text of its comment.
func lineComments(f *syntax.File) map[uint]string {
	m := map[uint]string{}
	syntax.Walk(f, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.Comment); ok {
			m[c.Hash.Line()] = strings.TrimSpace(c.Text)
		}
		return true
	})
	for _, c := range f.Last {
		m[c.Hash.Line()] = strings.TrimSpace(c.Text)
	}
	return m
}

var statusComment = regexp.MustCompile(`^([1-5][0-9][0-9])(?:$|[\s:;,])`)

// expectedStatus reads `409 …` at the start of a statement's comment; 0
// means any 2xx.
func expectedStatus(comment string) int {
	m := statusComment.FindStringSubmatch(comment)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func statementText(block string, stmt *syntax.Stmt) string {
	from, to := int(stmt.Pos().Offset()), int(stmt.End().Offset())
	if from < 0 || to > len(block) || from > to {
		return "?"
	}
	return block[from:to]
}

// tourFiles are the repository's files the tours read, found in the tour's
// directory as in a clone (with the documented addresses in them rewritten).
var tourFiles = []string{"docs/petstore.yaml"}

// tourRun is the reader's machine for one tour.
type tourRun struct {
	t        *testing.T
	dir      string
	files    map[string][]byte // tourFiles as in the repository
	srv      *server
	mu       sync.Mutex
	repl     []string // documented address → bound address, for strings.NewReplacer
	gateways []string // bound gateway addresses (host:port)
	renames  [][2]string
	want     int   // the status the current statement's comment says (0: any 2xx)
	statuses []int // curl answers of the current statement
}

func (r *tourRun) begin(want int) {
	r.mu.Lock()
	r.statuses, r.want = nil, want
	r.mu.Unlock()
}

// answers says whether status is what the current statement expects.
func (r *tourRun) answers(status int) bool {
	r.mu.Lock()
	want := r.want
	r.mu.Unlock()
	if want != 0 {
		return status == want
	}
	return status >= 200 && status <= 299
}

func (r *tourRun) end() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statuses
}

func (r *tourRun) exec(next interp.ExecHandlerFunc) interp.ExecHandlerFunc {
	return func(ctx context.Context, args []string) error {
		hc := interp.HandlerCtx(ctx)
		switch {
		case len(args) >= 3 && args[0] == "go" && args[1] == "run" && args[2] == "./cmd/portico":
			return r.portico(ctx, hc, args[3:])
		case args[0] == "portico":
			return r.portico(ctx, hc, args[1:])
		case args[0] == "make":
			return nil // the build and test commands: what runs this test
		case args[0] == "curl":
			return r.curl(ctx, hc, args[1:])
		case args[0] == "psql":
			cmd := exec.CommandContext(ctx, "psql", r.rewrite(args[1:])...)
			return r.run(hc, cmd)
		}
		return next(ctx, args)
	}
}

func (r *tourRun) portico(ctx context.Context, hc interp.HandlerContext, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("portico without a command")
	}
	switch args[0] {
	case "server":
		pw := hc.Env.Get("PORTICO_ADMIN_PASSWORD").String()
		if pw == "" {
			return fmt.Errorf("the tour starts the server without exporting PORTICO_ADMIN_PASSWORD first")
		}
		if r.srv != nil {
			return fmt.Errorf("the tour starts a second server")
		}
		s, err := launchAs(r.t, r.t.TempDir(), pw, args[1:]...)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, s.out.String())
		}
		r.mu.Lock()
		r.srv = s
		r.repl = append(r.repl,
			"http://localhost:9180", s.Admin, "localhost:9180", strings.TrimPrefix(s.Admin, "http://"),
			"localhost:9080", strings.TrimPrefix(s.Gateway, "http://"))
		r.gateways = append(r.gateways, strings.TrimPrefix(s.Gateway, "http://"))
		r.mu.Unlock()
		return nil
	case "gateway":
		return r.standaloneGateway(args[1:])
	case "demo-backend":
		if len(args) != 3 || args[1] != "--addr" || !strings.HasPrefix(args[2], ":") {
			return fmt.Errorf("demo-backend %q: the tours start it as `demo-backend --addr :PORT`", args[1:])
		}
		srv := httptest.NewServer(demobackend.Handler())
		r.t.Cleanup(srv.Close)
		port := strings.TrimPrefix(args[2], ":")
		bound := srv.Listener.Addr().String()
		r.mu.Lock()
		r.repl = append(r.repl, `"port":`+port, `"port":`+bound[strings.LastIndex(bound, ":")+1:],
			"127.0.0.1:"+port, bound, "localhost:"+port, bound)
		r.mu.Unlock()
		return nil
	}
	if err := r.writeFiles(); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, binary, r.rewrite(args)...)
	return r.run(hc, cmd)
}

var backendPort = regexp.MustCompile(`"port":\s*([0-9]{1,4})\b`)

// writeFiles puts tourFiles into the tour's directory with this run's
// addresses.
func (r *tourRun) writeFiles() error {
	for name, b := range r.files {
		path := filepath.Join(r.dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(r.rewrite([]string{string(b)})[0]), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (r *tourRun) curl(ctx context.Context, hc interp.HandlerContext, args []string) error {
	if err := r.writeFiles(); err != nil {
		return err
	}
	args = r.rewrite(args)
	for _, a := range args {
		if m := backendPort.FindStringSubmatch(a); m != nil {
			return fmt.Errorf("the tour names backend port %s but starts no demo-backend there", m[1])
		}
	}
	// A call to a gateway right after a publish may arrive before the
	// gateway applied it (milliseconds later; a reader never sees it):
	// such a call is repeated, for up to 3 s, until it answers what the
	// tour says. Admin calls are made once.
	deadline := time.Now().Add(3 * time.Second)
	for {
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, "curl", append(args, "-w", "%{stderr}%{http_code}\n")...)
		cmd.Env = environ(hc.Env)
		cmd.Dir, cmd.Stdin, cmd.Stdout, cmd.Stderr = hc.Dir, hc.Stdin, &stdout, &stderr
		runErr := cmd.Run()
		text := strings.TrimRight(stderr.String(), "\n")
		last := text[strings.LastIndex(text, "\n")+1:]
		code, _ := strconv.Atoi(last)
		if runErr == nil && !r.answers(code) && r.callsGateway(args) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		hc.Stdout.Write(stdout.Bytes())
		hc.Stderr.Write([]byte(strings.TrimSuffix(text, last)))
		if code != 0 {
			r.mu.Lock()
			r.statuses = append(r.statuses, code)
			r.mu.Unlock()
		}
		return exitStatus(runErr)
	}
}

// callsGateway says whether a curl command line calls one of the tour's
// gateways.
func (r *tourRun) callsGateway(args []string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range args {
		for _, g := range r.gateways {
			if strings.Contains(a, g) {
				return true
			}
		}
	}
	return false
}

// standaloneGateway starts `portico gateway` on ports of its own; the
// documented --gateway-addr and --status-addr ports are mapped to the
// bound ones, and a relative --cache-dir is the tour's.
func (r *tourRun) standaloneGateway(args []string) error {
	if r.srv == nil {
		return fmt.Errorf("the tour starts a gateway before its control plane")
	}
	args = r.rewrite(args)
	var keep []string
	var gwPort string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "--gateway-addr" || a == "--status-addr") && i+1 < len(args):
			if a == "--gateway-addr" {
				gwPort = args[i+1][strings.LastIndex(args[i+1], ":")+1:]
			}
			i++
		case a == "--cache-dir" && i+1 < len(args):
			keep = append(keep, a, filepath.Join(r.dir, args[i+1]))
			i++
		default:
			keep = append(keep, a)
		}
	}
	if gwPort == "" {
		return fmt.Errorf("the tour starts a gateway without --gateway-addr")
	}
	g, err := launchGateway(r.t, r.srv, "", "", r.t.TempDir(), keep...)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, g.out.String())
	}
	bound := strings.TrimPrefix(g.Gateway, "http://")
	r.mu.Lock()
	r.repl = append(r.repl, "localhost:"+gwPort, bound)
	r.gateways = append(r.gateways, bound)
	r.mu.Unlock()
	return nil
}

func (r *tourRun) run(hc interp.HandlerContext, cmd *exec.Cmd) error {
	cmd.Env = environ(hc.Env)
	cmd.Dir, cmd.Stdin, cmd.Stdout, cmd.Stderr = hc.Dir, hc.Stdin, hc.Stdout, hc.Stderr
	return exitStatus(cmd.Run())
}

// rewrite turns documented addresses into bound ones and renamed words into
// this run's names.
func (r *tourRun) rewrite(args []string) []string {
	r.mu.Lock()
	rep := strings.NewReplacer(r.repl...)
	renames := r.renames
	r.mu.Unlock()
	out := make([]string, len(args))
	for i, a := range args {
		a = rep.Replace(a)
		for _, w := range renames {
			a = regexp.MustCompile(`\b`+regexp.QuoteMeta(w[0])+`\b`).ReplaceAllString(a, w[1])
		}
		out[i] = a
	}
	return out
}

func environ(env expand.Environ) []string {
	var list []string
	env.Each(func(name string, v expand.Variable) bool {
		if v.Exported && v.IsSet() {
			list = append(list, name+"="+v.String())
		}
		return true
	})
	return list
}

func exitStatus(err error) error {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return interp.ExitStatus(exit.ExitCode())
	}
	return err
}

// dropPostgres removes the databases and role a tour created under prefix.
func dropPostgres(t *testing.T, prefix string, words []string) {
	for _, w := range words {
		for _, sql := range []string{"drop database if exists " + prefix + w + " with (force)", "drop role if exists " + prefix + w} {
			exec.Command("psql", "-h", "127.0.0.1", "-d", "postgres", "-q", "-c", sql).Run()
		}
	}
}
