package benchproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/adminclient"
)

// ModuleRoot is the directory of the main module's go.mod, so a benchmark
// builds this checkout wherever it was started from.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module; run from the repository root")
	}
	return filepath.Dir(mod), nil
}

// Build runs `go build -o out pkg` in the module at root, bounded by five
// minutes; a failure carries the compiler's own words.
func Build(ctx context.Context, root, out, pkg string) error {
	bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(bctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, strings.TrimSpace(string(msg)))
	}
	return nil
}

// BuildPortico builds the module's ./cmd/portico into dir and returns the
// binary's path ("" when it did not build).
func BuildPortico(ctx context.Context, dir string) (string, error) {
	root, err := ModuleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "portico")
	if err := Build(ctx, root, bin, "./cmd/portico"); err != nil {
		return "", err
	}
	return bin, nil
}

// AdminPassword is the admin password of every Portico a benchmark starts
// (on a fresh data dir, so it is the first admin's).
const AdminPassword = "bench-admin-password"

// AdminEnv is the environment that sets AdminPassword on a fresh data dir.
const AdminEnv = "PORTICO_ADMIN_PASSWORD=" + AdminPassword

// Listeners are the admin, gateway and status addresses of one `portico
// server`.
type Listeners struct{ Admin, Gateway, Status string }

// AnyPorts lets the kernel pick every port; the ready file then names
// them, so no port is raced for.
var AnyPorts = Listeners{"127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"}

// ServerArgv is the command line of `portico server` on dataDir with the
// listeners l and the flags in extra.
func ServerArgv(bin, dataDir string, l Listeners, extra ...string) []string {
	argv := []string{bin, "server", "--data-dir", dataDir,
		"--admin-addr", l.Admin, "--gateway-addr", l.Gateway, "--status-addr", l.Status}
	return append(argv, extra...)
}

// ReadyFile is what `portico server` and `portico gateway` write with
// --ready-file once every listener is bound: the addresses they took.
type ReadyFile struct {
	Admin          string            `json:"admin"` // empty for `portico gateway`
	Gateway        string            `json:"gateway"`
	Status         string            `json:"status"`
	GatewayStreams map[string]string `json:"gateway_streams"`
}

// waitReady polls for the ready file at path until it is there, p exits,
// limit passes or ctx ends.
func waitReady(ctx context.Context, p *Proc, path string, limit time.Duration) (ReadyFile, error) {
	deadline := time.Now().Add(limit)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			var rf ReadyFile
			if err := json.Unmarshal(b, &rf); err != nil {
				return rf, fmt.Errorf("ready file: %w", err)
			}
			return rf, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return ReadyFile{}, err
		}
		if p.Exited() {
			return ReadyFile{}, fmt.Errorf("exited (%v) before it was ready:\n%s", p.Err(), p.Tail())
		}
		if time.Now().After(deadline) {
			return ReadyFile{}, fmt.Errorf("not ready within %s:\n%s", limit, p.Tail())
		}
		select {
		case <-ctx.Done():
			return ReadyFile{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// StartReady starts argv with --ready-file readyPath added (a portico
// command) and waits up to limit for the file. On failure the process is
// stopped; the error does not name it, the caller does.
func (ps *Procs) StartReady(ctx context.Context, name string, cpu int, env []string, readyPath string, limit time.Duration, argv ...string) (*Proc, ReadyFile, error) {
	p, err := ps.Start(name, cpu, env, slices.Concat(argv, []string{"--ready-file", readyPath})...)
	if err != nil {
		return nil, ReadyFile{}, err
	}
	rf, err := waitReady(ctx, p, readyPath, limit)
	if err != nil {
		ps.Stop(p, 5*time.Second)
		return nil, ReadyFile{}, err
	}
	return p, rf, nil
}

// Login is a client of the admin API on addr (host:port), the project's
// own (internal/adminclient), logged in as admin with AdminPassword. Each
// call gives up after timeout; 0 waits as long as the server takes.
func Login(ctx context.Context, addr string, timeout time.Duration) (*adminclient.Client, error) {
	c := adminclient.New("http://"+addr, "")
	c.HTTP.Timeout = timeout
	if _, err := c.Login(ctx, "admin", AdminPassword); err != nil {
		return nil, err
	}
	return c, nil
}
