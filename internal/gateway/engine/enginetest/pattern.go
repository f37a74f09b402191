package enginetest

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"
)

// The pattern's byte at offset i is byte(i % patternPeriod); a prime period
// never lines up with buffer sizes, so a lost, repeated or reordered chunk
// shows.
const (
	patternPeriod = 251
	patternChunk  = 64 << 10
)

var patternTable = func() []byte {
	b := make([]byte, patternPeriod+patternChunk)
	for i := range b {
		b[i] = byte(i % patternPeriod)
	}
	return b
}()

// Pattern reads n bytes of a deterministic pattern without holding them.
type Pattern struct{ off, n int64 }

// NewPattern is a reader of n pattern bytes.
func NewPattern(n int64) *Pattern { return &Pattern{n: n} }

func (p *Pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if rem := p.n - p.off; int64(len(b)) > rem {
		b = b[:rem]
	}
	total := 0
	for len(b) > 0 {
		start := int(p.off % patternPeriod)
		k := copy(b, patternTable[start:])
		b = b[k:]
		p.off += int64(k)
		total += k
	}
	return total, nil
}

// PatternChecker is a writer that checks it is given the pattern from
// offset 0; the first difference fails the write.
type PatternChecker struct {
	N int64 // bytes checked
}

func (c *PatternChecker) Write(b []byte) (int, error) {
	done := 0
	for len(b) > 0 {
		start := int(c.N % patternPeriod)
		k := min(len(b), patternChunk)
		if !bytes.Equal(b[:k], patternTable[start:start+k]) {
			for i := range k {
				if b[i] != patternTable[start+i] {
					return done + i, fmt.Errorf("pattern differs at offset %d: got %#x, want %#x", c.N+int64(i), b[i], patternTable[start+i])
				}
			}
		}
		c.N += int64(k)
		done += k
		b = b[k:]
	}
	return done, nil
}

// heapWatch samples the process's HeapInuse while a stream runs.
type heapWatch struct {
	start uint64
	stop  chan struct{}
	wg    sync.WaitGroup

	mu      sync.Mutex
	peak    uint64
	samples int
}

// watchHeap starts sampling every 50 ms after a GC.
func watchHeap() *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h := &heapWatch{start: ms.HeapInuse, peak: ms.HeapInuse, stop: make(chan struct{})}
	h.wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			h.mu.Lock()
			h.peak = max(h.peak, ms.HeapInuse)
			h.samples++
			h.mu.Unlock()
		}
	})
	return h
}

// done stops sampling and returns the start, the peak and the sample count.
func (h *heapWatch) done() (start, peak uint64, samples int) {
	close(h.stop)
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.start, h.peak, h.samples
}
