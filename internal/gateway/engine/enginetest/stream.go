package enginetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

var streamTests = []conformanceTest{
	{name: "StreamingUpload", fn: testStreamingUpload},
	{name: "StreamingDownload", fn: testStreamingDownload},
	{name: "ChunkedResponseTrailers", fn: testChunkedResponseTrailers},
	// Serial: they measure the process's heap.
	{name: "LargeUploadFlatMemory", fn: testLargeUpload, serial: true},
	{name: "LargeDownloadFlatMemory", fn: testLargeDownload, serial: true},
}

const streamSize = 64 << 20

func testStreamingUpload(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(&PatternChecker{}, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, strconv.FormatInt(n, 10)+" "+strings.Join(r.TransferEncoding, ","))
	})
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("up", "/up")))
	req, _ := http.NewRequest(http.MethodPut, g.URL+"/up", io.NopCloser(NewPattern(streamSize)))
	req.ContentLength = -1 // chunked
	resp, body := Do(t, req)
	if want := strconv.Itoa(streamSize) + " chunked"; resp.StatusCode != 200 || string(body) != want {
		t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, want)
	}
}

func testStreamingDownload(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		buf := make([]byte, 64<<10)
		p := NewPattern(streamSize)
		for {
			n, err := p.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("down", "/down")))
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/down", nil)
	resp, err := Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 {
		t.Errorf("ContentLength %d, want a chunked answer", resp.ContentLength)
	}
	n, err := io.Copy(&PatternChecker{}, resp.Body)
	if err != nil || n != streamSize {
		t.Errorf("read %d bytes (err %v), want %d", n, err, streamSize)
	}
}

func testChunkedResponseTrailers(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		w.Header().Set("Content-Type", "text/plain")
		sum := sha256.New()
		rc := http.NewResponseController(w)
		for i := range 5 {
			chunk := fmt.Sprintf("chunk %d of the answer\n", i)
			_, _ = io.WriteString(w, chunk)
			_, _ = io.WriteString(sum, chunk)
			_ = rc.Flush()
		}
		w.Header().Set("X-Checksum", hex.EncodeToString(sum.Sum(nil)))
	})
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("t", "/t")))
	resp, body := Get(t, g.URL+"/t")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "chunk 0 of the answer\n") || strings.Count(string(body), "\n") != 5 {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("Transfer-Encoding %q, want chunked (trailers need it)", resp.TransferEncoding)
	}
	sum := sha256.Sum256(body)
	if got, want := resp.Trailer.Get("X-Checksum"), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("trailer X-Checksum %q, want %q (trailers %v)", got, want, resp.Trailer)
	}
}

// largeStreamSize is the size of the flat-memory streams; they must never
// be held whole, by the engine or by the test.
const (
	largeStreamSize = 1 << 30
	maxHeapGrowth   = 64 << 20
	largeWait       = 10 * time.Minute // bounds a large stream under -race
)

// checkFlatHeap fails when the heap in use grew by more than
// maxHeapGrowth while a stream ran.
func checkFlatHeap(t *testing.T, h *heapWatch, began time.Time) {
	t.Helper()
	start, peak, samples := h.done()
	growth := int64(peak) - int64(start)
	t.Logf("%d MiB in %v; heap in use %d MiB at start, peak %+d MiB over %d samples",
		largeStreamSize>>20, time.Since(began).Round(time.Millisecond), start>>20, growth>>20, samples)
	if growth > maxHeapGrowth {
		t.Errorf("heap in use grew by %d MiB during the stream, want at most %d MiB: something holds the body", growth>>20, maxHeapGrowth>>20)
	}
}

func testLargeUpload(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(&PatternChecker{}, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, strconv.FormatInt(n, 10))
	})
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("up", "/up")))
	ctx, cancel := context.WithTimeout(context.Background(), largeWait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, g.URL+"/up", NewPattern(largeStreamSize))
	req.ContentLength = largeStreamSize
	began := time.Now()
	h := watchHeap()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.done()
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkFlatHeap(t, h, began)
	if want := strconv.Itoa(largeStreamSize); err != nil || resp.StatusCode != 200 || string(body) != want {
		t.Errorf("got %d %q (%v), want 200 %q", resp.StatusCode, body, err, want)
	}
}

func testLargeDownload(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(largeStreamSize))
		_, _ = io.CopyBuffer(struct{ io.Writer }{w}, NewPattern(largeStreamSize), make([]byte, 64<<10))
	})
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("down", "/down")))
	ctx, cancel := context.WithTimeout(context.Background(), largeWait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/down", nil)
	began := time.Now()
	h := watchHeap()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.done()
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(&PatternChecker{}, resp.Body)
	checkFlatHeap(t, h, began)
	if err != nil || n != largeStreamSize {
		t.Errorf("read %d bytes (err %v), want %d", n, err, largeStreamSize)
	}
}
