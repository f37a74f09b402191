package accesslog

import (
	"context"
	"errors"
	"fmt"
	"io"

	"gopkg.in/natefinch/lumberjack.v2"
)

// open makes the sink c describes.
func (c SinkConfig) open() (Sink, error) {
	switch c.Kind {
	case KindStdout:
		if c.writer == nil {
			return nil, errors.New("no writer (use WriterSink)")
		}
		return &writerSink{w: c.writer, chunk: maxChunkBytes}, nil
	case KindFunc:
		if c.fn == nil {
			return nil, errors.New("no function (use FuncSink)")
		}
		return &funcSink{fn: c.fn}, nil
	case KindFile:
		return openFileSink(c.File)
	case KindHTTP:
		return openHTTPSink(c.HTTP)
	case KindSyslog:
		return openSyslogSink(c.Syslog)
	default:
		return nil, fmt.Errorf("unknown kind %q", c.Kind)
	}
}

// maxChunkBytes bounds one Write of a local sink. A batch is normally one
// Write; a batch of large lines (bodies) is split so a rotated file's
// size limit still holds (lumberjack refuses a single write larger than
// its maximum size).
const maxChunkBytes = 256 << 10

// writerSink writes newline-terminated lines to an io.Writer.
type writerSink struct {
	w      io.Writer
	closer io.Closer // nil: w is not ours to close
	chunk  int
}

func (s *writerSink) WriteBatch(_ context.Context, b *Batch) error {
	return b.chunks(b.Len(), s.chunk, func(part *Batch) error {
		_, err := s.w.Write(part.Bytes())
		return err
	})
}

func (s *writerSink) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

func openFileSink(o FileOptions) (Sink, error) {
	if o.Path == "" {
		return nil, errors.New("file: no path")
	}
	lj := &lumberjack.Logger{
		Filename:   o.Path,
		MaxSize:    o.MaxSizeMB,
		MaxBackups: o.MaxBackups,
		MaxAge:     o.MaxAgeDays,
		Compress:   o.Compress,
	}
	chunk := maxChunkBytes
	if max := o.MaxSizeMB << 20; max > 0 && max < chunk {
		chunk = max
	}
	return &writerSink{w: lj, closer: lj, chunk: chunk}, nil
}

// funcSink hands batches to a function in the process.
type funcSink struct {
	fn    func([][]byte) error
	lines [][]byte // reused; only the sink's goroutine touches it
}

func (f *funcSink) WriteBatch(_ context.Context, b *Batch) error {
	f.lines = f.lines[:0]
	for i := range b.Len() {
		f.lines = append(f.lines, b.Line(i))
	}
	err := f.fn(f.lines)
	clear(f.lines)
	return err
}

func (f *funcSink) Close() error { return nil }
