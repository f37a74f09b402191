package accesslog

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/spec"
)

// DefaultQueueEntries is how many lines each sink's queue holds.
const DefaultQueueEntries = 8192

// Config is an access log's destinations and options.
type Config struct {
	Sinks []SinkConfig
	// QueueEntries is the capacity of each sink's queue (default 8192).
	QueueEntries int
	// Redact hides query parameter values: Log writes r.Query through it.
	// Nil means a Redactor of DefaultRedacted; to write queries as they
	// came, pass an empty Redactor (NewRedactor(nil)).
	Redact *Redactor
	// Instance is written as "instance" when a record names none.
	Instance string
}

// Drop reasons, the reason label of portico_access_log_dropped_total.
const (
	DropQueueFull  = "queue_full"
	DropWriteError = "write_error"
)

// Logger writes access-log lines to its sinks without ever blocking the
// request that logs. Safe for concurrent use.
type Logger struct {
	sinks    []*sinkWorker
	redact   *Redactor
	instance string
	closed   atomic.Bool
	stop     chan struct{} // closed by Close: workers drain and exit
	cancel   context.CancelFunc
	done     sync.WaitGroup
	lines    *prometheus.CounterVec
	dropped  *prometheus.CounterVec
}

// line is the buffer a record is encoded in before it is copied into
// each sink's queue. The pool hands a goroutine back the line it used
// last, so encoding writes to memory that is still in the cache.
type line struct {
	b   []byte
	enc encodeState
}

var linePool = sync.Pool{New: func() any { return &line{b: make([]byte, 0, 1024), enc: encodeState{cacheWhere: true}} }}

// maxPooledLine keeps a line that once carried large bodies from pinning
// its memory in the pool forever.
const maxPooledLine = 256 << 10

func (l *line) release() {
	if cap(l.b) <= maxPooledLine && cap(l.enc.query) <= maxPooledLine {
		linePool.Put(l)
	}
}

// New starts an access log writing to cfg.Sinks (each with its own queue
// and goroutine). Sink names must be distinct: they are metric labels.
func New(cfg Config) (*Logger, error) {
	queue := cfg.QueueEntries
	if queue == 0 {
		queue = DefaultQueueEntries
	}
	if queue < 1 {
		return nil, fmt.Errorf("access log: queue entries: must be at least 1, got %d", cfg.QueueEntries)
	}
	l := &Logger{
		redact:   cfg.Redact,
		instance: cfg.Instance,
		stop:     make(chan struct{}),
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_access_log_lines_total",
			Help: "Access-log lines a sink wrote.",
		}, []string{"sink"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_access_log_dropped_total",
			Help: "Access-log lines a sink did not write: its queue was full (queue_full) or its write failed (write_error).",
		}, []string{"sink", "reason"}),
	}
	if l.redact == nil {
		l.redact = defaultRedactor()
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	seen := map[string]bool{}
	var opened []Sink
	for i, sc := range cfg.Sinks {
		if sc.Name == "" {
			sc.Name = string(sc.Kind)
		}
		if seen[sc.Name] {
			closeAll(opened)
			cancel()
			return nil, fmt.Errorf("access log: sink %d: %q is configured twice", i, sc.Name)
		}
		seen[sc.Name] = true
		if sc.BatchEntries < 0 || sc.BatchEntries > maxBatchEntries || sc.FlushInterval < 0 {
			closeAll(opened)
			cancel()
			return nil, fmt.Errorf("access log: sink %q: batch entries must be 1 to %d and the flush interval positive", sc.Name, maxBatchEntries)
		}
		s, err := sc.open()
		if err != nil {
			closeAll(opened)
			cancel()
			return nil, fmt.Errorf("access log: sink %q: %w", sc.Name, err)
		}
		opened = append(opened, s)
		l.sinks = append(l.sinks, newSinkWorker(sc, s, queue, l.lines, l.dropped))
	}
	for _, w := range l.sinks {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			w.run(ctx, l.stop)
		}()
	}
	return l, nil
}

func closeAll(sinks []Sink) {
	for _, s := range sinks {
		_ = s.Close()
	}
}

// Log encodes r and queues the line for every sink. It never blocks: a
// sink whose queue is full loses the line (counted as queue_full). r is
// read only during the call, and its strings may point into buffers the
// caller reuses, except those naming where the call was served (Instance,
// Group, Project, Service, ServiceID, Version, Route), which must be
// immutable: their text is kept by the address of their memory. r.Query is
// written redacted. Lines logged after (or
// concurrently with) Close may be lost.
func (l *Logger) Log(r *spec.CallRecord) {
	if len(l.sinks) == 0 || l.closed.Load() {
		return
	}
	ln := linePool.Get().(*line)
	ln.b = ln.enc.appendRecord(ln.b[:0], r, l.instance, l.redact)
	for _, w := range l.sinks {
		if !w.enqueue(ln.b) {
			w.droppedFull.Inc()
		}
	}
	ln.release()
}

// Close stops accepting lines, writes what the queues hold, closes the
// sinks and returns. When ctx ends first, sinks' writes in progress are
// cancelled and Close returns ctx's error without waiting further.
func (l *Logger) Close(ctx context.Context) error {
	if l.closed.Swap(true) {
		return nil
	}
	close(l.stop)
	finished := make(chan struct{})
	go func() {
		l.done.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		l.cancel()
		return nil
	case <-ctx.Done():
		l.cancel()
		return fmt.Errorf("access log: flushing on close: %w", ctx.Err())
	}
}

// Collectors are the access log's metrics, to register once.
func (l *Logger) Collectors() []prometheus.Collector {
	return []prometheus.Collector{l.lines, l.dropped}
}

// sinkWorker is one sink's queue and the goroutine that empties it.
//
// The queue is one buffer of lines under a mutex, which the goroutine
// takes in batches, not a channel of lines: a channel would wake the
// goroutine for nearly every line, which on a busy gateway costs more than
// encoding the line, and lines in a buffer of their own each would be
// copied once more to be written. Here a request wakes the goroutine only
// for the first line into an empty queue (to start the batch's clock) and
// for the line that fills a batch, and a file sink writes the queue's
// buffer as it is.
type sinkWorker struct {
	name          string
	sink          Sink
	limit         int // lines queued and being written at most
	batchEntries  int
	flushInterval time.Duration
	written       prometheus.Counter
	droppedFull   prometheus.Counter
	droppedWrite  prometheus.Counter

	mu      sync.Mutex
	pending Batch // guarded by mu
	held    int   // lines taken and not yet written; guarded by mu
	spare   Batch // the other buffer, touched only by the worker
	kick    chan struct{}

	// lastErrorLogged is touched only by the worker's goroutine.
	lastErrorLogged time.Time
}

// Byte bounds of a sink's queue: a batch is also full at batchBytes (so
// lines carrying bodies make HTTP posts of bounded size), and lines past
// maxQueueBytes are dropped like lines past the queue's entries.
const (
	batchBytes    = 1 << 20
	maxQueueBytes = 16 << 20
)

func newSinkWorker(sc SinkConfig, s Sink, queue int, lines, dropped *prometheus.CounterVec) *sinkWorker {
	w := &sinkWorker{
		name:          sc.Name,
		sink:          s,
		limit:         queue,
		batchEntries:  sc.BatchEntries,
		flushInterval: sc.FlushInterval,
		written:       lines.WithLabelValues(sc.Name),
		droppedFull:   dropped.WithLabelValues(sc.Name, DropQueueFull),
		droppedWrite:  dropped.WithLabelValues(sc.Name, DropWriteError),
		kick:          make(chan struct{}, 1),
	}
	if w.batchEntries == 0 {
		w.batchEntries = DefaultBatchEntries
	}
	if w.flushInterval == 0 {
		switch sc.Kind {
		case KindStdout, KindFile, KindSyslog:
			w.flushInterval = DefaultLocalFlushInterval
		default:
			w.flushInterval = DefaultFlushInterval
		}
	}
	// Both buffers the queue alternates between are made for a batch of
	// lines of 512 bytes, so that queueing a line rarely allocates.
	for _, b := range []*Batch{&w.pending, &w.spare} {
		b.buf = make([]byte, 0, min(w.batchEntries*512, batchBytes))
		b.ends = make([]int, 0, min(queue, DefaultQueueEntries))
	}
	return w
}

// enqueue copies p into the queue as a line, or reports false when the
// sink already holds its limit of lines or bytes.
func (w *sinkWorker) enqueue(p []byte) bool {
	w.mu.Lock()
	n, size := w.pending.Len(), len(w.pending.buf)
	if n+w.held >= w.limit || size+len(p) >= maxQueueBytes {
		w.mu.Unlock()
		return false
	}
	w.pending.add(p)
	w.mu.Unlock()
	if n == 0 || n+1 == w.batchEntries || size < batchBytes && size+len(p)+1 >= batchBytes {
		select {
		case w.kick <- struct{}{}:
		default: // already kicked
		}
	}
	return true
}

// full reports whether a batch is ready, and whether anything is queued.
func (w *sinkWorker) full() (full, any bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.pending.Len()
	return n >= w.batchEntries || len(w.pending.buf) >= batchBytes, n > 0
}

// take removes the queue's full batches (everything when a batch is full
// by its bytes, or when all is set) and returns them; the rest stays
// queued, moved into the spare buffer.
func (w *sinkWorker) take(all bool) Batch {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.pending.Len()
	if !all && len(w.pending.buf) < batchBytes {
		n -= n % w.batchEntries
	}
	got := w.pending
	w.pending = w.spare
	got.split(n, &w.pending)
	w.held = n
	return got
}

// run writes the queued lines in batches: a batch as soon as it is full,
// and everything queued once the first line of it has waited
// flushInterval. On stop it writes what is queued and closes the sink.
func (w *sinkWorker) run(ctx context.Context, stop <-chan struct{}) {
	write := func(all bool) {
		got := w.take(all)
		_ = got.chunks(w.batchEntries, batchBytes, func(b *Batch) error {
			w.writeBatch(ctx, b)
			return nil
		})
		w.mu.Lock()
		w.held = 0
		w.mu.Unlock()
		got.reset()
		if cap(got.buf) > 4*batchBytes { // a burst of large lines: let it go
			got = Batch{}
		}
		w.spare = got
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer func() {
		timer.Stop()
		_ = w.sink.Close()
	}()
	for {
		select {
		case <-w.kick: // the queue's first line: its clock starts
		case <-stop:
			write(true)
			return
		}
		timer.Reset(w.flushInterval)
	cycle:
		for {
			if full, any := w.full(); full {
				write(false)
				continue
			} else if !any {
				timer.Stop()
				break cycle
			}
			select {
			case <-timer.C:
				write(true)
				break cycle
			case <-w.kick: // a batch filled up, or a first line after one
			case <-stop:
				timer.Stop()
				write(true)
				return
			}
		}
	}
}

// writeBatch writes one batch to the sink and counts it.
func (w *sinkWorker) writeBatch(ctx context.Context, b *Batch) {
	if err := w.sink.WriteBatch(ctx, b); err != nil {
		w.droppedWrite.Add(float64(b.Len()))
		// The counter tells how much; the log says why, at most once a
		// minute so a dead collector does not flood it.
		if now := time.Now(); now.Sub(w.lastErrorLogged) >= time.Minute {
			w.lastErrorLogged = now
			slog.Warn("access log: sink write failed, lines dropped", "sink", w.name, "lines", b.Len(), "err", err)
		}
		return
	}
	w.written.Add(float64(b.Len()))
}
