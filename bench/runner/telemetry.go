package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
)

// porticoWithArgs is the fast plain row with more `portico server`
// arguments, made when the row starts (they may name the run's files).
func porticoWithArgs(args func(e *env) ([]string, error)) func(context.Context, *env) (*instance, error) {
	return func(ctx context.Context, e *env) (*instance, error) {
		more, err := args(e)
		if err != nil {
			return nil, err
		}
		saved := e.porticoArgs
		e.porticoArgs = append(slices.Clip(saved), more...)
		defer func() { e.porticoArgs = saved }()
		return startPortico(ctx, e, "fast", nil, "http")
	}
}

// accessLogArgs write every request's access-log line to a file of the
// run, rotated at 100 MB with one old file kept, so a long run fills no
// disk.
func accessLogArgs(e *env) ([]string, error) {
	path := filepath.Join(e.tmp, fmt.Sprintf("access-%d.log", e.seq+1))
	return []string{"--access-log", "file:" + path + "?max_size_mb=100&max_backups=1"}, nil
}

// tracingArgs turn tracing on with 1 % of requests sampled, exported to
// an OTLP/HTTP receiver in the runner that reads and drops what it gets
// (its CPU is the runner's, not the row's).
func tracingArgs(e *env) ([]string, error) {
	if e.otlp == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.WriteHeader(http.StatusOK)
		}))
		e.otlp = "http://" + ln.Addr().String()
	}
	return []string{"--otlp-endpoint", e.otlp, "--trace-sample-ratio", "0.01"}, nil
}

// traceIDArgs are tracingArgs with nothing sampled: what every request
// pays for its trace id and the traceparent it sends upstream, apart from
// exporting.
func traceIDArgs(e *env) ([]string, error) {
	args, err := tracingArgs(e)
	if err != nil {
		return nil, err
	}
	return append(args[:len(args)-1], "0"), nil
}
