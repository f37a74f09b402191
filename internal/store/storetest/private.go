package storetest

import (
	"bytes"
	"cmp"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// PrivatePostgres is a PostgreSQL server of one test's own, on a port of
// 127.0.0.1, so that the test can stop and restart it for real without
// touching any other test's database. It is stopped when the test ends.
type PrivatePostgres struct {
	DSN  string // its "postgres" database, user postgres, trust
	Port int

	bin, dir string
	cred     *syscall.Credential // the postgres user's, when run as root
	cmd      *exec.Cmd
	exited   chan error
	log      *bytes.Buffer
}

// StartPostgres makes and starts a private PostgreSQL server (initdb in a
// temporary directory; PostgreSQL refuses to run as root, so as root it
// runs as the user postgres). It skips when no PostgreSQL binaries are
// installed, unless PORTICO_REQUIRE_DATABASES is set.
func StartPostgres(tb testing.TB) *PrivatePostgres {
	tb.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 {
		if os.Getenv("PORTICO_REQUIRE_DATABASES") != "" {
			tb.Fatal("no PostgreSQL binaries in /usr/lib/postgresql/*/bin")
		}
		tb.Skip("no PostgreSQL binaries in /usr/lib/postgresql/*/bin")
	}
	// Not tb.TempDir: its parent is private to this user, and the server
	// may run as another.
	dir, err := os.MkdirTemp("", "portico-postgres-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	// The newest version installed: directories are named by it.
	slices.SortFunc(bins, func(a, b string) int { return cmp.Compare(majorVersion(a), majorVersion(b)) })
	p := &PrivatePostgres{bin: filepath.Dir(bins[len(bins)-1]), dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Fatalf("PostgreSQL does not run as root, and there is no user postgres: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(p.dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
	}
	data := filepath.Join(p.dir, "data")
	initdb := p.command(filepath.Join(p.bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-N", "-E", "UTF8", "--locale", "C")
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	tb.Cleanup(func() {
		if err := p.Stop(); err != nil {
			tb.Errorf("stop the private PostgreSQL: %v\n%s", err, p.log)
		}
	})
	for range 5 { // a port picked free may be taken before the server binds it
		if p.Port, err = freePort(); err != nil {
			tb.Fatal(err)
		}
		if err = p.start(); err == nil {
			break
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
	p.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
	return p
}

func (p *PrivatePostgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = p.dir
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd
}

// start runs the server and waits until it accepts connections.
func (p *PrivatePostgres) start() error {
	p.log = &bytes.Buffer{}
	p.cmd = p.command(filepath.Join(p.bin, "postgres"), "-D", filepath.Join(p.dir, "data"), "-p", strconv.Itoa(p.Port),
		"-k", p.dir, "-c", "listen_addresses=127.0.0.1", "-F", "-c", "max_connections=200")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start PostgreSQL: %w", err)
	}
	p.exited = make(chan error, 1)
	go func() { p.exited <- p.cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port))
	for {
		// Asked on its own socket, in its own directory: another server
		// that took the port would answer on 127.0.0.1.
		ready := p.command(filepath.Join(p.bin, "pg_isready"), "-h", p.dir, "-p", strconv.Itoa(p.Port), "-U", "postgres", "-t", "1")
		if ready.Run() == nil {
			return nil
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			return fmt.Errorf("PostgreSQL on %s exited: %v\n%s", addr, err, p.log)
		case <-deadline:
			_ = p.cmd.Process.Kill()
			p.exited <- <-p.exited // so Stop sees it gone
			return fmt.Errorf("PostgreSQL on %s not ready after 30s\n%s", addr, p.log)
		case <-tick.C:
		}
	}
}

// Stop shuts the server down the way a restart does ("fast": open
// sessions are ended, their clients see their connections close).
func (p *PrivatePostgres) Stop() error {
	if p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	select {
	case err := <-p.exited:
		p.exited <- err
		return nil // stopped already
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	select {
	case err := <-p.exited:
		p.exited <- err
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("PostgreSQL did not stop within 30s")
	}
}

// Start starts a stopped server again on the same port and data.
func (p *PrivatePostgres) Start() error { return p.start() }

// majorVersion is the version directory of a binary under
// /usr/lib/postgresql (15 of /usr/lib/postgresql/15/bin/postgres).
func majorVersion(bin string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(bin))), 64)
	return v
}

// freePort is a port of 127.0.0.1 nothing listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
