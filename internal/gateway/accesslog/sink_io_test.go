package accesslog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// lockedBuffer is an io.Writer safe to read while a sink writes to it.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestWriterSinkWritesJSONLinesOneWritePerBatch(t *testing.T) {
	var out lockedBuffer
	sc := WriterSink("stdout", &out)
	sc.BatchEntries = 5
	sc.FlushInterval = time.Hour
	l := mustNew(t, Config{Sinks: []SinkConfig{sc}})
	r := fullRecord()
	for range 10 {
		l.Log(&r)
	}
	waitFor(t, "two batches", func() bool { return written(l, "stdout") == 10 })
	closeLogger(t, l)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want 10:\n%s", len(lines), out.String())
	}
	for _, line := range lines {
		var got spec.CallRecord
		if err := json.Unmarshal([]byte(line), &got); err != nil || got.RequestID != r.RequestID {
			t.Fatalf("line %q: %v", line, err)
		}
	}
	if out.writes != 2 {
		t.Errorf("%d writes for two batches of 5", out.writes)
	}
}

func TestFileSinkRotates(t *testing.T) {
	dir := t.TempDir()
	sc, err := ParseSink("file:" + filepath.Join(dir, "access.log") + "?max_size_mb=1&max_backups=10")
	if err != nil {
		t.Fatal(err)
	}
	l := mustNew(t, Config{Sinks: []SinkConfig{sc}})
	r := leanRecord()
	r.ResponseBody = strings.Repeat("x", 1000)
	// Four waves of about 0.95 MB each: at least three rotations at 1 MB,
	// at most one per wave. The rotated files are named by the
	// millisecond, so each wave is written out and the clock moved on to
	// the next millisecond before the next wave starts: two rotations in
	// one millisecond would share a name (a gigabyte a second, which a
	// test reaches and a gateway does not).
	const wave, waves = 800, 4
	const n = wave * waves
	for i := range waves {
		for range wave {
			l.Log(&r)
		}
		deadline := time.Now().Add(10 * time.Second)
		for written(l, sc.Name) < float64((i+1)*wave) {
			if time.Now().After(deadline) {
				t.Fatalf("wave %d: %v lines written after 10 s", i, written(l, sc.Name))
			}
			runtime.Gosched()
		}
		for ms := time.Now().UnixMilli(); time.Now().UnixMilli() == ms; {
			runtime.Gosched()
		}
	}
	closeLogger(t, l)
	if d := dropped(l, sc.Name, DropQueueFull) + dropped(l, sc.Name, DropWriteError); d != 0 {
		t.Fatalf("%v lines dropped", d)
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("%d files after writing 2.6 MB with max_size_mb=1, want the log and at least two rotated", len(files))
	}
	total := 0
	for _, f := range files {
		info, _ := f.Info()
		if info.Size() > 1<<20 {
			t.Errorf("%s is %d bytes, over 1 MB", f.Name(), info.Size())
		}
		fh, err := os.Open(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if !json.Valid(sc.Bytes()) {
				t.Fatalf("%s: invalid line %q", f.Name(), sc.Text())
			}
			total++
		}
		fh.Close()
	}
	if total != n {
		t.Errorf("%d lines across files, want %d", total, n)
	}
}

// httpReceiver records what an httptest server received.
type httpReceiver struct {
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	requests atomic.Int32
	status   int
}

func (h *httpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, body)
	h.headers = append(h.headers, r.Header.Clone())
	status := h.status
	h.mu.Unlock()
	h.requests.Add(1)
	if status != 0 {
		w.WriteHeader(status)
	}
}

func TestHTTPSinkFormats(t *testing.T) {
	for _, format := range []string{FormatNDJSON, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			recv := &httpReceiver{}
			srv := httptest.NewServer(recv)
			defer srv.Close()
			sc, err := ParseSink(srv.URL + "/ingest?format=" + format + "&batch=3&flush=1h&header=Authorization:Bearer+s3cret&header=X-Tenant:t1")
			if err != nil {
				t.Fatal(err)
			}
			l := mustNew(t, Config{Sinks: []SinkConfig{sc}})
			r := fullRecord()
			for range 3 {
				l.Log(&r)
			}
			waitFor(t, "the batch", func() bool { return written(l, sc.Name) == 3 })
			closeLogger(t, l)
			recv.mu.Lock()
			defer recv.mu.Unlock()
			if len(recv.bodies) != 1 {
				t.Fatalf("%d POSTs, want one batch", len(recv.bodies))
			}
			h := recv.headers[0]
			if h.Get("Authorization") != "Bearer s3cret" || h.Get("X-Tenant") != "t1" {
				t.Errorf("headers %v", h)
			}
			var records []spec.CallRecord
			body := recv.bodies[0]
			switch format {
			case FormatJSON:
				if ct := h.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				if err := json.Unmarshal(body, &records); err != nil {
					t.Fatalf("not a JSON array: %v\n%s", err, body)
				}
			case FormatNDJSON:
				if ct := h.Get("Content-Type"); ct != "application/x-ndjson" {
					t.Errorf("Content-Type %q", ct)
				}
				if !bytes.HasSuffix(body, []byte("\n")) {
					t.Error("ndjson body does not end in a newline")
				}
				dec := json.NewDecoder(bytes.NewReader(body))
				for dec.More() {
					var rec spec.CallRecord
					if err := dec.Decode(&rec); err != nil {
						t.Fatal(err)
					}
					records = append(records, rec)
				}
				if n := bytes.Count(body, []byte("\n")); n != 3 {
					t.Errorf("%d lines in the ndjson body", n)
				}
			}
			if len(records) != 3 || records[2].RequestID != r.RequestID {
				t.Errorf("records %+v", records)
			}
		})
	}
}

func TestHTTPSinkRetriesOnceThenDrops(t *testing.T) {
	for _, tc := range []struct {
		status   int
		requests int32
	}{
		{http.StatusServiceUnavailable, 2}, // may pass a second later: one retry
		{http.StatusTooManyRequests, 2},
		{http.StatusBadRequest, 1}, // will not pass: no retry
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			recv := &httpReceiver{status: tc.status}
			srv := httptest.NewServer(recv)
			defer srv.Close()
			sc, err := ParseSink(srv.URL + "?batch=4&flush=1h")
			if err != nil {
				t.Fatal(err)
			}
			sc.HTTP.RetryDelay = 10 * time.Millisecond
			l := mustNew(t, Config{Sinks: []SinkConfig{sc}})
			r := leanRecord()
			for range 4 {
				l.Log(&r)
			}
			waitFor(t, "the batch to be dropped", func() bool { return dropped(l, sc.Name, DropWriteError) == 4 })
			closeLogger(t, l)
			if n := recv.requests.Load(); n != tc.requests {
				t.Errorf("%d POSTs, want %d", n, tc.requests)
			}
			if w := written(l, sc.Name); w != 0 {
				t.Errorf("lines_total %v", w)
			}
		})
	}
}

// TestHTTPSinkDeadEndpointNeverBlocksLog: an endpoint that accepts and
// never answers, and a closed port. Log keeps returning, lines drop from
// the full queue, failed batches count as write errors.
func TestHTTPSinkDeadEndpointNeverBlocksLog(t *testing.T) {
	hanging, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hanging.Close()
	var held sync.WaitGroup
	held.Go(func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := hanging.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // read nothing, answer nothing
		}
	})
	closedPort, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closedPort.Addr().String()
	closedPort.Close()

	for name, addr := range map[string]string{"hanging": hanging.Addr().String(), "refused": closedAddr} {
		t.Run(name, func(t *testing.T) {
			sc, err := ParseSink("http://" + addr + "/logs?timeout=100ms&flush=10ms&batch=100")
			if err != nil {
				t.Fatal(err)
			}
			sc.HTTP.RetryDelay = 10 * time.Millisecond
			l := mustNew(t, Config{Sinks: []SinkConfig{sc}, QueueEntries: 1000})
			r := leanRecord()
			const n = 100_000
			for range n {
				l.Log(&r)
			}
			// All n calls returned; the queue cannot hold them.
			if d := dropped(l, sc.Name, DropQueueFull); d == 0 {
				t.Error("no queue_full drops")
			}
			waitFor(t, "write errors", func() bool { return dropped(l, sc.Name, DropWriteError) > 0 })
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_ = l.Close(ctx) // may give up on a hanging POST: that is its job
			if w := written(l, sc.Name); w != 0 {
				t.Errorf("lines_total %v for a dead endpoint", w)
			}
		})
	}
	hanging.Close()
	held.Wait()
}

func TestSyslogSinkUDP(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no log/syslog on Windows")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	sc, err := ParseSink("syslog://" + pc.LocalAddr().String() + "?tag=portico-test&facility=local0&flush=1ms")
	if err != nil {
		t.Fatal(err)
	}
	l := mustNew(t, Config{Sinks: []SinkConfig{sc}})
	defer closeLogger(t, l)
	r := fullRecord()
	for range 3 {
		l.Log(&r)
	}
	want := string(AppendJSON(nil, &r))
	buf := make([]byte, 64<<10)
	for i := range 3 {
		if err := pc.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		msg := string(buf[:n])
		// <local0*8 + info> then a timestamp, the host, tag[pid]: line.
		if !strings.HasPrefix(msg, "<134>") || !strings.Contains(msg, " portico-test[") || !strings.HasSuffix(msg, ": "+want+"\n") {
			t.Errorf("message %d: %q", i, msg)
		}
	}
	waitFor(t, "lines counted", func() bool { return written(l, sc.Name) == 3 })
}
