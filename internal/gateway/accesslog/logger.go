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

// line is one encoded record shared by every sink's queue; the last sink
// to finish with it returns it to the pool.
type line struct {
	b    []byte
	enc  encodeState
	refs atomic.Int32
}

var linePool = sync.Pool{New: func() any { return &line{b: make([]byte, 0, 1024)} }}

// maxPooledLine keeps a line that once carried large bodies from pinning
// its memory in the pool forever.
const maxPooledLine = 256 << 10

func (l *line) release() {
	if l.refs.Add(-1) != 0 {
		return
	}
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
// read only during the call (its strings may point into buffers the
// caller reuses); r.Query is written redacted. Lines logged after (or
// concurrently with) Close may be lost.
func (l *Logger) Log(r *spec.CallRecord) {
	if len(l.sinks) == 0 || l.closed.Load() {
		return
	}
	ln := linePool.Get().(*line)
	ln.b = ln.enc.appendRecord(ln.b[:0], r, l.instance, l.redact)
	ln.refs.Store(int32(len(l.sinks)))
	for _, w := range l.sinks {
		if !w.enqueue(ln) {
			w.droppedFull.Inc()
			ln.release()
		}
	}
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
// The queue is a slice under a mutex that the goroutine takes in batches,
// not a channel: a channel would wake the goroutine for nearly every line,
// which on a busy gateway costs more than encoding the line. Here a
// request wakes it only for the first line into an empty queue (to start
// the batch's clock) and for the line that fills a batch.
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
	pending []*line // guarded by mu
	held    int     // lines taken and not yet written; guarded by mu
	spare   []*line // the other array, touched only by the worker
	kick    chan struct{}

	// lastErrorLogged is touched only by the worker's goroutine.
	lastErrorLogged time.Time
}

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
	// Both arrays the queue alternates between are made full size (up to
	// the default), so that queueing a line never allocates.
	w.pending = make([]*line, 0, min(queue, DefaultQueueEntries))
	w.spare = make([]*line, 0, cap(w.pending))
	return w
}

// enqueue adds ln to the queue, or reports false when the sink already
// holds its limit of lines.
func (w *sinkWorker) enqueue(ln *line) bool {
	w.mu.Lock()
	n := len(w.pending)
	if n+w.held >= w.limit {
		w.mu.Unlock()
		return false
	}
	w.pending = append(w.pending, ln)
	w.mu.Unlock()
	if n == 0 || n+1 == w.batchEntries {
		select {
		case w.kick <- struct{}{}:
		default: // already kicked
		}
	}
	return true
}

// take removes the queue's full batches, or every line when all is set,
// and returns them; what stays behind moves to spare's backing array.
func (w *sinkWorker) take(spare []*line, all bool) []*line {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(w.pending)
	if !all {
		n -= n % w.batchEntries
	}
	got := w.pending[:n]
	w.pending = append(spare[:0], w.pending[n:]...)
	w.held = n
	return got
}

func (w *sinkWorker) queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// run writes the queued lines in batches: a batch as soon as it is full,
// and everything queued once the first line of it has waited
// flushInterval. On stop it writes what is queued and closes the sink.
func (w *sinkWorker) run(ctx context.Context, stop <-chan struct{}) {
	bytes := make([][]byte, 0, w.batchEntries)
	write := func(all bool) {
		lines := w.take(w.spare, all)
		for batch := lines; len(batch) > 0; {
			n := min(len(batch), w.batchEntries)
			w.writeBatch(ctx, batch[:n], bytes)
			batch = batch[n:]
		}
		clear(lines)
		w.spare = lines[:0]
		w.mu.Lock()
		w.held = 0
		w.mu.Unlock()
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
			if n := w.queued(); n >= w.batchEntries {
				write(false)
				continue
			} else if n == 0 {
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

// writeBatch writes one batch to the sink and returns its lines.
func (w *sinkWorker) writeBatch(ctx context.Context, batch []*line, bytes [][]byte) {
	bytes = bytes[:0]
	for _, ln := range batch {
		bytes = append(bytes, ln.b)
	}
	if err := w.sink.WriteBatch(ctx, bytes); err != nil {
		w.droppedWrite.Add(float64(len(batch)))
		// The counter tells how much; the log says why, at most once a
		// minute so a dead collector does not flood it.
		if now := time.Now(); now.Sub(w.lastErrorLogged) >= time.Minute {
			w.lastErrorLogged = now
			slog.Warn("access log: sink write failed, lines dropped", "sink", w.name, "lines", len(batch), "err", err)
		}
	} else {
		w.written.Add(float64(len(batch)))
	}
	clear(bytes)
	for _, ln := range batch {
		ln.release()
	}
}
