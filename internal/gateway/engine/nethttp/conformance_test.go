package nethttp

import (
	"log/slog"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/engine/enginetest"
)

// TestConformance runs the engine-neutral suite against this engine.
func TestConformance(t *testing.T) { enginetest.Run(t, engine) }

// engine is the net/http engine as the suite drives it.
//
// Quirks: net/http's parser, which runs before any handler, accepts three
// requests RFC 9112 lets a server either refuse or normalise, and leaves no
// trace of them in the *http.Request, so the engine cannot refuse them:
//   - an obs-fold line is joined to the previous value with a space;
//   - two equal Content-Length headers become one;
//   - Content-Length beside Transfer-Encoding: chunked is deleted and the
//     body read as chunked (without closing the connection afterwards,
//     which RFC 9112 §6.3 asks of a server that does this).
//
// The upstream request is framed anew by the transport in every case, so
// a backend never sees the ambiguous framing.
var engine = enginetest.Engine{
	Start: startNetHTTP,
	Quirks: enginetest.Quirks{
		FoldsObsFold:                  true,
		MergesEqualContentLengths:     true,
		DropsContentLengthWithChunked: true,
	},
}

func startNetHTTP(t testing.TB, cfg enginetest.Config) string {
	t.Helper()
	return enginetest.ServeLoopback(t, NewServer(Config{
		Table:             cfg.Table,
		Observer:          cfg.Observer,
		Logger:            slog.New(slog.DiscardHandler),
		MaxHeaderBytes:    cfg.Limits.MaxHeaderBytes,
		MaxBodyBytes:      cfg.Limits.MaxBodyBytes,
		ReadHeaderTimeout: cfg.Limits.ReadHeaderTimeout,
		BodyTimeout:       cfg.Limits.BodyTimeout,
		SendTimeout:       cfg.Limits.SendTimeout,
		IdleTimeout:       cfg.Limits.IdleTimeout,
	}))
}
