package benchproc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPin(t *testing.T) {
	argv := []string{"nginx", "-t"}
	if got := Pin("/usr/bin/taskset", 1, argv); !slices.Equal(got, []string{"/usr/bin/taskset", "-c", "1", "nginx", "-t"}) {
		t.Errorf("pinned = %v", got)
	}
	if got := Pin("", 1, argv); !slices.Equal(got, argv) {
		t.Errorf("no taskset = %v", got)
	}
	if got := Pin("/usr/bin/taskset", -1, argv); !slices.Equal(got, argv) {
		t.Errorf("cpu -1 = %v", got)
	}
}

// A started process is measured with its children and stopped with its
// process group; its ready file is read once written.
func TestStartReadyStop(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	ps := &Procs{Dir: t.TempDir()}
	defer ps.KillAll()
	ready := filepath.Join(ps.Dir, "ready.json")
	// The script sees --ready-file PATH as $1 $2.
	script := `echo started; sleep 30 & echo '{"admin":"127.0.0.1:1","gateway_streams":{"redis":"127.0.0.1:2"}}' > "$2"; wait`
	p, rf, err := ps.StartReady(context.Background(), "fake", -1, nil, ready, 10*time.Second, "sh", "-c", script, "sh")
	if err != nil {
		t.Fatal(err)
	}
	if rf.Admin != "127.0.0.1:1" || rf.GatewayStreams["redis"] != "127.0.0.1:2" {
		t.Errorf("ready file = %+v", rf)
	}
	if len(descendants(p.Pid())) < 2 {
		t.Errorf("descendants of sh = %v, want sh and sleep", descendants(p.Pid()))
	}
	if TreeRSS(p) <= 0 || TreeCPU(p, nil) < 0 {
		t.Errorf("rss %d cpu %v", TreeRSS(p), TreeCPU(p))
	}
	ps.Stop(p, time.Second)
	if !p.Exited() || p.Err() == nil {
		t.Errorf("after Stop: exited %v, err %v", p.Exited(), p.Err())
	}
	if !strings.Contains(p.Tail(), "started") {
		t.Errorf("tail = %q", p.Tail())
	}

	// One that exits first says so, with its log.
	_, _, err = ps.StartReady(context.Background(), "quitter", -1, nil, filepath.Join(ps.Dir, "never.json"), 10*time.Second, "sh", "-c", "echo bad flag; exit 3")
	if err == nil || !strings.Contains(err.Error(), "bad flag") {
		t.Errorf("err = %v", err)
	}
}

// Login logs in as admin with AdminPassword and keeps the session.
func TestLogin(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v1/auth/login":
			var body map[string]string
			_ = json.NewDecoder(r.Body).Decode(&body)
			if body["username"] != "admin" || body["password"] != AdminPassword {
				http.Error(w, "wrong password", http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"token":"t1"}`))
		case r.Header.Get("Authorization") != "Bearer t1":
			http.Error(w, "no session", http.StatusUnauthorized)
		default:
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"id":"s1"}`))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c, err := Login(ctx, strings.TrimPrefix(srv.URL, "http://"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var svc struct{ ID string }
	if err := c.Post(ctx, "/projects/default/services", map[string]any{"name": "x"}, &svc); err != nil || svc.ID != "s1" {
		t.Errorf("call: %v %+v", err, svc)
	}
}
