// Package demobackend is an httpbin-like echo server, so that the README tour
// and the end-to-end tests have a backend to publish without the internet.
package demobackend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// shutdownGrace bounds how long Run waits for in-flight requests once its
// context ends. Request contexts derive from the run context, so /delay and
// /bytes stop early and the grace is rarely used in full.
const shutdownGrace = 5 * time.Second

// endpoint is one row of the index page and of the mux.
type endpoint struct {
	pattern string
	doc     string
	handler http.HandlerFunc
}

func endpoints() []endpoint {
	return []endpoint{
		{"/anything", "echo the request (any method): args, data, files, form, headers, json, method, origin, url", handleAnything},
		{"/anything/{rest...}", "same as /anything, under any sub-path", handleAnything},
		{"GET /get", "echo a GET request: args, headers, origin, url", handleGet},
		{"GET /headers", "the request headers", handleHeaders},
		{"GET /ip", "the client address (origin)", handleIP},
		{"/status/{code}", "answer with that status (100-599)", handleStatus},
		{"/delay/{seconds}", "wait up to 10 s, then answer like /get", handleDelay},
		{"GET /bytes/{n}", "n random bytes (at most 100 MiB, streamed; ?seed= for repeatable output)", handleBytes},
		{"GET /stream/{n}", "n JSON lines like /get (at most 100), each flushed", handleStream},
		{"GET /uuid", "a random UUID (version 4)", handleUUID},
	}
}

// Handler returns the demo backend's routes.
func Handler() http.Handler {
	mux := http.NewServeMux()
	eps := endpoints()
	for _, ep := range eps {
		mux.HandleFunc(ep.pattern, ep.handler)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		type row struct {
			Pattern     string `json:"pattern"`
			Description string `json:"description"`
		}
		rows := make([]row, 0, len(eps))
		for _, ep := range eps {
			rows = append(rows, row{ep.pattern, ep.doc})
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"name":      "portico demo backend (httpbin-like)",
			"endpoints": rows,
		})
	})
	return mux
}

// Run serves Handler on addr until ctx ends, then shuts down gracefully.
// onListen, when not nil, is called with the bound address (useful with
// port 0) before the first request is accepted.
func Run(ctx context.Context, addr string, logger *slog.Logger, onListen func(addr string)) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("demo backend: listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	bound := ln.Addr().String()
	logger.Info("demo backend listening", "addr", bound)
	if onListen != nil {
		onListen(bound)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("demo backend: serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("demo backend: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("demo backend: serve: %w", err)
	}
	logger.Info("demo backend stopped")
	return nil
}
