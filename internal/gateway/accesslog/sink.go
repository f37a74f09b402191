package accesslog

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sink writes batches of access-log lines somewhere. Each sink is driven
// by its own goroutine, so WriteBatch is never called concurrently and may
// block (that only fills the sink's own queue).
type Sink interface {
	// WriteBatch writes a batch of lines, each one JSON object. The batch
	// is valid only during the call. ctx is cancelled when Close gives up
	// waiting.
	WriteBatch(ctx context.Context, b *Batch) error
	// Close releases the sink's resources after its last batch.
	Close() error
}

// SinkKind is what kind of destination a sink writes to.
type SinkKind string

// Sink kinds.
const (
	KindStdout SinkKind = "stdout" // JSON lines to standard output (or an injected writer)
	KindFile   SinkKind = "file"   // JSON lines to a size-rotated file
	KindHTTP   SinkKind = "http"   // batches POSTed to an HTTP(S) endpoint
	KindSyslog SinkKind = "syslog" // one syslog message per line
	KindFunc   SinkKind = "func"   // batches handed to a function in the process
)

// Batching defaults: local sinks are cheap to write, so they flush more
// often than remote ones.
const (
	DefaultBatchEntries       = 500
	DefaultFlushInterval      = time.Second
	DefaultLocalFlushInterval = 200 * time.Millisecond
	maxBatchEntries           = 100_000
)

// SinkConfig is one destination of the access log: parsed from an
// --access-log flag by ParseSink, or made in the process by FuncSink or
// WriterSink. Zero BatchEntries and FlushInterval take the kind's default.
type SinkConfig struct {
	Kind SinkKind
	// Name identifies the sink in metrics (the sink label) and errors:
	// "stdout", "file:/var/log/portico/access.log", the HTTP URL without
	// its user info and query, "syslog://host:514".
	Name          string
	BatchEntries  int
	FlushInterval time.Duration

	File   FileOptions   // KindFile
	HTTP   HTTPOptions   // KindHTTP
	Syslog SyslogOptions // KindSyslog

	writer io.Writer            // KindStdout
	fn     func([][]byte) error // KindFunc
}

// FileOptions are a file sink's path and rotation (see lumberjack).
type FileOptions struct {
	Path       string
	MaxSizeMB  int // rotate when the file would grow past this size
	MaxBackups int // rotated files kept; 0 keeps all
	MaxAgeDays int // rotated files older than this are removed; 0 keeps them
	Compress   bool
}

// FuncSink is a sink that hands each batch to fn in the process (the
// control plane receives its embedded gateway's records this way). The
// lines are valid only during the call; fn is never called concurrently.
func FuncSink(name string, fn func(lines [][]byte) error) SinkConfig {
	return SinkConfig{Kind: KindFunc, Name: name, fn: fn}
}

// WriterSink writes JSON lines to w, one Write per batch; ParseSink's
// "stdout" is WriterSink("stdout", os.Stdout). w is not closed.
func WriterSink(name string, w io.Writer) SinkConfig {
	return SinkConfig{Kind: KindStdout, Name: name, writer: w}
}

// Query parameters every sink accepts.
var commonParams = []string{"batch", "flush"}

// ParseSink parses one --access-log value:
//
//	stdout
//	file:/var/log/portico/access.log?max_size_mb=100&max_backups=5&max_age_days=0&compress=false
//	http://host:port/path?format=ndjson&batch=500&flush=1s&timeout=5s&header=Authorization:Bearer%20x
//	https://…
//	syslog://host:514?tag=portico&facility=local0      (UDP)
//	syslog+tcp://host:601?…
//	syslog+unix:///dev/log?…
//
// Every sink also takes batch (entries per write) and flush (the longest a
// line waits). Unknown schemes and parameters are refused, naming them.
func ParseSink(s string) (SinkConfig, error) {
	c, err := parseSink(s)
	if err != nil {
		return SinkConfig{}, fmt.Errorf("access-log sink %q: %w", s, err)
	}
	return c, nil
}

func parseSink(s string) (SinkConfig, error) {
	if name, rawQuery, _ := strings.Cut(s, "?"); strings.EqualFold(name, "stdout") {
		q, err := parseParams(rawQuery, commonParams)
		if err != nil {
			return SinkConfig{}, err
		}
		c := WriterSink("stdout", os.Stdout)
		if err := c.parseBatching(q); err != nil {
			return SinkConfig{}, err
		}
		return c, nil
	}
	scheme, _, _ := strings.Cut(s, ":")
	switch strings.ToLower(scheme) {
	case "file":
		return parseFileSink(s)
	case "http", "https":
		return parseHTTPSink(s)
	case "syslog", "syslog+udp", "syslog+tcp", "syslog+unix":
		return parseSyslogSink(s)
	case "":
		return SinkConfig{}, fmt.Errorf("empty sink: want stdout, file:PATH, http(s)://…, syslog://…, syslog+tcp://… or syslog+unix://PATH")
	default:
		return SinkConfig{}, fmt.Errorf("unknown scheme %q: want stdout, file, http, https, syslog, syslog+tcp or syslog+unix", scheme)
	}
}

// params are a sink's query parameters, checked against what it knows.
type params map[string][]string

// parseParams parses rawQuery and refuses names not in known, and known
// names given twice (except those that repeat, like header).
func parseParams(rawQuery string, known []string, repeatable ...string) (params, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	var unknown []string
	for name, vs := range q {
		if !slices.Contains(known, name) {
			unknown = append(unknown, name)
			continue
		}
		if len(vs) > 1 && !slices.Contains(repeatable, name) {
			return nil, fmt.Errorf("%s: given %d times", name, len(vs))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("unknown parameter %s (known: %s)", quoteList(unknown), strings.Join(known, ", "))
	}
	return params(q), nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func (p params) has(name string) bool { _, ok := p[name]; return ok }

func (p params) get(name string) string {
	if vs := p[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// int reads a whole number in [min, max]; absent leaves *dst as is.
func (p params) int(name string, dst *int, min, max int) error {
	if !p.has(name) {
		return nil
	}
	n, err := strconv.Atoi(p.get(name))
	if err != nil || n < min || n > max {
		return fmt.Errorf("%s: must be a whole number between %d and %d, got %q", name, min, max, p.get(name))
	}
	*dst = n
	return nil
}

// duration reads a positive Go duration ("200ms", "5s") up to max.
func (p params) duration(name string, dst *time.Duration, max time.Duration) error {
	if !p.has(name) {
		return nil
	}
	d, err := time.ParseDuration(p.get(name))
	if err != nil || d <= 0 || d > max {
		return fmt.Errorf("%s: must be a duration between 1ms and %s (like 500ms or 5s), got %q", name, max, p.get(name))
	}
	*dst = d
	return nil
}

func (p params) bool(name string, dst *bool) error {
	if !p.has(name) {
		return nil
	}
	b, err := strconv.ParseBool(p.get(name))
	if err != nil {
		return fmt.Errorf("%s: must be true or false, got %q", name, p.get(name))
	}
	*dst = b
	return nil
}

// parseBatching reads the parameters every sink takes.
func (c *SinkConfig) parseBatching(q params) error {
	if err := q.int("batch", &c.BatchEntries, 1, maxBatchEntries); err != nil {
		return err
	}
	return q.duration("flush", &c.FlushInterval, time.Hour)
}

func parseFileSink(s string) (SinkConfig, error) {
	rest := s[len("file:"):]
	path, rawQuery, _ := strings.Cut(rest, "?")
	if after, ok := strings.CutPrefix(path, "//"); ok {
		// file:///var/log/x.log: an empty host, then the absolute path.
		if !strings.HasPrefix(after, "/") {
			return SinkConfig{}, fmt.Errorf("path: file://HOST/… is not supported, write file:/absolute/path or file:relative/path")
		}
		path = after
	}
	if path == "" {
		return SinkConfig{}, fmt.Errorf("path: missing (file:/var/log/portico/access.log)")
	}
	q, err := parseParams(rawQuery, append([]string{"max_size_mb", "max_backups", "max_age_days", "compress"}, commonParams...))
	if err != nil {
		return SinkConfig{}, err
	}
	c := SinkConfig{Kind: KindFile, Name: "file:" + path, File: FileOptions{Path: path, MaxSizeMB: 100, MaxBackups: 5}}
	for _, err := range []error{
		q.int("max_size_mb", &c.File.MaxSizeMB, 1, 1<<20),
		q.int("max_backups", &c.File.MaxBackups, 0, 1<<20),
		q.int("max_age_days", &c.File.MaxAgeDays, 0, 1<<20),
		q.bool("compress", &c.File.Compress),
		c.parseBatching(q),
	} {
		if err != nil {
			return SinkConfig{}, err
		}
	}
	return c, nil
}
